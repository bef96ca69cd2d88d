"""The source names (contract), without importing the parsers: the CLI offers them as choices
before it knows which command runs. `tests/sources/test_registry.py` keeps this equal to the
registry."""

SOURCE_NAMES = (
    "ofac_sdn",
    "ofac_consolidated",
    "trade_csl",
    "ecfr_entity_list",
    "federal_register",
    "news",
)

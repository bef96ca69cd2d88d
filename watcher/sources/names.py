"""The source names (contract), without importing the parsers: the CLI offers them as choices
before it knows which command runs (so this imports nothing, not even config). Their own config
keys are in `sources.options`. `tests/sources/test_names.py` keeps both equal to the registry."""

SOURCE_NAMES = (
    "ofac_sdn",
    "ofac_consolidated",
    "trade_csl",
    "ecfr_entity_list",
    "federal_register",
    "news",
)

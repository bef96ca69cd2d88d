"""The source names (contract) and their own config keys, without importing the parsers: the
CLI offers the names as choices before it knows which command runs, and config loading checks
`[sources.NAME]` tables against OPTION_KEYS without paying for lxml, feedparser and every
parser. `tests/sources/test_names.py` keeps both equal to the registry."""

from __future__ import annotations

from collections.abc import Mapping

from watcher.config.values import Duration

SOURCE_NAMES = (
    "ofac_sdn",
    "ofac_consolidated",
    "trade_csl",
    "ecfr_entity_list",
    "federal_register",
    "news",
)

# Source name -> its own keys (beyond the common ones) and their TOML types, as checked at load.
OPTION_KEYS: Mapping[str, Mapping[str, object]] = {
    "federal_register": {
        "agencies": list,
        "cfr_references": list,
        "public_inspection": bool,
        "per_page": int,
        "max_pages": int,
        "fetch_full_text": bool,
        "csl_lag": Duration,  # how long the CSL may lag an FR action (pipeline.linking)
        "pi_pdf": bool,  # read public-inspection PDFs of Entity List documents
    },
    "news": {"feeds": list},
}

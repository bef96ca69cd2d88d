"""Each source's own config keys, without importing the parsers: config loading checks
`[sources.NAME]` tables against OPTION_KEYS without paying for lxml, feedparser and every parser
(~120 ms). The source classes use these same mappings as their `option_keys`."""

from __future__ import annotations

from collections.abc import Mapping

from watcher.config.values import Duration

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

"""The name part of stored keys: one home for the folding rules, so no source invents its own.

Two rules, because keys already stored were made with both and a changed key would end an
entry's history: `name_key` drops apostrophes (People's -> peoples) and is used for Entity List
actions, eCFR entries, FR document names and linking; `csl_name_key` treats an apostrophe as a
separator (`EL:pk:people s steel mills`) and is used for the CSL's derived keys. Both fold with
NFKC and casefold and make every other run of non-letters/digits one space. Fuzzy matching
has its own, transliterating normalizer (`matching.normalize`), which makes no stored key.
"""

from __future__ import annotations

import re
import unicodedata

_NON_WORD = re.compile(r"[\W_]+")
_APOSTROPHES = re.compile(r"['’`]")


def name_key(value: str) -> str:
    """`CHINA, PEOPLE'S REPUBLIC OF` -> `china peoples republic of`."""
    folded = unicodedata.normalize("NFKC", value).casefold()
    return _NON_WORD.sub(" ", _APOSTROPHES.sub("", folded)).strip()


def csl_name_key(value: str) -> str:
    """`People's Steel Mills` -> `people s steel mills` (the CSL keys' rule, kept as stored)."""
    folded = unicodedata.normalize("NFKC", value).casefold()
    return _NON_WORD.sub(" ", folded).strip()

"""Stored keys must never change (a changed key would end history and start a new one): the
keys made from names, pinned on real fixtures, and the one difference between the two name
rules (an apostrophe dropped, or a separator), pinned by hand.

Real bytes: the three CSL captures, the 2023-03929 rule (its entity actions) and that rule's
table wrapped as an eCFR document (as tests/sources/test_ecfr.py builds it).
"""

from __future__ import annotations

import hashlib

import pytest

from tests.conftest import fixture_bytes
from tests.sources.test_ecfr import _real_table, _wrap
from watcher.entity_list.actions import extract_actions
from watcher.keys import csl_name_key, name_key
from watcher.sources.ecfr import EcfrEntityList
from watcher.sources.trade_csl import TradeCsl

RULE = "federal_register/fr_2023-03929_2023-02-27_additions_entity_list.xml"
CSL = (
    "trade_gov_csl/moov_csl_sample_2019-12-03.csv",
    "trade_gov_csl/moov_csl_sample_2023-11-30.csv",
    "trade_gov_csl/moov_csl_excerpt_2025-06-25.csv",
)


def _digest(keys: list[str]) -> str:
    return hashlib.sha256("\n".join(sorted(keys)).encode()).hexdigest()[:16]


def test_pinned_keys_of_real_fixtures() -> None:
    csl = [
        e.key for name in CSL for e in TradeCsl().parse({"primary": fixture_bytes(name)}).entries
    ]
    actions = [a.key() for a in extract_actions(fixture_bytes(RULE))]
    ecfr = [e.key for e in EcfrEntityList().parse({"primary": _wrap(_real_table())}).entries]
    got = {
        "csl": (len(csl), _digest(csl)),
        "actions": (len(actions), _digest(actions)),
        "ecfr": (len(ecfr), _digest(ecfr)),
    }
    assert got == PINNED


PINNED = {
    "csl": (4355, "01451d46dcd3ccb8"),
    "actions": (13, "efca1079f5932169"),
    "ecfr": (13, "1aa4d79ea3d455b7"),
}


@pytest.mark.parametrize(
    ("value", "name", "csl"),
    [
        ("CHINA, PEOPLE'S REPUBLIC OF", "china peoples republic of", "china people s republic of"),
        ("O’Brien`s Co_Ltd", "obriens co ltd", "o brien s co ltd"),
        ("Ｓｐａｃｅｔｙ  Co.,Ltd.", "spacety co ltd", "spacety co ltd"),
        ("  Beijing (CETC) #54 ", "beijing cetc 54", "beijing cetc 54"),
        ("ÉCOLE  d'été", "école dété", "école d été"),
        ("", "", ""),
    ],
)
def test_the_two_name_rules(value: str, name: str, csl: str) -> None:
    assert (name_key(value), csl_name_key(value)) == (name, csl)

"""The screening index finds exactly what running the matcher over every entry finds."""

from __future__ import annotations

import pytest

from tests.conftest import fixture_bytes
from watcher.matching.matcher import build_matcher
from watcher.matching.screen import ScreenIndex, build_screen_index, screen_name
from watcher.models import Entry, WatchEntity, make_entry
from watcher.sources.registry import SOURCES


@pytest.fixture(scope="module")
def sdn_entries() -> list[Entry]:
    source = SOURCES["ofac_sdn"]({})
    return list(source.parse({"primary": fixture_bytes("ofac_sdn/sdn_2021-12-16.csv")}).entries)


@pytest.fixture(scope="module")
def sdn_index(sdn_entries: list[Entry]) -> ScreenIndex:
    return build_screen_index(sdn_entries)


QUERIES = [
    "Xinjiang Public Security Bureau",
    "Shohrat Zakir",  # word order
    "TUNIYAZ, Erken",
    "Banco Nacional de Cuba",
    "Kim Jong Un",
    "Aerocaribbean",  # a prefix of a listed name: no match at 88
    "新疆生产建设兵团",  # XPCC in Han characters: not on the 2021 SDN under this name
]


@pytest.mark.parametrize("query", QUERIES)
def test_index_equals_a_full_scan(
    sdn_entries: list[Entry], sdn_index: ScreenIndex, query: str
) -> None:
    matcher = build_matcher([WatchEntity(query)], [], threshold=88.0)
    full = sorted((e.key, m.score, m.method) for e in sdn_entries for m in matcher.match_entry(e))
    fast = sorted(
        (h.entry.key, h.match.score, h.match.method) for h in screen_name(sdn_index, query, 88.0)
    )
    assert fast == full


def test_chinese_and_pinyin_queries_find_a_han_alias() -> None:
    listed = make_entry(
        source="trade_csl",
        key="EL:CN:x",
        list_code="EL",
        name="Hangzhou Hikvision Digital Technology",
        aliases=["海康威视"],
    )
    other = make_entry(source="trade_csl", key="EL:CN:y", list_code="EL", name="Zhejiang Dahua")
    index = build_screen_index([listed, other])
    han = screen_name(index, "海康威视", 88.0)
    assert [h.entry.key for h in han] == ["EL:CN:x"]
    assert han[0].match.matched_name == "海康威视"
    pinyin = screen_name(index, "Hai Kang Wei Shi", 88.0)
    assert [h.entry.key for h in pinyin] == ["EL:CN:x"]
    assert screen_name(index, "   ", 88.0) == []


def test_sdn_hit_is_best_first_with_a_reason(sdn_index: ScreenIndex) -> None:
    hits = screen_name(sdn_index, "Zakir Shohrat", 88.0)
    assert hits[0].entry.key == "34079" and hits[0].match.score == 100.0
    assert hits[0].match.reason and "ZAKIR" in hits[0].match.reason.upper()

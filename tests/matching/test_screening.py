"""Screening one name in any script: a table of queries for every bundled company and bureau.

The listings are what the lists publish: the party's Latin name (upper-cased, with a Chinese
address); the queries are derived from the bundled watchlist: its Latin name, its shortest
Chinese alias in simplified and traditional script, that alias in pinyin with tone marks and
spaces and without either, and for bureaus the Uyghur Latin spelling of the place.
"""

from __future__ import annotations

import pytest
from pypinyin import Style, lazy_pinyin, pinyin

from tests.conftest import fixture_bytes
from watcher.matching.matcher import load_default_watchlist
from watcher.matching.normalize import has_han, to_simplified
from watcher.matching.screening import (
    Screener,
    ScreenIndex,
    build_screen_index,
    build_screener,
    screen_index,
)
from watcher.models import Address, Entry, WatchEntity, make_entry
from watcher.sources.registry import SOURCES

ENTITIES, _TOPICS = load_default_watchlist(["xinjiang-2019", "xinjiang-sdn"])
_ULY = ("Aqsu", "Qumul", "Xoten", "Qeshqer", "Qaramay", "Qizilsu", "Shixenze", "Chöchek",
        "Tumshuq", "Ürümchi", "Ghulja", "Sanji", "Bayin'ghulin")  # fmt: skip


def listing(entity: WatchEntity) -> Entry:
    return make_entry(
        source="t",
        key="1",
        list_code="EL",
        name=entity.name.upper(),
        entity_type="entity",
        addresses=[Address(None, None, None, None, "CN")],
    )


def queries(entity: WatchEntity) -> list[tuple[str, str]]:
    """(script, query) pairs for one bundled entity."""
    han = sorted((a for a in entity.aliases if has_han(a)), key=len)
    simplified = next(a for a in han if to_simplified(a) == a)
    out = [("latin", entity.name), ("simplified", simplified)]
    traditional = next((a for a in han if to_simplified(a) == simplified and a != simplified), None)
    if traditional:
        out.append(("traditional", traditional))
    out.append(("pinyin with tones", " ".join(s[0] for s in pinyin(simplified, Style.TONE))))
    out.append(("pinyin, no tones or spaces", "".join(lazy_pinyin(simplified))))
    out += [("uyghur", a) for a in entity.aliases if a.startswith(_ULY)]
    return out


CASES = [
    pytest.param(entity, script, query, id=f"{entity.name[:40]}|{script}")
    for entity in ENTITIES
    for script, query in queries(entity)
]


@pytest.fixture(scope="module")
def screeners() -> dict[str, Screener]:
    return {}


@pytest.mark.parametrize(("entity", "script", "query"), CASES)
def test_screening_in_every_script_finds_the_latin_listing(
    screeners: dict[str, Screener], entity: WatchEntity, script: str, query: str
) -> None:
    screener = screeners.setdefault(query, build_screener(query, ENTITIES))
    hit = screener.screen(listing(entity))
    assert hit is not None, f"{script} query {query!r} missed {entity.name}"
    if hit.path == "watchlist":
        assert hit.via.startswith(entity.name)
    else:
        assert script == "latin"


def test_every_bundled_party_has_a_chinese_and_the_bureaus_a_uyghur_query() -> None:
    scripts = {e.name: {s for s, _q in queries(e)} for e in ENTITIES}
    assert len(ENTITIES) == 30
    assert all({"latin", "simplified", "pinyin with tones"} <= s for s in scripts.values())
    bureaus = [n for n in scripts if n.endswith("Public Security Bureau") and "XUAR" not in n]
    assert sum("uyghur" in scripts[n] for n in bureaus) >= 13


def test_a_chinese_query_says_which_alias_it_went_through() -> None:
    hikvision = next(e for e in ENTITIES if "Hikvision" in e.name)
    hit = build_screener("海康威視", ENTITIES).screen(listing(hikvision))
    assert hit is not None and hit.path == "watchlist"
    assert hit.via == f"{hikvision.name} (its alias '海康威視', alias 100)"


def test_unrelated_names_are_not_screened_in() -> None:
    screener = build_screener("海康威视", ENTITIES)
    dahua = next(e for e in ENTITIES if "Dahua" in e.name)
    assert screener.screen(listing(dahua)) is None
    assert not screener.could_match('{"name": "ROSOBORONEXPORT OAO", "aliases": []}')
    assert screener.could_match('{"name": "HANGZHOU HIK-VISION", "aliases": []}')


# The screening index (what the daemon keeps) against a full scan of a real list.

ALL_ENTITIES, _ = load_default_watchlist(["xinjiang-2019", "xinjiang-sdn", "china-tech"])


@pytest.fixture(scope="module")
def sdn_entries() -> list[Entry]:
    source = SOURCES["ofac_sdn"]({})
    return list(source.parse({"primary": fixture_bytes("ofac_sdn/sdn_2021-12-16.csv")}).entries)


@pytest.fixture(scope="module")
def sdn_index(sdn_entries: list[Entry]) -> ScreenIndex:
    return build_screen_index(sdn_entries)


INDEX_QUERIES = [
    "Xinjiang Public Security Bureau",
    "Shohrat Zakir",  # word order
    "TUNIYAZ, Erken",
    "Banco Nacional de Cuba",
    "Kim Jong Un",
    "Aerocaribbean",  # a prefix of a listed name: no match at 88
    "新疆生产建设兵团",  # XPCC in Han characters: found through the watchlist
    "Xīnjiāng Gōng'ān Tīng",  # pinyin with tones
    "Ürümchi Public Security Bureau",  # a Uyghur spelling
]


@pytest.mark.parametrize("query", INDEX_QUERIES)
def test_index_equals_a_full_scan(
    sdn_entries: list[Entry], sdn_index: ScreenIndex, query: str
) -> None:
    screener = build_screener(query, ALL_ENTITIES)
    full = [(e, hit) for e in sdn_entries if (hit := screener.screen(e)) is not None]
    assert screen_index(sdn_index, screener) == full


def test_index_finds_xpcc_from_han_through_the_watchlist(sdn_index: ScreenIndex) -> None:
    found = screen_index(sdn_index, build_screener("新疆生产建设兵团", ALL_ENTITIES))
    names = {e.name: hit for e, hit in found}
    xpcc = names["XINJIANG PRODUCTION AND CONSTRUCTION CORPS"]
    assert xpcc.path == "watchlist" and xpcc.via.startswith("Xinjiang Production")


def test_index_finds_a_han_alias_directly_and_nothing_for_blank() -> None:
    listed = make_entry(
        source="trade_csl",
        key="EL:CN:x",
        list_code="EL",
        name="Hangzhou Hikvision Digital Technology",
        aliases=["海康威视"],
    )
    other = make_entry(source="trade_csl", key="EL:CN:y", list_code="EL", name="Zhejiang Dahua")
    index = build_screen_index([listed, other])
    han = screen_index(index, build_screener("海康威视", []))
    assert [(e.key, h.path, h.match.matched_name) for e, h in han] == [
        ("EL:CN:x", "direct", "海康威视")
    ]
    pinyin = screen_index(index, build_screener("Hai Kang Wei Shi", []))
    assert [e.key for e, _h in pinyin] == ["EL:CN:x"]
    assert screen_index(index, build_screener("   ", ALL_ENTITIES)) == []


def test_sdn_hit_has_a_reason(sdn_index: ScreenIndex) -> None:
    hits = {e.key: h for e, h in screen_index(sdn_index, build_screener("Zakir Shohrat", []))}
    assert hits["34079"].match.score == 100.0 and hits["34079"].path == "direct"
    assert "ZAKIR" in hits["34079"].match.reason.upper()

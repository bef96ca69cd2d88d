"""watcher.match on real fixture rows: must-match parties, the traps, and a labelled evaluation.

Entries are built with `make_entry` from fields read out of the fixture files with the csv module
(the real parsers are written concurrently); each helper names the file and row layout it reads.
"""

from __future__ import annotations

import csv
import io
import random

import pytest

from tests.conftest import fixture_bytes
from watcher.match import (
    Match,
    Matcher,
    WatchEntity,
    build_matcher,
    load_default_watchlist,
)
from watcher.models import Address, Entry, make_entry

# --- fixture readers ---------------------------------------------------------------------------


def _null(value: str) -> str | None:
    value = value.strip()
    return None if value in ("", "-0-") else value


def ofac_rows(relative: str) -> dict[str, list[str]]:
    """OFAC legacy CSV (sdn.csv / cons_prim.csv / add.csv / alt.csv): no header, cp1252."""
    text = fixture_bytes(relative).decode("cp1252").replace("\x1a", "")
    return {row[0]: row for row in csv.reader(io.StringIO(text)) if row and row[0].strip()}


def ofac_entry(
    row: list[str], *, adds: list[list[str]] = (), alts: list[list[str]] = ()  # type: ignore[assignment]
) -> Entry:
    """Columns: uid, name, type, programs, title, call sign, vessel type, tonnage, GRT, flag,
    owner, remarks; add.csv: uid, add num, address, city/state/zip, country, remarks;
    alt.csv: uid, alt num, type, name, remarks."""
    return make_entry(
        source="ofac",
        key=row[0],
        list_code="SDN",
        name=row[1],
        entity_type=_null(row[2]),
        programs=(row[3],),
        remarks=_null(row[11]),
        addresses=[Address(_null(a[2]), _null(a[3]), None, None, _null(a[4])) for a in adds],
        aliases=[a[3] for a in alts],
    )


def ofac_companions(relative: str) -> dict[str, list[list[str]]]:
    text = fixture_bytes(relative).decode("cp1252").replace("\x1a", "")
    out: dict[str, list[list[str]]] = {}
    for row in csv.reader(io.StringIO(text)):
        if row and row[0].strip():
            out.setdefault(row[0], []).append(row)
    return out


CSL = "trade_gov_csl/moov_csl_sample_2023-11-30.csv"


def csl_rows() -> list[dict[str, str]]:
    """CSL CSV with header (line 2 repeats the header: skipped)."""
    reader = csv.DictReader(io.StringIO(fixture_bytes(CSL).decode("utf-8")))
    return [row for row in reader if row["_id"] != "_id"]


def csl_entry(row: dict[str, str]) -> Entry:
    """Addresses are '; '-joined; a trailing two-letter part is the country code."""
    addresses = []
    for text in row["addresses"].split("; "):
        parts = [p.strip() for p in text.split(",")]
        code = parts[-1] if len(parts) > 1 and len(parts[-1]) == 2 and parts[-1].isalpha() else None
        addresses.append(Address(", ".join(parts[:-1]) if code else text, None, None, None, code))
    return make_entry(
        source="trade_csl",
        key=row["_id"],
        list_code=row["source"],
        name=row["name"],
        entity_type=row["type"] or None,
        aliases=row["alt_names"].split("; "),
        addresses=addresses,
        programs=row["programs"].split("; "),
        remarks=row["remarks"] or None,
    )


# --- helpers -----------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def matcher() -> Matcher:
    entities, topics = load_default_watchlist(["xinjiang-2019", "xinjiang-sdn", "china-tech"])
    return build_matcher(entities, topics)


def entity_hits(matches: list[Match]) -> dict[str, Match]:
    return {m.watch: m for m in matches if m.kind == "entity"}


def topic_hits(matches: list[Match]) -> dict[str, Match]:
    return {m.watch: m for m in matches if m.kind == "topic"}


# --- the bundled watchlist ---------------------------------------------------------------------


def test_default_watchlist_groups() -> None:
    entities, topics = load_default_watchlist()
    groups = [e.tags[0] for e in entities]
    assert groups.count("xinjiang-2019") == 28
    assert groups.count("xinjiang-sdn") == 2
    assert "china-tech" not in groups
    assert [t.name for t in topics] == ["xinjiang-region", "xinjiang-security"]
    tech, _ = load_default_watchlist(["china-tech"])
    assert len(tech) == 9 and all(e.tags[0] == "china-tech" for e in tech)
    assert all(e.country == "CN" and e.entity_type == "organization" for e in entities)
    assert sum(1 for e in entities if "public-security" in e.tags and "government" in e.tags) == 22


# --- must match --------------------------------------------------------------------------------

CMIC = {
    "33114": "SenseTime",
    "33091": "Megvii Technology Ltd.",
    "30946": "Hangzhou Hikvision Digital Technology Co., Ltd.",
    "33893": "Yitu Technologies",
    "33896": "Xiamen Meiya Pico Information Co., Ltd.",
}


@pytest.mark.parametrize("uid", sorted(CMIC))
def test_cmic_rows_in_ofac_consolidated_match(matcher: Matcher, uid: str) -> None:
    rows = ofac_rows("ofac_consolidated/cons_prim_2025-04-21.csv")
    adds = ofac_companions("ofac_consolidated/cons_add_2025-04-21.csv")
    entry = ofac_entry(rows[uid], adds=adds.get(uid, []))
    hits = entity_hits(matcher.match_entry(entry))
    assert list(hits) == [CMIC[uid]]
    assert hits[CMIC[uid]].score >= 88.0
    assert "xinjiang-2019" in hits[CMIC[uid]].tags


@pytest.mark.parametrize("uid", sorted(CMIC))
def test_cmic_rows_in_csl_title_case_match(matcher: Matcher, uid: str) -> None:
    row = next(r for r in csl_rows() if r["entity_number"] == uid)
    hits = entity_hits(matcher.match_entry(csl_entry(row)))
    assert list(hits) == [CMIC[uid]]


def test_sensetime_match_explains_itself(matcher: Matcher) -> None:
    row = ofac_rows("ofac_consolidated/cons_prim_2025-04-21.csv")["33114"]
    adds = ofac_companions("ofac_consolidated/cons_add_2025-04-21.csv")["33114"]
    match = entity_hits(matcher.match_entry(ofac_entry(row, adds=adds)))["SenseTime"]
    assert match.method == "alias"
    assert match.matched_name == "SENSETIME GROUP LIMITED"
    assert match.matched_text == "SenseTime Group Limited"
    assert "country CN agrees" in match.reason


@pytest.mark.parametrize("uid", ["34079", "34119"])
def test_officials_linked_to_xinjiang_psb_match_security_topic(matcher: Matcher, uid: str) -> None:
    entry = ofac_entry(ofac_rows("ofac_sdn/sdn_2021-12-10.csv")[uid])
    matches = matcher.match_entry(entry)
    topics = topic_hits(matches)
    assert set(topics) == {"xinjiang-region", "xinjiang-security"}
    assert topics["xinjiang-security"].matched_text == "Linked To: XINJIANG PUBLIC SECURITY BUREAU"
    assert entity_hits(matches) == {}  # a person is never the bureau itself


@pytest.mark.parametrize(
    ("uid", "watch"),
    [("29159", "Xinjiang Public Security Bureau"), ("29299", "Xinjiang Production and Construction Corps")],
)
def test_sdn_xinjiang_bodies_match_with_aliases(matcher: Matcher, uid: str, watch: str) -> None:
    row = ofac_rows("ofac_sdn/moov_sdn_2021-07.csv")[uid]
    adds = ofac_companions("ofac_sdn/moov_add_2021-07.csv")[uid]
    alts = ofac_companions("ofac_sdn/moov_alt_2021-07.csv").get(uid, [])
    matches = matcher.match_entry(ofac_entry(row, adds=adds, alts=alts))
    hits = entity_hits(matches)
    assert hits[watch].method == "exact" and hits[watch].score == 100.0
    assert "xinjiang-sdn" in hits[watch].tags
    assert set(topic_hits(matches)) == {"xinjiang-region", "xinjiang-security"}


def test_sdn_psb_alias_alone_matches(matcher: Matcher) -> None:
    alt = ofac_companions("ofac_sdn/moov_alt_2021-07.csv")["29159"][0]  # XINJIANG BUREAU OF ...
    hits = entity_hits(matcher.match_name(alt[3]))
    assert hits["Xinjiang Public Security Bureau"].method == "alias"


def test_chinese_alias_matches_pinyin_listed_name() -> None:
    m = build_matcher([WatchEntity("新疆生产建设兵团", (), ("t",), "CN", "organization", None)], [])
    hit = entity_hits(m.match_name("XINJIANG SHENGCHAN JIANSHE BINGTUAN"))["新疆生产建设兵团"]
    assert hit.method == "normalized"


def test_traditional_and_simplified_match(matcher: Matcher) -> None:
    for listed in ("商湯科技", "商汤科技"):
        assert entity_hits(matcher.match_name(listed))["SenseTime"].score == 100.0
    assert entity_hits(matcher.match_name("喀什地區公安局"))["Kashgar Prefecture Public Security Bureau"]


def test_news_text_mentions(matcher: Matcher) -> None:
    found = matcher.match_text("US adds 海康威視 and Megvii to list; Kashgar police named")
    assert set(entity_hits(found)) == {
        "Hangzhou Hikvision Digital Technology Co., Ltd.",
        "Megvii Technology Ltd.",
    }
    security = topic_hits(found)["xinjiang-security"]
    assert security.matched_name == "Kashgar" and "role 'Police'" in security.reason

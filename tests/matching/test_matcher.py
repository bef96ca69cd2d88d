"""watcher.matching.matcher on real fixture rows: must-match parties, traps, labelled evaluation.

Entries are built with `make_entry` from fields read out of the fixture files with the csv module
(the real parsers are written concurrently); each helper names the file and row layout it reads.
"""

from __future__ import annotations

import csv
import io
import random
from collections.abc import Sequence

import pytest

from tests.conftest import fixture_bytes
from watcher.matching.matcher import (
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
    row: list[str],
    *,
    adds: Sequence[list[str]] = (),
    alts: Sequence[list[str]] = (),
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
    """CSL CSV with header (line 2 repeats the header: skipped; short rows: missing = "")."""
    reader = csv.DictReader(io.StringIO(fixture_bytes(CSL).decode("utf-8")))
    rows = [{k: v or "" for k, v in row.items() if k is not None} for row in reader]
    return [row for row in rows if row["_id"] != "_id"]


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
    [
        ("29159", "Xinjiang Public Security Bureau"),
        ("29299", "Xinjiang Production and Construction Corps"),
    ],
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
    assert entity_hits(matcher.match_name("喀什地區公安局"))[
        "Kashgar Prefecture Public Security Bureau"
    ]


def test_news_text_mentions(matcher: Matcher) -> None:
    found = matcher.match_text("US adds 海康威視 and Megvii to list; Kashgar police named")
    assert set(entity_hits(found)) == {
        "Hangzhou Hikvision Digital Technology Co., Ltd.",
        "Megvii Technology Ltd.",
    }
    security = topic_hits(found)["xinjiang-security"]
    assert security.matched_name == "Kashgar" and "role 'Police'" in security.reason


# --- traps -------------------------------------------------------------------------------------


def test_dahua_electronics_is_not_zhejiang_dahua(matcher: Matcher) -> None:
    row = next(r for r in csl_rows() if r["name"] == "DAHUA ELECTRONICS CORPORATION")  # DPL
    assert "FLUSHING, NY" in row["addresses"]
    assert matcher.match_entry(csl_entry(row)) == []
    assert matcher.match_name("DAHUA ELECTRONICS CORPORATION") == []


def test_east_hope_is_in_xinjiang_but_not_a_security_body(matcher: Matcher) -> None:
    row = next(r for r in csl_rows() if r["name"].startswith("Xinjiang East Hope"))  # UVL
    matches = matcher.match_entry(csl_entry(row))
    assert set(topic_hits(matches)) == {"xinjiang-region"}
    assert entity_hits(matches) == {}


def test_place_of_birth_never_matches_a_topic(matcher: Matcher) -> None:
    sdn = ofac_rows("ofac_sdn/sdn_2021-12-10.csv")
    haq = ofac_entry(sdn["11353"])
    assert "Xinjiang Uighur Autonomous Region" in (haq.remarks or "")
    assert haq.name == "HAQ, Abdul" and matcher.match_entry(haq) == []
    row = next(r for r in csl_rows() if r["entity_number"] == "11353")
    assert matcher.match_entry(csl_entry(row)) == []
    # 30508 IMIRBAKI, Arken: POB Yengisar County, Xinjiang; citizen China.
    assert matcher.match_entry(ofac_entry(sdn["30508"])) == []


def test_tibetan_public_security_bureau_is_not_xinjiang_security(matcher: Matcher) -> None:
    # No Tibetan PSB row exists in the fixtures (the only "Tibet" rows are POBs, e.g. 30512
    # CHOLING, Padma). Built from the Entity List naming pattern of the Xinjiang bureaus.
    sdn = ofac_rows("ofac_sdn/sdn_2021-12-10.csv")
    assert matcher.match_entry(ofac_entry(sdn["30512"])) == []
    for name in (
        "Tibet Autonomous Region Public Security Bureau",
        "Lhasa Municipal Public Security Bureau",
        "Tibet Autonomous Region (TAR) People's Government Public Security Bureau",
    ):
        entry = make_entry(
            source="test",
            key=name,
            list_code="EL",
            name=name,
            addresses=[Address(None, "Lhasa", "Tibet", None, "CN")],
        )
        assert matcher.match_entry(entry) == [], name


def test_names_that_merely_contain_xin(matcher: Matcher) -> None:
    sdn24 = ofac_rows("ofac_sdn/sdn_2024-05-03.csv")
    # ZHUO, Xinrong; PINGTAN MARINE (Linked To: ZHUO, Xinrong); YONG XIN; XIN GUANG HAI
    for uid in ("33674", "33675", "40900", "23776"):
        assert matcher.match_entry(ofac_entry(sdn24[uid])) == [], sdn24[uid][1]
    yong_xin_street = next(r for r in csl_rows() if "Yong Xin Street" in r["addresses"])
    assert matcher.match_entry(csl_entry(yong_xin_street)) == []
    for name in ("Xinhua News Agency", "Xin", "Xinrong", "Xinjiangxin"):
        assert matcher.match_name(name) == [], name
    # The Guardian's feed credits "Photograph: Xinhua / Barcroft Images".
    feed = fixture_bytes("news_rss/guardian_us_rss_2018-01-31.rss").decode("utf-8")
    assert "Xinhua" in feed and matcher.match_text(feed) == []


def test_street_named_after_a_xinjiang_city_is_not_xinjiang(matcher: Matcher) -> None:
    entry = make_entry(
        source="test",
        key="1",
        list_code="EL",
        name="Shanghai Example Trading Co., Ltd.",
        addresses=[Address("No. 200 Urumqi Middle Road", "Shanghai", None, None, "CN")],
    )
    assert matcher.match_entry(entry) == []


def test_individual_never_matches_an_organization(matcher: Matcher) -> None:
    row = ofac_rows("ofac_consolidated/cons_prim_2025-04-21.csv")["33114"]
    person = make_entry(source="t", key="1", list_code="SDN", name=row[1], entity_type="individual")
    assert entity_hits(matcher.match_entry(person)) == {}


def test_country_is_evidence_for_and_against(matcher: Matcher) -> None:
    def score(name: str, country: str) -> float:
        entry = make_entry(
            source="t",
            key="1",
            list_code="EL",
            name=name,
            addresses=[Address(None, None, None, None, country)],
        )
        hits = entity_hits(matcher.match_entry(entry))
        return hits["Megvii Technology Ltd."].score if hits else 0.0

    assert score("Megvii Technology", "CN") == 100.0
    assert score("Megvii Technology", "US") == 88.0  # identical name, wrong country
    assert score("Megvii Technologies", "CN") >= 88.0
    assert score("Megvii Technologies", "US") == 0.0  # a fuzzy name in the wrong country


def test_threshold_is_configurable() -> None:
    entities, topics = load_default_watchlist()
    strict = build_matcher(entities, topics, threshold=99.0)
    assert entity_hits(strict.match_name("Megvii Technologies")) == {}
    assert entity_hits(strict.match_name("MEGVII TECHNOLOGY LIMITED"))


# --- places that exist in several countries ----------------------------------------------------


def _org(name: str, *, addresses: Sequence[Address] = (), programs: Sequence[str] = ()) -> Entry:
    return make_entry(
        source="t",
        key="1",
        list_code="SDN",
        name=name,
        entity_type="entity",
        addresses=list(addresses),
        programs=list(programs),
    )


def elsewhere_cases() -> list[tuple[str, Entry]]:
    """Places named like Xinjiang's that are elsewhere: the real SDN addition 47796 (Russian
    program and tax id, no address) and variants derived from it or written for the case."""
    shooter = ofac_entry(ofac_rows("ofac_sdn/sdn_2024-05-03.csv")["47796"])
    assert shooter.name == "SHOOTING CENTER ALTAY SHOOTER LTD"
    unlisted = make_entry(
        source="t", key="2", list_code="SDN", name=shooter.name, remarks=shooter.remarks
    )  # no program: the "(Russia)" of its tax id still places it
    return [
        ("real 47796, RUSSIA-EO14024", shooter),
        ("47796 without its program", unlisted),
        ("Altai Krai", _org("ALTAY PLANT JSC", addresses=[Address("Barnaul, Altay Krai")])),
        (
            "Kashgar Street elsewhere",
            _org("SILK ROAD CARGO LLC", addresses=[Address("12 Kashgar Street", "Bishkek", None,
                                                           None, "KG")]),
        ),
        ("Hotan as a surname", _org("MEHMET HOTAN INSAAT LTD", addresses=[Address(
            "Ataturk Cad. 5", "Istanbul", None, None, "Turkey")])),
    ]  # fmt: skip


@pytest.mark.parametrize("index", range(5))
def test_place_names_elsewhere_do_not_count_for_xinjiang(matcher: Matcher, index: int) -> None:
    label, entry = elsewhere_cases()[index]
    assert topic_hits(matcher.match_entry(entry)) == {}, label


def test_ambiguous_place_still_counts_in_china(matcher: Matcher) -> None:
    in_china = _org("ALTAY HUAFENG MINING CO", addresses=[Address("Altay City", None, None, None,
                                                                  "CN")])  # fmt: skip
    assert "xinjiang-region" in topic_hits(matcher.match_entry(in_china))
    assert "xinjiang-region" in topic_hits(matcher.match_entry(_org("HOTAN JADE TRADING CO")))


# --- labelled evaluation -----------------------------------------------------------------------

XINJIANG_WORDS = ("XINJIANG", "URUMQI", "KASHGAR", "HOTAN", "AKSU", "UIGHUR", "UYGHUR")


def test_labelled_evaluation_precision_and_recall(matcher: Matcher) -> None:
    """Positives: the must-match rows; negatives: the traps and 300 random SDN rows."""
    cons = ofac_rows("ofac_consolidated/cons_prim_2025-04-21.csv")
    sdn21 = ofac_rows("ofac_sdn/sdn_2021-12-10.csv")
    sdn24 = ofac_rows("ofac_sdn/sdn_2024-05-03.csv")
    csl = {r["entity_number"]: r for r in csl_rows() if r["entity_number"]}
    positives: list[tuple[Entry, str]] = [(ofac_entry(cons[u]), w) for u, w in CMIC.items()]
    positives += [(csl_entry(csl[u]), w) for u, w in CMIC.items()]
    positives += [(ofac_entry(sdn21[u]), "xinjiang-security") for u in ("34079", "34119")]
    positives += [(ofac_entry(sdn24["29159"]), "Xinjiang Public Security Bureau")]
    positives += [(ofac_entry(sdn24["29299"]), "Xinjiang Production and Construction Corps")]
    by_name = {r["name"]: r for r in csl_rows()}
    negatives = [csl_entry(by_name["DAHUA ELECTRONICS CORPORATION"]), ofac_entry(sdn21["11353"])]
    negatives += [ofac_entry(sdn24[u]) for u in ("33674", "33675", "40900", "23776", "30512")]
    pool = sorted(
        uid
        for uid, row in sdn24.items()
        if not any(w in ",".join(row).upper() for w in XINJIANG_WORDS)
    )
    negatives += [ofac_entry(sdn24[u]) for u in random.Random(4).sample(pool, 300)]
    negatives += [entry for _label, entry in elsewhere_cases()]

    true_pos = sum(1 for e, w in positives if w in {m.watch for m in matcher.match_entry(e)})
    false_pos = sum(1 for e in negatives if matcher.match_entry(e))
    recall = true_pos / len(positives)
    precision = true_pos / (true_pos + false_pos)
    assert (len(positives), len(negatives)) == (14, 312)
    assert recall == 1.0
    assert precision == 1.0

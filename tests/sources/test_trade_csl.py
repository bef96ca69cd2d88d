"""trade_csl on the real CSL fixtures; variants (shuffled, renamed, column dropped) are derived
from those bytes inside the tests."""

from __future__ import annotations

import collections
import csv
import io
import json
import random

import pytest

from tests.conftest import fixture_bytes
from watcher.errors import ParseError
from watcher.models import Address, Entry, Identifier, ParseResult
from watcher.sources._csl_fields import list_code, parse_address
from watcher.sources._csl_table import audit_header
from watcher.sources.trade_csl import LIVE_HEADER, TradeCsl, match_renames

CSL_2023 = "trade_gov_csl/moov_csl_sample_2023-11-30.csv"
CSL_2019 = "trade_gov_csl/moov_csl_sample_2019-12-03.csv"
CSL_2025 = "trade_gov_csl/moov_csl_excerpt_2025-06-25.csv"
LIVE = "trade_gov_csl/trade_gov_consolidated_csv_HEADER_ONLY_captured-2026-09-25.txt"

COUNTS_2023 = {
    "SDN": 1738,
    "EL": 919,
    "DPL": 577,
    "SSI": 288,
    "UVL": 186,
    "ISN": 144,
    "DTC": 142,
    "PLC": 78,
    "MEU": 71,
    "CMIC": 68,
    "MBS": 14,
    "FSE": 1,
    "CAP": 1,
}


def parse(data: bytes) -> ParseResult:
    return TradeCsl().parse({"primary": data})


def rows_of(data: bytes) -> list[list[str]]:
    return list(csv.reader(io.StringIO(data.decode("utf-8-sig"), newline="")))


def to_csv(rows: list[list[str]], newline: str = "\n") -> bytes:
    buf = io.StringIO()
    csv.writer(buf, lineterminator=newline).writerows(rows)
    return buf.getvalue().encode("utf-8")


def by_name(result: ParseResult, name: str) -> Entry:
    found = [e for e in result.entries if e.name == name]
    assert len(found) == 1, name
    return found[0]


def by_key(result: ParseResult) -> dict[str, Entry]:
    return {e.key: e for e in result.entries}


@pytest.fixture(scope="module")
def csl_2023() -> ParseResult:
    return parse(fixture_bytes(CSL_2023))


def test_2023_sample_list_codes(csl_2023: ParseResult) -> None:
    counts = collections.Counter(e.list_code for e in csl_2023.entries)
    assert counts == COUNTS_2023
    assert len(csl_2023.entries) == 4227  # 4,228 data lines minus the repeated header


def test_2023_title_case_names_kept_and_keyed_by_ofac_id(csl_2023: ParseResult) -> None:
    sensetime = by_name(csl_2023, "Sensetime Group Limited")
    assert sensetime.key == "CMIC:33114"
    assert sensetime.list_code == "CMIC"
    assert sensetime.entity_type == "entity"
    assert sensetime.aliases == ("Sensetime Group Ltd",)
    assert Identifier("C.R. No.", "2162198", "HK") in sensetime.ids
    assert sensetime.countries() == ("CN",)


def test_repeated_header_skipped(csl_2023: ParseResult) -> None:
    assert not [e for e in csl_2023.entries if e.name == "name"]
    rows = rows_of(fixture_bytes(CSL_2023))
    assert rows[0] == rows[1] == list(LIVE_HEADER)
    repeated = to_csv(rows[:2] + rows[2:100] + [rows[0]] + rows[100:] + [rows[0]])
    assert by_key(parse(repeated)) == by_key(csl_2023)


def test_truncated_last_row_kept_with_warning(csl_2023: ParseResult) -> None:
    # The sample is cut off mid-row; the partial row still names its party.
    assert any("truncated" in w for w in csl_2023.warnings)
    assert by_name(csl_2023, "BERMUDEZ SUAZA, Pedro Antonio").key == "SDN:11476"


def test_ofac_rows_keyed_by_entity_number(csl_2023: ParseResult) -> None:
    ofac = [e for e in csl_2023.entries if e.list_code in {"SDN", "CMIC", "SSI", "PLC", "MBS"}]
    assert len(ofac) == 1738 + 68 + 288 + 78 + 14
    assert all(e.key == f"{e.list_code}:{e.raw['entity_number']}" for e in ofac)


def test_bis_and_state_rows_get_derived_keys(csl_2023: ParseResult) -> None:
    derived = [e for e in csl_2023.entries if e.list_code in {"EL", "MEU", "UVL", "DPL", "DTC"}]
    assert all("entity_number" not in e.raw for e in derived)
    acteam = by_name(csl_2023, "ACTeam Logistics Ltd.")
    assert acteam.key == "EL:hk:acteam logistics ltd"
    assert acteam.citations == ("75 FR 7358",)
    assert acteam.dates == {"start_date": "2010-02-19"}
    assert acteam.raw["license_policy"] == "Presumption of denial."


def test_traps_keep_their_lists_and_countries(csl_2023: ParseResult) -> None:
    dahua = by_name(csl_2023, "DAHUA ELECTRONICS CORPORATION")
    assert dahua.list_code == "DPL"
    assert dahua.countries() == ("US",)
    assert dahua.addresses[0].state == "NY"
    assert "FLUSHING" in (dahua.addresses[0].address or "")
    hope = by_name(csl_2023, "Xinjiang East Hope New Energy Company Ltd.")
    assert hope.list_code == "UVL"
    assert hope.countries() == ("CN",)
    assert "XinJiang" in (hope.addresses[0].address or "")


def test_keys_unique_and_collisions_numbered(csl_2023: ParseResult) -> None:
    keys = [e.key for e in csl_2023.entries]
    assert len(keys) == len(set(keys))
    # The Denied Persons List repeats a person once per address: same derived key, numbered.
    numbered = sorted(k for k in keys if k.startswith("DPL:ae:mahmoud amini"))
    assert numbered == ["DPL:ae:mahmoud amini", "DPL:ae:mahmoud amini:2", "DPL:ae:mahmoud amini:3"]
    assert any(w.startswith("key collisions: 30 ") for w in csl_2023.warnings)


def test_keys_stable_when_rows_shuffled_and_line_endings_change(csl_2023: ParseResult) -> None:
    rows = rows_of(fixture_bytes(CSL_2023))
    body = rows[2:]
    random.Random(7).shuffle(body)
    shuffled = parse(to_csv(rows[:1] + body, newline="\r\n"))
    assert by_key(shuffled) == by_key(csl_2023)


def test_2019_sample_without_id_column() -> None:
    result = parse(fixture_bytes(CSL_2019))
    assert len(result.entries) == 115
    counts = collections.Counter(e.list_code for e in result.entries)
    assert counts == {
        "SDN": 28,
        "SSI": 26,
        "EL": 22,
        "PLC": 13,
        "DTC": 10,
        "DPL": 8,
        "UVL": 4,
        "ISN": 3,
        "CAP": 1,
    }
    assert any(w.startswith("header drift:") and "'_id'" in w for w in result.warnings)
    holdings = by_name(result, "200G PSA HOLDINGS LLC")
    assert holdings.key == "SDN:20264"
    # 2019 ids read "country, value, type".
    assert holdings.ids == (Identifier("Tax ID No.", "80-0890696", "US"),)
    assert holdings.countries() == ("US",)


def test_2025_excerpt_ingests() -> None:
    result = parse(fixture_bytes(CSL_2025))
    assert len(result.entries) == 13
    assert {e.list_code for e in result.entries} == {
        "SSI", "PLC", "ISN", "UVL", "MEU", "SDN", "DTC", "DPL", "FSE", "EL",
    }  # fmt: skip
    assert not [w for w in result.warnings if w.startswith("header drift:")]


def test_live_header_constant_matches_fixture() -> None:
    live = fixture_bytes(LIVE).decode("utf-8-sig").strip().split(",")
    assert tuple(live) == LIVE_HEADER
    assert len(LIVE_HEADER) == 29
    assert audit_header(LIVE_HEADER) == []


def test_header_drift_vs_2019_and_derived_headers() -> None:
    header_2019 = tuple(rows_of(fixture_bytes(CSL_2019))[0])
    assert [w for w in audit_header(header_2019) if w.startswith("header drift:")]
    renamed = tuple("aliases" if c == "alt_names" else c for c in LIVE_HEADER) + ("country",)
    warnings = audit_header(renamed)
    assert any("'aliases'" in w and "'country'" in w for w in warnings)
    assert any("'alt_names'" in w for w in warnings)


def test_missing_name_column_rejects_snapshot() -> None:
    rows = rows_of(fixture_bytes(CSL_2023))
    drop = rows[0].index("name")
    without = to_csv([r[:drop] + r[drop + 1 :] for r in rows])
    with pytest.raises(ParseError, match="name"):
        parse(without)


@pytest.mark.parametrize(
    "data",
    [b"", b"   \n", b"<!DOCTYPE html><html><body>Maintenance</body></html>", b"{not json"],
)
def test_not_a_csl_is_parse_error(data: bytes) -> None:
    with pytest.raises(ParseError):
        parse(data)


def test_json_format_gives_the_same_entries() -> None:
    rows = rows_of(fixture_bytes(CSL_2025))
    records: list[dict[str, str | list[str]]] = [
        dict(zip(rows[0], r, strict=True)) for r in rows[1:]
    ]
    for record in records:  # the JSON API spells `_id` as `id` and uses lists
        record["id"] = record.pop("_id")
        record["alt_names"] = [a for a in str(record["alt_names"]).split("; ") if a]
    csv_result = parse(fixture_bytes(CSL_2025))
    wrapped = parse(json.dumps({"results": records}).encode())
    bare = parse(json.dumps(records).encode())
    assert by_key(wrapped) == by_key(bare) == by_key(csv_result)
    assert len(by_key(wrapped)) == 13


def test_unknown_source_name_warns_and_uses_parenthesis() -> None:
    rows = rows_of(fixture_bytes(CSL_2025))
    col = rows[0].index("source")
    rows[1][col] = "Brand New List (BNL) - Somewhere"
    result = parse(to_csv(rows))
    assert any("Brand New List" in w for w in result.warnings)
    assert "BNL" in {e.list_code for e in result.entries}
    assert list_code("Mystery list") == ("CSL", False)
    assert list_code("Non-SDN Menu-Based Sanctions List (NS-MBS List) - X") == ("MBS", False)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        (
            "Komitas 26/114, Yerevan, Armenia, AM",
            Address("Komitas 26/114, Yerevan, Armenia", country="AM"),
        ),
        (
            "134-12 59HT AVENUE, FLUSHING, NY, 11355",
            Address("134-12 59HT AVENUE, FLUSHING", state="NY", postal_code="11355", country="US"),
        ),
        ("TR", Address(None, None, None, None, "TR")),
        ("Minsk, crimea (occupied)", Address("Minsk", None, None, None, "crimea (occupied)")),
        ("P.O. Box 1, 1234", Address("P.O. Box 1, 1234")),
    ],
)
def test_parse_address(text: str, expected: Address) -> None:
    assert parse_address(text) == expected


def _renamed(rows: list[list[str]], name: str, new_name: str, **changes: str) -> bytes:
    header = rows[0]
    out = [header]
    for row in rows[1:]:
        if row[header.index("name")] == name:
            row = list(row)
            row[header.index("name")] = new_name
            for column, value in changes.items():
                row[header.index(column)] = value
        out.append(row)
    return to_csv(out)


def _diff(before: ParseResult, after: ParseResult) -> tuple[list[Entry], list[Entry]]:
    old = {e.key: e for e in before.entries}
    new = {e.key: e for e in after.entries}
    removed = [e for k, e in old.items() if k not in new]
    added = [e for k, e in new.items() if k not in old]
    return removed, added


def test_rename_of_entity_list_row_is_paired(csl_2023: ParseResult) -> None:
    rows = rows_of(fixture_bytes(CSL_2023))
    after = parse(_renamed(rows, "ACTeam Logistics Ltd.", "ACTeam Logistics Holdings Limited"))
    removed, added = _diff(csl_2023, after)
    assert [e.name for e in removed] == ["ACTeam Logistics Ltd."]
    assert [e.name for e in added] == ["ACTeam Logistics Holdings Limited"]
    assert match_renames(removed, added) == [(removed[0], added[0])]
    assert TradeCsl().pair_renames(removed, added) == [(removed[0], added[0])]


def test_rename_to_alias_is_paired_even_when_address_changes(csl_2023: ParseResult) -> None:
    rows = rows_of(fixture_bytes(CSL_2023))
    derived = _renamed(
        rows,
        "Alexandre Ivjenko",
        "Alexander Ivjenko",
        alt_names="Alexandre Ivjenko",
        addresses="CA",
    )
    removed, added = _diff(csl_2023, parse(derived))
    assert len(removed) == len(added) == 1
    assert match_renames(removed, added) == [(removed[0], added[0])]


def test_different_parties_are_not_paired(csl_2023: ParseResult) -> None:
    acteam = by_name(csl_2023, "ACTeam Logistics Ltd.")
    other = by_name(csl_2023, "Iqra Computer Products")
    assert match_renames([acteam], [other]) == []
    # Same list, same notice, no address: debarred persons are never merged on that alone.
    dtc = [e for e in csl_2023.entries if e.list_code == "DTC" and e.citations == ("83 FR 18112",)]
    assert len(dtc) >= 2
    assert match_renames([dtc[0]], [dtc[1]]) == []


def test_ofac_keyed_rows_are_not_paired(csl_2023: ParseResult) -> None:
    sensetime = by_name(csl_2023, "Sensetime Group Limited")
    twin = Entry(**{**sensetime.__dict__, "key": "CMIC:1", "raw": {"entity_number": "1"}})
    assert match_renames([sensetime], [twin]) == []

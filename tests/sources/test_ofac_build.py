"""The flat files' fast Entry builder gives exactly what `make_entry` gives, on real fixtures.

`build_entries` skips `make_entry`'s generic cleaning for speed; stored keys, hashes and
history depend on the two agreeing field for field, so they are compared on every flat
fixture (with address, alias and remarks companions) and on derived rows with odd spacing.
"""

from __future__ import annotations

import pytest

from tests.conftest import fixture_bytes
from watcher.models import Address, Entry, make_entry
from watcher.sources._ofac_csv import (
    VESSEL_FIELDS,
    Tables,
    build_entries,
    read_tables,
    split_programs,
    tidy,
)
from watcher.sources.ofac import consolidated_list_code, sdn_list_code

SDN = [
    {"primary": "ofac_sdn/sdn_2021-12-09.csv"},
    {"primary": "ofac_sdn/sdn_2024-05-03.csv"},
    {
        "primary": "ofac_sdn/moov_sdn_2019-01.csv",
        "add.csv": "ofac_sdn/moov_add_2019-01.csv",
        "alt.csv": "ofac_sdn/moov_alt_2019-01.csv",
        "sdn_comments.csv": "ofac_sdn/moov_sdn_comments_2019-01.csv",
    },
    {
        "primary": "ofac_sdn/moov_sdn_2021-07.csv",
        "add.csv": "ofac_sdn/moov_add_2021-07.csv",
        "alt.csv": "ofac_sdn/moov_alt_2021-07.csv",
    },
]


def reference(tables: Tables, source: str, list_code: object) -> list[Entry]:
    """The builder as it was: every field through make_entry."""
    out: dict[str, Entry] = {}
    companions = tables.companions
    for row in tables.primary:
        key = str(int(row[0] or "0"))
        if key in out:
            continue
        programs = split_programs(row[3])
        extra = [r[1] for r in companions.get("comments", []) if str(int(r[0] or "0")) == key]
        remarks = "".join(part for part in [row[11], *extra] if part) or None
        raw = {k: tidy(v) for k, v in zip(("title", *VESSEL_FIELDS), row[4:11], strict=True)}
        out[key] = make_entry(
            source=source,
            key=key,
            list_code=list_code(programs),  # type: ignore[operator]
            name=row[1] or "",
            entity_type=row[2] or "entity",
            aliases=[r[3] for r in companions.get("alt", []) if str(int(r[0] or "0")) == key],
            addresses=[
                Address(address=r[2], city=r[3], country=r[4])
                for r in companions.get("add", [])
                if str(int(r[0] or "0")) == key
            ],
            programs=programs,
            remarks=remarks,
            raw=raw,
        )
    return list(out.values())


def _fast_reference(tables: Tables, source: str, list_code: object) -> list[Entry]:
    # The reference's companion scans are quadratic: index them by key first.
    index: dict[str, dict[str, list[list[str | None]]]] = {}
    for kind, rows in tables.companions.items():
        for r in rows:
            index.setdefault(kind, {}).setdefault(str(int(r[0] or "0")), []).append(r)
    out = []
    for row in tables.primary:
        key = str(int(row[0] or "0"))
        one = Tables([row], {kind: index.get(kind, {}).get(key, []) for kind in tables.companions})
        out.extend(reference(one, source, list_code))
    seen: dict[str, Entry] = {}
    for e in out:
        seen.setdefault(e.key, e)
    return list(seen.values())


@pytest.mark.parametrize("files", SDN, ids=lambda f: f["primary"].rsplit("/", 1)[-1])
def test_fast_builder_equals_make_entry_on_fixtures(files: dict[str, str]) -> None:
    tables = read_tables({name: fixture_bytes(path) for name, path in files.items()})
    for list_code in (sdn_list_code, consolidated_list_code):
        fast = build_entries(tables, "ofac_sdn", list_code)
        slow = _fast_reference(tables, "ofac_sdn", list_code)
        assert len(fast) == len(slow) > 1000
        assert fast == slow
        assert [e.content_hash() for e in fast] == [e.content_hash() for e in slow]
    assert any(e.addresses for e in fast) == ("add.csv" in files)
    assert any(e.aliases for e in fast) == ("alt.csv" in files)
    assert any(e.raw for e in fast)


def test_fast_builder_equals_make_entry_on_odd_spacing() -> None:
    """Derived rows: blank-ish cells, repeated programs, spaced names, companions with
    duplicates, an alias equal to the name, an all-blank address, a remarks spill-over."""
    primary: list[list[str | None]] = [
        ["7", "  DOE,  John ", "Individual ", "SDGT] [ SDGT]", " Mr. ", None, None, None]
        + [None, None, "  Owner  Co ", "  rem  "],
        ["8", "X", None, None, None, "CALL", None, None, None, None, None, None],
        ["9", "Y", "vessel", "CMIC-EO13959", None, None, None, None, None, None, None, "a"],
        ["7", "DUPLICATE", None, None, None, None, None, None, None, None, None, None],
    ]
    companions: dict[str, list[list[str | None]]] = {
        "alt": [["7", "1", "aka", "DOE, John"], ["7", "2", "aka", " ALIAS  ONE "]]
        + [["7", "3", "aka", "ALIAS ONE"], ["8", "4", "fka", None]],
        "add": [["7", "1", " Street  1 ", None, "Cuba", None], ["7", "2", None, None, None, None]]
        + [["9", "3", "B", "Town", "Aruba", None], ["9", "4", "A", "Town", "Aruba", None]],
        "comments": [["9", "bc"], ["9", " d"]],
    }
    tables = Tables(primary, companions)
    for list_code in (sdn_list_code, consolidated_list_code):
        fast = build_entries(Tables(primary, companions), "ofac_consolidated", list_code)
        assert fast == reference(tables, "ofac_consolidated", list_code)
        assert fast[0].aliases == ("ALIAS ONE",) and fast[0].raw == {
            "title": "Mr.",
            "vessel_owner": "Owner Co",
        }
        assert [a.address for a in fast[2].addresses] == ["A", "B"]
        assert fast[2].remarks == "abc d"

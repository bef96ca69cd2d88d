"""The ecfr_entity_list source.

No real capture of 15 CFR 744 Supplement No. 4 exists in the fixtures, so the positive tests
build a synthetic eCFR document INSIDE the test: the real GPOTABLE of the Federal Register rule
2023-03929 wrapped in the eCFR `DIV9 N="Supplement No. 4 to Part 744" TYPE="APPENDIX"`
structure (and, derived from it, the TABLE/TR/TD shape eCFR uses for GPO tables). The real eCFR
files (title 3 from the versioner, title 1 from govinfo) must be refused: they hold no
Entity List.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from datetime import date

import pytest
from lxml import etree

from tests.conftest import fixture_bytes
from tests.helpers import ecfr_part744
from watcher.errors import ParseError
from watcher.sources.ecfr import (
    EcfrEntityList,
    _metadata,
    parse_versions,
    url_for,
    versions_url,
)

RULE = "federal_register/fr_2023-03929_2023-02-27_additions_entity_list.xml"


def _real_table() -> etree._Element:
    return next(etree.fromstring(fixture_bytes(RULE)).iter("GPOTABLE"))


def _wrap(table: etree._Element, path_date: str = "2023-02-27") -> bytes:
    """The eCFR shape around a table: part DIV5 > appendix DIV9 > HEAD + table."""
    meta = {"path": f"/on/{path_date}/title-15/part-744", "citation": "15 CFR Part 744"}
    return ecfr_part744(table, meta)


def _as_html_table(table: etree._Element) -> etree._Element:
    """Derived: the same rows in eCFR's TABLE/TR/TH/TD rendering of GPO tables."""
    out = etree.Element("TABLE", {"class": "gpotbl_table"})
    head = etree.SubElement(out, "TR")
    for text in (
        "Country",
        "Entity",
        "License requirement",
        "License review policy",
        "Federal Register citation",
    ):
        etree.SubElement(head, "TH", {"class": "gpotbl_colhed"}).text = text
    for row in table.iter("ROW"):
        tr = etree.SubElement(out, "TR")
        for ent in row.iter("ENT"):
            ent.tag = "TD"
            tr.append(ent)
    return out


def test_synthetic_appendix_from_the_real_fr_table() -> None:
    result = EcfrEntityList().parse({"primary": _wrap(_real_table())})
    by_key = {e.key: e for e in result.entries}
    assert len(by_key) == 13
    assert {e.list_code for e in result.entries} == {"EL"}
    cpunto = by_key["canada:cpunto inc"]
    assert cpunto.name == "CPUNTO Inc." and cpunto.aliases == ("CPUNTO",)
    assert cpunto.countries() == ("CANADA",)
    assert cpunto.citations == ("88 FR [INSERT FR PAGE NUMBER AND 2/27/2023]",)
    assert cpunto.raw["license_policy"].startswith("Policy of denial")
    head = by_key["china peoples republic of:china head aerospace technology co"]
    assert len(head.aliases) == 7 and len(head.addresses) == 3
    assert {e.countries()[0] for e in result.entries} == {
        "CANADA",
        "CHINA, PEOPLE'S REPUBLIC OF",
        "FRANCE",
        "LUXEMBOURG",
        "NETHERLANDS",
        "RUSSIA",
    }
    assert result.published_at is not None and result.published_at.date() == date(2023, 2, 27)


def test_synthetic_appendix_in_ecfr_html_table_shape() -> None:
    gpo = EcfrEntityList().parse({"primary": _wrap(_real_table())}).entries
    html_shape = EcfrEntityList().parse({"primary": _wrap(_as_html_table(_real_table()))}).entries
    assert [e.to_dict() for e in html_shape] == [e.to_dict() for e in gpo]


@pytest.mark.parametrize(
    "name",
    [
        "ecfr/ecfr_versioner_full_title-3_part-101_2024-05-17.xml",
        "ecfr/govinfo_bulk_ECFR-title1_2024-02.xml",
    ],
)
def test_real_ecfr_files_without_the_entity_list_are_refused(name: str) -> None:
    with pytest.raises(ParseError, match="no Supplement No. 4 to Part 744"):
        EcfrEntityList().parse({"primary": fixture_bytes(name)})


def test_wrong_columns_are_refused() -> None:
    table = _as_html_table(_real_table())
    for tr in table.iter("TR"):
        cells = list(tr)
        if len(cells) == 5:
            tr.remove(cells[3])  # derived: a table that lost a column
    with pytest.raises(ParseError, match="4 columns"):
        EcfrEntityList().parse({"primary": _wrap(table)})


def test_unrecognised_header_is_refused() -> None:
    table = _as_html_table(_real_table())
    for th in table.iter("TH"):
        th.text = "Column"
    with pytest.raises(ParseError, match="Entity List columns"):
        EcfrEntityList().parse({"primary": _wrap(table)})


def test_table_without_rows_is_refused() -> None:
    table = _real_table()
    for row in list(table.iter("ROW"))[3:]:
        table.remove(row)  # derived: the header survives, every entry is gone
    with pytest.raises(ParseError, match="no entries"):
        EcfrEntityList().parse({"primary": _wrap(table)})


def test_appendix_without_table_is_refused() -> None:
    empty = etree.Element("P")
    empty.text = "[Reserved]"
    with pytest.raises(ParseError, match="holds no table"):
        EcfrEntityList().parse({"primary": _wrap(empty)})


def test_html_page_is_refused() -> None:
    with pytest.raises(ParseError, match="HTML"):
        EcfrEntityList().parse({"primary": b"<!DOCTYPE html><html><body>Busy</body></html>"})


def test_hierarchy_metadata_double_escaped() -> None:
    root = etree.fromstring(
        fixture_bytes("ecfr/ecfr_versioner_full_title-3_part-101_2024-05-17.xml")
    )
    meta = _metadata(root.get("hierarchy_metadata"))
    assert meta["citation"] == "3 CFR Part 101"
    section = next(root.iter("DIV8"))
    assert _metadata(section.get("hierarchy_metadata"))["citation"] == "3 CFR 101.1"


def test_urls_and_plan() -> None:
    assert url_for(date(2024, 5, 17)) == (
        "https://www.ecfr.gov/api/versioner/v1/full/2024-05-17/title-15.xml?part=744"
    )
    assert url_for("2020-01-02").endswith("/full/2020-01-02/title-15.xml?part=744")
    assert versions_url() == "https://www.ecfr.gov/api/versioner/v1/versions/title-15.json?part=744"
    source = EcfrEntityList()
    (plan,) = source.plan(EcfrEntityList.default_url, ()).files
    assert plan == ("versions", versions_url())
    listing = json.dumps(
        {
            "content_versions": [
                {"date": "2024-05-17", "part": "744"},
                {"date": "2023-02-27", "part": "744"},
            ]
        }
    ).encode()  # synthetic, in the documented shape
    assert source.follow("versions", versions_url(), listing, frozenset()) == [
        ("primary", url_for(date(2024, 5, 17)))
    ]
    fixed = "https://mirror.example/part744.xml"
    assert source.plan(fixed, ()).files == (("primary", fixed),)


def test_parse_versions() -> None:
    # Synthetic, shaped like the versioner's documented `content_versions` records.
    content = json.dumps(
        {
            "content_versions": [
                {"date": "2023-02-27", "identifier": "Supplement No. 4 to Part 744", "part": "744"},
                {"date": "2023-02-27", "identifier": "744.21", "part": "744"},
                {"date": "2021-12-16", "identifier": "744.11", "part": "744"},
                {"date": "2022-01-01", "identifier": "742.4", "part": "742"},
                {"amendment_date": "2024-09-16", "identifier": "744.6", "part": "744"},
            ],
            "meta": {},
        }
    ).encode()
    assert parse_versions(content) == [date(2021, 12, 16), date(2023, 2, 27), date(2024, 9, 16)]
    with pytest.raises(ParseError, match="content_versions"):
        parse_versions(b'{"meta": {}}')
    with pytest.raises(ParseError, match="not JSON"):
        parse_versions(b"<html>")


@pytest.mark.parametrize(
    "hide",
    [
        lambda b: b.decode().encode("utf-16"),  # a byte search for <!ENTITY misses it
        lambda b: b.replace(b"?>", b"?><!--" + b"x" * 70_000 + b"-->", 1),  # past 64 KiB
    ],
    ids=["utf16", "after-64kib"],
)
def test_declared_entities_are_refused_however_hidden(hide: Callable[[bytes], bytes]) -> None:
    """Derived: the synthetic appendix with an external entity (found by the hostile corpus:
    never expanded, but the document was accepted)."""
    good = _wrap(_real_table())
    doctype = b'<!DOCTYPE DIV5 [<!ENTITY x SYSTEM "file:///etc/hostname">]>'
    declared = good.replace(b"?>", b"?>" + doctype, 1).replace(b"CPUNTO", b"&x;CPUNTO", 1)
    with pytest.raises(ParseError, match="entities"):
        EcfrEntityList().parse({"primary": hide(declared)})

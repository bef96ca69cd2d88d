"""The federal_register source on real API captures (documents, public inspection, errors)."""

from __future__ import annotations

import codecs
import json
import re
from collections.abc import Callable
from urllib.parse import parse_qs, urlsplit

import pytest

from tests.conftest import fixture_bytes
from watcher.errors import ParseError
from watcher.sources import _fr_api as api
from watcher.sources.federal_register import FederalRegister

FR = "federal_register/"
GIFTS = FR + "fr_documents_search_state-dept-gifts_captured-{}.json"
BIS = FR + "fr_documents_bis_agency_captured-2026-09-25.json"
PI_PAGE = FR + "fr_public_inspection_search_per_page2_captured-2026-09-29.json"
PI_DOC = FR + "fr_public_inspection_document_2026-19958_captured-2026-09-29.json"
PI_EMPTY = FR + "fr_public_inspection_search_empty_captured-2026-09-29.json"
ERROR_400 = FR + "fr_error_400_invalid_cursor_captured-2026-09-24.json"
RULE = FR + "fr_2023-03929_2023-02-27_additions_entity_list.xml"


def _keys(source: FederalRegister, content: bytes) -> set[str]:
    return {e.key for e in source.parse({"primary": content}).entries}


def _pages(follow: list[tuple[str, str]]) -> list[tuple[str, str]]:
    return [f for f in follow if not f[0].startswith("fulltext:")]


def test_plan_builds_the_documents_query() -> None:
    source = FederalRegister()
    plan = source.plan(FederalRegister.default_url, ())
    (name, url), (pi_name, pi_url) = plan.files
    assert name == "primary" and pi_name == "public_inspection"
    parts = urlsplit(url)
    assert parts.path == "/api/v1/documents.json"
    query = parse_qs(parts.query)
    assert query["conditions[agencies][]"] == [
        "industry-and-security-bureau",
        "foreign-assets-control-office",
    ]
    assert query["order"] == ["newest"] and query["per_page"] == ["100"]
    for field in ("document_number", "full_text_xml_url", "citation", "abstract", "action"):
        assert field in query["fields[]"]
    assert "conditions%5Bagencies%5D%5B%5D=industry-and-security-bureau" in url
    assert (
        pi_url == "https://www.federalregister.gov/api/v1/public-inspection-documents/current.json"
    )


def test_plan_options_and_local_server() -> None:
    source = FederalRegister(
        {"agencies": ["state-department"], "per_page": 20, "public_inspection": False}
    )
    plan = source.plan("http://127.0.0.1:8123/api/v1/documents.json", ())
    assert len(plan.files) == 1
    query = parse_qs(urlsplit(plan.files[0][1]).query)
    assert query["conditions[agencies][]"] == ["state-department"]
    assert query["per_page"] == ["20"]
    pi = FederalRegister().plan("http://127.0.0.1:8123/api/v1/documents.json", ()).files[1][1]
    assert pi == "http://127.0.0.1:8123/api/v1/public-inspection-documents/current.json"


@pytest.mark.parametrize(
    ("before", "after", "new"),
    [("2024-04-19", "2024-05-26", ["2024-09344"]), ("2024-05-26", "2025-03-30", ["2024-31509"])],
)
def test_pagination_finds_exactly_the_new_documents(
    before: str, after: str, new: list[str]
) -> None:
    source = FederalRegister()
    known = frozenset(_keys(source, fixture_bytes(GIFTS.format(before))))
    later = fixture_bytes(GIFTS.format(after))
    assert api.new_documents(later, known) == new
    assert _keys(source, later) - known == set(new)
    # Page 1 already reaches stored documents: no page 2, although older ones moved there.
    assert _pages(source.follow("primary", "u", later, known)) == []


def test_pagination_continues_until_known_documents() -> None:
    source = FederalRegister()
    page = fixture_bytes(GIFTS.format("2024-05-26"))
    next_url = json.loads(page)["next_page_url"]
    assert _pages(source.follow("primary", "u", page, frozenset())) == [("page:2", next_url)]
    # 06-6688 was pushed to page 2: page 1 holds nothing known, so keep going.
    assert _pages(source.follow("primary", "u", page, frozenset({"06-6688"}))) == [
        ("page:2", next_url)
    ]
    assert _pages(source.follow("page:20", "u", page, frozenset())) == []  # max_pages


def test_bis_capture_documents_and_entity_list_rules() -> None:
    source = FederalRegister()
    result = source.parse({"primary": fixture_bytes(BIS)})
    by_key = {e.key: e for e in result.entries}
    assert len(by_key) == 20
    assert by_key["2026-17231"].name == "Revisions to the Entity List"
    assert by_key["2026-17230"].name == "Removal From the Entity List"
    assert "C1-2026-16628" in by_key and "2026-16628" in by_key
    assert {k for k, e in by_key.items() if e.raw.get("entity_list_rule")} == {
        "2026-17231",
        "2026-17230",
    }
    assert "abstract" not in by_key["2026-19021"].raw  # null abstract, no error
    assert all(e.list_code == "FR" and e.entity_type == "document" for e in result.entries)
    assert by_key["2026-19537"].dates["publication_date"] == "2026-09-24"
    assert (
        result.published_at is not None and result.published_at.date().isoformat() == "2026-09-24"
    )


def test_bis_follow_asks_for_full_texts_and_the_cursor_page() -> None:
    source = FederalRegister()
    content = fixture_bytes(BIS)
    got = source.follow("primary", "u", content, frozenset())
    assert got == [
        (
            "fulltext:2026-17231",
            "https://www.federalregister.gov/documents/full_text/xml/2026/08/24/2026-17231.xml",
        ),
        (
            "fulltext:2026-17230",
            "https://www.federalregister.gov/documents/full_text/xml/2026/08/24/2026-17230.xml",
        ),
        ("page:2", json.loads(content)["next_page_url"]),
    ]
    assert "search_after_cursor=" in got[2][1]
    # A rule whose actions are stored is not fetched again; an all-known page stops paging.
    known = frozenset(_keys(source, content) | {"2026-17231:revise:china:x"})
    assert source.follow("primary", "u", content, known) == [got[1]]
    assert FederalRegister({"fetch_full_text": False}).follow("primary", "u", content, known) == []


def test_full_text_becomes_entity_list_entries() -> None:
    source = FederalRegister()
    result = source.parse(
        {"primary": fixture_bytes(BIS), "fulltext:2023-03929": fixture_bytes(RULE)}
    )
    actions = [e for e in result.entries if e.list_code == "EL"]
    assert len(result.entries) == 33 and len(actions) == 13
    cpunto = next(e for e in actions if e.name == "CPUNTO Inc.")
    assert cpunto.key == "2023-03929:add:canada:cpunto inc"
    assert cpunto.countries() == ("CANADA",)
    assert cpunto.citations == ("88 FR 12170",)
    assert cpunto.raw["action"] == "add" and cpunto.raw["document_number"] == "2023-03929"
    assert cpunto.dates["effective"] == "2023-02-24"
    assert len(result.extras["entity_actions"]["2023-03929"]) == 13
    assert result.warnings == ()


def test_broken_full_text_is_a_warning_not_a_rejection() -> None:
    truncated = fixture_bytes(RULE)[:5000]  # derived: a cut-off download
    result = FederalRegister().parse(
        {"primary": fixture_bytes(BIS), "fulltext:2026-17231": truncated}
    )
    assert len(result.entries) == 20
    assert any("2026-17231" in w and "well-formed" in w for w in result.warnings)


@pytest.mark.parametrize(
    "encode",
    [lambda b: codecs.BOM_UTF8 + b, lambda b: b.decode().encode("utf-16")],
    ids=["utf8-bom", "utf16"],
)
def test_full_text_behind_a_byte_order_mark_is_xml(encode: Callable[[bytes], bytes]) -> None:
    """Derived: the real rule with a BOM / in UTF-16 (read as manuscript text, a UTF-8 BOM
    made 54 bogus entity actions of its markup)."""
    result = FederalRegister().parse(
        {"primary": fixture_bytes(BIS), "fulltext:2023-03929": encode(fixture_bytes(RULE))}
    )
    assert len([e for e in result.entries if e.list_code == "EL"]) == 13
    assert result.warnings == ()


def test_public_inspection_empty_search_is_zero_entries() -> None:
    result = FederalRegister().parse({"primary": fixture_bytes(PI_EMPTY)})
    assert result.entries == () and result.warnings == ()


def test_public_inspection_search_page() -> None:
    everyone = FederalRegister({"agencies": []})
    entries = everyone.parse({"primary": fixture_bytes(PI_PAGE)}).entries
    assert [e.key for e in entries] == ["2026-19930", "2026-19936"]
    for e in entries:
        assert not e.name.endswith(" ") and e.raw["public_inspection"] is True
        assert e.dates["filed_at"] == "2026-09-29T12:45:00Z"
    assert entries[0].name.endswith("Light-Walled Rectangular Pipe and Tube from Mexico")
    # Default agencies (BIS, OFAC): other agencies' filings are not ours.
    assert FederalRegister().parse({"public_inspection": fixture_bytes(PI_PAGE)}).entries == ()
    follow = everyone.follow("public_inspection", "u", fixture_bytes(PI_PAGE), frozenset())
    assert [n for n, _ in follow] == ["pi_page:2"]


def test_public_inspection_single_document() -> None:
    (entry,) = FederalRegister({"agencies": []}).parse({"primary": fixture_bytes(PI_DOC)}).entries
    assert entry.key == "2026-19958"
    assert entry.name == "Meetings; Sunshine Act"
    assert entry.dates == {"filed_at": "2026-09-28T15:15:00Z", "publication_date": "2026-09-30"}


def test_public_inspection_record_links_to_published_document() -> None:
    published = next(
        r for r in json.loads(fixture_bytes(BIS))["results"] if r["document_number"] == "2026-17231"
    )
    # Derived: the same rule as it sat on public inspection the day before.
    pi = {
        "document_number": "2026-17231",
        "title": published["title"] + " ",
        "type": "Rule",
        "agencies": published["agencies"],
        "filed_at": "2026-08-21T08:45:00.000-04:00",
        "filing_type": "regular",
        "html_url": "https://www.federalregister.gov/public-inspection/2026-17231/x",
        "publication_date": "2026-08-24",
    }
    source = FederalRegister()
    pi_bytes = json.dumps({"count": 1, "results": [pi]}).encode()
    pub_bytes = json.dumps({"count": 1, "results": [published]}).encode()
    (before,) = source.parse({"public_inspection": pi_bytes}).entries
    (after,) = source.parse({"primary": pub_bytes}).entries
    assert before.key == after.key == "2026-17231"
    assert before.raw["public_inspection"] is True and after.raw["public_inspection"] is False
    assert before.content_hash() != after.content_hash()  # publication = a modification
    (both,) = source.parse({"primary": pub_bytes, "public_inspection": pi_bytes}).entries
    assert both.raw["public_inspection"] is False
    assert both.dates["filed_at"] == "2026-08-21T12:45:00Z"


def test_digest_ignores_cache_busters_and_trailing_spaces() -> None:
    source = FederalRegister()
    content = fixture_bytes(BIS)
    data = json.loads(content)
    # Derived: new cache-busters, a trailing space, a view counter, other serialization.
    text = re.sub(r"\.pdf\?\d+", ".pdf?1999999999", json.dumps(data, indent=4))
    variant = json.loads(text)
    variant["results"][0]["title"] += "  "
    variant["results"][0]["page_views"] = {"count": 7}
    assert text != content.decode()
    same = json.dumps(variant).encode()
    assert source.digest({"primary": same}) == source.digest({"primary": content})
    variant["results"][0]["title"] = "Another title"
    changed = json.dumps(variant).encode()
    assert source.digest({"primary": changed}) != source.digest({"primary": content})
    pdf = source.parse({"primary": content}).entries[0].raw["pdf_url"]
    assert "?" not in pdf


def test_document_number_forms_and_dashes() -> None:
    source = FederalRegister()
    keys = _keys(source, fixture_bytes(GIFTS.format("2024-04-19")))
    assert {"E9-969", "06-6688", "2011-794"} <= keys
    # Derived: an en dash in a document number is the same document.
    dashed = fixture_bytes(GIFTS.format("2024-04-19")).replace(b'"E9-969"', '"E9–969"'.encode())
    assert _keys(source, dashed) == keys


@pytest.mark.parametrize(
    "single",
    [
        "fr_document_2025-14564_SEC-notice_captured-2025-08-04.json",
        "fr_document_2025-14789_EO-national-emergency-notice_captured-2025-08-04.json",
        "fr_document_2026-19417_EO14430_captured-2026-09-24.json",
    ],
)
def test_single_document_json(single: str) -> None:
    content = fixture_bytes(FR + single)
    (entry,) = FederalRegister().parse({"primary": content}).entries
    data = json.loads(content)
    assert entry.key == data["document_number"]
    assert entry.citations == (data["citation"],)
    assert entry.raw["full_text_xml_url"] == data["full_text_xml_url"]
    assert entry.raw["public_inspection"] is False


def test_error_body_is_a_parse_error() -> None:
    content = fixture_bytes(ERROR_400)
    with pytest.raises(ParseError, match="400.*Invalid search_after_cursor"):
        FederalRegister().parse({"primary": fixture_bytes(BIS), "page:2": content})
    assert FederalRegister().follow("page:2", "u", content, frozenset()) == []


@pytest.mark.parametrize(
    ("content", "message"),
    [
        (b"", "empty"),
        (b"<!DOCTYPE html>\n<html><body>Service unavailable</body></html>", "HTML"),
        (b"[1, 2]", "JSON object"),
        (b'{"foo": 1}', "not a Federal Register API response"),
        (b'{"count": 1, "results": {"a": 1}}', "not a list"),
        # Valid JSON of another API (found by the hostile corpus: it was an empty window).
        (b'{"results": [{"name": "ACME", "type": "Entity"}]}', "not Federal Register documents"),
    ],
)
def test_bad_bodies_are_parse_errors(content: bytes, message: str) -> None:
    with pytest.raises(ParseError, match=message):
        FederalRegister().parse({"primary": content})


def test_cfr_references_widen_entity_list_rules() -> None:
    record = {
        "document_number": "2026-00001",
        "title": "Addition of Entities and Revision of Entries",
        "type": "Rule",
        "publication_date": "2026-01-05",
        "agencies": [{"slug": "industry-and-security-bureau"}],
        "cfr_references": [{"title": 15, "part": 744}],
    }
    content = json.dumps({"count": 1, "results": [record]}).encode()
    assert (
        FederalRegister({"cfr_references": []}).follow("primary", "u", content, frozenset()) == []
    )
    got = FederalRegister().follow("primary", "u", content, frozenset())  # default 15 CFR 744
    assert [n for n, _ in got] == ["fulltext:2026-00001"]

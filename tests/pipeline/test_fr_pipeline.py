"""The federal_register source through the real pipeline, over a local HTTP server.

Real bytes: the three captures of one state-department search, the BIS agency capture, the
2023-03929 rule XML and the empty public-inspection search. Derived inside the tests (and said
where): `next_page_url` and `full_text_xml_url` pointed at the local server (the captures carry
federalregister.gov URLs; `full_text_xml_url` is the documented field the source asks for with
`fields[]`, absent from the BIS capture because it was taken without them), a public-inspection
record of 2026-17231, and re-serialized variants with new cache-busters and trailing spaces.
No full text of the BIS capture's rules is in the fixtures: 2026-17231's URL serves the real
2023-03929 XML, 2026-17230's a truncated copy of it (a broken download, which is a warning).
"""

from __future__ import annotations

import json
import re
from datetime import datetime, timedelta
from typing import Any

from tests.conftest import LocalServer, fixture_bytes
from tests.helpers import at, make_runtime
from watcher.pipeline.run import RunResult, run_source
from watcher.runtime import Runtime
from watcher.store import documents as docs
from watcher.store import queries
from watcher.store import snapshots as store
from watcher.store.engine import transaction
from watcher.store.records import ChangeInfo

GIFTS = "federal_register/fr_documents_search_state-dept-gifts_captured-{}.json"
BIS = "federal_register/fr_documents_bis_agency_captured-2026-09-25.json"
RULE = "federal_register/fr_2023-03929_2023-02-27_additions_entity_list.xml"
EMPTY = "federal_register/fr_public_inspection_search_empty_captured-2026-09-29.json"
DOCS = "api/v1/documents.json"
PAGE2 = "api/v1/documents-page-2.json"
PI = "api/v1/public-inspection-documents/current.json"
FR = "federal_register"


class Clock:
    """Starts after every capture's dates; each reading moves one second on."""

    def __init__(self) -> None:
        self.now = at("2026-10-01")

    def __call__(self) -> datetime:
        self.now += timedelta(seconds=1)
        return self.now


def _runtime(db_url: str, server: LocalServer, **options: Any) -> Runtime:
    config = {
        "sources": {FR: {"url": server.url(DOCS), **options}},
        "watchlist": [{"name": "Spacety Co., Ltd.", "aliases": ["Spacety"]}],
    }
    rt = make_runtime(db_url, config)
    rt.clock = Clock()
    return rt


def _localized(data: bytes, server: LocalServer) -> bytes:
    """Derived: next page and full texts on the local server (see module docstring)."""
    page = json.loads(data)
    if page.get("next_page_url"):
        page["next_page_url"] = server.url(PAGE2)
    for record in page.get("results", []):
        record["full_text_xml_url"] = server.url(f"full_text/{record['document_number']}.xml")
    return json.dumps(page).encode()


def _poll(rt: Runtime, server: LocalServer, documents: bytes, pi: bytes | None = None) -> RunResult:
    server.serve(DOCS, documents)
    server.serve(PI, pi if pi is not None else fixture_bytes(EMPTY))
    return run_source(rt, FR)


def _changes(rt: Runtime, **kw: Any) -> list[ChangeInfo]:
    with transaction(rt.engine) as conn:
        return queries.list_changes(conn, source=FR, limit=None, **kw)


def _requested(server: LocalServer, path: str) -> int:
    return sum(1 for p, _ in server.requests if p.split("?", 1)[0] == "/" + path)


def test_pagination_across_three_captures_finds_exactly_the_new_documents(
    db_url: str, http_server: LocalServer
) -> None:
    rt = _runtime(db_url, http_server, agencies=["state-department"], public_inspection=False)
    http_server.serve(PAGE2, fixture_bytes(EMPTY))  # derived: page 2 is an empty result page
    days = ("2024-04-19", "2024-05-26", "2025-03-30")
    pages = [_localized(fixture_bytes(GIFTS.format(d)), http_server) for d in days]
    first = _poll(rt, http_server, pages[0])
    assert first.outcome == "baseline" and first.record_count == 20
    assert _requested(http_server, PAGE2) == 1  # nothing known yet: page 2 is read too
    second = _poll(rt, http_server, pages[1])
    assert (second.outcome, second.added, second.modified) == ("new_snapshot", 1, 0)
    assert [(c.key, c.kind) for c in _changes(rt)] == [("2024-09344", "added")]
    third = _poll(rt, http_server, pages[2])
    assert (third.added, third.modified) == (1, 1)
    assert [c.key for c in _changes(rt, kind="added")] == ["2024-31509", "2024-09344"]
    # Real: between the captures the API re-quoted E9-969's abstract (`` '' became "").
    (requoted,) = _changes(rt, kind="modified")
    assert requoted.key == "E9-969"
    assert [f["field"] for f in requoted.field_changes] == ["raw.abstract"]
    # Page 1 reached stored documents both times: page 2 was not read again.
    assert _requested(http_server, PAGE2) == 1
    with transaction(rt.engine) as conn:
        assert len(docs.list_documents(conn)) == 22
        doc = docs.get_document(conn, "2024-31509")
        assert doc is not None and doc.publication_date is not None
        assert doc.publication_date.isoformat() == "2025-01-03"


def test_bis_rules_yield_documents_and_entity_actions_as_changes(
    db_url: str, http_server: LocalServer
) -> None:
    rt = _runtime(db_url, http_server)
    http_server.serve(PAGE2, fixture_bytes(EMPTY))
    http_server.serve("full_text/2026-17231.xml", fixture_bytes(RULE))
    http_server.serve("full_text/2026-17230.xml", fixture_bytes(RULE)[:5000])  # derived: cut
    assert _poll(rt, http_server, fixture_bytes(EMPTY)).outcome == "baseline"
    result = _poll(rt, http_server, _localized(fixture_bytes(BIS), http_server))
    assert result.outcome == "new_snapshot" and (result.added, result.modified) == (33, 0)
    assert _requested(http_server, "full_text/2026-17231.xml") == 1
    assert _requested(http_server, "full_text/2026-17230.xml") == 1
    documents = {c.key: c for c in _changes(rt, list_code="FR")}
    assert len(documents) == 20 and {"2026-17231", "2026-17230"} <= set(documents)
    actions = _changes(rt, list_code="EL")
    assert len(actions) == 13
    html_url = documents["2026-17231"].entry.raw["html_url"]
    for change in actions:
        assert change.kind == "added" and change.source == FR
        assert change.entry.countries() and change.key.startswith("2026-17231:add:")
        assert change.source_url == html_url
    countries = {c.entry.countries()[0] for c in actions}
    assert countries == {
        "CANADA",
        "CHINA, PEOPLE'S REPUBLIC OF",
        "FRANCE",
        "LUXEMBOURG",
        "NETHERLANDS",
        "RUSSIA",
    }
    spacety = [c for c in actions if c.name == "Spacety Co., Ltd."]
    assert len(spacety) == 2
    assert all(c.matches and c.matches[0].watch == "Spacety Co., Ltd." for c in spacety)
    cpunto = next(c for c in actions if c.name == "CPUNTO Inc.")
    assert not any(m.watch == "Spacety Co., Ltd." for m in cpunto.matches)
    with transaction(rt.engine) as conn:
        rule = docs.get_document(conn, "2026-17231")
        broken = docs.get_document(conn, "2026-17230")
        assert rule is not None and rule.actions is not None and len(rule.actions) == 13
        assert broken is not None and broken.actions is None and broken.entity_list_rule
        latest = store.latest_snapshot(conn, FR)
    assert latest is not None and any("2026-17230" in w for w in latest.warnings)


def _pi_record() -> bytes:
    """Derived: 2026-17231 as it sat on public inspection before publication."""
    published = next(
        r for r in json.loads(fixture_bytes(BIS))["results"] if r["document_number"] == "2026-17231"
    )
    pi = {
        "document_number": "2026-17231",
        "title": published["title"] + "  ",
        "type": "Rule",
        "agencies": published["agencies"],
        "filed_at": "2026-08-21T08:45:00.000-04:00",
        "filing_type": "regular",
        "html_url": "https://www.federalregister.gov/public-inspection/2026-17231/revisions",
        "pdf_url": "https://public-inspection.federalregister.gov/2026-17231.pdf?1755780300",
        "publication_date": "2026-08-24",
    }
    return json.dumps({"count": 1, "results": [pi]}).encode()


def test_public_inspection_then_publication_is_a_modification(
    db_url: str, http_server: LocalServer
) -> None:
    rt = _runtime(db_url, http_server, fetch_full_text=False)
    http_server.serve(PAGE2, fixture_bytes(EMPTY))
    assert _poll(rt, http_server, fixture_bytes(EMPTY)).outcome == "baseline"
    filed = _poll(rt, http_server, fixture_bytes(EMPTY), _pi_record())
    assert (filed.added, filed.modified) == (1, 0)
    published = _poll(rt, http_server, _localized(fixture_bytes(BIS), http_server))
    assert (published.added, published.modified) == (19, 1)
    history = sorted(_changes(rt, entity="Revisions to the Entity List"), key=lambda c: c.id)
    assert [(c.key, c.kind) for c in history] == [
        ("2026-17231", "added"),
        ("2026-17231", "modified"),
    ]
    fields = {f["field"] for f in history[1].field_changes}
    assert "raw.public_inspection" in fields
    with transaction(rt.engine) as conn:
        doc = docs.get_document(conn, "2026-17231")
    assert doc is not None and doc.public_inspection_seen is not None
    assert doc.published_seen is not None and doc.public_inspection_seen < doc.published_seen
    assert doc.filed_at == at("2026-08-21T12:45:00")
    assert doc.html_url and "/documents/2026/08/24/" in doc.html_url


def _variant(data: bytes, *, extra_key: bool) -> bytes:
    """Derived: new cache-busters, trailing spaces, view counters, other serialization."""
    page = json.loads(data)
    for record in page["results"]:
        record["title"] = record["title"] + "   "
        record["page_views"] = {"count": 99}
        if extra_key:
            record["new_api_field"] = "added by the API later"
    text = json.dumps(page, indent=2)
    return re.sub(r"\.pdf\?\d+", ".pdf?1999999999", text).encode()


def test_cache_busters_and_trailing_spaces_never_change_anything(
    db_url: str, http_server: LocalServer
) -> None:
    # One page per poll, so every poll fetches the same set of files.
    rt = _runtime(db_url, http_server, fetch_full_text=False, max_pages=1)
    base = _localized(fixture_bytes(BIS), http_server)
    assert _poll(rt, http_server, base).outcome == "baseline"
    variant = _variant(base, extra_key=False)
    assert variant != base and b".pdf?1999999999" in variant
    assert _poll(rt, http_server, variant).outcome == "unchanged"
    # A key the parser does not read makes a new snapshot, but no document changed.
    widened = _poll(rt, http_server, _variant(base, extra_key=True))
    assert widened.outcome == "new_snapshot"
    assert (widened.added, widened.removed, widened.modified) == (0, 0, 0)
    assert _changes(rt) == []

"""Day-early Entity List alerts, end to end: public inspection -> webhook -> publication.

Real bytes: the rule fr_2023-03929 (GPO XML) and the empty public-inspection search. Derived
inside the tests, and said where: the public-inspection PDF (the rule's own entries, preamble
and instructions laid out as BIS's typed manuscript by `tests.entity_list.manuscript_pdf`),
the public-inspection record of 2023-03929 and its published documents.json record (the shape
of the real BIS capture's records, with this rule's number, title, date and citation, and URLs
on the local server), a variant of the XML with one address changed before publication, and a
later published document that pushes the window past the scheduled date (withdrawal).
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any

import pytest
from prometheus_client import generate_latest

from tests.alerts.test_dispatch import message
from tests.conftest import LocalServer, fixture_bytes
from tests.entity_list.manuscript_pdf import additions_manuscript, render
from tests.helpers import at, make_runtime
from watcher.alerts.dispatch import dispatch_pending
from watcher.pipeline.run import RunResult, run_source
from watcher.runtime import Runtime
from watcher.service.api import source_rows
from watcher.service.metrics import make_registry
from watcher.store import documents as docs
from watcher.store.engine import transaction

if TYPE_CHECKING:
    from tests.receivers import HttpReceiver

RULE = "federal_register/fr_2023-03929_2023-02-27_additions_entity_list.xml"
BIS = "federal_register/fr_documents_bis_agency_captured-2026-09-25.json"
EMPTY = "federal_register/fr_public_inspection_search_empty_captured-2026-09-29.json"
DOCS = "api/v1/documents.json"
PI = "api/v1/public-inspection-documents/current.json"
PDF = "pdf/2023-03929.pdf"
XML = "full_text/2023-03929.xml"
FR = "federal_register"
NUMBER = "2023-03929"
WATCH = "Dexias Industrial Products and Trade Limited Company"  # wraps over two lines
PI_PAGE = "https://www.federalregister.gov/public-inspection/2023-03929/additions-of-entities"


class Clock:
    def __init__(self) -> None:
        self.now = at("2023-02-24T15:00:00")

    def __call__(self) -> datetime:
        self.now += timedelta(seconds=1)
        return self.now


@pytest.fixture
def hook(http_receiver: HttpReceiver, monkeypatch: pytest.MonkeyPatch) -> Iterator[str]:
    url = f"json://127.0.0.1:{http_receiver.port}/"
    monkeypatch.setenv("EL_HOOK", url)  # dispatch resolves secrets from os.environ
    yield url


def _runtime(db_url: str, server: LocalServer, hook: str) -> Runtime:
    config: dict[str, Any] = {
        "sources": {FR: {"url": server.url(DOCS)}},
        "include_default_watchlist": False,
        "watchlist": [{"name": WATCH, "aliases": ["Dexias"], "country": "RU"}],
        "subscribers": [{"name": "compliance", "url_env": "EL_HOOK"}],
    }
    rt = make_runtime(db_url, config, env={"EL_HOOK": hook})
    rt.clock = Clock()
    return rt


def _bis_agencies() -> list[dict[str, Any]]:
    return list(json.loads(fixture_bytes(BIS))["results"][0]["agencies"])


def _pi_page(server: LocalServer) -> bytes:
    """Derived: 2023-03929 as it sat on public inspection (cache-buster on its PDF URL)."""
    record = {
        "document_number": NUMBER,
        "title": "Additions of Entities to the Entity List ",
        "type": "Rule",
        "agencies": _bis_agencies(),
        "filed_at": "2023-02-24T08:45:00.000-05:00",
        "filing_type": "regular",
        "html_url": PI_PAGE,
        "pdf_url": server.url(PDF) + "?1677246300",
        "publication_date": "2023-02-27",
    }
    return json.dumps({"count": 1, "results": [record]}).encode()


def _published_page(
    server: LocalServer,
    *,
    number: str = NUMBER,
    day: str = "2023-02-27",
    title: str = "Additions of Entities to the Entity List",
) -> bytes:
    """Derived: the published documents.json record (real capture's shape, this rule's facts)."""
    template = json.loads(fixture_bytes(BIS))["results"][0]
    record = {
        **template,
        "document_number": number,
        "title": title,
        "type": "Rule",
        "publication_date": day,
        "citation": "88 FR 12170",
        "html_url": f"https://www.federalregister.gov/documents/2023/02/27/{number}/additions",
        "full_text_xml_url": server.url(f"full_text/{number}.xml"),
    }
    return json.dumps({"count": 1, "results": [record]}).encode()


def _poll(rt: Runtime, server: LocalServer, documents: bytes, pi: bytes) -> RunResult:
    server.serve(DOCS, documents)
    server.serve(PI, pi)
    result = run_source(rt, FR)
    assert result.ok, result.error
    return result


def _on_public_inspection(rt: Runtime, server: LocalServer, receiver: HttpReceiver) -> None:
    """Baseline, then the rule appears on public inspection: one alert before publication."""
    empty = fixture_bytes(EMPTY)
    assert _poll(rt, server, empty, empty).outcome == "baseline"
    server.serve(PDF, render(additions_manuscript()))
    filed = _poll(rt, server, empty, _pi_page(server))
    assert (filed.added, filed.matches, filed.alerts) == (14, 1, 1)  # document + 13 actions
    assert dispatch_pending(rt).sent == 1
    (request,) = receiver.requests
    text = message(request)
    assert f"SCHEDULED: ADDED to BIS Entity List (Federal Register rule): {WATCH}" in text
    assert "scheduled for publication in the Federal Register on 2023-02-27" in text
    assert f"Official source: {PI_PAGE}" in text
    assert "Aliases: Dexias; Dexias Endil strivel; Dexias IPTLC; Mainbox LLC" in text
    assert "Apartment 261, Building 3, Ryabinovaya Street, Moscow, Russia" in text
    assert f"Why it matched:\n- {WATCH}: score 100" in text
    # The PDF was fetched once, without its cache-buster.
    assert [p for p, _ in server.requests if p.startswith("/pdf/")] == ["/" + PDF]


def test_public_inspection_alert_then_publication_is_silent(
    db_url: str, http_server: LocalServer, http_receiver: HttpReceiver, hook: str
) -> None:
    rt = _runtime(db_url, http_server, hook)
    _on_public_inspection(rt, http_server, http_receiver)
    with transaction(rt.engine) as conn:
        assert docs.awaiting_publication(conn) == [NUMBER]
    http_server.serve(XML, fixture_bytes(RULE))
    rt.clock.now = at("2023-02-27T11:00:00")  # type: ignore[attr-defined]
    published = _poll(rt, http_server, _published_page(http_server), fixture_bytes(EMPTY))
    assert (published.added, published.modified, published.alerts) == (0, 14, 0)
    assert dispatch_pending(rt).sent == 0
    assert len(http_receiver.requests) == 1  # no second alert
    with transaction(rt.engine) as conn:
        doc = docs.get_document(conn, NUMBER)
        assert docs.awaiting_publication(conn) == []
        actions = docs.actions(conn)
    assert doc is not None and doc.public_inspection_seen and doc.published_seen
    assert doc.lead_time_seconds is not None and doc.lead_time_seconds > 0
    assert doc.actions is not None and {a["stage"] for a in doc.actions} == {"published"}
    dexias = next(a for a in doc.actions if a["name"] == WATCH)
    assert dexias["citation"] == "88 FR 12170, 2/27/2023"
    assert len(actions) == 13
    # `watcher sources` / `/api/sources` and /metrics show the lead time of the document.
    rows = {r["source"]: r for r in source_rows(rt)}
    (lead,) = rows[FR]["lead_times"]
    assert lead["document_number"] == NUMBER
    assert 67 * 3600 < lead["lead_time_seconds"] == doc.lead_time_seconds < 69 * 3600
    scrape = generate_latest(make_registry(rt)).decode()
    assert f'watcher_fr_public_inspection_lead_seconds{{document="{NUMBER}"}}' in scrape
    # A further poll of the same window changes nothing and fetches no PDF again.
    again = _poll(rt, http_server, _published_page(http_server), fixture_bytes(EMPTY))
    assert (again.added, again.modified) == (0, 0)


def test_an_entry_changed_before_publication_gives_one_follow_up(
    db_url: str, http_server: LocalServer, http_receiver: HttpReceiver, hook: str
) -> None:
    rt = _runtime(db_url, http_server, hook)
    _on_public_inspection(rt, http_server, http_receiver)
    # Derived: the published XML with Dexias's apartment number changed.
    changed = fixture_bytes(RULE).replace(b"Apartment 261", b"Apartment 262")
    assert changed != fixture_bytes(RULE)
    http_server.serve(XML, changed)
    rt.clock.now = at("2023-02-27T11:00:00")  # type: ignore[attr-defined]
    published = _poll(rt, http_server, _published_page(http_server), fixture_bytes(EMPTY))
    assert (published.modified, published.alerts) == (14, 1)
    assert dispatch_pending(rt).sent == 1
    assert len(http_receiver.requests) == 2
    text = message(http_receiver.requests[1])
    assert f"CHANGED AT PUBLICATION on BIS Entity List (Federal Register rule): {WATCH}" in text
    assert "addresses: added Apartment 262" in text and "removed Apartment 261" in text


def test_a_withdrawn_public_inspection_document_gives_one_follow_up(
    db_url: str, http_server: LocalServer, http_receiver: HttpReceiver, hook: str
) -> None:
    rt = _runtime(db_url, http_server, hook)
    _on_public_inspection(rt, http_server, http_receiver)
    # Derived: the window moves to a later document; 2023-03929 never publishes.
    later = _published_page(
        http_server, number="2023-04100", day="2023-02-28", title="Technical Corrections"
    )
    rt.clock.now = at("2023-02-28T11:00:00")  # type: ignore[attr-defined]
    gone = _poll(rt, http_server, later, fixture_bytes(EMPTY))
    assert (gone.removed, gone.alerts) == (13, 1)
    assert dispatch_pending(rt).sent == 1
    text = message(http_receiver.requests[1])
    assert f"WITHDRAWN before publication: BIS Entity List (Federal Register rule): {WATCH}" in text
    assert "not published as scheduled for 2023-02-27" in text
    with transaction(rt.engine) as conn:
        assert docs.awaiting_publication(conn) == []
    # Nothing more on the next poll: the withdrawal is told once.
    assert _poll(rt, http_server, later, fixture_bytes(EMPTY)).alerts == 0


def test_a_pdf_that_fails_is_fetched_again_and_the_poll_goes_on(
    db_url: str, http_server: LocalServer, http_receiver: HttpReceiver, hook: str
) -> None:
    rt = _runtime(db_url, http_server, hook)
    empty = fixture_bytes(EMPTY)
    assert _poll(rt, http_server, empty, empty).outcome == "baseline"
    http_server.serve(PDF, b"not yet", status=404)  # derived: the PDF is not there yet
    first = _poll(rt, http_server, empty, _pi_page(http_server))
    assert (first.outcome, first.added, first.alerts) == ("new_snapshot", 1, 0)  # the document
    http_server.serve(PDF, render(additions_manuscript()))
    second = _poll(rt, http_server, empty, _pi_page(http_server))
    assert (second.added, second.alerts) == (13, 1)
    assert [p for p, _ in http_server.requests if p.startswith("/pdf/")] == ["/" + PDF] * 2

"""The documents store: FR documents, their public-inspection record, actions, migrations."""

from __future__ import annotations

import json
from datetime import date

from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext

from tests.conftest import fixture_bytes
from tests.helpers import at
from watcher.pipeline.linking import country_key
from watcher.sources.federal_register import FederalRegister
from watcher.store import documents as docs
from watcher.store.engine import make_engine, transaction
from watcher.store.tables import metadata

BIS = "federal_register/fr_documents_bis_agency_captured-2026-09-25.json"
RULE = "federal_register/fr_2023-03929_2023-02-27_additions_entity_list.xml"


def _bis_record(number: str) -> dict[str, object]:
    results = json.loads(fixture_bytes(BIS))["results"]
    found: dict[str, object] = next(r for r in results if r["document_number"] == number)
    return found


def _pi_bytes() -> bytes:
    """Derived: 2026-17231 as it sat on public inspection before publication."""
    published = _bis_record("2026-17231")
    pi = {
        "document_number": "2026-17231",
        "title": f"{published['title']}  ",
        "type": "Rule",
        "agencies": published["agencies"],
        "filed_at": "2026-08-21T08:45:00.000-04:00",
        "filing_type": "regular",
        "html_url": "https://www.federalregister.gov/public-inspection/2026-17231/x",
        "publication_date": "2026-08-24",
    }
    return json.dumps({"count": 1, "results": [pi]}).encode()


def test_migrations_match_the_tables(db_url: str) -> None:
    engine = make_engine(db_url)
    with engine.connect() as conn:
        diff = compare_metadata(MigrationContext.configure(conn), metadata)
    engine.dispose()
    assert diff == []


def test_public_inspection_then_publication_is_one_document(db_url: str) -> None:
    engine = make_engine(db_url)
    source = FederalRegister()
    pi = source.parse({"public_inspection": _pi_bytes()})
    published = source.parse(
        {"primary": fixture_bytes(BIS), "fulltext:2026-17231": fixture_bytes(RULE)}
    )
    with transaction(engine) as conn:
        assert (
            docs.record_documents(conn, pi.entries, {}, now=at("2026-08-21"), snapshot_id=None) == 1
        )
    with transaction(engine) as conn:
        doc = docs.get_document(conn, "2026-17231")
        assert doc is not None and doc.published_seen is None and doc.actions is None
        assert doc.public_inspection_seen == at("2026-08-21")
        assert doc.filed_at == at("2026-08-21T12:45:00")
    with transaction(engine) as conn:
        new = docs.record_documents(
            conn,
            published.entries,
            published.extras["entity_actions"],
            now=at("2026-08-24"),
            snapshot_id=None,
            country_code=country_key,
        )
        assert new == 19  # 20 documents, one of them already known from public inspection
    with transaction(engine) as conn:
        doc = docs.get_document(conn, "2026-17231")
        assert doc is not None
        assert doc.public_inspection_seen == at("2026-08-21")
        assert doc.published_seen == at("2026-08-24")
        assert doc.first_seen == at("2026-08-21")
        assert doc.filed_at == at("2026-08-21T12:45:00")  # kept from the filing
        assert doc.title == "Revisions to the Entity List" and doc.entity_list_rule
        assert doc.publication_date == date(2026, 8, 24)
        assert doc.html_url and "/documents/2026/08/24/2026-17231/" in doc.html_url
        assert doc.actions is not None and len(doc.actions) == 13
        assert doc.to_dict()["published_seen"] == "2026-08-24T00:00:00+00:00"
        stored = docs.actions(conn)
        assert len(stored) == 13
        assert {a.country_code for a in stored} == {"CA", "CN", "FR", "LU", "NL", "RU"}
        assert all(a.publication_date == date(2026, 8, 24) for a in stored)
        rules = docs.list_documents(conn, entity_list_only=True)
        assert [d.document_number for d in rules] == ["2026-17231", "2026-17230"]
        assert len(docs.list_documents(conn)) == 20


def test_recording_twice_adds_nothing(db_url: str) -> None:
    engine = make_engine(db_url)
    parsed = FederalRegister().parse(
        {"primary": fixture_bytes(BIS), "fulltext:2026-17231": fixture_bytes(RULE)}
    )
    actions = parsed.extras["entity_actions"]
    for day in ("2026-08-24", "2026-08-25"):
        with transaction(engine) as conn:
            docs.record_documents(conn, parsed.entries, actions, now=at(day), snapshot_id=None)
    with transaction(engine) as conn:
        assert len(docs.list_documents(conn)) == 20
        assert len(docs.actions(conn)) == 13
        doc = docs.get_document(conn, "2026-17231")
        assert doc is not None and doc.published_seen == at("2026-08-24")
        assert docs.get_document(conn, "2099-00001") is None


def test_full_text_without_listing_creates_a_minimal_document(db_url: str) -> None:
    engine = make_engine(db_url)
    parsed = FederalRegister().parse(
        {"primary": json.dumps({"count": 0}).encode(), "fulltext:2023-03929": fixture_bytes(RULE)}
    )
    with transaction(engine) as conn:
        docs.record_documents(
            conn,
            parsed.entries,
            parsed.extras["entity_actions"],
            now=at("2023-03-01"),
            snapshot_id=None,
        )
    with transaction(engine) as conn:
        doc = docs.get_document(conn, "2023-03929")
        assert doc is not None and doc.actions is not None and len(doc.actions) == 13
        assert doc.published_seen is None and doc.actions_seen == at("2023-03-01")
        cpunto = next(a for a in docs.actions(conn) if a.name == "CPUNTO Inc.")
        assert cpunto.key == "2023-03929:add:canada:cpunto inc"
        assert cpunto.names == ("cpunto", "cpunto inc")
        assert cpunto.country_code is None  # no country function given

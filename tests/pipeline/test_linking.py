"""FR entity actions linked to CSL / eCFR changes, the "not yet in the CSL" check, and the CSL
sample through the real pipeline.

Real bytes: the CSL 2023-11-30 sample, the BIS documents capture and the 2023-03929 rule XML.
The FR actions are those of 2023-03929's table, read as the full text of 2026-17231 (the BIS
capture's "Revisions to the Entity List"; no full text of 2026-17231 is in the fixtures), so
they carry that document's publication date (2026-08-24) and link. Derived inside the tests:
CSL snapshots with extra Entity List rows for parties of that rule (the row template is a real
EL row of the sample, with name, address and notice replaced), a CSL without its `name`
column, a renamed EL row, and eCFR documents wrapping the rule's real GPOTABLE.
"""

from __future__ import annotations

import csv
import html
import io
import json
from collections.abc import Callable, Sequence
from datetime import datetime, timedelta
from typing import Any

from lxml import etree
from sqlalchemy import Row, func, select

from tests.conftest import LocalServer, fixture_bytes
from tests.helpers import at, make_runtime
from watcher.pipeline import linking
from watcher.pipeline.run import RunResult, replay, run_source
from watcher.runtime import Runtime
from watcher.store import alerting, links, outbox, queries
from watcher.store import documents as docs
from watcher.store import snapshots as store
from watcher.store.engine import transaction
from watcher.store.tables import ALERTS, INCIDENTS

CSL = "trade_gov_csl/moov_csl_sample_2023-11-30.csv"
BIS = "federal_register/fr_documents_bis_agency_captured-2026-09-25.json"
RULE = "federal_register/fr_2023-03929_2023-02-27_additions_entity_list.xml"
SPACETY_CN = "2026-17231:add:china peoples republic of:spacety co ltd"
SPACETY_LU = "2026-17231:add:luxembourg:spacety co ltd"
CPUNTO = "2026-17231:add:canada:cpunto inc"


class Clock:
    """A clock the test sets; each reading moves one second on (the pipeline reads it often)."""

    def __init__(self, start: str) -> None:
        self.now = at(start)

    def set(self, when: str) -> None:
        self.now = at(when)

    def __call__(self) -> datetime:
        self.now += timedelta(seconds=1)
        return self.now


def _runtime(db_url: str, config: dict[str, Any] | None = None) -> tuple[Runtime, Clock]:
    base: dict[str, Any] = {
        "sources": {"trade_csl": {"min_records": 100}, "ecfr_entity_list": {"min_records": 5}},
        "operators": {"url_env": "OPS_URL"},
    }
    for key, value in (config or {}).items():
        if key == "sources":
            for name, table in value.items():
                base["sources"][name] = {**base["sources"].get(name, {}), **table}
        else:
            base[key] = value
    rt = make_runtime(db_url, base, env={"OPS_URL": "json://localhost/ops"})
    clock = Clock("2026-08-20")
    rt.clock = clock
    return rt, clock


def _csl_rows() -> tuple[list[str], list[dict[str, str]]]:
    reader = csv.DictReader(io.StringIO(fixture_bytes(CSL).decode("utf-8")))
    rows = [r for r in reader if r["_id"] != "_id"]  # the repeated header line
    return list(reader.fieldnames or []), rows


def _csl_with(parties: Sequence[tuple[str, str]]) -> bytes:
    """Derived: the real sample plus one EL row per (name, address ending in a country code)."""
    header, rows = _csl_rows()
    template = next(r for r in rows if r["source"].startswith("Entity List"))
    buf = io.StringIO()
    writer = csv.DictWriter(buf, fieldnames=header, quoting=csv.QUOTE_ALL, lineterminator="\n")
    for name, address in parties:
        writer.writerow(
            {
                **template,
                "_id": f"derived-{name}-{address}",
                "name": name,
                "alt_names": "",
                "addresses": address,
                "federal_register_notice": "91 FR 58000",
                "start_date": "2026-08-24",
            }
        )
    # After the two header lines: the sample's last line is cut mid-field (an open quote).
    data = fixture_bytes(CSL)
    cut = data.index(b"\n", data.index(b"\n") + 1) + 1
    return data[:cut] + buf.getvalue().encode() + data[cut:]


def _replay_csl(rt: Runtime, clock: Clock, when: str, data: bytes) -> RunResult:
    clock.set(when)
    return replay(rt, "trade_csl", at(when), [("primary", data, "derived")])


def _replay_fr(rt: Runtime, clock: Clock, when: str) -> RunResult:
    """The BIS capture with 2023-03929's XML as the full text of 2026-17231 (see module doc)."""
    clock.set(when)
    files = [
        ("primary", fixture_bytes(BIS), BIS),
        ("fulltext:2026-17231", fixture_bytes(RULE), RULE),
    ]
    return replay(rt, "federal_register", at(when), files)


def _open_incidents(rt: Runtime) -> list[Row[Any]]:
    with transaction(rt.engine) as conn:
        return list(
            conn.execute(
                select(INCIDENTS).where(
                    INCIDENTS.c.kind == linking.INCIDENT_KIND, INCIDENTS.c.closed_at.is_(None)
                )
            )
        )


def _links(rt: Runtime, source: str, key: str) -> list[links.LinkInfo]:
    with transaction(rt.engine) as conn:
        return links.links_for(conn, source, key)


def _check(rt: Runtime, when: str) -> int:
    with transaction(rt.engine) as conn:
        return linking.check_unreflected(conn, rt.settings, at(when))


def test_csl_additions_link_to_fr_actions_and_late_ones_are_reported(db_url: str) -> None:
    rt, clock = _runtime(db_url)
    assert _replay_csl(rt, clock, "2026-08-21", fixture_bytes(CSL)).outcome == "baseline"
    assert _replay_fr(rt, clock, "2026-08-24T06:00").outcome == "baseline"
    with transaction(rt.engine) as conn:
        assert len(docs.actions(conn)) == 13
    first = [("Spacety Co., Ltd.", "Changsha, Hunan, CN"), ("CPUNTO Inc.", "Montreal, QC, CA")]
    result = _replay_csl(rt, clock, "2026-08-25", _csl_with(first))
    assert (result.added, result.removed, result.modified) == (2, 0, 0)
    (link,) = _links(rt, "trade_csl", "EL:cn:spacety co ltd")
    assert (link.action_key, link.action, link.target_kind) == (SPACETY_CN, "add", "added")
    assert link.method == "name+country" and link.document_number == "2026-17231"
    assert link.document_title == "Revisions to the Entity List"
    assert link.html_url and "2026-17231" in link.html_url
    assert [x.action_key for x in _links(rt, "trade_csl", "EL:ca:cpunto inc")] == [CPUNTO]
    assert {x.target_key for x in _links(rt, "federal_register", "2026-17231")} == {
        "EL:cn:spacety co ltd",
        "EL:ca:cpunto inc",
    }
    assert [x.target_key for x in _links(rt, "federal_register", SPACETY_LU)] == []
    # Before the deadline (2026-08-24 + 72h) nothing is late.
    assert _check(rt, "2026-08-26T23:59") == 0 and _open_incidents(rt) == []
    # The next CSL snapshot (after the deadline) adds Spacety's Luxembourg entry: linked, and
    # the 10 actions the CSL still lacks are reported, one incident each.
    more = [*first, ("Spacety Co., Ltd.", "Luxembourg, LU")]
    assert _replay_csl(rt, clock, "2026-08-28", _csl_with(more)).added == 1
    assert [x.action_key for x in _links(rt, "trade_csl", "EL:lu:spacety co ltd")] == [SPACETY_LU]
    incidents = _open_incidents(rt)
    assert len(incidents) == 10
    assert {i.key for i in incidents}.isdisjoint(
        {linking.incident_key(k) for k in (SPACETY_CN, SPACETY_LU, CPUNTO)}
    )
    aook = linking.incident_key("2026-17231:add:china peoples republic of:aook technology ltd")
    assert aook in {i.key for i in incidents}
    with transaction(rt.engine) as conn:
        alerts = conn.execute(select(ALERTS).where(ALERTS.c.kind == "operator")).all()
        titles = [a.payload["title"] for a in alerts if a.payload["kind"] == "fr_not_in_csl"]
        assert titles == [linking.INCIDENT_TITLE] * 10
    # Checking again opens nothing new.
    assert _check(rt, "2026-08-29") == 0 and len(_open_incidents(rt)) == 10
    # AOOK reaches the CSL: its incident is closed, the others stay open.
    late = [*more, ("AOOK Technology Ltd.", "Shenzhen, CN")]
    assert _replay_csl(rt, clock, "2026-08-30", _csl_with(late)).added == 1
    assert len(_open_incidents(rt)) == 9 and aook not in {i.key for i in _open_incidents(rt)}


def test_one_csl_row_with_two_countries_links_both_actions(db_url: str) -> None:
    rt, clock = _runtime(db_url)
    _replay_csl(rt, clock, "2026-08-21", fixture_bytes(CSL))
    _replay_fr(rt, clock, "2026-08-24T06:00")
    both = [("Spacety Co., Ltd.", "Changsha, Hunan, CN; 9 Rue Bender, Luxembourg, LU")]
    assert _replay_csl(rt, clock, "2026-08-25", _csl_with(both)).added == 1
    found = _links(rt, "trade_csl", "EL:cn:spacety co ltd")
    assert sorted(x.action_key for x in found) == [SPACETY_CN, SPACETY_LU]
    with transaction(rt.engine) as conn:
        reflected = {a.key for a in docs.actions(conn) if a.reflected_at is not None}
    assert reflected == {SPACETY_CN, SPACETY_LU}


def test_csl_lag_is_configurable(db_url: str) -> None:
    rt, clock = _runtime(db_url, {"sources": {"federal_register": {"csl_lag": "240h"}}})
    assert linking.csl_lag(rt.settings) == 240 * 3600
    _replay_csl(rt, clock, "2026-08-21", fixture_bytes(CSL))
    _replay_fr(rt, clock, "2026-08-24T06:00")
    assert _check(rt, "2026-08-28") == 0
    assert _check(rt, "2026-09-03T00:00:01") == 13
    assert len(_open_incidents(rt)) == 13


def test_no_report_without_a_watched_csl_or_for_history_before_it(db_url: str) -> None:
    rt, clock = _runtime(db_url)
    _replay_fr(rt, clock, "2026-08-24T06:00")
    assert _check(rt, "2026-09-30") == 0  # the CSL was never polled
    # First CSL snapshot after the deadline: the rule predates watching the CSL.
    _replay_csl(rt, clock, "2026-08-28", fixture_bytes(CSL))
    assert _check(rt, "2026-09-30") == 0 and _open_incidents(rt) == []


def test_country_keys() -> None:
    assert linking.country_key("CHINA, PEOPLE'S REPUBLIC OF") == "CN"
    assert linking.country_key("CN") == "CN"
    assert linking.country_key("RUSSIA") == "RU"
    assert linking.country_key("KOREA, NORTH") == "KP"
    assert linking.country_key("IRAN, ISLAMIC REPUBLIC OF") == "IR"
    assert linking.country_key("") is None and linking.country_key(None) is None
    assert linking.incident_key("2026-1:add:x:" + "n" * 300).startswith("fr_not_in_csl:2026-1:")
    assert len(linking.incident_key("2026-1:add:x:" + "n" * 300)) <= 256


# --- the CSL sample through run_source --------------------------------------------------------


def _csl_bytes_without(column: str) -> bytes:
    """Derived: the sample with one column removed from the header(s) and every row."""
    header, rows = _csl_rows()
    keep = [h for h in header if h != column]
    buf = io.StringIO()
    writer = csv.DictWriter(
        buf, fieldnames=keep, quoting=csv.QUOTE_ALL, lineterminator="\n", extrasaction="ignore"
    )
    writer.writeheader()
    writer.writerows(rows)
    return buf.getvalue().encode()


def _renamed_el_row() -> tuple[bytes, str, str]:
    """Derived: the sample with the first Entity List row's name changed."""
    data = fixture_bytes(CSL)
    old = b'"Afghan-German Construction Company"'
    new = b'"Afghan German Construction Company Ltd"'
    assert data.count(old) == 1
    return data.replace(old, new), old.decode().strip('"'), new.decode().strip('"')


def _serve_and_poll(
    rt: Runtime, clock: Clock, server: LocalServer, when: str, body: bytes
) -> RunResult:
    server.serve("csl/consolidated.csv", body, headers={"Content-Type": "text/csv"})
    clock.set(when)
    return run_source(rt, "trade_csl")


def test_csl_sample_ingests_with_list_codes_and_guards(
    db_url: str, http_server: LocalServer
) -> None:
    rt, clock = _runtime(
        db_url, {"sources": {"trade_csl": {"url": http_server.url("csl/consolidated.csv")}}}
    )
    first = _serve_and_poll(rt, clock, http_server, "2026-08-21", fixture_bytes(CSL))
    assert first.outcome == "baseline" and first.record_count > 4000
    with transaction(rt.engine) as conn:
        entries = queries.entries_as_of(conn, "trade_csl")
        codes: dict[str, int] = {}
        for record in entries:
            codes[record.entry.list_code] = codes.get(record.entry.list_code, 0) + 1
        assert codes["EL"] == 919 and codes["CMIC"] == 68
    # A snapshot without the `name` column is rejected; history is untouched.
    bad = _serve_and_poll(rt, clock, http_server, "2026-08-22", _csl_bytes_without("name"))
    assert bad.outcome == "rejected" and "name" in (bad.error or "")
    with transaction(rt.engine) as conn:
        assert store.count_current(conn, "trade_csl") == first.record_count
    # A renamed EL row is one modification with a name field change.
    renamed, old, new = _renamed_el_row()
    result = _serve_and_poll(rt, clock, http_server, "2026-08-23", renamed)
    assert (result.added, result.removed, result.modified) == (0, 0, 1)
    with transaction(rt.engine) as conn:
        (change,) = queries.list_changes(conn, source="trade_csl")
    assert change.kind == "modified" and change.list_code == "EL"
    assert {"field": "name", "before": old, "after": new} in change.field_changes


# --- eCFR changes link too ------------------------------------------------------------------


def _ecfr_document(drop: Callable[[str], bool]) -> bytes:
    """Synthetic eCFR part 744: the rule's real GPOTABLE in DIV9 "Supplement No. 4 to Part 744",
    with the rows whose text `drop` selects removed."""
    table = next(etree.fromstring(fixture_bytes(RULE)).iter("GPOTABLE"))
    for row in list(table.iter("ROW")):
        if drop(" ".join(str(t) for t in row.itertext())):
            parent = row.getparent()
            assert parent is not None
            parent.remove(row)
    meta = json.dumps({"path": "/on/2026-08-25/title-15/part-744"})
    part = etree.Element("DIV5", N="744", TYPE="PART", hierarchy_metadata=html.escape(meta))
    appendix = etree.SubElement(part, "DIV9", N="Supplement No. 4 to Part 744", TYPE="APPENDIX")
    etree.SubElement(appendix, "HEAD").text = "Supplement No. 4 to Part 744—Entity List"
    appendix.append(table)
    return etree.tostring(part, xml_declaration=True, encoding="UTF-8")


def test_ecfr_additions_link_to_fr_actions(db_url: str) -> None:
    rt, clock = _runtime(db_url)
    _replay_fr(rt, clock, "2026-08-24T06:00")
    clock.set("2026-08-25")
    without = _ecfr_document(lambda text: "Spacety" in text)
    base = replay(rt, "ecfr_entity_list", at("2026-08-20"), [("primary", without, "synthetic")])
    assert base.outcome == "baseline" and base.record_count == 11
    full = _ecfr_document(lambda text: False)
    result = replay(rt, "ecfr_entity_list", at("2026-08-26"), [("primary", full, "synthetic")])
    assert (result.added, result.removed) == (2, 0)
    cn = _links(rt, "ecfr_entity_list", "china peoples republic of:spacety co ltd")
    lu = _links(rt, "ecfr_entity_list", "luxembourg:spacety co ltd")
    assert [x.action_key for x in cn] == [SPACETY_CN] and [x.action_key for x in lu] == [SPACETY_LU]
    assert cn[0].method == "name+country"
    with transaction(rt.engine) as conn:
        # eCFR links do not settle the CSL check: only the CSL does.
        assert all(a.reflected_at is None for a in docs.actions(conn))
        total = conn.scalar(select(func.count()).select_from(INCIDENTS))
        assert total == 0


def test_a_rule_read_without_actions_tells_operators_once_until_it_is_read(db_url: str) -> None:
    rt = make_runtime(db_url, {"operators": {"url_env": "UNREAD_OPS_URL"}})
    now = at("2026-09-24")

    def operator_alerts() -> list[str]:
        with transaction(rt.engine) as conn:
            return [a.kind for a in outbox.list_alerts(conn) if a.subscriber == alerting.OPERATORS]

    def report(unread: dict[str, str], read: Sequence[str], hours: int) -> None:
        with transaction(rt.engine) as conn:
            linking.report_unread(conn, rt.settings, unread, read, now=now + timedelta(hours=hours))

    problem = "full text of 2026-17231: not well-formed (line 1)"
    report({"2026-17231": problem}, [], 0)
    assert operator_alerts() == ["operator"]
    report({"2026-17231": problem}, [], 1)  # fetched again, still unreadable: quiet
    assert operator_alerts() == ["operator"]
    report({}, ["2026-17231"], 2)  # read at last: the incident closes without a message
    assert operator_alerts() == ["operator"]
    with transaction(rt.engine) as conn:
        closed = not alerting.close_incident(
            conn, rt.settings, "unread_text:2026-17231", now=now, recovered=False
        )
    assert closed
    report({"2026-17231": problem}, [], 3)  # broken again later: a new incident, told again
    assert operator_alerts() == ["operator", "operator"]

"""`backfill_ecfr` against a local versioner: dated snapshots, resumable, strict.

No real capture of 15 CFR 744 Supplement No. 4 exists, so the eCFR documents are SYNTHETIC,
built here: the real GPOTABLE of the Federal Register rule 2023-03929 wrapped in the eCFR
structure (part `DIV5` > `DIV9 N="Supplement No. 4 to Part 744" TYPE="APPENDIX"` > table), the
later date with the CPUNTO Inc. row removed. The versions listing is synthetic too, shaped like
the versioner's documented `content_versions` records. The unrecognised structure served for
the last date is a real eCFR file (title 3, part 101, which holds no Entity List).
"""

from __future__ import annotations

import json
from collections.abc import Callable
from datetime import date, timedelta
from typing import Any

from lxml import etree

from tests.conftest import LocalServer, fixture_bytes
from tests.helpers import at, ecfr_part744, make_runtime
from watcher.pipeline.backfill import backfill_ecfr
from watcher.runtime import Runtime
from watcher.store import queries
from watcher.store import snapshots as store
from watcher.store.engine import transaction

RULE = "federal_register/fr_2023-03929_2023-02-27_additions_entity_list.xml"
TITLE3 = "ecfr/ecfr_versioner_full_title-3_part-101_2024-05-17.xml"
ECFR = "ecfr_entity_list"
API = "api/versioner/v1"
DATES = ("2023-01-10", "2023-02-27", "2023-06-01")


def _document(day: str, drop: Callable[[str], bool]) -> bytes:
    """Synthetic eCFR part 744 as of `day` (see module docstring)."""
    table = next(etree.fromstring(fixture_bytes(RULE)).iter("GPOTABLE"))
    for row in list(table.iter("ROW")):
        if drop(" ".join(str(t) for t in row.itertext())):
            parent = row.getparent()
            assert parent is not None
            parent.remove(row)
    return ecfr_part744(table, {"path": f"/on/{day}/title-15/chapter-VII/part-744"})


def _versions(days: tuple[str, ...]) -> bytes:
    """Synthetic listing in the versioner's shape; other parts' versions must be ignored."""
    records: list[dict[str, Any]] = [
        {
            "date": d,
            "amendment_date": d,
            "issue_date": d,
            "identifier": "Supplement No. 4 to Part 744",
            "name": "Supplement No. 4 to Part 744—Entity List",
            "part": "744",
            "substantive": True,
            "removed": False,
            "subpart": None,
            "title": "15",
            "type": "appendix",
        }
        for d in days
    ]
    records.append({**records[0], "date": "2023-03-15", "part": "746", "identifier": "746.8"})
    return json.dumps({"content_versions": records, "meta": {"title": "15"}}).encode()


def _serve(server: LocalServer) -> None:
    server.serve(f"{API}/versions/title-15.json", _versions(DATES))
    server.serve(f"{API}/full/{DATES[0]}/title-15.xml", _document(DATES[0], lambda t: False))
    without = _document(DATES[1], lambda text: "CPUNTO" in text)
    server.serve(f"{API}/full/{DATES[1]}/title-15.xml", without)
    server.serve(f"{API}/full/{DATES[2]}/title-15.xml", fixture_bytes(TITLE3))


def _runtime(db_url: str, server: LocalServer) -> Runtime:
    url = server.url(f"{API}/full/{{date}}/title-15.xml") + "?part=744"
    rt = make_runtime(db_url, {"sources": {ECFR: {"url": url, "min_records": 5}}})
    start = at("2026-10-01")
    ticks = iter(range(1_000_000))
    rt.clock = lambda: start + timedelta(seconds=next(ticks))
    return rt


def _full_requests(server: LocalServer, day: str) -> int:
    path = f"/{API}/full/{day}/title-15.xml"
    return sum(1 for p, _ in server.requests if p.split("?", 1)[0] == path)


def _as_of(rt: Runtime, day: str) -> set[str]:
    with transaction(rt.engine) as conn:
        return {r.entry.key for r in queries.entries_as_of(conn, ECFR, at(day))}


def test_backfill_stores_dated_snapshots_and_resumes(db_url: str, http_server: LocalServer) -> None:
    _serve(http_server)
    rt = _runtime(db_url, http_server)
    pauses: list[float] = []
    first = backfill_ecfr(rt, date(2023, 1, 1), date(2023, 3, 31), delay=0.25, sleep=pauses.append)
    assert [r.outcome for r in first] == ["baseline", "new_snapshot"]
    assert [r.record_count for r in first] == [13, 12]
    assert (first[1].added, first[1].removed, first[1].modified) == (0, 1, 0)
    assert pauses == [0.25]  # polite: one pause between the two downloads
    january, march = _as_of(rt, "2023-02-01"), _as_of(rt, "2023-03-01")
    assert len(january) == 13 and len(march) == 12
    assert january - march == {"canada:cpunto inc"}
    assert _as_of(rt, "2023-01-09") == set()  # nothing before the first version
    with transaction(rt.engine) as conn:
        (change,) = queries.list_changes(conn, source=ECFR)
        snaps = store.list_snapshots(conn, ECFR)
    assert (change.kind, change.key) == ("removed", "canada:cpunto inc")
    assert change.effective_at == at("2023-02-27")
    assert [(s.effective_at, s.origin) for s in snaps] == [
        (at("2023-02-27"), "backfill"),
        (at("2023-01-10"), "backfill"),
    ]
    # Resumed over a wider range: stored dates are skipped, only the new one is fetched.
    second = backfill_ecfr(rt, date(2023, 1, 1), date(2023, 12, 31), delay=0, sleep=pauses.append)
    assert len(second) == 1
    assert all(_full_requests(http_server, d) == 1 for d in DATES)
    # The last date serves a structure the parser does not know: rejected, never empty.
    (rejected,) = second
    assert rejected.outcome == "rejected" and "Supplement No. 4" in (rejected.error or "")
    with transaction(rt.engine) as conn:
        statuses = [s.status for s in store.list_snapshots(conn, ECFR)]
        assert statuses == ["rejected", "ok", "ok"]
        assert store.count_current(conn, ECFR) == 12
    assert _as_of(rt, "2023-07-01") == march
    assert backfill_ecfr(rt, date(2023, 1, 1), date(2023, 12, 31), delay=0) == []


def test_backfill_range_selects_dates(db_url: str, http_server: LocalServer) -> None:
    _serve(http_server)
    rt = _runtime(db_url, http_server)
    results = backfill_ecfr(rt, date(2023, 2, 1), date(2023, 2, 28), delay=0)
    assert [r.outcome for r in results] == ["baseline"]
    assert _full_requests(http_server, DATES[0]) == 0 and _full_requests(http_server, DATES[1]) == 1
    assert len(_as_of(rt, "2023-03-01")) == 12

"""A poll stuck on a server that drips one byte a second, under the real scheduler: the fetch
deadline ends it, later polls run, and operators hear once that it was stuck (issue 13)."""

from __future__ import annotations

import time

import pytest
import sqlalchemy as sa

from tests.helpers import make_runtime
from tests.hostile import HostileServer, Reply
from watcher.service.scheduler import build_scheduler
from watcher.store.engine import transaction
from watcher.store.tables import ALERTS, INCIDENTS


def test_a_dripping_server_cannot_hold_the_source_and_operators_hear(
    db_url: str, hostile_server: HostileServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("STUCK_OPS_URL", "json://127.0.0.1:9/ops")  # queued, not sent here
    url = hostile_server.serve("sdn.csv", Reply(200, b"1" * 1000, chunk=1, pause=0.5))
    rt = make_runtime(
        db_url,
        {
            "fetch": {"timeout": 5, "deadline": 3, "retries": 0},
            "sources": {"ofac_sdn": {"url": url, "companions": [], "interval": "1s"}},
            "operators": {"url_env": "STUCK_OPS_URL"},
        },
    )
    scheduler = build_scheduler(rt, dispatch_every=3600, stuck_after=1.0)
    scheduler.start()
    try:
        deadline = time.monotonic() + 30
        while hostile_server.hits["/sdn.csv"] < 3 and time.monotonic() < deadline:
            time.sleep(0.1)
    finally:
        scheduler.shutdown(wait=True)
    hostile_server.serve("sdn.csv", Reply(200, b"", length=0))  # answers at once (rejected)
    watch_scheduler = build_scheduler(rt, dispatch_every=3600, stuck_after=1.0)
    watch_scheduler.start()
    time.sleep(1.5)
    watch_scheduler.shutdown(wait=True)
    assert hostile_server.hits["/sdn.csv"] >= 3  # each poll ended at the deadline; more followed
    with transaction(rt.engine) as conn:
        incidents = conn.execute(sa.select(INCIDENTS)).all()
        stuck = [i for i in incidents if i.key == "stuck:ofac_sdn"]
        assert len(stuck) == 1 and "running for" in (stuck[0].detail or "")
        assert stuck[0].closed_at is not None  # closed by the first poll that ended in time
        ops = conn.execute(sa.select(ALERTS).where(ALERTS.c.kind == "operator")).all()
        titles = [str(a.payload.get("title", "")) for a in ops]
        assert sum("poll stuck" in t for t in titles) == 1, titles  # three hung polls, one message

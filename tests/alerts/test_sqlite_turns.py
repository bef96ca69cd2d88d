"""The dispatcher takes the process's SQLite turn (store.locks.sqlite_turn) for its transactions,
never for a delivery (issue 13). Under `watcher serve` it runs in its own thread beside polls; an
ingest holding SQLite's write lock longer than the busy timeout used to make it fail with
"database is locked", and a failed record after a confirmed send meant the alert went out again
after its lease.

Scaled down: the dispatcher's connections get a 0.3 s busy timeout (30 s in production) and the
"ingest" holds a write transaction (BEGIN IMMEDIATE, as an ingest does when it writes) for 2 s.
SQLite only: the turn is free on PostgreSQL."""

from __future__ import annotations

import logging
import threading
import time
from collections import Counter
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import replace
from datetime import datetime
from typing import Any

import pytest
from sqlalchemy import event

from tests.alerts.test_dispatch import XJ_NAMES, alerts, names_in, replay_pair, wait_for, xj_config
from tests.helpers import make_runtime
from tests.receivers import HttpReceiver
from watcher.alerts.dispatch import LEASE, dispatch_pending
from watcher.runtime import Runtime
from watcher.store import locks
from watcher.store.engine import make_engine

HOLD = 2.0  # seconds the "ingest" keeps the write lock
BUSY_MS = 300  # the dispatcher's SQLite busy timeout here


@pytest.fixture
def rt(db_url: str, http_receiver: HttpReceiver, monkeypatch: pytest.MonkeyPatch) -> Runtime:
    """Two alerts due for one json:// subscriber on the real receiver; the runtime's SQLite
    connections give up on a held write lock after BUSY_MS."""
    monkeypatch.setenv("TURN_HOOK", f"json://127.0.0.1:{http_receiver.port}/hook")
    runtime = make_runtime(db_url, xj_config({"name": "xj", "url_env": "TURN_HOOK"}))
    replay_pair(runtime)
    engine = make_engine(db_url)

    @event.listens_for(engine, "connect")
    def _short_busy_timeout(dbapi_conn: Any, _record: Any) -> None:
        dbapi_conn.execute(f"PRAGMA busy_timeout={BUSY_MS}")  # after make_engine's 30000

    return replace(runtime, engine=engine)


@contextmanager
def write_lock(db_url: str) -> Iterator[None]:
    """SQLite's write lock, held on another connection (what an ingest's transaction holds)."""
    engine = make_engine(db_url)
    try:
        with engine.connect() as conn:
            conn.exec_driver_sql("BEGIN IMMEDIATE")
            conn.exec_driver_sql("UPDATE source_state SET consecutive_failures = 0")
            yield
            conn.exec_driver_sql("COMMIT")
    finally:
        engine.dispose()


def in_thread(target: Callable[[], Any]) -> tuple[threading.Thread, list[Any]]:
    """Run `target` in a thread; the list gets its result or the exception it raised."""
    out: list[Any] = []

    def run() -> None:
        try:
            out.append(target())
        except Exception as exc:  # noqa: BLE001 - handed to the test to assert on
            out.append(exc)

    thread = threading.Thread(target=run)
    thread.start()
    return thread, out


def assert_sent_once(rt: Runtime, receiver: HttpReceiver, now: datetime) -> None:
    """Both alerts `sent`, received once each, and not again after their lease would expire."""
    assert [a.status for a in alerts(rt, "xj")] == ["sent", "sent"]
    assert dispatch_pending(rt, now=now + LEASE * 2).sent == 0
    assert names_in(receiver.requests) == Counter(XJ_NAMES)
    assert len(receiver.requests) == 2


@pytest.mark.parametrize("db_url", ["sqlite"], indirect=True)
def test_dispatch_waits_for_an_ingest_holding_the_turn(
    db_url: str, rt: Runtime, http_receiver: HttpReceiver
) -> None:
    holding, done = threading.Event(), threading.Event()

    def ingest() -> None:
        with locks.sqlite_turn(rt.engine), write_lock(db_url):
            holding.set()
            time.sleep(HOLD)
        done.set()

    ingest_thread, _ = in_thread(ingest)
    holding.wait(timeout=10)
    now, t0 = rt.clock(), time.monotonic()
    dispatcher, out = in_thread(lambda: dispatch_pending(rt, now=now))
    dispatcher.join(timeout=60)
    ingest_thread.join(timeout=60)
    [summary] = out
    assert not isinstance(summary, Exception), repr(summary)  # no "database is locked"
    assert summary.sent == 2 and summary.failed == 0
    assert done.is_set() and time.monotonic() - t0 >= HOLD * 0.8  # it waited its turn
    assert_sent_once(rt, http_receiver, now)


@pytest.mark.parametrize("db_url", ["sqlite"], indirect=True)
def test_a_delivery_does_not_hold_the_turn_and_its_record_waits_for_it(
    db_url: str, rt: Runtime, http_receiver: HttpReceiver
) -> None:
    """An ingest takes the turn at once while a slow channel holds the first alert; that
    alert's success is recorded after the ingest, not lost (which would re-send it)."""
    http_receiver.set_delay(1.0)
    now = rt.clock()
    dispatcher, out = in_thread(lambda: dispatch_pending(rt, now=now))
    wait_for(lambda: len(http_receiver.requests) == 1, "the first delivery")
    t0 = time.monotonic()
    with locks.sqlite_turn(rt.engine):
        waited = time.monotonic() - t0
        in_flight = [a.status for a in alerts(rt, "xj")] == ["pending", "pending"]
        with write_lock(db_url):
            time.sleep(HOLD)  # the answer arrives meanwhile; its record must wait
    assert waited < 0.5 and in_flight  # the turn was free during the delivery
    dispatcher.join(timeout=60)
    [summary] = out
    assert not isinstance(summary, Exception), repr(summary)
    assert summary.sent == 2
    http_receiver.set_delay(0)
    assert_sent_once(rt, http_receiver, now)


@pytest.mark.parametrize("db_url", ["sqlite"], indirect=True)
def test_a_sent_alert_is_recorded_despite_another_process_locking_the_file(
    db_url: str, rt: Runtime, http_receiver: HttpReceiver, caplog: pytest.LogCaptureFixture
) -> None:
    """Another process (no turn to wait for) holds the write lock past the busy timeout when a
    send is confirmed: the record is tried again after short waits, and logged."""
    http_receiver.set_delay(1.0)
    now = rt.clock()
    with caplog.at_level(logging.WARNING, logger="watcher.store.engine"):
        dispatcher, out = in_thread(lambda: dispatch_pending(rt, now=now))
        wait_for(lambda: len(http_receiver.requests) == 1, "the first delivery")
        with write_lock(db_url):  # released about 1 s after the channel's answer
            time.sleep(HOLD)
        dispatcher.join(timeout=60)
    [summary] = out
    assert not isinstance(summary, Exception), repr(summary)
    assert summary.sent == 2
    retries = [r.getMessage() for r in caplog.records if "retrying" in r.getMessage()]
    assert retries and all("recording sent alerts" in m for m in retries), retries
    assert any("database is locked" in m for m in retries), retries
    http_receiver.set_delay(0)
    assert_sent_once(rt, http_receiver, now)

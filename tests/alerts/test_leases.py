"""Leases of a process that died after claiming alerts are released at once, not after LEASE:
the worst delay after a crash is the restart, not five minutes (issue 13)."""

from __future__ import annotations

import socket
import subprocess
import sys
from dataclasses import replace

import pytest

from tests.alerts.test_dispatch import replay_pair, xj_config
from tests.helpers import make_runtime
from tests.receivers import HttpReceiver
from watcher.alerts.dispatch import claim_due, dispatch_pending, process_alive
from watcher.config import SubscriberSettings


def _dead_pid() -> int:
    child = subprocess.Popen([sys.executable, "-c", "pass"])
    child.wait()
    assert not process_alive(child.pid)
    return child.pid


def test_claims_of_a_dead_process_are_released_and_sent_at_once(
    db_url: str, http_receiver: HttpReceiver, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("LEASE_HOOK", f"json://127.0.0.1:{http_receiver.port}/hook")
    rt = make_runtime(db_url, xj_config({"name": "xj", "url_env": "LEASE_HOOK"}))
    replay_pair(rt)
    now = rt.clock()
    killed = replace(rt, holder=f"{socket.gethostname()}:{_dead_pid()}")
    assert len(claim_due(killed, {"xj": SubscriberSettings("xj")}, 100, now)) == 2
    summary = dispatch_pending(rt, now=now)  # the restarted process, same instant
    assert summary.sent == 2 and len(http_receiver.requests) == 2
    assert dispatch_pending(rt, now=now).sent == 0  # and never twice


def test_claims_of_a_live_process_or_another_host_keep_their_lease(
    db_url: str, http_receiver: HttpReceiver, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("LEASE_HOOK", f"json://127.0.0.1:{http_receiver.port}/hook")
    rt = make_runtime(db_url, xj_config({"name": "xj", "url_env": "LEASE_HOOK"}))
    replay_pair(rt)
    now = rt.clock()
    subs = {"xj": SubscriberSettings("xj")}
    live = replace(rt, holder=f"{socket.gethostname()}:{_live_parent_pid()}")
    assert len(claim_due(live, subs, 1, now)) == 1
    elsewhere = replace(rt, holder=f"other-host.example:{_dead_pid()}")
    assert len(claim_due(elsewhere, subs, 1, now)) == 1
    assert dispatch_pending(rt, now=now).sent == 0
    assert http_receiver.requests == []


def _live_parent_pid() -> int:
    import os

    return os.getppid() or 1


def test_a_source_lock_of_a_dead_process_is_taken_over_at_once(tmp_path: object) -> None:
    from datetime import UTC, datetime

    from watcher.store import locks
    from watcher.store.engine import make_engine, upgrade

    url = f"sqlite:///{tmp_path}/locks.db"
    upgrade(make_engine(url))
    engine = make_engine(url)
    now = datetime(2026, 1, 1, tzinfo=UTC)
    here = socket.gethostname()
    dead, live = f"{here}:{_dead_pid()}", f"{here}:{_live_parent_pid()}"
    # A holder that was SIGKILLed mid-poll never deleted its row: the row stays behind.
    with locks.source_lock(engine, "ofac_sdn", dead, now) as got:
        assert got
        with locks.source_lock(engine, "ofac_sdn", live, now) as taken:
            assert taken  # the dead holder's lease does not block for an hour
        with locks.source_lock(engine, "ofac_sdn", dead, now) as again:
            assert again  # (its own name still works, as before)
    with locks.source_lock(engine, "ofac_sdn", live, now) as first:
        assert first
        with locks.source_lock(engine, "ofac_sdn", f"{here}:{_dead_pid()}", now) as second:
            assert not second  # a live holder keeps its lock

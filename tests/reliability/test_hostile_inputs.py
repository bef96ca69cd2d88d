"""Every case of the hostile-input corpus (corpus.py), served over a real loopback HTTP server to
the real pipeline after a good baseline from a real fixture, asserted from the database and from
real receivers: one clear error line naming the source and the problem, zero changes, zero
subscriber messages, exactly one operator message for a stored rejection (none for a fetch
failure, by design: `watcher sources` and /readyz show it at once; none on a repeat), the
current list unchanged, and the next good snapshot diffing exactly against the last good one."""

from __future__ import annotations

import tracemalloc
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from tests.conftest import fixture_bytes
from tests.helpers import make_runtime
from tests.hostile import HostileServer, Reply
from tests.receivers import HttpReceiver
from tests.reliability.corpus import CAP, CASES, FAMILIES, Case
from tests.reliability.variants import Ctx
from watcher.alerts.dispatch import dispatch_pending
from watcher.pipeline.run import RunResult, run_source
from watcher.runtime import Runtime
from watcher.store import queries
from watcher.store import snapshots as store
from watcher.store.engine import make_engine, transaction, upgrade

MARKER = "XXE-SECRET-CONTENT-5f3a"


@pytest.fixture
def subscriber_receiver() -> Iterator[HttpReceiver]:
    with HttpReceiver() as receiver:
        yield receiver


def _ticking(start: datetime) -> object:
    """A clock that moves a minute per reading: every snapshot is later than the last."""
    state = {"now": start}

    def clock() -> datetime:
        state["now"] += timedelta(minutes=1)
        return state["now"]

    return clock


def _runtime(
    tmp_path: Path, source: str, url: str, settings: dict[str, object]
) -> tuple[Runtime, Path]:
    db = tmp_path / "watcher.db"
    upgrade(make_engine(f"sqlite:///{db}"))
    config = {
        "fetch": {"timeout": 5, "deadline": 3, "retries": 1, "backoff": 0.01, "max_bytes": CAP},
        "sources": {source: {"url": url, **settings}},
        "operators": {"url_env": "CORPUS_OPS_URL"},
        "subscribers": [{"name": "everything", "url_env": "CORPUS_SUB_URL"}],
    }
    rt = make_runtime(f"sqlite:///{db}", config)
    rt.clock = _ticking(datetime(2026, 1, 1, tzinfo=UTC))  # type: ignore[assignment]
    return rt, db


def _state(rt: Runtime, source: str) -> tuple[int, int, list[str]]:
    with transaction(rt.engine) as conn:
        changes = queries.list_changes(conn, source=source, limit=None)
        snaps = [s.status for s in store.list_snapshots(conn, source)]
        return store.count_current(conn, source), len(changes), snaps


def _run(rt: Runtime, source: str, measure: bool = False) -> tuple[RunResult, int]:
    if not measure:
        return run_source(rt, source), 0
    tracemalloc.start()
    try:
        result = run_source(rt, source)
        return result, tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()


@pytest.mark.parametrize("case", CASES, ids=[c.id for c in CASES])
def test_hostile_input(
    case: Case,
    tmp_path: Path,
    hostile_server: HostileServer,
    http_receiver: HttpReceiver,
    subscriber_receiver: HttpReceiver,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("CORPUS_OPS_URL", f"json://127.0.0.1:{http_receiver.port}/ops")
    monkeypatch.setenv("CORPUS_SUB_URL", f"json://127.0.0.1:{subscriber_receiver.port}/sub")
    family = FAMILIES[case.family]
    good = family.to_body(fixture_bytes(family.fixture))
    path = f"live/{case.family}"
    url = hostile_server.serve(path, Reply(200, good))
    rt, db = _runtime(tmp_path, family.source, url, family.settings)
    assert run_source(rt, family.source).outcome == "baseline"
    count, _, _ = _state(rt, family.source)

    secret = tmp_path / "secret.txt"
    secret.write_text(MARKER)
    hostile_server.serve(path, case.reply(good, Ctx(str(secret), hostile_server.base)))
    result, peak = _run(rt, family.source, measure=case.memory_bound)
    dispatch_pending(rt)
    line = result.summary()
    if case.outcome == "ok":
        assert result.ok, line
        assert (result.added, result.removed, result.modified) == case.changes, line
        assert http_receiver.requests == []
        # The original again: exactly the reverse of what the plausible file changed.
        hostile_server.serve(path, Reply(200, good))
        back = run_source(rt, family.source)
        added, removed, _ = case.changes
        assert (back.added, back.removed, back.modified) == (removed, added, 0), back.summary()
        return

    assert not result.ok and result.outcome == case.outcome, line
    assert "\n" not in line and line.startswith(f"{family.source}: ")
    assert case.problem.lower() in line.lower(), line
    after, n_changes, snaps = _state(rt, family.source)
    assert (after, n_changes) == (count, 0)
    stored = case.outcome in ("rejected", "quarantined")
    assert snaps == ([case.outcome, "ok"] if stored else ["ok"])
    assert len(http_receiver.requests) == (1 if stored else 0)
    assert subscriber_receiver.requests == []
    if case.memory_bound:
        assert peak < CAP / 2, f"peak {peak / 2**20:.1f} MiB with a {CAP / 2**20:.0f} MiB cap"
    assert MARKER not in db.read_bytes().decode("latin-1")
    assert hostile_server.hits["/evil.dtd"] == 0

    again, _ = _run(rt, family.source)  # the same failure once more: no new operator message
    dispatch_pending(rt)
    assert not again.ok and len(http_receiver.requests) == (1 if stored else 0)
    with transaction(rt.engine) as conn:
        state = store.get_state(conn, family.source)
    assert state.consecutive_failures == 2 and state.last_error  # `watcher sources` shows it

    hostile_server.serve(path, Reply(200, family.next_good(good)))
    nxt = run_source(rt, family.source)
    assert nxt.outcome == "new_snapshot", nxt.summary()
    assert (nxt.added, nxt.removed, nxt.modified) == family.next_changes, nxt.summary()
    assert subscriber_receiver.requests == [] or nxt.alerts > 0

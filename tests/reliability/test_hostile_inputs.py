"""Every case of the hostile-input corpus (corpus.py), served over a real loopback HTTP server to
the real pipeline after a good baseline from a real fixture, asserted from the database and from
real receivers: one clear error line naming the source and the problem, zero changes, zero
subscriber messages, exactly one operator message for a stored rejection (none for a fetch
failure, by design: `watcher sources` and /readyz show it at once; none on a repeat), the
current list unchanged, and the next good snapshot diffing exactly against the last good one."""

from __future__ import annotations

import tracemalloc
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, replace
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from tests.helpers import make_runtime
from tests.hostile import HostileServer, Reply
from tests.receivers import HttpReceiver
from tests.reliability.corpus import CAP, CASES, FAMILIES, Case
from tests.reliability.variants import Ctx
from watcher.alerts.dispatch import dispatch_pending
from watcher.pipeline.run import RunResult, run_source
from watcher.runtime import Runtime
from watcher.store import documents, queries
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
    # After every capture (the FR is dated 2026-09): every snapshot is later than the last.
    rt.clock = _ticking(datetime(2026, 10, 1, tzinfo=UTC))  # type: ignore[assignment]
    return rt, db


@dataclass(frozen=True)
class State:
    """What a poll may change: the current list, the changes, the snapshots, and for the
    Federal Register the stored documents and entity actions."""

    current: int
    changes: int
    snapshots: list[str]
    documents: list[str]
    actions: list[str]


def _state(rt: Runtime, source: str) -> State:
    with transaction(rt.engine) as conn:
        changes = queries.list_changes(conn, source=source, limit=None)
        snaps = [s.status for s in store.list_snapshots(conn, source)]
        numbers = [d.document_number for d in documents.list_documents(conn, limit=10_000)]
        keys = [a.key for a in documents.actions(conn)]
        return State(store.count_current(conn, source), len(changes), snaps, numbers, keys)


def _warnings(rt: Runtime, source: str) -> str:
    with transaction(rt.engine) as conn:
        latest = store.latest_snapshot(conn, source)
        return " | ".join(latest.warnings) if latest else ""


def _serve(server: HostileServer, files: Mapping[str, bytes]) -> None:
    for path, body in files.items():
        server.serve(path, Reply(200, body))


def _run(rt: Runtime, source: str, measure: bool = False) -> tuple[RunResult, int]:
    if not measure:
        return run_source(rt, source), 0
    tracemalloc.start()
    try:
        result = run_source(rt, source)
        return result, tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()


def _check_accepted(
    case: Case,
    rt: Runtime,
    result: RunResult,
    before: State,
    server: HostileServer,
    path: str,
    good: bytes,
) -> None:
    """A plausible file: accepted and diffed as the case says; then the good bytes again."""
    source = FAMILIES[case.family].source
    assert result.ok, result.summary()
    assert (result.added, result.removed, result.modified) == case.changes, result.summary()
    assert case.warning.lower() in _warnings(rt, source).lower()
    if case.changes == (0, 0, 0):
        after = _state(rt, source)
        assert (after.current, after.documents, after.actions) == (
            before.current,
            before.documents,
            before.actions,
        )
    # By default exactly the reverse of what the plausible file did.
    server.serve(path, Reply(200, good))
    back = run_source(rt, source)
    added, removed, _ = case.changes
    expected = case.back if case.back is not None else (removed, added, 0)
    assert (back.added, back.removed, back.modified) == expected, back.summary()


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
    secret = tmp_path / "secret.txt"
    secret.write_text(MARKER)
    ctx = Ctx(str(secret), hostile_server.base)
    files = family.served(case.family, ctx)  # every path the source asks for, good
    path = case.path or family.target_of(case.family)
    _serve(hostile_server, family.baseline(files))
    url = hostile_server.url(family.url or family.target_of(case.family))
    rt, db = _runtime(tmp_path, family.source, url, family.settings)
    assert run_source(rt, family.source).outcome == "baseline"
    before = _state(rt, family.source)

    _serve(hostile_server, files)
    good = files[path]
    hostile_server.serve(path, case.reply(good, ctx))
    result, peak = _run(rt, family.source, measure=case.memory_bound)
    dispatch_pending(rt)
    line = result.summary()
    assert MARKER not in db.read_bytes().decode("latin-1")
    assert hostile_server.hits["/evil.dtd"] == 0
    if case.outcome == "ok":
        assert len(http_receiver.requests) == case.operators
        if case.operators:  # once per document: the same text at the next poll is quiet
            assert "2026-17231" in http_receiver.requests[0].body.decode()
            assert run_source(rt, family.source).ok
            dispatch_pending(rt)
            assert len(http_receiver.requests) == case.operators
        _check_accepted(case, rt, result, before, hostile_server, path, good)
        return

    assert not result.ok and result.outcome == case.outcome, line
    assert "\n" not in line and line.startswith(f"{family.source}: ")
    assert case.problem.lower() in line.lower(), line
    after = _state(rt, family.source)
    assert replace(after, snapshots=[]) == replace(before, snapshots=[])  # nothing changed
    stored = case.outcome in ("rejected", "quarantined")
    assert after.snapshots == ([case.outcome, "ok"] if stored else ["ok"])
    assert len(http_receiver.requests) == (1 if stored else 0)
    assert subscriber_receiver.requests == []
    if case.memory_bound:
        assert peak < CAP / 2, f"peak {peak / 2**20:.1f} MiB with a {CAP / 2**20:.0f} MiB cap"

    again, _ = _run(rt, family.source)  # the same failure once more: no new operator message
    dispatch_pending(rt)
    assert not again.ok and len(http_receiver.requests) == (1 if stored else 0)
    with transaction(rt.engine) as conn:
        state = store.get_state(conn, family.source)
    assert state.consecutive_failures == 2 and state.last_error  # `watcher sources` shows it

    _serve(hostile_server, files)  # the path under test good again, the target a day later
    target = family.target_of(case.family)
    hostile_server.serve(target, Reply(200, family.next_good(files[target], ctx)))
    nxt = run_source(rt, family.source)
    assert nxt.outcome == "new_snapshot", nxt.summary()
    expected = case.next_changes or family.next_changes
    assert (nxt.added, nxt.removed, nxt.modified) == expected, nxt.summary()
    assert subscriber_receiver.requests == [] or nxt.alerts > 0

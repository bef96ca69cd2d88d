"""run_source(): fetch -> parse -> guard -> store -> diff -> match -> queue. The one error boundary.

The daemon's jobs and `watcher run --once` call exactly this; nothing here raises past
`run_source`, so a failing source never kills the scheduler.
"""

from __future__ import annotations

import gc
import logging
import time
from collections.abc import Iterable, Mapping, Sequence
from concurrent.futures import Future, ThreadPoolExecutor
from contextlib import ExitStack
from dataclasses import dataclass, replace
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import Connection

from watcher.config import Settings, SourceSettings
from watcher.errors import GuardError, ParseError, StoreError, WatcherError
from watcher.models import Entry, FetchedFile, ParseResult, RawSnapshot
from watcher.pipeline import linking
from watcher.pipeline.fetch import fetch_files
from watcher.pipeline.guards import compute_changes, parse_and_guard
from watcher.pipeline.matches import match_and_queue
from watcher.runtime import Runtime
from watcher.sources.base import Source
from watcher.sources.registry import get_source
from watcher.store import alerting, locks
from watcher.store import snapshots as store
from watcher.store.engine import transaction
from watcher.store.records import SnapshotInfo, SourceState, VersionRef

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class RunResult:
    source: str
    outcome: str  # unchanged / new_snapshot / baseline / rejected / quarantined / error / skipped
    snapshot_id: int | None = None
    record_count: int = 0
    added: int = 0
    removed: int = 0
    modified: int = 0
    matches: int = 0
    alerts: int = 0
    error: str | None = None
    duration_ms: int = 0

    @property
    def ok(self) -> bool:
        return self.outcome not in ("error", "rejected", "quarantined")

    def summary(self) -> str:
        if self.error:
            return f"{self.source}: {self.outcome}: {self.error}"
        return (
            f"{self.source}: {self.outcome} ({self.record_count} records; +{self.added} "
            f"-{self.removed} ~{self.modified}; {self.matches} matches, {self.alerts} alerts)"
        )


def make_source(settings: Settings, name: str) -> tuple[Source, SourceSettings]:
    src_settings = settings.source(name)
    return get_source(name, dict(src_settings.options)), src_settings


def run_source(rt: Runtime, name: str) -> RunResult:
    """Poll one source; record the run whatever happens."""
    started = rt.clock()
    t0 = time.monotonic()
    lease = ExitStack()
    try:  # taking the lock writes to the database, which may be locked, full or down
        with locks.sqlite_turn(rt.engine):
            acquired = lease.enter_context(
                locks.source_lock(rt.engine, name, rt.holder, now=started)
            )
    except Exception as exc:  # noqa: BLE001 - same boundary as the poll itself
        return _failed(rt, name, started, t0, exc)
    with lease:
        if not acquired:
            return RunResult(name, "skipped", error="another process is polling this source")
        try:
            return _poll(rt, name, started, t0)
        except Exception as exc:  # noqa: BLE001 - the one catch-all, by design
            return _failed(rt, name, started, t0, exc)


def _failed(rt: Runtime, name: str, started: datetime, t0: float, exc: Exception) -> RunResult:
    message = _one_line(exc)
    log.warning("poll failed", extra={"source": name, "error": message})
    _record_failure(rt, name, started, t0, message)
    return RunResult(name, "error", error=message, duration_ms=_ms(t0))


def _poll(rt: Runtime, name: str, started: datetime, t0: float) -> RunResult:
    source, settings = make_source(rt.settings, name)
    with locks.sqlite_turn(rt.engine), transaction(rt.engine) as conn:
        state = store.get_state(conn, name)
        known = (
            store.current_keys(conn, name) | linking.follow_hints(conn, name)
            if source.mode == "incremental"
            else frozenset()
        )
    files, validators = fetch_files(rt, source, settings, state.validators, known)
    if files is None:  # 304 on the primary file
        with locks.sqlite_turn(rt.engine), transaction(rt.engine) as conn:
            _book(rt, conn, name, started, t0, "unchanged", http_status=304, validators=validators)
        return RunResult(name, "unchanged", duration_ms=_ms(t0))
    raw = RawSnapshot(
        name, tuple(files), source.digest({f.name: f.content for f in files}), started
    )
    with locks.sqlite_turn(rt.engine):
        return ingest(rt, source, settings, raw, validators=validators, t0=t0)


def ingest(
    rt: Runtime,
    source: Source,
    settings: SourceSettings,
    raw: RawSnapshot,
    *,
    effective_at: datetime | None = None,
    origin: str = "poll",
    validators: Mapping[str, Any] | None = None,
    t0: float | None = None,
) -> RunResult:
    """Parse, guard, store and diff one fetched snapshot in a single transaction."""
    # A full list is ~15,000 entries of small objects that all stay alive until the end: the
    # collector would rescan them every few hundred allocations (a third of the ingest time).
    paused = gc.isenabled()
    gc.disable()
    try:
        return _ingest(rt, source, settings, raw, effective_at, origin, validators, t0)
    finally:
        if paused:
            gc.enable()


def _ingest(
    rt: Runtime,
    source: Source,
    settings: SourceSettings,
    raw: RawSnapshot,
    effective_at: datetime | None,
    origin: str,
    validators: Mapping[str, Any] | None,
    t0: float | None,
) -> RunResult:
    t0 = time.monotonic() if t0 is None else t0
    name = source.name
    total = sum(len(f.content) for f in raw.files)
    status = raw.files[0].status if raw.files else None
    with transaction(rt.engine) as conn:
        last_good = store.latest_snapshot(conn, name, status="ok")
        latest = store.latest_snapshot(conn, name)
        if latest is not None and latest.sha256 == raw.sha256 and origin == "poll":
            outcome = "unchanged" if latest.status == "ok" else latest.status
            _book(
                rt, conn, name, raw.fetched_at, t0, outcome, http_status=status, size=total,
                snapshot_id=latest.id, validators=validators, success=latest.status == "ok",
                error=latest.reason, error_in_check=False,
            )  # fmt: skip
            return RunResult(
                name,
                outcome,
                latest.id,
                latest.record_count,
                duration_ms=_ms(t0),
                error=latest.reason if latest.status != "ok" else None,
            )
        # zlib lets go of the GIL: the stored copy of the files compresses while they parse.
        pool = ThreadPoolExecutor(max_workers=1, thread_name_prefix="pack-files")
        packed = pool.submit(store.pack_files, raw.files)
        pool.shutdown(wait=False)
        current = store.current_refs(conn, name)
        try:
            parsed = parse_and_guard(source, settings, raw, current)
        except (ParseError, GuardError) as exc:
            return _reject(rt, conn, raw, exc, validators, t0, origin, effective_at, packed)
        # A rejected snapshot never counts for ordering: it is not history.
        when = _effective(raw, parsed, last_good, effective_at)
        snapshot = store.add_snapshot(
            conn,
            name,
            files=raw.files,
            packed=packed.result(),
            sha256=raw.sha256,
            fetched_at=raw.fetched_at,
            published_at=parsed.published_at,
            effective_at=when,
            record_count=len(parsed.entries),
            status="ok",
            warnings=parsed.warnings,
            origin=origin,
        )
        result = _apply(
            rt, conn, source, settings, snapshot, current, parsed, baseline=last_good is None
        )
        if settings.keep_raw is not None:
            cutoff = when - timedelta(seconds=settings.keep_raw)
            store.prune_raw(conn, name, before=cutoff, keep_id=snapshot.id)
        _book(
            rt, conn, name, raw.fetched_at, t0, result.outcome, http_status=status,
            size=total, snapshot_id=snapshot.id, validators=validators,
            changes=result.added + result.removed + result.modified, close=("rejected", "failing"),
        )  # fmt: skip
        return RunResult(**{**result.__dict__, "duration_ms": _ms(t0)})


def _apply(
    rt: Runtime,
    conn: Connection,
    source: Source,
    settings: SourceSettings,
    snapshot: SnapshotInfo,
    current: Mapping[str, VersionRef],
    parsed: ParseResult,
    *,
    baseline: bool,
) -> RunResult:
    def load(keys: Iterable[str]) -> dict[str, Entry]:
        stored = store.load_versions(conn, (current[k].version_id for k in keys))
        return {k: v.entry for k, v in stored.items()}

    changes = compute_changes(source, current, parsed.entries, load)
    url = settings.url or source.default_url
    ids = store.apply_changes(
        conn,
        snapshot,
        current,
        changes,
        detected_at=rt.clock(),
        source_url=source.public_url or url,
        record=not baseline,
    )
    linking.after_apply(
        conn, rt.settings, source.name, snapshot, changes, ids, parsed, now=rt.clock()
    )
    if baseline:
        return RunResult(source.name, "baseline", snapshot.id, len(parsed.entries))
    stored = [(i, c) for i, c in zip(ids, changes, strict=True) if source.alertable(c)]
    n_matches, n_alerts = match_and_queue(conn, rt.settings, source, stored, now=rt.clock())
    return RunResult(
        source.name,
        "new_snapshot",
        snapshot.id,
        len(parsed.entries),
        added=sum(1 for c in changes if c.kind == "added"),
        removed=sum(1 for c in changes if c.kind == "removed"),
        modified=sum(1 for c in changes if c.kind == "modified"),
        matches=n_matches,
        alerts=n_alerts,
    )


def _effective(
    raw: RawSnapshot, parsed: ParseResult, last: SnapshotInfo | None, explicit: datetime | None
) -> datetime:
    """The date a snapshot speaks for; history must move forward, never rewrite the past."""
    if explicit is not None:
        if last is not None and explicit <= last.effective_at:
            raise StoreError(
                f"snapshot dated {explicit.date()} is not after the latest good one "
                f"({last.effective_at.date()}); history is append-only"
            )
        return explicit
    when = (
        parsed.published_at
        if parsed.published_at and (last is None or parsed.published_at > last.effective_at)
        else raw.fetched_at
    )
    if last is not None and when <= last.effective_at:
        raise StoreError(
            f"fetch time {when} is not after the latest good snapshot {last.effective_at}"
        )
    return when


def _reject(
    rt: Runtime,
    conn: Connection,
    raw: RawSnapshot,
    exc: WatcherError,
    validators: Mapping[str, Any] | None,
    t0: float,
    origin: str,
    effective_at: datetime | None,
    packed: Future[bytes],
) -> RunResult:
    status = exc.status if isinstance(exc, GuardError) else "rejected"
    reason = _one_line(exc)
    name = raw.source
    snapshot = store.add_snapshot(
        conn,
        name,
        files=raw.files,
        packed=packed.result(),
        sha256=raw.sha256,
        fetched_at=raw.fetched_at,
        published_at=None,
        effective_at=effective_at or raw.fetched_at,
        record_count=0,
        status=status,
        reason=reason,
        origin=origin,
    )
    _book(
        rt, conn, name, raw.fetched_at, t0, status, size=sum(len(f.content) for f in raw.files),
        snapshot_id=snapshot.id, success=False, error=reason,
    )  # fmt: skip
    alerting.open_incident(
        conn,
        rt.settings,
        f"rejected:{name}",
        source=name,
        kind=f"snapshot_{status}",
        title=f"{name}: snapshot {status}",
        detail=f"{reason} (snapshot {snapshot.id}; history untouched, subscribers not alerted)",
        now=raw.fetched_at,
    )
    return RunResult(name, status, snapshot.id, error=reason, duration_ms=_ms(t0))


def _record_failure(rt: Runtime, name: str, started: datetime, t0: float, message: str) -> None:
    try:
        with locks.sqlite_turn(rt.engine), transaction(rt.engine) as conn:
            state = _book(rt, conn, name, started, t0, "error", success=False, error=message)
            alerting.check_failing(conn, rt.settings, state, now=started)
    except Exception:  # noqa: BLE001 - the database itself may be what failed
        log.exception("could not record the failure of %s", name)


def replay(
    rt: Runtime,
    name: str,
    at: datetime,
    paths: Sequence[tuple[str, bytes, str]],
    guards: Mapping[str, Any] | None = None,
) -> RunResult:
    """Import archived files (logical name, bytes, origin path) as a snapshot dated `at`;
    `guards` overrides min_records / max_records / max_removed_share for this import only."""
    source, settings = make_source(rt.settings, name)
    settings = replace(settings, **{k: v for k, v in (guards or {}).items() if v is not None})
    files = tuple(FetchedFile(n, f"file://{p}", data, 200) for n, data, p in paths)
    raw = RawSnapshot(name, files, source.digest({f.name: f.content for f in files}), rt.clock())
    try:
        return ingest(rt, source, settings, raw, effective_at=at, origin="replay")
    except StoreError as exc:
        return RunResult(name, "error", error=str(exc))


def _book(
    rt: Runtime,
    conn: Connection,
    name: str,
    started: datetime,
    t0: float,
    outcome: str,
    *,
    success: bool = True,
    error: str | None = None,
    error_in_check: bool = True,
    http_status: int | None = None,
    size: int = 0,
    snapshot_id: int | None = None,
    changes: int = 0,
    validators: Mapping[str, Any] | None = None,
    close: Sequence[str] = ("failing",),
) -> SourceState:
    """The bookkeeping every poll ends with: a check row, the source state and, on success,
    closing the incidents this outcome resolves (`close`, keys `<kind>:<source>`)."""
    store.record_check(
        conn, name, started_at=started, duration_ms=_ms(t0), outcome=outcome,
        http_status=http_status, size=size, error=error if error_in_check else None,
        snapshot_id=snapshot_id, changes=changes,
    )  # fmt: skip
    state = store.save_state(
        conn, name, checked_at=started, success=success, error=error, validators=validators
    )
    if success:  # recovered, e.g. serving what it served before the outage
        for kind in close:
            alerting.close_incident(
                conn, rt.settings, f"{kind}:{name}", now=started, recovered=True
            )
    return state


def _ms(t0: float) -> int:
    return int((time.monotonic() - t0) * 1000)


def _one_line(exc: BaseException) -> str:
    text = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
    return text if isinstance(exc, WatcherError) else f"{type(exc).__name__}: {text}"

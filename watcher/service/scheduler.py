"""Wiring only: one APScheduler job per enabled source, plus the outbox dispatcher.

Each poll job calls `run_source`, exactly what `watcher run --once` calls. Several replicas
may share one database: the per-source lock inside `run_source` stops two polls at once, and
a job skips when any replica checked the source within the last MIN_GAP share of its
interval, so each source is polled about once per interval however many replicas run.
(Half an interval is not enough: two replicas whose ticks fall half an interval apart would
then both poll, twice per interval. Ticks of one replica are never closer than the interval,
since APScheduler's jitter only delays, so a replica never skips its own next poll.)
"""

from __future__ import annotations

import logging
import threading
from datetime import UTC, datetime

from apscheduler.events import EVENT_JOB_MAX_INSTANCES
from apscheduler.schedulers.background import BackgroundScheduler
from apscheduler.triggers.interval import IntervalTrigger

from watcher.health import enabled_sources
from watcher.pipeline.run import RunResult, run_source
from watcher.pipeline.tick import tick
from watcher.runtime import Runtime
from watcher.service.memory import release_memory
from watcher.service.stuck import PollWatch
from watcher.store import snapshots as store
from watcher.store.engine import transaction

log = logging.getLogger(__name__)
DISPATCH_EVERY = 30.0  # seconds; digests are released inside dispatch_pending
DISPATCH_JOB = "dispatch"
MAX_JITTER = 300.0
MIN_GAP = 0.8  # share of the interval


def build_scheduler(
    rt: Runtime, dispatch_every: float = DISPATCH_EVERY, stuck_after: float | None = None
) -> BackgroundScheduler:
    """A scheduler (not started) with the poll and dispatch jobs; first runs are due now.
    A tick skipped behind a poll running past `stuck_after` tells operators (service/stuck)."""
    scheduler = BackgroundScheduler(
        timezone=UTC, job_defaults={"max_instances": 1, "coalesce": True}
    )
    watch = PollWatch.for_runtime(rt, stuck_after)
    wake = threading.Event()  # alerts queued: dispatch now, or again right after a running one
    scheduler.add_listener(watch.on_skipped, EVENT_JOB_MAX_INSTANCES)
    now = datetime.now(UTC)
    for name in enabled_sources(rt.settings):
        interval = rt.settings.source(name).interval
        scheduler.add_job(
            poll_job,
            IntervalTrigger(seconds=interval, jitter=min(interval * 0.1, MAX_JITTER), timezone=UTC),
            args=[rt, name, scheduler, watch, wake],
            id=f"poll:{name}",
            name=f"poll {name}",
            next_run_time=now,
            misfire_grace_time=max(1, int(interval / 2)),
        )
    scheduler.add_job(
        dispatch_job,
        IntervalTrigger(seconds=dispatch_every, timezone=UTC),
        args=[rt, wake],
        id=DISPATCH_JOB,
        name="dispatch alerts",
        next_run_time=now,
        misfire_grace_time=max(1, int(dispatch_every)),
    )
    return scheduler


def due(rt: Runtime, name: str, now: datetime) -> bool:
    """False when some replica checked this source less than MIN_GAP of an interval ago."""
    with transaction(rt.engine) as conn:
        last = store.get_state(conn, name).last_check_at
    gap = rt.settings.source(name).interval * MIN_GAP
    return last is None or (now - last).total_seconds() >= gap


def poll_job(
    rt: Runtime,
    name: str,
    scheduler: BackgroundScheduler | None = None,
    watch: PollWatch | None = None,
    wake: threading.Event | None = None,
) -> RunResult | None:
    """One scheduled poll; wakes the dispatcher when alerts were queued."""
    try:
        if not due(rt, name, rt.clock()):
            log.debug("poll skipped: checked recently", extra={"source": name})
            return None
    except Exception as exc:  # noqa: BLE001 - a database hiccup must not kill the job
        log.warning(
            "poll skipped: state unreadable", extra={"source": name, "error": type(exc).__name__}
        )
        return None
    if watch is not None:
        watch.begin(name)
    try:
        result = run_source(rt, name)
    finally:
        if watch is not None:
            watch.end(name)
    release_memory()  # the parsed list is garbage now; without this RSS stays at the peak
    log.info(
        result.summary(),
        extra={"source": name, "outcome": result.outcome, "duration_ms": result.duration_ms},
    )
    if result.alerts:
        if wake is not None:
            wake.set()
        if scheduler is not None and scheduler.running:
            scheduler.modify_job(DISPATCH_JOB, next_run_time=datetime.now(UTC))
    return result


def dispatch_job(rt: Runtime, wake: threading.Event | None = None) -> None:
    """Send due alerts (and release digests); the outbox makes this safe on every replica.

    A poll that queues alerts while this job runs cannot start it again (one instance at a
    time: APScheduler skips that run), so the job goes round once more when `wake` was set
    meanwhile: those alerts leave now, not at the next interval."""
    while True:
        if wake is not None:
            wake.clear()
        try:
            summary = tick(rt)
        except Exception:  # noqa: BLE001 - the next run retries; the outbox keeps the state
            log.exception("dispatch failed")
            return
        if summary.sent or summary.failed or summary.dead:
            log.info(
                "alerts dispatched",
                extra={"sent": summary.sent, "failed": summary.failed, "dead": summary.dead},
            )
        if wake is None or not wake.is_set():
            return

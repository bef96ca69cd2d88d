"""Stuck polls under `serve`: APScheduler runs one poll per source at a time (max_instances=1),
so a poll that never ends would silently swallow every later tick. The fetch deadline bounds the
download; this watch makes anything else that hangs visible: when a tick is skipped because the
previous poll still runs past `stuck_after`, operators hear once (incident `stuck:NAME`, closed
by the next poll that ends in time) and the log says which source and for how long."""

from __future__ import annotations

import logging
import threading
import time
from dataclasses import dataclass, field

from apscheduler.events import JobSubmissionEvent

from watcher.runtime import Runtime
from watcher.store import alerting
from watcher.store.engine import transaction

log = logging.getLogger(__name__)
PARSE_AND_STORE_GRACE = 300.0  # seconds a poll may take beyond its download deadline


@dataclass
class PollWatch:
    """When each source's running poll started (monotonic), shared with the job threads."""

    rt: Runtime
    stuck_after: float
    started: dict[str, float] = field(default_factory=dict)
    lock: threading.Lock = field(default_factory=threading.Lock)

    @classmethod
    def for_runtime(cls, rt: Runtime, stuck_after: float | None = None) -> PollWatch:
        limit = rt.settings.fetch.deadline + PARSE_AND_STORE_GRACE
        return cls(rt, limit if stuck_after is None else stuck_after)

    def begin(self, name: str) -> None:
        with self.lock:
            self.started[name] = time.monotonic()

    def end(self, name: str) -> None:
        """A poll ended; one that ended within the limit closes the incident (a repeat of the
        same hang keeps it open, so operators hear once)."""
        with self.lock:
            started = self.started.pop(name, None)
        if started is None or time.monotonic() - started > self.stuck_after:
            return
        try:
            with transaction(self.rt.engine) as conn:
                alerting.close_incident(
                    conn, self.rt.settings, f"stuck:{name}", now=self.rt.clock(), recovered=False
                )
        except Exception:  # noqa: BLE001 - the database may be what hangs; retried next poll
            log.warning("could not close the stuck-poll incident", extra={"source": name})

    def on_skipped(self, event: JobSubmissionEvent) -> None:
        """APScheduler skipped a tick (EVENT_JOB_MAX_INSTANCES): is the running poll stuck?"""
        if not str(event.job_id).startswith("poll:"):
            return
        name = str(event.job_id).split(":", 1)[1]
        with self.lock:
            started = self.started.get(name)
        age = time.monotonic() - started if started is not None else 0.0
        if age <= self.stuck_after:
            return
        detail = (
            f"a poll of {name} has been running for {int(age)} s (limit {int(self.stuck_after)} s"
            f" = fetch.deadline + {int(PARSE_AND_STORE_GRACE)} s); later polls are skipped "
            "until it ends"
        )
        log.error("poll stuck", extra={"source": name, "detail": detail})
        try:
            with transaction(self.rt.engine) as conn:
                alerting.open_incident(
                    conn,
                    self.rt.settings,
                    f"stuck:{name}",
                    source=name,
                    kind="poll_stuck",
                    title=f"{name}: poll stuck",
                    detail=detail,
                    now=self.rt.clock(),
                )
        except Exception:  # noqa: BLE001 - logged above; the next skipped tick tries again
            log.exception("could not record the stuck poll of %s", name)

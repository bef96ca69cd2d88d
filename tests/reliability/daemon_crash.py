"""Daemon crash trials: `watcher serve` (a real process) killed with SIGKILL while it starts,
polls, stores or dispatches the real 2021-12-09 -> 12-10 SDN pair, then started again and left
running until every alert is `sent`, then stopped with SIGTERM.

The webhook answers slowly, so a good share of kills land while a delivery is in flight. What
had happened at the kill is read from the database and the receivers once the process is dead
(only committed rows survive a SIGKILL), so each duplicate delivery can be told apart:

- re-sent after recorded: the database had the alert `sent` before the kill and it was
  delivered again: a bug (the outbox promises never).
- in flight: the receiver had the request but had not answered when the sender died.
- answered, not recorded: the receiver had answered 200, the `sent` commit had not happened.
  These two are the at-least-once window that remains by design: at most one alert per
  channel per kill (each channel is served by its own worker, one alert at a time).

Leases of the killed process must be released at once by the restarted one (its holder
"host:pid" no longer exists), so `recovery_s` is seconds, not the 5-minute lease.

Used by tests/reliability/test_crash_trials.py (a few trials) and `bench/crash_trials.py
--serve` (30).
"""

from __future__ import annotations

import signal
import subprocess
import threading
import time
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from tests.receivers import ReceivedRequest, free_port
from tests.reliability.crash import (
    NAMES,
    CrashRig,
    Stored,
    alert_statuses,
    copy_database,
    deliveries,
    stored_counts,
)

SUBSCRIBERS = ("hook", "mail")
EXPECTED = tuple(f"{s}:{n}" for s in SUBSCRIBERS for n in NAMES)
PATH = "/sdn.csv"


@dataclass(frozen=True)
class Kill:
    """When to kill: `after` seconds past the anchor (process start, the first request of the
    source, the first request a receiver got, the webhook's first answer written)."""

    anchor: str
    after: float


@dataclass(frozen=True)
class AtKill:
    """What had happened when the signal came, read once the process was dead."""

    phase: str  # start-up, poll, queued, dispatch, after (every alert sent)
    status: dict[str, str]  # "subscriber:name" -> committed status
    received: Counter[str]  # what the receivers had got
    answered: Counter[str]  # ... and answered (the webhook's 200 written; SMTP answers at once)


@dataclass(frozen=True)
class DaemonTrial:
    kill: Kill
    killed: bool
    killed_after: float  # seconds from the first process's start to the signal
    at_kill: AtKill
    delivered: Counter[str]  # by the end, both processes together
    stored: Stored
    alert_status: dict[str, str]  # "subscriber:name" -> status at the end
    recovery_s: float | None  # restart -> every alert `sent` (None: not within the timeout)
    released: bool  # the restarted daemon logged releasing dead leases
    error_lines: int  # in both processes' logs
    exit_code: int  # of the restarted daemon, stopped with SIGTERM

    @property
    def lost(self) -> int:
        return sum(
            1 for k in EXPECTED if self.delivered[k] == 0 or self.alert_status.get(k) != "sent"
        )

    def _extra(self, key: str) -> int:
        return max(0, self.delivered[key] - 1)

    @property
    def resent_after_recorded(self) -> int:
        return sum(self._extra(k) for k in EXPECTED if self.at_kill.status.get(k) == "sent")

    @property
    def in_flight(self) -> int:
        """Duplicates of a request the sender never saw answered (by design)."""
        return sum(
            self._extra(k)
            for k in self._unrecorded()
            if self.at_kill.received[k] and not self.at_kill.answered[k]
        )

    @property
    def answered_unrecorded(self) -> int:
        """Duplicates of a delivery answered but not yet committed `sent` (by design)."""
        return sum(self._extra(k) for k in self._unrecorded() if self.at_kill.answered[k])

    @property
    def other_duplicates(self) -> int:
        """Duplicates the kill cannot explain (never received before it): a bug."""
        return sum(self._extra(k) for k in self._unrecorded() if not self.at_kill.received[k])

    def _unrecorded(self) -> list[str]:
        return [k for k in EXPECTED if self.at_kill.status.get(k) != "sent"]

    @property
    def pending_at_kill(self) -> int:
        return sum(1 for k in EXPECTED if self.at_kill.status.get(k) != "sent")

    @property
    def exact(self) -> bool:
        s = self.stored
        return (
            s.changes == s.distinct_changes == 25
            and s.snapshots == 2
            and s.statuses == {"sent": len(EXPECTED)}
            and self.exit_code == 0
        )


class DaemonCrashRig(CrashRig):
    """CrashRig's served pair and receivers, with a slow webhook and `watcher serve`."""

    def __init__(self, workdir: Path, hook_delay: float = 1.0, interval: str = "2s") -> None:
        super().__init__(workdir)
        self.hook.set_delay(hook_delay)
        self.interval = interval

    def serve(self, config: Path, log: Path) -> subprocess.Popen[bytes]:
        return self.start(config, ("serve", "--port", str(free_port())), log)

    def daemon_trial(self, number: int, kill: Kill, timeout: float = 120.0) -> DaemonTrial:
        """Serve, kill as told, serve again until every alert is sent, stop, count."""
        self.hook.requests.clear()
        self.hook.answered.clear()
        self.smtp.messages.clear()
        fetches = self.server.hits[PATH]
        db = self.workdir / f"serve-{number}.db"
        copy_database(self.template, db)
        config = self.config_file(db, f'interval = "{self.interval}"\n')
        logs = (db.with_suffix(".killed.log"), db.with_suffix(".restarted.log"))
        t0 = time.monotonic()
        proc = self.serve(config, logs[0])
        try:
            if kill.anchor == "answer":
                killed = self._kill_on_answer(proc, kill.after)
            else:
                self._wait_anchor(kill.anchor, fetches, proc)
                time.sleep(kill.after)
                killed = proc.poll() is None
            killed_after = time.monotonic() - t0
        finally:
            self.hook.on_answer = None
            proc.kill()
            proc.wait(timeout=30)
        at_kill = self._at_kill(db, fetches)
        again = self.serve(config, logs[1])
        try:
            recovery = _wait_for(lambda: _all_sent(db), again, timeout)
            time.sleep(0.5)  # room for a stray duplicate to show before the stop
        finally:
            again.send_signal(signal.SIGTERM)
            try:
                exit_code = again.wait(timeout=60)
            except subprocess.TimeoutExpired:
                again.kill()
                exit_code = again.wait(timeout=30)
        text = [log.read_text(errors="replace") for log in logs]
        trial = DaemonTrial(
            kill=kill,
            killed=killed,
            killed_after=killed_after,
            at_kill=at_kill,
            delivered=self.delivered(),
            stored=stored_counts(db),
            alert_status=alert_statuses(db),
            recovery_s=recovery,
            released="released" in text[1] and "leases of dead processes" in text[1],
            error_lines=sum(_is_error(line) for t in text for line in t.splitlines()),
            exit_code=exit_code,
        )
        for path in (db, config, *logs):
            path.unlink(missing_ok=True)
        return trial

    def _wait_anchor(self, anchor: str, fetches: int, proc: subprocess.Popen[bytes]) -> None:
        events: dict[str, Callable[[], bool]] = {
            "start": lambda: True,
            "fetch": lambda: self.server.hits[PATH] > fetches,
            "dispatch": lambda: bool(self.hook.requests or self.smtp.messages),
        }
        if _wait_for(events[anchor], proc, 60.0) is None:
            raise AssertionError(f"serve never reached {anchor!r} (exit {proc.poll()})")

    def _kill_on_answer(self, proc: subprocess.Popen[bytes], after: float) -> bool:
        """Kill from the webhook's thread `after` seconds past writing its first 200: aims at
        the window between the receiver's answer and the sender's `sent` commit."""
        fired = threading.Event()

        def on_answer(_: ReceivedRequest) -> None:
            if not fired.is_set():
                fired.set()
                time.sleep(after)
                proc.kill()

        self.hook.on_answer = on_answer
        if _wait_for(fired.is_set, proc, 60.0) is None:
            raise AssertionError(f"serve never got an answer (exit {proc.poll()})")
        return True

    def _at_kill(self, db: Path, fetches: int) -> AtKill:
        status = alert_statuses(db)
        stored = stored_counts(db)
        received = deliveries(self.hook.requests, self.smtp.messages)
        answered = deliveries(self.hook.answered, self.smtp.messages)
        if stored.snapshots < 2:
            phase = "poll" if self.server.hits[PATH] > fetches else "start-up"
        elif all(status.get(k) == "sent" for k in EXPECTED):
            phase = "after"
        elif not received and "sent" not in status.values():
            phase = "queued"
        else:
            phase = "dispatch"
        return AtKill(phase, status, received, answered)


def _all_sent(db: Path) -> bool:
    status = alert_statuses(db)
    return len(status) == len(EXPECTED) and all(s == "sent" for s in status.values())


def _wait_for(
    done: Callable[[], bool], proc: subprocess.Popen[bytes], timeout: float
) -> float | None:
    """Seconds until `done()` (polled every 50 ms); None on timeout or if the process exits."""
    t0 = time.monotonic()
    while (elapsed := time.monotonic() - t0) < timeout:
        if done():
            return elapsed
        if proc.poll() is not None:
            return None
        time.sleep(0.05)
    return None


def _is_error(line: str) -> bool:
    return '"level": "error"' in line or '"level": "critical"' in line or "Traceback" in line

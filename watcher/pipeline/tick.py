"""What runs after polling, in the daemon's dispatcher job and in `watcher run --once` alike.

Some checks are overdue by the clock, not by a new snapshot (an FR action the CSL still does
not reflect `csl_lag` after publication), so they run on every tick, before the outbox is sent:
one function, so the two paths cannot drift apart. Its transaction takes the SQLite turn like
every other writer in the process (store.locks.sqlite_turn).
"""

from __future__ import annotations

from watcher.alerts.dispatch import DispatchSummary, dispatch_pending
from watcher.pipeline import linking
from watcher.runtime import Runtime
from watcher.store import locks
from watcher.store.engine import transaction


def tick(rt: Runtime, *, send: bool = True) -> DispatchSummary:
    """Clock-driven checks, then (unless `send` is False) every due alert, once."""
    with locks.sqlite_turn(rt.engine), transaction(rt.engine) as conn:
        linking.check_unreflected(conn, rt.settings, rt.clock())
    return dispatch_pending(rt) if send else DispatchSummary()

"""Alerts queued while the dispatcher is sending leave as soon as it finishes, not at its next
interval: APScheduler skips a start of a job that is still running, so the job itself goes
round again when a poll woke it meanwhile."""

from __future__ import annotations

import threading
import time
from datetime import UTC, datetime

import pytest

from tests.helpers import make_runtime
from tests.receivers import HttpReceiver
from watcher.runtime import Runtime
from watcher.service.scheduler import dispatch_job
from watcher.store import alerting, outbox
from watcher.store.engine import transaction


def _queue_operator_alert(rt: Runtime, title: str) -> None:
    now = datetime.now(UTC)
    payload = {
        "kind": "test",
        "source": "watcher",
        "title": title,
        "detail": "queued by the test",
        "occurred_at": now.isoformat(),
    }
    with transaction(rt.engine) as conn:
        assert outbox.queue_alert(
            conn, alerting.OPERATORS, f"ops:{title}", "operator", payload, now
        )


def _wait_for(predicate: object, seconds: float = 20) -> None:
    deadline = time.monotonic() + seconds
    while not predicate() and time.monotonic() < deadline:  # type: ignore[operator]
        time.sleep(0.02)


@pytest.mark.parametrize("woken", [True, False])
def test_an_alert_queued_during_a_dispatch_is_sent_right_after_it(
    db_url: str, monkeypatch: pytest.MonkeyPatch, woken: bool
) -> None:
    with HttpReceiver() as hook:
        hook.set_delay(1.0)  # the first delivery is in flight when the second alert arrives
        monkeypatch.setenv("WAKE_OPS_URL", f"json://127.0.0.1:{hook.port}/ops")
        rt = make_runtime(db_url, {"operators": {"url_env": "WAKE_OPS_URL"}})
        _queue_operator_alert(rt, "first")
        wake = threading.Event()
        job = threading.Thread(target=dispatch_job, args=(rt, wake))
        job.start()
        _wait_for(lambda: len(hook.requests) == 1)
        _queue_operator_alert(rt, "second")
        if woken:
            wake.set()  # what a poll that queued alerts does
        job.join(timeout=30)
        assert not job.is_alive()
        titles = [r.json()["title"].rsplit(" ", 1)[-1] for r in hook.requests]
        with transaction(rt.engine) as conn:
            statuses = [a.status for a in sorted(outbox.list_alerts(conn), key=lambda a: a.id)]
    if woken:
        assert titles == ["first", "second"]
        assert statuses == ["sent", "sent"]
    else:  # nobody woke it: the second waits for the next interval
        assert titles == ["first"]
        assert statuses == ["sent", "pending"]

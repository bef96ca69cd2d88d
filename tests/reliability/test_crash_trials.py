"""The short variants of bench/crash_trials.py.

`watcher run --once` killed with SIGKILL early (start-up / fetch), mid-way (parse / store) and
late (dispatch), then run again: exactly the 25 real additions, no duplicate rows, every alert
delivered, none re-sent after its `sent` was recorded (a delivery the channel had got but the
killed run had not recorded may repeat, once per channel: at-least-once, by design).

`watcher serve` killed mid-poll, twice mid-dispatch (a slow webhook request in flight) and
right after the webhook answered 200 (before the `sent` commit), then started again: the same
exactness, no alert re-sent after its `sent` was recorded, at most the one delivery in flight
or answered at the kill repeated (at-least-once, by design), and the dead process's leases
released at once: every alert sent within seconds of the restart, not the 5-minute lease.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.reliability.crash import CrashRig
from tests.reliability.daemon_crash import DaemonCrashRig, Kill


@pytest.mark.parametrize("kill_at", [0.3, 2.0, 3.5])
def test_run_once_killed_then_rerun_is_exact(tmp_path: Path, kill_at: float) -> None:
    with CrashRig(tmp_path) as rig:
        trial = rig.trial(1, kill_at)
    assert trial.exact, trial
    assert trial.lost == 0, trial.delivered
    assert trial.resent_after_recorded == 0 and trial.other_duplicates == 0, trial
    assert trial.window <= 2, trial  # at most the delivery in flight per channel at the kill
    assert trial.statuses == {"sent": 4}


@pytest.fixture(scope="module")
def daemon_rig(tmp_path_factory: pytest.TempPathFactory) -> Iterator[DaemonCrashRig]:
    with DaemonCrashRig(tmp_path_factory.mktemp("daemon-crash"), hook_delay=1.0) as rig:
        yield rig


@pytest.mark.parametrize(
    ("kill", "phase"),
    [
        (Kill("fetch", 0.2), "poll"),
        (Kill("dispatch", 0.4), "dispatch"),  # the first webhook request in flight
        (Kill("dispatch", 1.5), "dispatch"),  # the first answered and recorded, the second sent
        (Kill("answer", 0.0), "dispatch"),  # the first 200 written, `sent` not yet committed
    ],
    ids=["mid-poll", "first-delivery-in-flight", "second-delivery-in-flight", "after-the-200"],
)
def test_serve_killed_then_restarted_is_exact(
    daemon_rig: DaemonCrashRig, kill: Kill, phase: str
) -> None:
    trial = daemon_rig.daemon_trial(int(kill.after * 1000), kill, timeout=45.0)
    assert trial.killed and trial.at_kill.phase == phase, trial
    assert trial.exact, trial
    assert trial.lost == 0, trial.delivered
    assert trial.resent_after_recorded == trial.other_duplicates == 0, trial
    # the one webhook request in flight at the kill may arrive twice; nothing else may
    assert trial.in_flight + trial.answered_unrecorded <= 1, trial
    assert sum(trial.delivered.values()) == 4 + trial.in_flight + trial.answered_unrecorded
    assert trial.recovery_s is not None and trial.recovery_s < 30, trial  # not the lease
    if phase == "dispatch":
        assert trial.released, "the dead process's leases were not released at restart"
    assert trial.error_lines == 0

"""The short variant of bench/crash_trials.py: a real `watcher run --once` killed with SIGKILL
early (start-up / fetch), mid-way (parse / store) and late (dispatch), then run again: exactly
the 25 real additions, no duplicate rows, every alert delivered, none twice."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.reliability.crash import CrashRig


@pytest.mark.parametrize("kill_at", [0.3, 2.0, 3.5])
def test_run_once_killed_then_rerun_is_exact(tmp_path: Path, kill_at: float) -> None:
    with CrashRig(tmp_path) as rig:
        trial = rig.trial(1, kill_at)
    assert trial.exact, trial
    assert trial.lost == 0 and trial.duplicates == 0, trial.delivered
    assert trial.statuses == {"sent": 4}

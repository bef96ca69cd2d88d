"""Crash trials (issue 13): `watcher run --once` killed with SIGKILL at random instants over the
real 2021-12-09 -> 12-10 SDN pair (webhook + aiosmtpd subscribers), then run again; prints
lost / duplicate deliveries and exactness. `--trials 100` is the full run; one process at a
time, so it keeps to one core.

    .venv/bin/python bench/crash_trials.py --trials 100
"""

from __future__ import annotations

import argparse
import random
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from tests.reliability.crash import CrashRig  # noqa: E402


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--trials", type=int, default=100)
    parser.add_argument("--max-kill", type=float, default=5.0, help="latest kill instant (s)")
    parser.add_argument("--seed", type=int, default=13)
    args = parser.parse_args()
    rng = random.Random(args.seed)
    lost = dupes = inexact = killed = 0
    t0 = time.monotonic()
    with tempfile.TemporaryDirectory() as tmp, CrashRig(Path(tmp)) as rig:
        for n in range(args.trials):
            trial = rig.trial(n, rng.uniform(0.0, args.max_kill))
            killed += trial.killed
            lost += trial.lost
            dupes += trial.duplicates
            inexact += not trial.exact
            if trial.lost or trial.duplicates or not trial.exact:
                print(f"trial {n}: kill at {trial.kill_at:.2f} s: {trial}", flush=True)
    print(
        f"{args.trials} trials ({killed} killed mid-run, the rest had finished) in "
        f"{time.monotonic() - t0:.0f} s: lost deliveries {lost}, duplicate deliveries {dupes}, "
        f"runs not exact (25 additions, no duplicate rows, exit 0) {inexact}"
    )


if __name__ == "__main__":
    main()

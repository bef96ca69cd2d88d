"""Soak (issue 13): `watcher serve` with a 1 s interval against a list that changes every few
seconds, a webhook subscriber; samples RSS, open descriptors and sockets every 10 s and prints
their slopes per minute after a warm-up. At the end the list stops changing and the daemon
runs on until the outbox is drained, then every stage is reconciled per change: versions
served, snapshots, changes, alerts queued / sent, deliveries received (each exactly once), and
the time from queued to sent. The full run is 30 minutes:

    .venv/bin/python bench/soak.py --minutes 30
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from _daemons import (  # noqa: E402
    ChangingSource,
    drain,
    reconcile,
    sample,
    slope,
    start_serve,
    write_config,
)

from tests.receivers import HttpReceiver, free_port  # noqa: E402

Points = list[tuple[float, float]]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--minutes", type=float, default=30.0)
    parser.add_argument("--interval", default="1s")
    parser.add_argument("--change-every", type=float, default=5.0)
    parser.add_argument("--warmup", type=float, default=30.0)
    parser.add_argument("--drain-timeout", type=float, default=120.0)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp, HttpReceiver() as hook:
        source = ChangingSource(args.change_every)
        db = f"sqlite:///{tmp}/soak.db"
        config = write_config(Path(tmp) / "soak.toml", db, source.url, "SOAK_HOOK", args.interval)
        env = {"SOAK_HOOK": f"json://127.0.0.1:{hook.port}/hook"}
        log = Path(tmp) / "serve.log"
        proc = start_serve(config, free_port(), env, log)
        rss: Points = []
        fds: Points = []
        socks: Points = []
        try:
            _sample_until(proc.pid, args.minutes * 60, args.warmup, (rss, fds, socks), proc.poll)
            drained = drain(db, source, [proc], args.drain_timeout)
        finally:
            proc.terminate()
            code = proc.wait(timeout=60)
            source.stop()
        result = reconcile(db, source, hook.requests, [log])
    waited = "timed out" if drained is None else f"{drained:.1f} s"
    print(f"soak {args.minutes:g} min at {args.interval}; drained in {waited}; exit {code}")
    for line in result.lines():
        print(line)
    print(
        f"RSS {rss[0][1]:.1f} -> {rss[-1][1]:.1f} MiB (slope {slope(rss):+.3f} MiB/min); "
        f"fds {fds[0][1]:.0f} -> {fds[-1][1]:.0f} (slope {slope(fds):+.3f}/min); "
        f"sockets {socks[0][1]:.0f} -> {socks[-1][1]:.0f} (slope {slope(socks):+.3f}/min); "
        f"{len(rss)} samples after a {args.warmup:g} s warm-up"
    )


def _sample_until(
    pid: int,
    seconds: float,
    warmup: float,
    series: tuple[Points, Points, Points],
    exited: Callable[[], int | None],
) -> None:
    """Every 10 s: RSS, descriptors, sockets (after the warm-up)."""
    t0 = time.monotonic()
    while (now := time.monotonic() - t0) < seconds:
        time.sleep(min(10.0, max(0.0, seconds - now)))
        now = time.monotonic() - t0
        if exited() is not None:
            raise SystemExit("serve exited during the soak")
        if now >= warmup:
            for points, value in zip(series, sample(pid), strict=True):
                points.append((now, float(value)))


if __name__ == "__main__":
    main()

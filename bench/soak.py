"""Soak (issue 13): `watcher serve` with a 1 s interval against a list that changes every few
seconds, a webhook subscriber; samples RSS, open descriptors and sockets every 10 s and prints
their slopes per minute after a warm-up. The full run is 30 minutes:

    .venv/bin/python bench/soak.py --minutes 30
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from _daemons import ChangingSource, sample, slope, start_serve, write_config  # noqa: E402

from tests.receivers import HttpReceiver, free_port  # noqa: E402
from watcher.store.engine import make_engine  # noqa: E402


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--minutes", type=float, default=30.0)
    parser.add_argument("--change-every", type=float, default=5.0)
    parser.add_argument("--warmup", type=float, default=30.0)
    args = parser.parse_args()
    import sqlalchemy as sa

    with tempfile.TemporaryDirectory() as tmp, HttpReceiver() as hook:
        source = ChangingSource(args.change_every)
        db = f"sqlite:///{tmp}/soak.db"
        config = write_config(Path(tmp) / "soak.toml", db, source.url, "SOAK_HOOK", "1s")
        env = {"SOAK_HOOK": f"json://127.0.0.1:{hook.port}/hook"}
        proc = start_serve(config, free_port(), env, Path(tmp) / "serve.log")
        t0 = time.monotonic()
        rss: list[tuple[float, float]] = []
        fds: list[tuple[float, float]] = []
        socks: list[tuple[float, float]] = []
        try:
            while (now := time.monotonic() - t0) < args.minutes * 60:
                time.sleep(10)
                if proc.poll() is not None:
                    raise SystemExit(f"serve exited with {proc.returncode}")
                if now >= args.warmup:
                    r, f, s = sample(proc.pid)
                    rss.append((now, r))
                    fds.append((now, f))
                    socks.append((now, s))
        finally:
            proc.terminate()
            proc.wait(timeout=60)
            source.stop()
        log = (Path(tmp) / "serve.log").read_text(errors="replace")
        errors = sum('"level": "error"' in line or "Traceback" in line for line in log.splitlines())
        with make_engine(db).connect() as conn:
            checks = conn.execute(sa.text("SELECT count(*) FROM checks")).scalar_one()
            changes = conn.execute(sa.text("SELECT count(*) FROM changes")).scalar_one()
            sent = conn.execute(sa.text("SELECT count(*) FROM alerts WHERE status='sent'")).scalar()
    print(
        f"soak {args.minutes:g} min: {checks} polls, {source.flips} list changes served, "
        f"{changes} changes stored, {sent} alerts sent, {len(hook.requests)} received, "
        f"{errors} error lines in the log"
    )
    print(
        f"RSS {rss[0][1]:.1f} -> {rss[-1][1]:.1f} MiB (slope {slope(rss):+.3f} MiB/min); "
        f"fds {fds[0][1]:.0f} -> {fds[-1][1]:.0f} (slope {slope(fds):+.3f}/min); "
        f"sockets {socks[0][1]:.0f} -> {socks[-1][1]:.0f} (slope {slope(socks):+.3f}/min)"
    )


if __name__ == "__main__":
    main()

"""Replicas under load (issue 13): three `watcher serve` processes on one PostgreSQL database
(a fresh one, dropped at the end), a list changing every few seconds (each change one alert),
one webhook subscriber. At the end the list stops changing and the replicas run on until the
outbox is drained; then every stage is reconciled per change: versions served, snapshots (none
twice), changes, alerts queued / sent, deliveries received (each exactly once, duplicate and
missing ids listed), queued -> sent time, and error lines in the replicas' logs. Full run:

    .venv/bin/python bench/replica_load.py --minutes 10
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
import uuid
from pathlib import Path

import sqlalchemy as sa

sys.path.insert(0, str(Path(__file__).resolve().parent))

from _daemons import ChangingSource, drain, reconcile, start_serve, write_config  # noqa: E402

from tests.conftest import PG_URL  # noqa: E402
from tests.receivers import HttpReceiver, free_port  # noqa: E402
from watcher.store.engine import make_engine, upgrade  # noqa: E402


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--minutes", type=float, default=10.0)
    parser.add_argument("--replicas", type=int, default=3)
    parser.add_argument("--change-every", type=float, default=4.0)
    parser.add_argument("--interval", default="2s")
    parser.add_argument("--drain-timeout", type=float, default=120.0)
    args = parser.parse_args()
    name = f"watcher_replicas_{uuid.uuid4().hex[:8]}"
    admin = make_engine(PG_URL).execution_options(isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(sa.text(f'CREATE DATABASE "{name}"'))
    db = PG_URL.rsplit("/", 1)[0] + f"/{name}"
    engine = make_engine(db)
    upgrade(engine)
    engine.dispose()
    try:
        run(args, db)
    finally:
        with admin.connect() as conn:
            conn.execute(sa.text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


def run(args: argparse.Namespace, db: str) -> None:
    with tempfile.TemporaryDirectory() as tmp, HttpReceiver() as hook:
        source = ChangingSource(args.change_every)
        config = write_config(Path(tmp) / "r.toml", db, source.url, "R_HOOK", args.interval)
        env = {"R_HOOK": f"json://127.0.0.1:{hook.port}/hook"}
        logs = [Path(tmp) / f"replica-{i}.log" for i in range(args.replicas)]
        procs = [start_serve(config, free_port(), env, log) for log in logs]
        try:
            time.sleep(args.minutes * 60)
            drained = drain(db, source, procs, args.drain_timeout)
        finally:
            for p in procs:
                p.terminate()
            exits = [p.wait(timeout=90) for p in procs]
            source.stop()
        result = reconcile(db, source, hook.requests, logs)
    waited = "timed out" if drained is None else f"{drained:.1f} s"
    print(
        f"{args.replicas} replicas, {args.minutes:g} min at {args.interval}, list changed "
        f"{source.flips} times; drained in {waited}; exits {exits}"
    )
    for line in result.lines():
        print(line)


if __name__ == "__main__":
    main()

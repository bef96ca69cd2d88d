"""Replicas under load (issue 13): three `watcher serve` processes on one PostgreSQL database,
a list changing every few seconds (each change one alert), one webhook subscriber. Prints polls,
snapshots, changes, alerts in the database against deliveries the receiver counted, duplicate
deliveries, snapshots stored twice, and error lines in the replicas' logs. Full run: 10 min:

    .venv/bin/python bench/replica_load.py --minutes 10
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
import time
import uuid
from collections import Counter
from pathlib import Path

import sqlalchemy as sa

sys.path.insert(0, str(Path(__file__).resolve().parent))

from _daemons import ChangingSource, start_serve, write_config  # noqa: E402

from tests.conftest import PG_URL  # noqa: E402
from tests.receivers import HttpReceiver, free_port  # noqa: E402
from watcher.store.engine import make_engine, upgrade  # noqa: E402


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--minutes", type=float, default=10.0)
    parser.add_argument("--replicas", type=int, default=3)
    parser.add_argument("--change-every", type=float, default=4.0)
    parser.add_argument("--interval", default="2s")
    args = parser.parse_args()
    name = f"watcher_replicas_{uuid.uuid4().hex[:8]}"
    admin = make_engine(PG_URL).execution_options(isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(sa.text(f'CREATE DATABASE "{name}"'))
    db = PG_URL.rsplit("/", 1)[0] + f"/{name}"
    upgrade(make_engine(db))
    try:
        run(args, db)
    finally:
        with admin.connect() as conn:
            conn.execute(sa.text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))


def run(args: argparse.Namespace, db: str) -> None:
    with tempfile.TemporaryDirectory() as tmp, HttpReceiver() as hook:
        source = ChangingSource(args.change_every)
        config = write_config(Path(tmp) / "r.toml", db, source.url, "R_HOOK", args.interval)
        env = {"R_HOOK": f"json://127.0.0.1:{hook.port}/hook"}
        logs = [Path(tmp) / f"replica-{i}.log" for i in range(args.replicas)]
        procs = [start_serve(config, free_port(), env, log) for log in logs]
        try:
            time.sleep(args.minutes * 60)
            source.stop()
            time.sleep(40)  # the dispatcher (every 30 s) sends what the last polls queued
        finally:
            for p in procs:
                p.terminate()
            exits = [p.wait(timeout=90) for p in procs]
        errors = sum(
            '"level": "error"' in line or "Traceback" in line or "deadlock" in line.lower()
            for log in logs
            for line in log.read_text(errors="replace").splitlines()
        )
        with make_engine(db).connect() as conn:
            q = conn.execute
            checks = q(sa.text("SELECT count(*) FROM checks")).scalar_one()
            snaps = q(sa.text("SELECT sha256 FROM snapshots ORDER BY id")).scalars().all()
            changes = q(sa.text("SELECT count(*) FROM changes")).scalar_one()
            rows = q(sa.text("SELECT status, count(*) FROM alerts GROUP BY status"))
            status: Counter[str] = Counter({str(st): int(n) for st, n in rows.all()})
            alert_ids = set(q(sa.text("SELECT id FROM alerts WHERE kind = 'change'")).scalars())
        twice = sum(1 for a, b in zip(snaps, snaps[1:], strict=False) if a == b)
        got = Counter(json.dumps(r.json(), sort_keys=True) for r in hook.requests)
        dupes = sum(n - 1 for n in got.values() if n > 1)
    print(
        f"{args.replicas} replicas, {args.minutes:g} min, list changed {source.flips} times: "
        f"{checks} polls, {len(snaps)} snapshots ({twice} stored twice in a row), {changes} "
        f"changes, alerts {dict(status)} ({len(alert_ids)} change alerts), {len(hook.requests)} "
        f"deliveries received ({dupes} duplicates), {errors} error lines, exits {exits}"
    )


if __name__ == "__main__":
    main()

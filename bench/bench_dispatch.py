"""Benchmark: outbox dispatch throughput, and latency from a stored change to the message.

Run: .venv/bin/python bench/bench_dispatch.py [--alerts 10000] [--postgres URL]
1. Throughput: N pending alerts (payload of a real SDN addition) for one subscriber whose
   channel is a local webhook receiver (apprise `json://`), drained with `dispatch_pending`;
   on a temporary SQLite file and on PostgreSQL when a server answers.
2. Latency: the daemon's scheduler with a short interval polls a local HTTP server; the
   served SDN file changes from 2021-12-09 to 2021-12-10 and we time (a) the file being
   served -> the message arriving and (b) the change being stored (`changes.detected_at`)
   -> the message arriving.
Prints one JSON object.
"""

from __future__ import annotations

import argparse
import json
import logging
import multiprocessing as mp
import os
import sys
import tempfile
import threading
import time
import uuid
from collections.abc import Callable
from datetime import UTC, datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import sqlalchemy as sa

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from tests.receivers import HttpReceiver  # noqa: E402
from watcher.alerts.dispatch import dispatch_pending  # noqa: E402
from watcher.config import settings_from_dict  # noqa: E402
from watcher.runtime import Runtime  # noqa: E402
from watcher.store import subscribers, watchlist  # noqa: E402
from watcher.store.engine import make_engine, transaction, upgrade  # noqa: E402
from watcher.store.tables import ALERTS  # noqa: E402

FIXTURES = ROOT.parent / "shared" / "fixtures" / "ofac_sdn"
PG_DEFAULT = os.environ.get(
    "WATCHER_TEST_POSTGRES_URL", "postgresql://postgres@127.0.0.1:5432/postgres"
)
ENV = "BENCH_WEBHOOK_URL"


def _payload(i: int, now: datetime) -> dict[str, Any]:
    return {
        "id": f"change:{i}",
        "kind": "added",
        "source": "ofac_sdn",
        "list_code": "SDN",
        "list_name": "OFAC SDN list",
        "key": "34079",
        "name": "ZAKIR, Shohrat",
        "programs": ["GLOMAG"],
        "matches": [
            {
                "watch": "xinjiang-security",
                "score": 100.0,
                "method": "topic",
                "matched_name": "ZAKIR, Shohrat",
                "reason": "linked to 'XINJIANG PUBLIC SECURITY BUREAU'",
            }
        ],
        "source_url": "https://ofac.treasury.gov/recent-actions",
        "detected_at": now.isoformat(),
        "remarks": "Linked To: XINJIANG PUBLIC SECURITY BUREAU.",
    }


def _runtime(db_url: str, config: dict[str, Any]) -> Runtime:
    settings = settings_from_dict({"database": {"url": db_url}, **config}, {})
    rt = Runtime(settings, make_engine(db_url))
    with transaction(rt.engine) as conn:
        watchlist.sync_watchlist(conn, settings)
        subscribers.sync_subscribers(conn, settings)
    return rt


def _serve_counting(port: Any, count: Any) -> None:
    """The receiver's process: answer 200 to every POST and count them."""

    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def do_POST(self) -> None:  # noqa: N802
            self.rfile.read(int(self.headers.get("Content-Length") or 0))
            with count.get_lock():
                count.value += 1
            self.send_response(200)
            self.send_header("Content-Length", "2")
            self.end_headers()
            self.wfile.write(b"ok")

        def log_message(self, format: str, *args: object) -> None:  # noqa: A002
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    port.value = server.server_address[1]
    server.serve_forever()


class _Receiver:
    """A webhook receiver in a process of its own, so it does not share our GIL."""

    def __enter__(self) -> _Receiver:
        self.port, self.count = mp.Value("i", 0), mp.Value("i", 0)
        self.process = mp.Process(target=_serve_counting, args=(self.port, self.count))
        self.process.start()
        _wait(lambda: self.port.value != 0, 30)
        return self

    @property
    def received(self) -> int:
        return int(self.count.value)

    def __exit__(self, *exc: object) -> None:
        self.process.terminate()
        self.process.join()


def throughput(db_url: str, n: int) -> dict[str, Any]:
    """Queue n alerts, then time dispatch_pending until the outbox is drained."""
    upgrade(make_engine(db_url))
    with _Receiver() as receiver:
        os.environ[ENV] = f"json://127.0.0.1:{receiver.port.value}/hook"
        rt = _runtime(db_url, {"subscribers": [{"name": "bench", "url_env": ENV}]})
        now = datetime.now(UTC)
        with rt.engine.begin() as conn:
            conn.execute(
                sa.insert(ALERTS),
                [
                    {
                        "subscriber": "bench",
                        "idempotency_key": f"bench:{i}",
                        "kind": "change",
                        "payload": _payload(i, now),
                        "status": "pending",
                        "attempts": 0,
                        "next_attempt_at": now,
                        "created_at": now,
                    }
                    for i in range(n)
                ],
            )
        started = time.perf_counter()
        sent = passes = 0
        while True:
            summary = dispatch_pending(rt)
            passes += 1
            sent += summary.sent
            if not (summary.sent or summary.failed):
                break
        elapsed = time.perf_counter() - started
        with transaction(rt.engine) as conn:
            left = conn.scalar(
                sa.select(sa.func.count()).select_from(ALERTS).where(ALERTS.c.status != "sent")
            )
        received = receiver.received
    return {
        "alerts": n,
        "sent": sent,
        "received": received,
        "not_sent": left,
        "dispatch_passes": passes,
        "seconds": round(elapsed, 2),
        "alerts_per_second": round(sent / elapsed, 1),
    }


class _Files(BaseHTTPRequestHandler):
    """Serves `served[0]` at every path: the 'upstream list' the daemon polls."""

    served: list[bytes] = [b""]

    def do_GET(self) -> None:  # noqa: N802
        body = self.served[0]
        self.send_response(200)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, format: str, *args: object) -> None:  # noqa: A002
        pass


def latency(db_url: str, interval: str = "1s") -> dict[str, Any]:
    """The daemon's scheduler end to end: served file changes -> message arrives."""
    from watcher.service.scheduler import build_scheduler

    logging.getLogger("apscheduler").setLevel(logging.ERROR)  # "skipped: max instances"
    upgrade(make_engine(db_url))
    _Files.served[0] = (FIXTURES / "sdn_2021-12-09.csv").read_bytes()
    files = ThreadingHTTPServer(("127.0.0.1", 0), _Files)
    threading.Thread(target=files.serve_forever, daemon=True).start()
    url = f"http://127.0.0.1:{files.server_address[1]}/sdn.csv"
    with HttpReceiver() as receiver:
        os.environ[ENV] = f"json://127.0.0.1:{receiver.port}/hook"
        config = {
            "sources": {"ofac_sdn": {"url": url, "companions": [], "interval": interval}},
            "subscribers": [{"name": "xj", "url_env": ENV, "tags": ["xinjiang-security"]}],
        }
        rt = _runtime(db_url, config)
        scheduler = build_scheduler(rt, dispatch_every=1.0)
        scheduler.start()
        try:
            _wait(lambda: _snapshots(rt) >= 1, 120)
            _Files.served[0] = (FIXTURES / "sdn_2021-12-10.csv").read_bytes()
            served = time.time()
            _wait(lambda: len(receiver.requests) >= 2, 120)
            arrived = time.time()
        finally:
            scheduler.shutdown(wait=True)
            files.shutdown()
        with transaction(rt.engine) as conn:
            stored = conn.scalar(sa.text("SELECT max(detected_at) FROM changes"))
    stored_ts = _as_utc(stored).timestamp()
    return {
        "interval": interval,
        "messages": len(receiver.requests),
        "served_to_arrival_s": round(arrived - served, 3),
        "stored_to_arrival_s": round(arrived - stored_ts, 3),
    }


def _as_utc(value: Any) -> datetime:
    if isinstance(value, str):
        value = datetime.fromisoformat(value)
    assert isinstance(value, datetime)
    return value if value.tzinfo else value.replace(tzinfo=UTC)


def _snapshots(rt: Runtime) -> int:
    with transaction(rt.engine) as conn:
        return int(conn.scalar(sa.text("SELECT count(*) FROM snapshots")) or 0)


def _wait(condition: Any, timeout: float) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            raise TimeoutError("benchmark condition not reached")
        time.sleep(0.02)


def _postgres(admin_url: str, probe: bool = False) -> tuple[str, str] | None:
    """A throw-away database on the server (or just a probe), None when none answers."""
    name = f"watcher_bench_{uuid.uuid4().hex[:8]}"
    try:
        admin = make_engine(admin_url).execution_options(isolation_level="AUTOCOMMIT")
        with admin.connect() as conn:
            conn.execute(sa.text("SELECT 1" if probe else f'CREATE DATABASE "{name}"'))
        admin.dispose()
    except Exception:  # noqa: BLE001 - no server: SQLite only
        return None
    return admin_url.rsplit("/", 1)[0] + f"/{name}", name


def _drop(admin_url: str, name: str) -> None:
    admin = make_engine(admin_url).execution_options(isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(sa.text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
    admin.dispose()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--alerts", type=int, default=10_000)
    parser.add_argument("--postgres", default=PG_DEFAULT, help="admin URL ('' to skip)")
    parser.add_argument("--skip-latency", action="store_true")
    args = parser.parse_args()
    results: dict[str, Any] = {}
    with tempfile.TemporaryDirectory() as tmp:
        results["sqlite"] = {"throughput": throughput(f"sqlite:///{tmp}/t.db", args.alerts)}
        if not args.skip_latency:
            results["sqlite"]["latency"] = latency(f"sqlite:///{tmp}/l.db")
    if not args.postgres or _postgres(args.postgres, probe=True) is None:
        results["postgresql"] = "not reachable"
    else:
        results["postgresql"] = {}
        runs: list[tuple[str, Callable[[str], dict[str, Any]]]] = [
            ("throughput", lambda url: throughput(url, args.alerts))
        ]
        if not args.skip_latency:
            runs.append(("latency", latency))
        for label, run in runs:
            created = _postgres(args.postgres)
            assert created is not None
            url, name = created
            try:
                results["postgresql"][label] = run(url)
            finally:
                _drop(args.postgres, name)
    print(json.dumps(results, indent=2))


if __name__ == "__main__":
    main()

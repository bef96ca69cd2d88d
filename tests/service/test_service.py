"""The real daemon as processes: polls a local server, serves what changed, stops on SIGTERM.

Also: two replicas on one PostgreSQL database poll once per interval and never send an alert
twice; and the project installed exactly as the Dockerfile does starts and stops cleanly.
"""

from __future__ import annotations

import json
import math
import os
import re
import shutil
import signal
import subprocess
import sys
import threading
import time
from collections import Counter
from collections.abc import Callable, Iterator
from datetime import UTC, datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import httpx
import pytest
from sqlalchemy import func, select

from tests.conftest import ROOT, LocalServer, fixture_bytes
from tests.receivers import HttpReceiver, free_port
from watcher.store import snapshots as store
from watcher.store.engine import make_engine
from watcher.store.tables import ALERTS, CHECKS

SDN = "ofac_sdn/sdn_{}.csv"
GRACE = 25.0  # watcher.service.app.GRACE
VENV_BIN = Path(sys.executable).parent


def wait_for(predicate: Callable[[], Any], timeout: float, what: str) -> Any:
    """Poll until `predicate` returns something truthy; fail with `what` after `timeout` s."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            value = predicate()
        except httpx.HTTPError:
            value = None
        if value:
            return value
        time.sleep(0.2)
    pytest.fail(f"timed out after {timeout:.0f} s waiting for {what}")


class Daemon:
    """One `watcher serve` process on a free loopback port."""

    def __init__(self, exe: Path, config: Path, log: Path, env: dict[str, str]) -> None:
        self.port = free_port()
        self.log = log
        self._log_file = log.open("wb")
        self.proc = subprocess.Popen(
            [str(exe), "--config", str(config), "serve", "--port", str(self.port)],
            stdout=self._log_file, stderr=subprocess.STDOUT, env=env, cwd=config.parent,
        )  # fmt: skip

    def get(self, path: str, **params: Any) -> httpx.Response:
        return httpx.get(f"http://127.0.0.1:{self.port}{path}", params=params, timeout=10)

    def json(self, path: str, **params: Any) -> Any:
        response = self.get(path, **params)
        response.raise_for_status()
        return response.json()

    def wait_healthy(self, timeout: float = 60) -> None:
        def healthy() -> bool:
            if self.proc.poll() is not None:
                pytest.fail(f"daemon exited with {self.proc.returncode}:\n{self.output()}")
            return self.get("/healthz").status_code == 200

        wait_for(healthy, timeout, "/healthz")

    def terminate(self, timeout: float = GRACE + 10) -> int:
        """SIGTERM, then the exit status (killed and failed if it outlives `timeout`)."""
        self.proc.send_signal(signal.SIGTERM)
        try:
            return self.proc.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            pytest.fail(f"daemon ignored SIGTERM for {timeout} s:\n{self.output()}")

    def output(self) -> str:
        self._log_file.flush()
        return self.log.read_text(errors="replace")[-4000:]

    def close(self) -> None:
        if self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait(timeout=10)
        self._log_file.close()


@pytest.fixture
def daemons() -> Iterator[list[Daemon]]:
    started: list[Daemon] = []
    yield started
    for daemon in started:
        daemon.close()


def clean_env(**extra: str) -> dict[str, str]:
    """The test's environment without WATCHER_* overrides or a virtualenv of its own."""
    env = {
        k: v
        for k, v in os.environ.items()
        if not k.startswith("WATCHER_") and k not in ("VIRTUAL_ENV", "PYTHONPATH")
    }
    return {**env, **extra}


def write_config(path: Path, db_url: str, url: str, interval: str, extra: str = "") -> Path:
    path.write_text(
        f"""include_default_watchlist = false
[database]
url = "{db_url}"
[sources.ofac_sdn]
url = "{url}"
companions = []
interval = "{interval}"
{extra}""",
        encoding="utf-8",
    )
    return path


def baseline_visible(daemon: Daemon, records: int) -> bool:
    sources = {s["source"]: s for s in daemon.json("/api/sources")}
    return (
        sources["ofac_sdn"]["last_success"] is not None
        and sources["ofac_sdn"]["entries"] == records
    )


def metric(text: str, line_start: str) -> float | None:
    for line in text.splitlines():
        if line.startswith(line_start + " "):
            return float(line.rsplit(" ", 1)[1])
    return None


def test_daemon_sees_a_changed_file_and_stops_on_sigterm(
    db_url: str, tmp_path: Path, http_server: LocalServer, daemons: list[Daemon]
) -> None:
    url = http_server.serve("live/sdn.csv", fixture_bytes(SDN.format("2021-12-09")))
    config = write_config(tmp_path / "config.toml", db_url, url, "2s")
    daemon = Daemon(VENV_BIN / "watcher", config, tmp_path / "daemon.log", clean_env())
    daemons.append(daemon)
    daemon.wait_healthy()
    wait_for(lambda: baseline_visible(daemon, 9121), 60, "the baseline in /api/sources")
    assert daemon.json("/api/changes") == []
    assert daemon.get("/readyz").status_code == 200

    http_server.serve("live/sdn.csv", fixture_bytes(SDN.format("2021-12-10")))
    added = wait_for(
        lambda: len(daemon.json("/api/changes", kind="added")) == 25, 60, "25 additions"
    )
    assert added
    keys = {c["key"] for c in daemon.json("/api/changes")}
    assert {"34079", "34119"} <= keys and len(keys) == 25
    text = daemon.get("/metrics").text
    assert metric(text, 'watcher_changes_total{kind="added",source="ofac_sdn"}') == 25
    assert metric(text, 'watcher_snapshot_records{source="ofac_sdn"}') == 9146
    assert metric(text, 'watcher_checks_total{outcome="new_snapshot",source="ofac_sdn"}') == 1
    assert daemon.terminate() == 0, daemon.output()
    assert '"msg": "stopped"' in daemon.output()


class SlowUpstream:
    """Answers after `delay` seconds, so a poll is surely in flight when the test acts."""

    def __init__(self, body: bytes, delay: float) -> None:
        self.requested = threading.Event()
        upstream = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:  # noqa: N802
                upstream.requested.set()
                time.sleep(delay)
                self.send_response(200)
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, format: str, *args: Any) -> None:  # noqa: A002
                pass

        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.httpd.daemon_threads = True
        threading.Thread(target=self.httpd.serve_forever, daemon=True).start()
        self.url = f"http://127.0.0.1:{self.httpd.server_address[1]}/sdn.csv"


def test_sigterm_lets_a_running_poll_finish(
    db_url: str, tmp_path: Path, daemons: list[Daemon]
) -> None:
    upstream = SlowUpstream(fixture_bytes(SDN.format("2021-12-09")), delay=3)
    config = write_config(tmp_path / "config.toml", db_url, upstream.url, "1h")
    daemon = Daemon(VENV_BIN / "watcher", config, tmp_path / "daemon.log", clean_env())
    daemons.append(daemon)
    assert upstream.requested.wait(60), daemon.output()
    assert daemon.terminate() == 0, daemon.output()
    upstream.httpd.shutdown()
    engine = make_engine(db_url)
    with engine.connect() as conn:
        snapshots = store.list_snapshots(conn, "ofac_sdn")
        current = store.count_current(conn, "ofac_sdn")
    engine.dispose()
    # The poll in flight at SIGTERM completed: one whole snapshot, every entry stored.
    assert [(s.status, s.record_count) for s in snapshots] == [("ok", 9121)]
    assert current == 9121


@pytest.mark.postgres
def test_two_replicas_poll_once_per_interval_and_alert_once(
    db_url: str, tmp_path: Path, http_server: LocalServer, daemons: list[Daemon]
) -> None:
    if not db_url.startswith("postgresql"):
        pytest.skip("replicas share a PostgreSQL database")
    interval = 3.0
    url = http_server.serve("live/sdn.csv", fixture_bytes(SDN.format("2021-12-09")))
    extra = """[[watchlist]]
name = "ZAKIR Shohrat"
[[subscribers]]
name = "hook"
url_env = "TEST_REPLICA_HOOK"
"""
    config = write_config(tmp_path / "config.toml", db_url, url, "3s", extra)
    with HttpReceiver() as receiver:
        env = clean_env(TEST_REPLICA_HOOK=f"json://127.0.0.1:{receiver.port}/hook")
        for i in range(2):  # one after the other: both sync the watchlist at start
            daemons.append(Daemon(VENV_BIN / "watcher", config, tmp_path / f"replica{i}.log", env))
            daemons[-1].wait_healthy()
        first, second = daemons
        wait_for(lambda: baseline_visible(second, 9121), 60, "the baseline")
        http_server.serve("live/sdn.csv", fixture_bytes(SDN.format("2021-12-10")))
        wait_for(lambda: len(first.json("/api/changes")) == 25, 60, "25 changes")
        wait_for(lambda: receiver.requests, 60, "the alert to arrive")
        window_start = datetime.now(UTC)  # from here on, every poll is a quick "unchanged"
        time.sleep(12)
        window = (datetime.now(UTC) - window_start).total_seconds()
        engine = make_engine(db_url)
        with engine.connect() as conn:
            checks = conn.scalar(
                select(func.count()).where(
                    CHECKS.c.source == "ofac_sdn", CHECKS.c.started_at >= window_start
                )
            )
            sent = {r.payload["id"]: r.status for r in conn.execute(select(ALERTS))}
        engine.dispose()
        received = Counter(
            key
            for r in receiver.requests
            for key in re.findall(r"Alert id: (\S+)", json.loads(r.body)["message"])
        )
    # One replica alone would poll 4 times in 12 s; two without coordination about 8.
    assert checks is not None and 3 <= checks <= math.ceil(window / interval) + 1, (checks, window)
    assert list(sent.values()) == ["sent"]  # ZAKIR only: one (change, subscriber) pair
    assert received == Counter({key: 1 for key in sent}), received
    for daemon in daemons:
        assert daemon.terminate() == 0, daemon.output()


def _copy_project(dest: Path) -> Path:
    """What the Dockerfile COPYs into its builder stage."""
    dest.mkdir()
    for name in ("pyproject.toml", "README.md", "requirements.lock"):
        shutil.copy2(ROOT / name, dest / name)
    for name in ("watcher", "migrations"):
        shutil.copytree(
            ROOT / name, dest / name, ignore=shutil.ignore_patterns("__pycache__", "*.pyc")
        )
    return dest


@pytest.mark.slow
def test_installed_as_the_dockerfile_does_serves_and_stops(
    tmp_path: Path, http_server: LocalServer, daemons: list[Daemon]
) -> None:
    src = _copy_project(tmp_path / "src")
    venv = tmp_path / "venv"
    env = clean_env()
    env.pop("PIP_NO_CACHE_DIR", None)  # reuse pip's cache: the lock's wheels (pyicu) are built once

    def run(*args: str) -> None:
        done = subprocess.run(
            args, env=env, cwd=tmp_path, capture_output=True, text=True, timeout=900
        )
        assert done.returncode == 0, f"{args}: {done.stdout[-2000:]}{done.stderr[-2000:]}"

    run(sys.executable, "-m", "venv", str(venv))
    run(str(venv / "bin/pip"), "install", "-q", "-r", str(src / "requirements.lock"))
    run(str(venv / "bin/pip"), "install", "-q", "--no-deps", str(src))
    url = http_server.serve("live/sdn.csv", fixture_bytes(SDN.format("2021-12-09")))
    config = write_config(tmp_path / "config.toml", f"sqlite:///{tmp_path / 'w.db'}", url, "1h")
    daemon = Daemon(venv / "bin/watcher", config, tmp_path / "daemon.log", env)
    daemons.append(daemon)
    daemon.wait_healthy(timeout=120)
    wait_for(lambda: daemon.get("/readyz").status_code == 200, 60, "/readyz after the first poll")
    assert daemon.json("/api/sources")[0]["entries"] == 9121
    assert daemon.terminate() == 0, daemon.output()

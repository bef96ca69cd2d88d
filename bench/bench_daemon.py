"""The daemon as operators run it: idle RSS, idle CPU, and poll-to-visible latency.

Starts `watcher serve` (a real process, SQLite in a temporary directory) against a local HTTP
server that serves the real OFAC SDN file of 2021-12-09 (9,121 records).

1. Idle: interval "1h"; after the first poll, RSS and CPU of the process over `--idle` seconds.
2. Latency: interval "1s"; the served file changes (the 2021-12-10 file, then derived copies
   with one name altered) and the time until the change shows in /api/changes is measured.
   CPU while polling a 2 MB file every second is reported too.

Prints one JSON object.

    .venv/bin/python bench/bench_daemon.py [--idle 30] [--runs 3]
"""

from __future__ import annotations

import argparse
import json
import os
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Callable
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import httpx

ROOT = Path(__file__).resolve().parent.parent
FIXTURES = Path(os.environ.get("WATCHER_FIXTURES", ROOT.parent / "shared" / "fixtures"))
SDN = FIXTURES / "ofac_sdn"
HZ = os.sysconf("SC_CLK_TCK")


class Upstream:
    """Serves whatever bytes `body` holds at /sdn.csv."""

    def __init__(self, body: bytes) -> None:
        self.body = body
        upstream = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:  # noqa: N802
                data = upstream.body
                self.send_response(200)
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            def log_message(self, format: str, *args: Any) -> None:  # noqa: A002
                pass

        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        threading.Thread(target=self.httpd.serve_forever, daemon=True).start()
        self.url = f"http://127.0.0.1:{self.httpd.server_address[1]}/sdn.csv"


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def start_daemon(work: Path, url: str, interval: str) -> tuple[subprocess.Popen[bytes], str]:
    config = work / f"config-{interval}.toml"
    config.write_text(
        f'include_default_watchlist = true\n[database]\nurl = "sqlite:///{work}/w-{interval}.db"\n'
        f'[sources.ofac_sdn]\nurl = "{url}"\ncompanions = []\ninterval = "{interval}"\n',
        encoding="utf-8",
    )
    port = free_port()
    env = {k: v for k, v in os.environ.items() if not k.startswith("WATCHER_")}
    exe = Path(sys.executable).parent / "watcher"
    log = (work / f"daemon-{interval}.log").open("wb")
    proc = subprocess.Popen(
        [str(exe), "--config", str(config), "serve", "--port", str(port)],
        stdout=log, stderr=subprocess.STDOUT, env=env, cwd=work,
    )  # fmt: skip
    return proc, f"http://127.0.0.1:{port}"


def wait_for(predicate: Callable[[], bool], timeout: float = 120) -> float:
    start = time.monotonic()
    while time.monotonic() - start < timeout:
        try:
            if predicate():
                return time.monotonic() - start
        except httpx.HTTPError:
            pass
        time.sleep(0.02)
    raise SystemExit("timed out")


def polled(base: str) -> bool:
    sources = httpx.get(f"{base}/api/sources", timeout=5).json()
    return any(s["source"] == "ofac_sdn" and s["last_success"] for s in sources)


def n_changes(base: str) -> int:
    return len(httpx.get(f"{base}/api/changes", params={"limit": 100000}, timeout=5).json())


def rss_mb(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return 0.0


def cpu_seconds(pid: int) -> float:
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / HZ  # utime + stime


def cpu_share(pid: int, seconds: float) -> float:
    before = cpu_seconds(pid)
    time.sleep(seconds)
    return (cpu_seconds(pid) - before) / seconds * 100


def stop(proc: subprocess.Popen[bytes]) -> int:
    proc.send_signal(signal.SIGTERM)
    return proc.wait(timeout=60)


def variants(runs: int) -> list[bytes]:
    """2021-12-10 (25 additions), then derived copies with one more name altered each."""
    base = (SDN / "sdn_2021-12-10.csv").read_bytes()
    out = [base]
    lines = base.split(b"\r\n")
    for i in range(1, runs):
        line = lines[100 * i]
        end = line.index(b'"', line.index(b',"') + 2)  # the closing quote of the name
        lines[100 * i] = line[:end] + f" BENCH {i}".encode() + line[end:]
        out.append(b"\r\n".join(lines))
    return out


def idle_phase(work: Path, idle: float) -> dict[str, Any]:
    upstream = Upstream((SDN / "sdn_2021-12-09.csv").read_bytes())
    proc, base = start_daemon(work, upstream.url, "1h")
    try:
        first_poll = wait_for(lambda: polled(base))
        time.sleep(2)  # let the first poll's garbage settle
        cpu = cpu_share(proc.pid, idle)
        return {
            "startup_to_first_poll_s": round(first_poll, 2),
            "idle_rss_mb": round(rss_mb(proc.pid), 1),
            "idle_cpu_percent": round(cpu, 3),
            "idle_window_s": idle,
            "sigterm_exit": stop(proc),
        }
    finally:
        if proc.poll() is None:
            proc.kill()


def latency_phase(work: Path, runs: int) -> dict[str, Any]:
    upstream = Upstream((SDN / "sdn_2021-12-09.csv").read_bytes())
    proc, base = start_daemon(work, upstream.url, "1s")
    try:
        wait_for(lambda: polled(base))
        time.sleep(1)
        polling_cpu = cpu_share(proc.pid, 10)
        latencies = []
        for body in variants(runs):
            seen = n_changes(base)
            upstream.body = body
            latencies.append(wait_for(lambda seen=seen: n_changes(base) > seen))  # type: ignore[misc]
            time.sleep(1.5)
        return {
            "interval_s": 1,
            "poll_to_visible_s": [round(x, 2) for x in latencies],
            "poll_to_visible_median_s": round(statistics.median(latencies), 2),
            "cpu_percent_polling_every_1s": round(polling_cpu, 1),
            "rss_mb_after_changes": round(rss_mb(proc.pid), 1),
            "sigterm_exit": stop(proc),
        }
    finally:
        if proc.poll() is None:
            proc.kill()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--idle", type=float, default=30.0, help="idle window in seconds")
    parser.add_argument("--runs", type=int, default=3, help="file changes to time")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="watcher-bench-") as tmp:
        work = Path(tmp)
        result = {"idle": idle_phase(work, args.idle), "latency": latency_phase(work, args.runs)}
    print(json.dumps(result, indent=2))


if __name__ == "__main__":
    main()

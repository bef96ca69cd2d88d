"""The daemon as operators run it: idle RSS, idle CPU, and poll-to-visible latency.

Starts `watcher serve` (a real process, SQLite in a temporary directory) against a local HTTP
server that serves real fixture files.

1. Idle: every source configured (interval "1h"), each served from real fixtures: the OFAC SDN
   file of 2021-12-09 (9,121 records), the consolidated list of 2025-04 (with its addresses),
   the CSL sample of 2023-11 (4,228 rows), eCFR part 744 built from a real Entity List rule's
   table (as tests/pipeline/test_backfill.py builds it), the BIS Federal Register documents
   with today's public inspection (URLs pointed at the local server) and two real news feeds.
   After every start-up poll: RSS, and CPU over `--idle` seconds.
2. Latency: only ofac_sdn, interval "1s"; the served file changes (the 2021-12-10 file, then
   derived copies with one name altered) and the time until the change shows in /api/changes
   is measured. CPU while polling a 2 MB file every second is reported too.

Prints one JSON object.

    .venv/bin/python bench/bench_daemon.py [--idle 60] [--runs 3] [--skip-latency]
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
SOURCES = (
    "ofac_sdn", "ofac_consolidated", "trade_csl", "ecfr_entity_list", "federal_register", "news",
)  # fmt: skip


class Upstream:
    """Serves `files` (path -> bytes; the query string is ignored); `body` is /sdn.csv."""

    def __init__(self, body: bytes, files: dict[str, bytes] | None = None) -> None:
        self.files = {"/sdn.csv": body, **(files or {})}
        upstream = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:  # noqa: N802
                data = upstream.files.get(self.path.split("?", 1)[0])
                self.send_response(200 if data is not None else 404)
                self.send_header("Content-Length", str(len(data or b"")))
                self.end_headers()
                self.wfile.write(data or b"")

            def log_message(self, format: str, *args: Any) -> None:  # noqa: A002
                pass

        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        threading.Thread(target=self.httpd.serve_forever, daemon=True).start()
        self.base = f"http://127.0.0.1:{self.httpd.server_address[1]}"
        self.url = f"{self.base}/sdn.csv"

    @property
    def body(self) -> bytes:
        return self.files["/sdn.csv"]

    @body.setter
    def body(self, data: bytes) -> None:
        self.files["/sdn.csv"] = data


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def start_daemon(work: Path, sources: str, interval: str) -> tuple[subprocess.Popen[bytes], str]:
    config = work / f"config-{interval}.toml"
    config.write_text(
        f'include_default_watchlist = true\n[database]\nurl = "sqlite:///{work}/w-{interval}.db"\n'
        + sources,
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


def sdn_only(upstream: Upstream, interval: str) -> str:
    return f'[sources.ofac_sdn]\nurl = "{upstream.url}"\ncompanions = []\ninterval = "{interval}"\n'


def every_source(upstream: Upstream, interval: str) -> str:
    """Config for all six sources, their files added to `upstream` (derived where it says)."""
    fr = FIXTURES / "federal_register"
    rule = (fr / "fr_2023-03929_2023-02-27_additions_entity_list.xml").read_bytes()
    docs = json.loads((fr / "fr_documents_bis_agency_captured-2026-09-25.json").read_bytes())
    pi = json.loads(
        (fr / "fr_public_inspection_search_per_page2_captured-2026-09-29.json").read_bytes()
    )
    # Derived: the captures' next pages and full texts point at the local server instead.
    docs["next_page_url"] = pi["next_page_url"] = f"{upstream.base}/fr/page2.json"
    for record in docs["results"]:
        number = record["document_number"]
        record["full_text_xml_url"] = f"{upstream.base}/fr/full_text/{number}.xml"
        upstream.files[f"/fr/full_text/{number}.xml"] = rule
    sys.path.insert(0, str(ROOT))
    from tests.pipeline.test_backfill import _document  # eCFR part 744 from the rule's table

    cons, csl = FIXTURES / "ofac_consolidated", FIXTURES / "trade_gov_csl"
    news = FIXTURES / "news_rss"
    upstream.files.update(
        {
            "/cons/cons_prim.csv": (cons / "cons_prim_2025-04-21.csv").read_bytes(),
            "/cons/cons_add.csv": (cons / "cons_add_2025-04-21.csv").read_bytes(),
            "/csl.csv": (csl / "moov_csl_sample_2023-11-30.csv").read_bytes(),
            "/ecfr/part744.xml": _document("2023-06-01", lambda text: False),
            "/fr/api/v1/documents.json": json.dumps(docs).encode(),
            "/fr/page2.json": (
                fr / "fr_public_inspection_search_empty_captured-2026-09-29.json"
            ).read_bytes(),
            "/fr/api/v1/public-inspection-documents/current.json": json.dumps(pi).encode(),
            "/news/guardian.rss": (news / "guardian_us_rss_2018-01-31.rss").read_bytes(),
            "/news/heise.atom": (news / "heise_developer_atom_2016-02-01.atom").read_bytes(),
        }
    )
    b, every = upstream.base, f'interval = "{interval}"\n'
    return (
        sdn_only(upstream, interval)
        + f'[sources.ofac_consolidated]\nurl = "{b}/cons/cons_prim.csv"\n'
        + f'companions = ["cons_add.csv"]\n{every}'
        + f'[sources.trade_csl]\nurl = "{b}/csl.csv"\nmin_records = 100\n{every}'
        + f'[sources.ecfr_entity_list]\nurl = "{b}/ecfr/part744.xml"\nmin_records = 5\n{every}'
        + f'[sources.federal_register]\nurl = "{b}/fr/api/v1/documents.json"\n{every}'
        + f'[sources.news]\nfeeds = ["{b}/news/guardian.rss", "{b}/news/heise.atom"]\n{every}'
    )


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


def polled(base: str, names: tuple[str, ...] = ("ofac_sdn",)) -> bool:
    sources = httpx.get(f"{base}/api/sources", timeout=5).json()
    return all(s["last_check"] for s in sources if s["source"] in names) and all(
        s["last_success"] for s in sources if s["source"] == "ofac_sdn"
    )


def source_states(base: str) -> dict[str, str]:
    return {s["source"]: s["state"] for s in httpx.get(f"{base}/api/sources", timeout=5).json()}


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
    proc, base = start_daemon(work, every_source(upstream, "1h"), "1h")
    try:
        first_poll = wait_for(lambda: polled(base, SOURCES))
        time.sleep(2)  # let the start-up polls' garbage settle
        rss = rss_mb(proc.pid)
        cpu = cpu_share(proc.pid, idle)
        return {
            "startup_to_polls_s": round(first_poll, 2),
            "source_states": source_states(base),
            "idle_rss_mb": round(rss, 1),
            "idle_rss_mb_end": round(rss_mb(proc.pid), 1),
            "idle_cpu_percent": round(cpu, 3),
            "idle_window_s": idle,
            "sigterm_exit": stop(proc),
        }
    finally:
        if proc.poll() is None:
            proc.kill()


def latency_phase(work: Path, runs: int) -> dict[str, Any]:
    upstream = Upstream((SDN / "sdn_2021-12-09.csv").read_bytes())
    proc, base = start_daemon(work, sdn_only(upstream, "1s"), "1s")
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
    parser.add_argument("--skip-latency", action="store_true", help="the idle phase only")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="watcher-bench-") as tmp:
        work = Path(tmp)
        result = {"idle": idle_phase(work, args.idle)}
        if not args.skip_latency:
            result["latency"] = latency_phase(work, args.runs)
    print(json.dumps(result, indent=2))


if __name__ == "__main__":
    main()

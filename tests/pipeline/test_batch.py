"""`run --once` polls sources concurrently (bounded): three sources whose server answers only
when all three requests are waiting at once all succeed; polled one after another, none would."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from tests.conftest import fixture_bytes
from tests.helpers import make_runtime
from watcher.pipeline.batch import run_sources
from watcher.pipeline.run import RunResult

FILES = {
    "/sdn.csv": "ofac_sdn/sdn_2021-12-09.csv",
    "/cons_prim.csv": "ofac_consolidated/cons_prim_2025-04-21.csv",
    "/csl.csv": "trade_gov_csl/moov_csl_sample_2023-11-30.csv",
}


@pytest.fixture
def together() -> Iterator[tuple[str, list[str]]]:
    """A server that holds each request until three are in flight (or 8 s pass: then 503)."""
    barrier = threading.Barrier(3, timeout=8)
    seen: list[str] = []

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:  # noqa: N802
            seen.append(self.path)
            try:
                barrier.wait()
                body, status = fixture_bytes(FILES[self.path]), 200
            except threading.BrokenBarrierError:
                body, status = b"polled one at a time", 503
            self.send_response(status)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, format: str, *args: object) -> None:  # noqa: A002
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}", seen
    server.shutdown()
    server.server_close()


def test_sources_are_polled_at_the_same_time(db_url: str, together: tuple[str, list[str]]) -> None:
    base, seen = together
    rt = make_runtime(
        db_url,
        {
            "fetch": {"retries": 0},
            "sources": {
                "ofac_sdn": {"url": f"{base}/sdn.csv", "companions": []},
                "ofac_consolidated": {"url": f"{base}/cons_prim.csv", "companions": []},
                "trade_csl": {"url": f"{base}/csl.csv"},
            },
        },
    )
    names = ["ofac_sdn", "ofac_consolidated", "trade_csl"]
    finished: list[RunResult] = []
    results = run_sources(rt, names, jobs=3, on_done=finished.append)
    assert [r.source for r in results] == names  # in the order asked, whatever finished first
    assert [r.outcome for r in results] == ["baseline"] * 3, [r.summary() for r in results]
    assert sorted(r.source for r in finished) == sorted(names)
    assert sorted(seen) == sorted(FILES)


def test_jobs_bound_the_concurrency(db_url: str, together: tuple[str, list[str]]) -> None:
    base, seen = together
    rt = make_runtime(
        db_url,
        {
            "fetch": {"retries": 0},
            "sources": {
                "ofac_sdn": {"url": f"{base}/sdn.csv", "companions": []},
                "ofac_consolidated": {"url": f"{base}/cons_prim.csv", "companions": []},
                "trade_csl": {"url": f"{base}/csl.csv"},
            },
        },
    )
    results = run_sources(rt, ["ofac_sdn", "ofac_consolidated", "trade_csl"], jobs=2)
    # never three requests in flight at once: the server answered every one with 503
    assert all(r.outcome == "error" and "503" in (r.error or "") for r in results), results
    assert sorted(seen) == sorted(FILES)

"""Ingest benchmarks (issue 2): full SDN, the 2021-07 trio, few changes, an unchanged poll.

Run: .venv/bin/python bench/bench_ingest.py [--db URL]   (prints JSON; numbers go in notes)
Each case's seconds stand beside `floor_s`, a plain `csv` parse of the same SDN bytes measured
in the same run (suite.py's floor), and their ratio: on a shared machine only ratios compare.
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path

from sqlalchemy import func, select

ROOT = Path(__file__).resolve().parent.parent
sys.path[:0] = [str(ROOT / "bench"), str(ROOT)]

from suite import peak_rss_mb, time_floor  # noqa: E402

from tests.helpers import make_runtime  # noqa: E402
from watcher.pipeline.run import replay, run_source  # noqa: E402
from watcher.store.engine import make_engine, transaction, upgrade  # noqa: E402
from watcher.store.tables import metadata  # noqa: E402

FIX = ROOT.parent / "shared" / "fixtures" / "ofac_sdn"
FLOOR = 1.0  # seconds of the csv floor, measured at the start of main()


def rows(rt) -> int:  # type: ignore[no-untyped-def]
    with transaction(rt.engine) as s:
        return sum(
            s.scalar(select(func.count()).select_from(t)) or 0 for t in metadata.sorted_tables
        )


def timed(rt, label: str, fn) -> dict:  # type: ignore[no-untyped-def]
    before = rows(rt)
    t0 = time.perf_counter()
    result = fn()
    elapsed = time.perf_counter() - t0
    return {
        "case": label,
        "outcome": result.outcome,
        "records": result.record_count,
        "added": result.added,
        "removed": result.removed,
        "modified": result.modified,
        "seconds": round(elapsed, 3),
        "floor_s": round(FLOOR, 3),
        "ratio": round(elapsed / FLOOR, 1),
        "rows_written": rows(rt) - before,
        "peak_rss_mb": round(peak_rss_mb(), 1),
    }


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--db", help="database URL (default: a temporary SQLite file)")
    args = parser.parse_args()
    global FLOOR
    FLOOR = time_floor()
    tmp = tempfile.mkdtemp()
    url = args.db or f"sqlite:///{tmp}/bench.db"
    upgrade(make_engine(url))
    rt = make_runtime(
        url,
        {"sources": {"ofac_sdn": {"companions": [], "url": f"file://{FIX}/sdn_2024-05-03.csv"}}},
    )
    day = lambda d: datetime.fromisoformat(d).replace(tzinfo=UTC)  # noqa: E731
    out = []
    big = (FIX / "sdn_2024-05-03.csv").read_bytes()
    out.append(
        timed(
            rt,
            "full SDN 2024-05-03 (14,965)",
            lambda: replay(rt, "ofac_sdn", day("2024-05-03"), [("primary", big, "x")]),
        )
    )
    few = big.replace(b'"AEROCARIBBEAN AIRLINES"', b'"AEROCARIBBEAN AIRLINES S.A."')
    out.append(
        timed(
            rt,
            "second snapshot, 1 change",
            lambda: replay(rt, "ofac_sdn", day("2024-05-04"), [("primary", few, "y")]),
        )
    )
    rt.clock = lambda: day("2030-01-01")
    out.append(timed(rt, "poll: first fetch of file:// URL", lambda: run_source(rt, "ofac_sdn")))
    rt.clock = lambda: day("2030-01-02")
    out.append(timed(rt, "poll: unchanged content", lambda: run_source(rt, "ofac_sdn")))
    trio = [
        ("primary", (FIX / "moov_sdn_2021-07.csv").read_bytes(), "a"),
        ("add.csv", (FIX / "moov_add_2021-07.csv").read_bytes(), "b"),
        ("alt.csv", (FIX / "moov_alt_2021-07.csv").read_bytes(), "c"),
    ]
    url2 = f"sqlite:///{tmp}/bench2.db" if not args.db else args.db
    if url2 != url:
        upgrade(make_engine(url2))
        rt2 = make_runtime(url2)
        out.append(
            timed(
                rt2,
                "2021-07 trio with add/alt (8,976)",
                lambda: replay(rt2, "ofac_sdn", day("2021-07-01"), trio),
            )
        )
    print(json.dumps({"database": url.split(":")[0], "results": out}, indent=2))


if __name__ == "__main__":
    main()

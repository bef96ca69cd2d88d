"""Every issue-11 benchmark in one run, each figure beside a floor measured in the same run.

Run `bench/run` (this file under the project's interpreter). Prints one table: figure, value,
floor, ratio (value / floor), target, pass/fail. The time floor is a plain `csv` parse of the
real sdn_2024-05-03 bytes; the memory floor is a bare interpreter that did that parse. These
machines are noisy: the ratio of one run is the figure that counts, absolute times are context.
"""

from __future__ import annotations

import argparse
import csv
import io
import os
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

BENCH = Path(__file__).resolve().parent
sys.path[:0] = [str(BENCH), str(BENCH.parent)]

import figures  # noqa: E402
import history  # noqa: E402

SDN = history.SDN / "sdn_2024-05-03.csv"
PG = os.environ.get("WATCHER_BENCH_POSTGRES_URL", "postgresql://postgres@127.0.0.1:5432/postgres")
Row = tuple[str, float, float, str, Callable[[float, float], bool], str]
ROWS: list[Row] = []


def record(
    figure: str, value: float, floor: float, unit: str, target: str, ok: Callable[..., bool]
) -> None:
    ROWS.append((figure, value, floor, unit, ok, target))
    print(f"  {figure}: {value:.3f} {unit}", file=sys.stderr, flush=True)


def csv_parse(data: bytes) -> int:
    text = data.decode("cp1252").replace("\x1a", "")
    return len(list(csv.reader(io.StringIO(text))))


def time_floor() -> float:
    data = SDN.read_bytes()
    runs = []
    for _ in range(5):
        t0 = time.perf_counter()
        csv_parse(data)
        runs.append(time.perf_counter() - t0)
    return statistics.median(runs)


def child(args: list[str]) -> dict[str, Any]:
    """Run this file in a fresh process (peak RSS is per process); returns its JSON line."""
    import json

    out = subprocess.run(
        [sys.executable, __file__, "--child", *args], check=True, capture_output=True, text=True
    )
    return dict(json.loads(out.stdout.strip().splitlines()[-1]))


def peak_rss_mb() -> float:
    """This process's own peak RSS. Not ru_maxrss on Linux: a child started by fork/vfork +
    exec inherits its parent's peak there, so a child of this (big) bench process reported
    the bench's own peak instead of the ingest's; VmHWM belongs to the new process alone."""
    try:
        with open("/proc/self/status", encoding="ascii") as status:
            for line in status:
                if line.startswith("VmHWM:"):
                    return int(line.split()[1]) / 1024
    except OSError:
        pass
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument(
        "--history", type=Path, default=Path(tempfile.gettempdir()) / "watcher-bench-history.db"
    )
    parser.add_argument(
        "--skip", action="append", default=[], help="ingest, pg, daemon, match, import, history"
    )
    parser.add_argument("--child", nargs="*", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child is not None:
        import json

        print(json.dumps(figures.run_child(args.child)))
        return
    floor = time_floor()
    print(f"time floor (csv parse of {SDN.name}): {floor:.3f} s", file=sys.stderr)
    mem_floor = child(["floor"])["rss_mb"]
    if "ingest" not in args.skip:
        ingest_rows("SQLite", None, floor)
        rss = child(["ingest"])["rss_mb"]
        record(
            "ingest full SDN: peak RSS", rss, mem_floor, "MB", "<= 200 MB", lambda v, f: v <= 200
        )
    if "pg" not in args.skip:
        ingest_rows("PostgreSQL", figures.fresh_pg(PG), floor)
    if "daemon" not in args.skip:
        idle = figures.idle_daemon()
        record(
            "idle daemon RSS (every source, after start-up polls)",
            idle["rss_mb"],
            mem_floor,
            "MB",
            "<= 120 MB",
            lambda v, f: v <= 120,
        )
        record("idle daemon CPU", idle["cpu_percent"], 0.0, "%", "~0 %", lambda v, f: v <= 1.0)
    if "match" not in args.skip:
        for figure, value, target, limit in figures.matching():
            record(
                figure,
                value,
                floor,
                "s",
                target,
                lambda v, f, limit=limit: limit is None or v <= limit,
            )
    if "import" not in args.skip:
        seconds = figures.watchlist_import(100_000)
        record(
            "watchlist import, 100,000-name CSV (CLI)",
            seconds,
            floor,
            "s",
            "<= 10 s",
            lambda v, f: v <= 10,
        )
    if "history" not in args.skip:
        history_rows(args.history, floor)
    print_table()


def ingest_rows(db: str, url: str | None, floor: float) -> None:
    result = figures.ingest(url)
    record(f"ingest full SDN 14,965 ({db})", result["full"], floor, "s", "<= 1.0 s, <= 12x floor",
           lambda v, f: v <= 1.0 and v / f <= 12)  # fmt: skip
    record(
        f"snapshot with 20 changes ({db})",
        result["twenty"],
        floor,
        "s",
        "<= 0.5 s",
        lambda v, f: v <= 0.5,
    )
    record(
        f"  rows written for 20 changes ({db})",
        result["twenty_rows"],
        0,
        "rows",
        "~ changes",
        lambda v, f: v <= 60,
    )
    record(
        f"unchanged poll ({db})",
        result["unchanged"],
        floor,
        "s",
        "<= 50 ms",
        lambda v, f: v <= 0.05,
    )
    record(
        f"  rows written, unchanged poll ({db})",
        result["unchanged_rows"],
        0,
        "rows",
        "1",
        lambda v, f: v == 1,
    )


def history_rows(path: Path, floor: float) -> None:
    if not path.exists():
        print(f"building the 3-year history at {path} (minutes)...", file=sys.stderr)
        info = history.build_history(f"sqlite:///{path}", verbose=True)
        print(f"built {info.snapshots} snapshots in {info.seconds:.0f} s", file=sys.stderr)
    size = figures.history_size(path)
    n = size["snapshots"]
    record("history: snapshots", n, 0, "", ">= 300", lambda v, f: v >= 300)
    record(
        "history: database bytes / snapshot",
        size["bytes"] / n / 1e6,
        0,
        "MB",
        "report",
        lambda v, f: True,
    )
    record("history: rows / snapshot", size["rows"] / n, 0, "rows", "report", lambda v, f: True)
    record(
        "history: raw snapshot bytes, share of size",
        100 * size["raw_bytes"] / size["bytes"],
        0,
        "%",
        "report",
        lambda v, f: True,
    )
    record(
        "history: bytes / snapshot with keep_raw=365d",
        size["pruned_bytes"] / n / 1e6,
        0,
        "MB",
        "report",
        lambda v, f: True,
    )
    for figure, seconds in figures.history_latency(path):
        if "every row" in figure:
            record(figure, seconds, floor, "s", "report", lambda v, f: True)
        else:
            record(figure, seconds, floor, "s", "<= 200 ms", lambda v, f: v <= 0.2)


def print_table() -> None:
    head = ("figure", "value", "floor", "ratio", "target", "pass")
    lines = []
    for figure, value, floor, unit, ok, target in ROWS:
        ratio = f"{value / floor:.1f}x" if floor and unit in ("s", "MB") else ""
        passed = "pass" if ok(value, floor) else "FAIL"
        lines.append(
            (
                figure,
                f"{value:,.3f} {unit}".strip(),
                f"{floor:.3f}" if floor else "",
                ratio,
                target,
                passed,
            )
        )
    widths = [max(len(str(r[i])) for r in [head, *lines]) for i in range(6)]
    for r in [head, *lines]:
        print("  ".join(str(c).ljust(w) for c, w in zip(r, widths, strict=True)).rstrip())


if __name__ == "__main__":
    main()

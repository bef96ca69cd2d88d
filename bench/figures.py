"""The measurements behind `bench/run` (one function per figure group; see suite.py)."""

from __future__ import annotations

import os
import random
import shutil
import sqlite3
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import bench_daemon
import history
import watchlists
from sqlalchemy import create_engine, func, select, text

from tests.helpers import make_runtime
from watcher.pipeline.run import replay, run_source
from watcher.store.engine import make_engine, transaction, upgrade
from watcher.store.tables import metadata

SDN = history.SDN
DAY = datetime(2024, 5, 3, tzinfo=UTC)


def _median(fn: Callable[[], object], runs: int = 3) -> float:
    times = []
    for _ in range(runs):
        t0 = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t0)
    return statistics.median(times)


def _rows(rt: Any) -> int:
    with transaction(rt.engine) as s:
        return sum(
            s.scalar(select(func.count()).select_from(t)) or 0 for t in metadata.sorted_tables
        )


def with_changes(rows: dict[int, bytes], n: int, program: str) -> bytes:
    """`rows` with n more real-looking edits (a real program added to n entries), as a file."""
    rng = random.Random(n)
    for uid in rng.sample(sorted(k for k, v in rows.items() if program.encode() not in v), n):
        rows[uid] = history._add_program(rows[uid], program)
    return history.render(rows)


def fresh_pg(url: str) -> str:
    """A dedicated, emptied benchmark database on the PostgreSQL server."""
    admin = create_engine(url, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text("DROP DATABASE IF EXISTS watcher_bench_i11"))
        conn.execute(text("CREATE DATABASE watcher_bench_i11"))
    admin.dispose()
    return url.rsplit("/", 1)[0] + "/watcher_bench_i11"


def ingest(url: str | None) -> dict[str, float]:
    """Full SDN into an empty database, then 20 changes, then an unchanged poll."""
    tmp = tempfile.mkdtemp()
    url = url or f"sqlite:///{tmp}/ingest.db"
    upgrade(make_engine(url))
    path = SDN / "sdn_2024-05-03.csv"
    rt = make_runtime(url, {"sources": {"ofac_sdn": {"companions": [], "url": f"file://{path}"}}})
    big = path.read_bytes()
    t0 = time.perf_counter()
    assert replay(rt, "ofac_sdn", DAY, [("primary", big, "x")]).ok
    full = time.perf_counter() - t0
    # A daemon has matched changes before: the first ones load the matcher (not timed here).
    rows = history.read_rows(path)
    warm = with_changes(rows, 5, "SDGT")
    assert replay(rt, "ofac_sdn", DAY + timedelta(hours=12), [("primary", warm, "w")]).ok
    twenty_file = [("primary", with_changes(rows, 20, "RUSSIA-EO14024"), "y")]
    before = _rows(rt)
    t0 = time.perf_counter()
    result = replay(rt, "ofac_sdn", DAY + timedelta(days=1), twenty_file)
    twenty = time.perf_counter() - t0
    assert result.modified == 20, result
    twenty_rows = _rows(rt) - before
    rt.clock = lambda: DAY + timedelta(days=2)
    assert run_source(rt, "ofac_sdn").outcome == "new_snapshot"
    before = _rows(rt)
    rt.clock = lambda: DAY + timedelta(days=3)
    t0 = time.perf_counter()
    assert run_source(rt, "ofac_sdn").outcome == "unchanged"
    unchanged = time.perf_counter() - t0
    shutil.rmtree(tmp, ignore_errors=True)
    return {
        "full": full,
        "twenty": twenty,
        "twenty_rows": twenty_rows,
        "unchanged": unchanged,
        "unchanged_rows": _rows(rt) - before,
    }


def run_child(args: list[str]) -> dict[str, float]:
    """Measured in a fresh process: 'floor' (csv parse only) or 'ingest' (full SDN, SQLite)."""
    if args[0] == "floor":
        from suite import csv_parse

        csv_parse((SDN / "sdn_2024-05-03.csv").read_bytes())
    else:
        tmp = tempfile.mkdtemp()
        url = f"sqlite:///{tmp}/rss.db"
        upgrade(make_engine(url))
        rt = make_runtime(url, {"sources": {"ofac_sdn": {"companions": []}}})
        data = (SDN / "sdn_2024-05-03.csv").read_bytes()
        assert replay(rt, "ofac_sdn", DAY, [("primary", data, "x")]).ok
        shutil.rmtree(tmp, ignore_errors=True)
    from suite import peak_rss_mb

    return {"rss_mb": peak_rss_mb()}


def idle_daemon(idle: float = 10.0) -> dict[str, float]:
    """`watcher serve` with every source configured, after its start-up polls of real fixture
    files (bench_daemon.every_source): RSS and CPU while idle."""
    with tempfile.TemporaryDirectory(prefix="watcher-bench-") as tmp:
        found = bench_daemon.idle_phase(Path(tmp), idle)
    return {"rss_mb": found["idle_rss_mb"], "cpu_percent": found["idle_cpu_percent"]}


def matching() -> list[tuple[str, float, str, float | None]]:
    """Delta screening against 100,000 names, full screening against 10,000 (real names)."""
    from watcher.matching.matcher import build_matcher, load_default_watchlist
    from watcher.sources.registry import get_source

    entries = (
        get_source("ofac_sdn", {})
        .parse({"primary": (SDN / "sdn_2024-05-03.csv").read_bytes()})
        .entries
    )
    delta = sorted(entries, key=lambda e: -int(e.key))[:500]  # the latest 500 designations
    _ents, topics = load_default_watchlist()
    out: list[tuple[str, float, str, float | None]] = []
    big = watchlists.scaled_watchlist(100_000)
    t0 = time.perf_counter()
    matcher = build_matcher(big, topics)
    out.append(
        (
            "build index, 100,000 names (once per watchlist)",
            time.perf_counter() - t0,
            "report",
            None,
        )
    )
    out.append(
        (
            "delta screening: 500 changes x 100,000 names",
            _median(lambda: [matcher.match_entry(e) for e in delta]),
            "<= 1 s",
            1.0,
        )
    )
    small = build_matcher(watchlists.scaled_watchlist(10_000), topics)
    out.append(
        (
            "full screening: 14,965 SDN x 10,000 names",
            _median(lambda: [small.match_entry(e) for e in entries], 1),
            "<= 10 s",
            10.0,
        )
    )
    return out


def watchlist_import(size: int) -> float:
    """`watcher watchlist import` of a CSV of `size` real names into an empty SQLite database."""
    with tempfile.TemporaryDirectory(prefix="watcher-bench-") as tmp:
        work = Path(tmp)
        (work / "names.csv").write_text(
            watchlists.watchlist_csv(watchlists.scaled_watchlist(size)), "utf-8"
        )
        (work / "config.toml").write_text(f'[database]\nurl = "sqlite:///{work}/w.db"\n', "utf-8")
        upgrade(make_engine(f"sqlite:///{work}/w.db"))
        exe = Path(sys.executable).parent / "watcher"
        env = {k: v for k, v in os.environ.items() if not k.startswith("WATCHER_")}
        t0 = time.perf_counter()
        argv = [str(exe), "--config", str(work / "config.toml"), "watchlist", "import"]
        subprocess.run([*argv, str(work / "names.csv")], check=True, capture_output=True, env=env)
        return time.perf_counter() - t0


def history_size(path: Path) -> dict[str, float]:
    """Database size, rows, compressed raw bytes; and the size once keep_raw=365d pruned."""
    with sqlite3.connect(path) as db:
        n = db.execute("SELECT count(*) FROM snapshots").fetchone()[0]
        raw = db.execute("SELECT sum(length(raw)) FROM snapshots").fetchone()[0]
        tables = [r[0] for r in db.execute("SELECT name FROM sqlite_master WHERE type='table'")]
        rows = sum(db.execute(f'SELECT count(*) FROM "{t}"').fetchone()[0] for t in tables)
    with tempfile.TemporaryDirectory() as tmp:
        copy = Path(tmp) / "pruned.db"
        shutil.copy(path, copy)
        from watcher.store.snapshots import prune_raw

        rt = make_runtime(f"sqlite:///{copy}")
        with transaction(rt.engine) as conn:
            latest = conn.execute(
                text("SELECT id, effective_at FROM snapshots ORDER BY effective_at DESC LIMIT 1")
            ).one()
            prune_raw(
                conn,
                "ofac_sdn",
                before=history.to_utc(latest[1]) - timedelta(days=365),
                keep_id=latest[0],
            )
        with sqlite3.connect(copy) as db:
            db.execute("VACUUM")
        pruned = copy.stat().st_size
    return {
        "snapshots": n,
        "bytes": path.stat().st_size,
        "rows": rows,
        "raw_bytes": raw,
        "pruned_bytes": pruned,
    }


def history_latency(path: Path) -> list[tuple[str, float]]:
    """The CLI commands on the 3-year history, in process (interpreter start-up excluded).
    `entries` as operators type it prints a table's first page (and how many more); its json
    form prints the whole list (~11,500 entries, 6 MB), reported beside it."""
    from click.testing import CliRunner

    from watcher.cli.main import main as cli

    config = Path(tempfile.mkdtemp()) / "config.toml"
    config.write_text(f'[database]\nurl = "sqlite:///{path}"\n', "utf-8")
    runner = CliRunner()
    as_of = ["entries", "--source", "ofac_sdn", "--as-of", "2023-01-15"]
    commands = [
        ("entries --as-of 2023-01-15 (mid-history)", as_of),  # a table: the first page
        ("entries --as-of 2023-01-15 --format json (every row)", [*as_of, "--format", "json"]),
        (
            "history 'BANCO NACIONAL DE CUBA'",
            ["history", "BANCO NACIONAL DE CUBA", "--format", "json"],
        ),
        ("changes --since 2024-01-01", ["changes", "--since", "2024-01-01", "--format", "json"]),
        (
            "screen 'BANCO NACIONAL DE CUBA'",
            ["screen", "BANCO NACIONAL DE CUBA", "--format", "json"],
        ),
    ]
    out = []
    for label, argv in commands:

        def call(argv: list[str] = argv) -> None:
            result = runner.invoke(cli, ["--config", str(config), *argv])
            assert result.exit_code == 0, result.output

        call()  # warm: imports and caches, as in a running process
        out.append((f"history: {label}", _median(call)))
    return out

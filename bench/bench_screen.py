"""Benchmark: where screening candidates should come from, per caller.

Run: .venv/bin/python bench/bench_screen.py [--db-dir DIR]
Builds (once, in DIR, default a temp dir) a SQLite database by replaying the real SDN 2024-05-03
and consolidated 2025-04-21 files, then times, in one process after imports and pinyin tables
are warm, for `Hikvision` and `海康威视`: `watcher screen`'s screen cache (filled from empty once,
then warm), the text prefilter (its fallback without a cache), building the index of every
current entry, and one indexed query (what the daemon's screen page does once the index is
built), and checks all give the same rows. The CLI keeps the cache; the daemon keeps the index.
"""

from __future__ import annotations

import argparse
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
FIXTURES = ROOT.parent / "shared/fixtures"
IMPORTS = [
    ("ofac_sdn", "2024-05-03", "ofac_sdn/sdn_2024-05-03.csv"),
    ("ofac_consolidated", "2025-04-21", "ofac_consolidated/cons_prim_2025-04-21.csv"),
]
QUERIES = ("Hikvision", "海康威视")


def build(db_dir: Path) -> str:
    db = db_dir / "bench_screen.db"
    config = db_dir / "config.toml"
    config.write_text(
        f'[database]\nurl = "sqlite:///{db}"\n'
        "[sources.ofac_sdn]\ncompanions = []\n[sources.ofac_consolidated]\ncompanions = []\n"
    )
    if not db.exists():
        for source, day, rel in IMPORTS:
            args = ["replay", "--source", source, "--at", day, str(FIXTURES / rel)]
            cmd = [sys.executable, "-m", "watcher", "--config", str(config), *args]
            subprocess.run(cmd, check=True, capture_output=True)
    return f"sqlite:///{db}"


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--db-dir", type=Path)
    args = parser.parse_args()
    db_dir = args.db_dir or Path(tempfile.mkdtemp(prefix="bench_screen_"))
    db_dir.mkdir(parents=True, exist_ok=True)
    url = build(db_dir)

    from watcher.pipeline import screen
    from watcher.store import screen_cache
    from watcher.store.engine import make_engine, transaction

    engine = make_engine(url)
    cache = screen_cache.cache_path(engine.url)
    if cache is not None:
        cache.unlink(missing_ok=True)

    with transaction(engine) as conn:
        screen._prefiltered(conn, screen._screener(conn, "warm up", 88.0))
        t0 = time.perf_counter()
        screen.screen_name(conn, "warm up", 88.0)
        fill_s = time.perf_counter() - t0
        t0 = time.perf_counter()
        index = screen.current_index(conn)
        build_s = time.perf_counter() - t0
    print(f"screen cache filled from empty in {fill_s:.2f} s (the first command on a database)")
    print(f"index of {len(index.entries):,} current entries: built in {build_s:.2f} s")
    for query in QUERIES:
        with transaction(engine) as conn:
            t0 = time.perf_counter()
            cached = screen.screen_name(conn, query, 88.0)
            t1 = time.perf_counter()
            scanned = screen._prefiltered(conn, screen._screener(conn, query, 88.0))
            t2 = time.perf_counter()
            indexed = screen.screen_name(conn, query, 88.0, index)
            t3 = time.perf_counter()
        rows = [(r.entry, r.hit) for r in cached]
        same = rows == [(r.entry, r.hit) for r in indexed] and sorted(
            rows, key=lambda r: (r[0].source, r[0].key)
        ) == sorted(scanned, key=lambda r: (r[0].source, r[0].key))
        print(
            f"{query}: cached {(t1 - t0) * 1000:.0f} ms, prefilter {t2 - t1:.2f} s, "
            f"indexed query {(t3 - t2) * 1000:.0f} ms, {len(cached)} rows, same rows: {same}"
        )


if __name__ == "__main__":
    main()

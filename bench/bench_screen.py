"""Benchmark: where screening candidates should come from, per caller.

Run: .venv/bin/python bench/bench_screen.py [--db-dir DIR]
Builds (once, in DIR, default a temp dir) a SQLite database by replaying the real SDN 2024-05-03
and consolidated 2025-04-21 files, then times, in one process after imports and pinyin tables
are warm, for `Hikvision` and `海康威视`: the one-shot text prefilter (what `watcher screen`
does), building the index of every current entry, and one indexed query (what the daemon's
screen page does once the index is built), and checks both give the same rows.
The CLI keeps the prefilter while it beats building the index; the daemon keeps the index.
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

    from watcher.pipeline.screen import current_index, screen_name
    from watcher.store.engine import make_engine, session_factory, transaction

    sessions = session_factory(make_engine(url))
    with transaction(sessions) as session:
        screen_name(session, "warm up", 88.0)
        t0 = time.perf_counter()
        index = current_index(session)
        build_s = time.perf_counter() - t0
    print(f"index of {len(index.entries):,} current entries: built in {build_s:.2f} s")
    for query in QUERIES:
        with transaction(sessions) as session:
            t0 = time.perf_counter()
            scanned = screen_name(session, query, 88.0)
            t1 = time.perf_counter()
            indexed = screen_name(session, query, 88.0, index)
            t2 = time.perf_counter()
        same = [(r.entry, r.hit) for r in scanned] == [(r.entry, r.hit) for r in indexed]
        print(
            f"{query}: prefilter {t1 - t0:.2f} s, indexed query {(t2 - t1) * 1000:.0f} ms, "
            f"{len(scanned)} rows, same rows: {same}"
        )


if __name__ == "__main__":
    main()

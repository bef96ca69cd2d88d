"""Benchmark: match every entry of the largest SDN file against the full default watchlist.

Run: .venv/bin/python bench/bench_match.py [path/to/sdn.csv]
Reads names/types/remarks with the csv module (cp1252, no header); prints entries, wall time
(build, match), matches by watch, and peak RSS.
"""

from __future__ import annotations

import csv
import io
import resource
import sys
import time
from collections import Counter
from pathlib import Path

from watcher.matching.matcher import build_matcher, load_default_watchlist
from watcher.models import Entry, make_entry

DEFAULT = Path(__file__).resolve().parents[2] / "shared/fixtures/ofac_sdn/sdn_2024-05-03.csv"


def read_sdn(path: Path) -> list[Entry]:
    text = path.read_bytes().decode("cp1252").replace("\x1a", "")
    entries = []
    for row in csv.reader(io.StringIO(text)):
        if not row or not row[0].strip():
            continue
        null = [None if v.strip() == "-0-" else v for v in row]
        entries.append(
            make_entry(
                source="ofac_sdn",
                key=row[0],
                list_code="SDN",
                name=row[1],
                entity_type=null[2],
                programs=(row[3],),
                remarks=null[11],
            )
        )
    return entries


def main() -> None:
    path = Path(sys.argv[1]) if len(sys.argv) > 1 else DEFAULT
    entries = read_sdn(path)
    started = time.perf_counter()
    entities, topics = load_default_watchlist(["xinjiang-2019", "xinjiang-sdn", "china-tech"])
    matcher = build_matcher(entities, topics)
    built = time.perf_counter()
    by_watch: Counter[str] = Counter()
    matched_entries = 0
    for entry in entries:
        found = matcher.match_entry(entry)
        matched_entries += bool(found)
        by_watch.update(m.watch for m in found)
    done = time.perf_counter()
    names = sum(1 + len(e.aliases) for e in entities)
    print(f"entries: {len(entries)}  watch entities: {len(entities)} ({names} names)")
    print(f"build: {built - started:.3f}s  match: {done - built:.3f}s")
    print(f"entries with matches: {matched_entries}  matches: {sum(by_watch.values())}")
    for watch, count in by_watch.most_common():
        print(f"  {count:5d}  {watch}")
    print(f"peak RSS: {resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024:.0f} MiB")


if __name__ == "__main__":
    main()

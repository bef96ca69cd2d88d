"""Ingest time and peak memory of trade_csl at the real list size (~33 MB).

The fixture is a 4,228-row subset (2.7 MB) of the Consolidated Screening List; copies of its
rows with altered names and ids (so every key stays distinct) are appended until the file is
about as large as the real download. Prints one JSON object.

    .venv/bin/python bench/bench_csl.py [--target-mb 33]
"""

from __future__ import annotations

import argparse
import csv
import io
import json
import os
import resource
import time
from pathlib import Path

from watcher.sources.trade_csl import TradeCsl

ROOT = Path(__file__).resolve().parent.parent
FIXTURES = Path(os.environ.get("WATCHER_FIXTURES", ROOT.parent / "shared" / "fixtures"))
SAMPLE = FIXTURES / "trade_gov_csl" / "moov_csl_sample_2023-11-30.csv"


def scaled_csv(target_bytes: int) -> tuple[bytes, int]:
    """The sample's rows repeated with names and ids altered per copy, up to the target size."""
    rows = list(csv.reader(io.StringIO(SAMPLE.read_text(encoding="utf-8-sig"), newline="")))
    header, body = rows[0], [r for r in rows[1:] if r != rows[0] and len(r) == len(rows[0])]
    col = {c: header.index(c) for c in ("_id", "name", "entity_number")}
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(header)
    count, copy = 0, 0
    while out.tell() < target_bytes:
        for row in body:
            altered = list(row)
            if copy:
                altered[col["name"]] = f"{row[col['name']]} copy {copy}"
                altered[col["_id"]] = f"{row[col['_id']]}-{copy}"
                if row[col["entity_number"]].isdigit():
                    number = int(row[col["entity_number"]]) + copy * 1_000_000
                    altered[col["entity_number"]] = str(number)
            writer.writerow(altered)
            count += 1
        copy += 1
    return out.getvalue().encode("utf-8"), count


def peak_rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # Linux: KiB


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--target-mb", type=float, default=33.0)
    args = parser.parse_args()
    data, rows = scaled_csv(int(args.target_mb * 1024 * 1024))
    rss_before = peak_rss_mb()
    started = time.perf_counter()
    result = TradeCsl().parse({"primary": data})
    seconds = time.perf_counter() - started
    keys = {e.key for e in result.entries}
    report = {
        "input_mb": round(len(data) / 1024 / 1024, 1),
        "rows": rows,
        "entries": len(result.entries),
        "unique_keys": len(keys),
        "parse_seconds": round(seconds, 2),
        "rows_per_second": round(rows / seconds),
        "peak_rss_mb_before_parse": round(rss_before, 1),
        "peak_rss_mb": round(peak_rss_mb(), 1),
        "warnings": len(result.warnings),
    }
    print(json.dumps(report, indent=2))


if __name__ == "__main__":
    main()

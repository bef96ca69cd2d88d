"""Web page times (issue 10) on years of daily SDN snapshots.

Two ways to build the history. `--generator history` (the default) reuses bench/history.py
(issue 11's three years of SDN publication days moving the real 2021 list to the real 2024
one). `--generator own` is this file's own, written before bench/history.py existed (the issue
10 report's figures were taken on it): every calendar day from 2021-05-04, the real SDN files on
their real dates (2021-12-09, -10, -16, 2024-05-03, and the real empty download of 2024-05-04,
which is rejected) and on every other day the latest real file with small generated edits that
accumulate (renames, programs added, remarks changed, removals, additions; seeded).

Run: .venv/bin/python bench/bench_web.py [--db sqlite:///path.db] [--generator own] [--runs 15]
A database that already holds a history is reused (building one takes 20-60 min, depending on
the machine); `--days N` builds a shorter history, `--finish` completes a cut one with the real
files of 2024-05-03/04.
"""

from __future__ import annotations

import argparse
import csv
import io
import json
import random
import statistics
import sys
import tempfile
import time
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from fastapi.testclient import TestClient  # noqa: E402
from sqlalchemy import func, select  # noqa: E402

from tests.helpers import make_runtime  # noqa: E402
from watcher.pipeline.run import replay  # noqa: E402
from watcher.runtime import Runtime  # noqa: E402
from watcher.service.api import create_app  # noqa: E402
from watcher.store.engine import make_engine, transaction, upgrade  # noqa: E402
from watcher.store.tables import CHANGES, ENTRY_VERSIONS, SNAPSHOTS  # noqa: E402

FIX = ROOT.parent / "shared" / "fixtures" / "ofac_sdn"
REAL = {
    date(2021, 12, 9): "sdn_2021-12-09.csv",
    date(2021, 12, 10): "sdn_2021-12-10.csv",
    date(2021, 12, 16): "sdn_2021-12-16.csv",
    date(2024, 5, 3): "sdn_2024-05-03.csv",
    date(2024, 5, 4): "sdn_2024-05-04.csv",  # 0 bytes: rejected
}
START = date(2021, 5, 4)
NULL = "-0- "
# The 2021 -> 2024 step of real files removes ~9% and modifies many entries: let it through.
LIMITS = {"companions": [], "max_removed_share": 0.5, "max_modified_share": 1.0}


def split_lines(data: bytes) -> list[bytes]:
    return [line for line in data.rstrip(b"\x1a").split(b"\r\n") if line.strip()]


def render(fields: list[str]) -> bytes:
    """One legacy CSV line in OFAC's own style: quoted text, unquoted `-0- ` nulls."""
    out = [fields[0]] + [f if f == NULL else '"' + f.replace('"', '""') + '"' for f in fields[1:]]
    return ",".join(out).encode("cp1252", "replace")


def edit_day(lines: list[bytes], rng: random.Random, serial: list[int]) -> None:
    """A few small edits of the kinds real updates make; they stay in `lines`."""
    for _ in range(rng.randint(1, 6)):
        kind = rng.choice(["rename", "program", "program", "remarks", "remarks", "remove", "add"])
        if kind == "add":
            serial[0] += 1
            n = serial[0]
            fields = [str(90_000_000 + n), f"GENERATED TRADING CO {n} LTD", NULL, "SDGT"]
            fields += [NULL] * 7 + [f"Generated for the web benchmark, day {n}."]
            lines.append(render(fields))
            continue
        i = rng.randrange(len(lines))
        if kind == "remove":
            del lines[i]
            continue
        fields = next(csv.reader(io.StringIO(lines[i].decode("cp1252"))))
        if len(fields) < 12:
            continue
        if kind == "rename":
            fields[1] = fields[1] + " GROUP"
        elif kind == "program":
            fields[3] = "GLOMAG" if fields[3] == NULL else fields[3] + "] [GLOMAG"
        else:
            note = f"Generated note {rng.randint(1, 10**6)}."
            fields[11] = note if fields[11] == NULL else fields[11] + " " + note
        lines[i] = render(fields)


def build(rt: Runtime, days: int) -> None:
    """Replay one snapshot a day from START; real files on their dates, edits in between."""
    rng = random.Random(10)
    serial = [0]
    lines = split_lines((FIX / REAL[date(2021, 12, 9)]).read_bytes())
    t0 = time.perf_counter()
    for n in range(days):
        day = START + timedelta(days=n)
        if day in REAL:
            data = (FIX / REAL[day]).read_bytes()
            if data:
                lines = split_lines(data)
        else:
            edit_day(lines, rng, serial)
            data = b"\r\n".join(lines) + b"\r\n\x1a"
        when = datetime(day.year, day.month, day.day, tzinfo=UTC)
        result = replay(rt, "ofac_sdn", when, [("primary", data, f"bench/{day}.csv")])
        if n % 50 == 0 or not result.ok:
            print(f"{day} {result.outcome} +{result.added} -{result.removed} ~{result.modified}"
                  f" {time.perf_counter() - t0:.0f}s", file=sys.stderr)  # fmt: skip


def finish(rt: Runtime) -> None:
    """Replay the real files dated after the newest snapshot (after a shortened or cut build),
    so the history still ends with the real 14,965-entry list of 2024-05-03."""
    with transaction(rt.engine) as s:
        newest = s.scalar(select(func.max(SNAPSHOTS.c.effective_at)))
    for day, name in sorted(REAL.items()):
        when = datetime(day.year, day.month, day.day, tzinfo=UTC)
        if newest is None or when > newest:
            data = (FIX / name).read_bytes()
            result = replay(rt, "ofac_sdn", when, [("primary", data, f"bench/{day}.csv")])
            print(f"{day} {result.outcome} +{result.added} -{result.removed}", file=sys.stderr)


def counts(rt: Runtime) -> dict[str, int]:
    with transaction(rt.engine) as s:
        return {
            t.__tablename__: s.scalar(select(func.count()).select_from(t)) or 0
            for t in (SNAPSHOTS, ENTRY_VERSIONS, CHANGES)
        }


def time_pages(rt: Runtime, runs: int) -> list[dict[str, object]]:
    """The first request, then median and worst of `runs` more, per page."""
    client = TestClient(create_app(rt, None))
    with transaction(rt.engine) as s:
        key = s.scalars(
            select(CHANGES.c.key).where(CHANGES.c.kind == "modified").order_by(CHANGES.c.id)
        ).first()
    pages = {
        "timeline": "/",
        "timeline, source+kind filter": "/?source=ofac_sdn&kind=modified",
        "timeline, text filter": "/?q=GENERATED",
        "timeline, date range": "/?since=2022-01-01&until=2022-12-31",
        "timeline, page 5 (cursor)": None,
        "entity": f"/entity/ofac_sdn/{key}",
        "screen 'Xinjiang Public Security Bureau'": "/screen?q=Xinjiang+Public+Security+Bureau",
        "screen '新疆公安厅'": "/screen?q=新疆公安厅",
        "sources": "/sources",
        "watchlist": "/watchlist",
        "feed.atom": "/feed.atom",
    }
    cursor_url = "/"
    for _ in range(4):
        body = client.get(cursor_url).text
        cursor_url = "/" + body.split('rel="next" href="/', 1)[1].split('"', 1)[0]
    pages["timeline, page 5 (cursor)"] = cursor_url.replace("&amp;", "&")
    out: list[dict[str, object]] = []
    for label, url in pages.items():
        assert url is not None
        t0 = time.perf_counter()
        first = client.get(url)
        first_ms = (time.perf_counter() - t0) * 1000  # cold: the screening index is built here
        assert first.status_code == 200, (url, first.status_code)
        times = []
        for _ in range(runs):
            t0 = time.perf_counter()
            client.get(url)
            times.append((time.perf_counter() - t0) * 1000)
        out.append(
            {
                "page": label,
                "first_ms": round(first_ms, 1),
                "median_ms": round(statistics.median(times), 1),
                "max_ms": round(max(times), 1),
                "bytes": len(first.content),
            }
        )
    return out


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--db", help="database URL (default: a SQLite file in a temp folder)")
    parser.add_argument("--generator", choices=["history", "own"], default="history")
    parser.add_argument("--days", type=int, help="days to generate (history: 320, own: 1096)")
    parser.add_argument("--runs", type=int, default=15)
    parser.add_argument("--build-only", action="store_true", help="fill the database, time nothing")
    parser.add_argument("--finish", action="store_true", help="replay the real files past the end")
    args = parser.parse_args()
    url = args.db or f"sqlite:///{tempfile.mkdtemp()}/bench_web.db"
    upgrade(make_engine(url))
    rt = make_runtime(url, {"sources": {"ofac_sdn": LIMITS}})
    if counts(rt)["snapshots"] == 0:
        t0 = time.perf_counter()
        if args.generator == "history":
            from bench.history import build_history

            build_history(url, days=args.days or 320, verbose=True)
        else:
            build(rt, args.days or (date(2024, 5, 4) - START).days + 1)
            finish(rt)
        print(f"built in {time.perf_counter() - t0:.0f} s", file=sys.stderr)
    if args.finish:
        finish(rt)
    if args.build_only:
        print(json.dumps(counts(rt)))
        return
    result = {"database": url.split(":")[0], "rows": counts(rt), "pages": time_pages(rt, args.runs)}
    print(json.dumps(result, indent=2, ensure_ascii=False))


if __name__ == "__main__":
    main()

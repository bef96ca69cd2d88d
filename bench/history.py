"""Three years of daily SDN history, from the real 2021-12 and 2024-05 files (reusable by benches).

The real files of 2021-12-09, -10 and -16 come first; then `days` generated publication days
move the list from the 2021-12-16 file towards the real 2024-05-03 file, which comes last. Each
generated day applies a realistic number of real edits, in the order OFAC made them:

- 0-40 additions: real rows of the 2024-05-03 file absent in 2021 (in uid order, as designated);
- 0-10 removals: real rows of 2021 absent in 2024;
- 0-20 modifications: a 2021 row replaced by its real 2024 text; once those run out, a real
  program of the 2024 file is added to a current row (as OFAC does when it re-designates).

The generated files keep the real bytes of every row (cp1252, CRLF, trailing 0x1A). Build a
database with `build_history(url)`; `python bench/history.py PATH.db` builds one at a path.
"""

from __future__ import annotations

import argparse
import csv
import io
import random
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from tests.helpers import make_runtime  # noqa: E402
from watcher.pipeline.run import replay  # noqa: E402
from watcher.store.engine import make_engine, upgrade  # noqa: E402

SDN = ROOT.parent / "shared" / "fixtures" / "ofac_sdn"
REAL_2021 = ("2021-12-09", "2021-12-10", "2021-12-16")
LAST = date(2024, 5, 3)


@dataclass(frozen=True)
class HistoryInfo:
    url: str
    snapshots: int
    first: date
    last: date
    mid: date  # a day in the middle of the history, for `--as-of` queries
    seconds: float


def read_rows(path: Path) -> dict[int, bytes]:
    """uid -> the row's exact bytes (one record per CRLF line in the legacy sdn.csv)."""
    out: dict[int, bytes] = {}
    for line in path.read_bytes().rstrip(b"\x1a").split(b"\r\n"):
        if line.strip():
            out[int(line.split(b",", 1)[0])] = line
    return out


def render(rows: dict[int, bytes]) -> bytes:
    return b"\r\n".join(rows[k] for k in sorted(rows)) + b"\r\n\x1a"


def _programs(line: bytes) -> str:
    text = line.decode("cp1252")
    return next(csv.reader(io.StringIO(text)))[3]


def _add_program(line: bytes, program: str) -> bytes:
    """The row with one more program in its `] [`-joined programs field (field 4)."""
    fields = next(csv.reader(io.StringIO(line.decode("cp1252"))))
    if program in fields[3].split("] ["):
        return line
    old = f'"{fields[3]}"'.encode("cp1252")
    return line.replace(old, f'"{fields[3]}] [{program}"'.encode("cp1252"), 1)


def generated_days(days: int = 320, seed: int = 11) -> Iterator[tuple[date, bytes]]:
    """Every snapshot of the history, oldest first: (publication day, file bytes)."""
    rng = random.Random(seed)
    for day in REAL_2021:
        yield date.fromisoformat(day), (SDN / f"sdn_{day}.csv").read_bytes()
    rows = read_rows(SDN / "sdn_2021-12-16.csv")
    final = read_rows(SDN / "sdn_2024-05-03.csv")
    adds = sorted(final.keys() - rows.keys())
    removals = sorted(rows.keys() - final.keys())
    rng.shuffle(removals)
    mods = sorted(k for k in rows.keys() & final.keys() if rows[k] != final[k])
    rng.shuffle(mods)
    programs = sorted({p for line in final.values() for p in _programs(line).split("] [")})
    start = date(2021, 12, 17)
    span = (LAST - start).days
    for offset in sorted(rng.sample(range(span), days)):
        for _ in range(rng.randint(0, 40)):
            if adds:
                uid = adds.pop(0)
                rows[uid] = final[uid]
        for _ in range(rng.randint(0, 10)):
            if removals:
                rows.pop(removals.pop(), None)
        for _ in range(rng.randint(0, 20)):
            if mods:
                uid = mods.pop()
                rows[uid] = final[uid]
            else:
                uid = rng.choice(sorted(rows))
                rows[uid] = _add_program(rows[uid], rng.choice(programs))
        yield start + timedelta(days=offset), render(rows)
    yield LAST, (SDN / "sdn_2024-05-03.csv").read_bytes()


def build_history(url: str, days: int = 320, seed: int = 11, verbose: bool = False) -> HistoryInfo:
    """Replay the whole history into the (empty) database at `url` through the real pipeline."""
    upgrade(make_engine(url))
    rt = make_runtime(
        url,
        {
            "sources": {
                "ofac_sdn": {"companions": [], "max_removed_share": 0.5, "max_modified_share": 1.0}
            }
        },
    )
    t0 = time.perf_counter()
    seen: list[date] = []
    for day, data in generated_days(days, seed):
        at = datetime(day.year, day.month, day.day, tzinfo=UTC)
        result = replay(rt, "ofac_sdn", at, [("primary", data, f"sdn_{day}.csv")])
        if not result.ok:
            raise SystemExit(f"{day}: {result.summary()}")
        seen.append(day)
        if verbose and len(seen) % 25 == 0:
            print(f"{len(seen)} snapshots ({day}) {time.perf_counter() - t0:.0f}s", flush=True)
    return HistoryInfo(
        url, len(seen), seen[0], seen[-1], seen[len(seen) // 2], time.perf_counter() - t0
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("path", type=Path, help="SQLite file to create (must not exist)")
    parser.add_argument("--days", type=int, default=320)
    args = parser.parse_args()
    if args.path.exists():
        raise SystemExit(f"{args.path} exists")
    info = build_history(f"sqlite:///{args.path.resolve()}", args.days, verbose=True)
    print(info)


if __name__ == "__main__":
    main()


def to_utc(value: object) -> datetime:
    """A timestamp read back with plain sqlite3 (ISO text) as an aware UTC datetime."""
    when = value if isinstance(value, datetime) else datetime.fromisoformat(str(value))
    return when.replace(tzinfo=UTC) if when.tzinfo is None else when.astimezone(UTC)

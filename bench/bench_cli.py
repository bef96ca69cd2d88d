"""Benchmark: start-up to answer of the commands an operator runs all day.

Run: .venv/bin/python bench/bench_cli.py [--runs N] [--db-dir DIR]
Builds (once, in DIR, default a temp dir) a SQLite database from the real fixtures: SDN
2021-12-09 and 2021-12-10, the consolidated list 2025-04-21 and the CSL sample 2023-11-30;
then times each command as a fresh process with the shipped config.toml (its database URL
overridden by WATCHER_DATABASE_URL, as in the Docker image), interleaved, min and median wall
time of N runs, against two floors measured in the same run (`python -c pass`, `--version`),
and prints the heaviest imports of `watcher sources` from `python -X importtime`.
Targets (issue 14): `sources` and `changes --limit 20` <= 0.4 s, `screen NAME` <= 1 s.
"""

from __future__ import annotations

import argparse
import os
import re
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
FIXTURES = ROOT.parent / "shared/fixtures"
SHIPPED = ROOT / "config.toml"
IMPORTS = [
    ("ofac_sdn", "2021-12-09", "ofac_sdn/sdn_2021-12-09.csv"),
    ("ofac_sdn", "2021-12-10", "ofac_sdn/sdn_2021-12-10.csv"),
    ("ofac_consolidated", "2025-04-21", "ofac_consolidated/cons_prim_2025-04-21.csv"),
    ("trade_csl", "2023-11-30", "trade_gov_csl/moov_csl_sample_2023-11-30.csv"),
]
FLOOR = "python -c pass"
COMMANDS = [
    ["sources"],
    ["changes", "--limit", "20"],
    ["history", "ZAKIR"],
    ["screen", "Hikvision"],
    ["screen", "海康威视"],
    ["--version"],
]


def build(db_dir: Path) -> str:
    """The database URL (built on the first run, reused after)."""
    config = db_dir / "config.toml"
    db = db_dir / "bench_cli.db"
    config.write_text(
        f'[database]\nurl = "sqlite:///{db}"\n'
        "[sources.ofac_sdn]\ncompanions = []\n[sources.ofac_consolidated]\ncompanions = []\n"
        "[sources.trade_csl]\n"
    )
    if not db.exists():
        for source, day, rel in IMPORTS:
            watcher("--config", str(config), "replay", "--source", source, "--at", day,
                    str(FIXTURES / rel))  # fmt: skip
    watcher("--config", str(config), "sources")  # migrations done, caches warm
    return f"sqlite:///{db}"


def watcher(*args: str, env: dict[str, str] | None = None) -> float:
    return timed([sys.executable, "-m", "watcher", *args], env)


def timed(argv: list[str], env: dict[str, str] | None = None) -> float:
    t0 = time.perf_counter()
    subprocess.run(argv, check=True, capture_output=True, env=env)
    return time.perf_counter() - t0


def heaviest_imports(env: dict[str, str], top: int = 8) -> list[tuple[int, str]]:
    argv = [sys.executable, "-X", "importtime", "-m", "watcher", "--config", str(SHIPPED)]
    run = subprocess.run([*argv, "sources"], capture_output=True, text=True, check=True, env=env)
    rows = []
    for line in run.stderr.splitlines():
        m = re.match(r"import time:\s+\d+ \|\s+(\d+) \| (\s*)(\S+)", line)
        if m and len(m.group(2)) <= 2:  # top-level imports only
            rows.append((int(m.group(1)), m.group(3)))
    return sorted(rows, reverse=True)[:top]


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--db-dir", type=Path)
    args = parser.parse_args()
    db_dir = args.db_dir or Path(tempfile.mkdtemp(prefix="bench_cli_"))
    env = {**os.environ, "WATCHER_DATABASE_URL": build(db_dir)}
    # As installed (a wheel, the image, scripts/run): bytecode compiled once, not on every start.
    subprocess.run([sys.executable, "-m", "compileall", "-q", str(ROOT / "watcher")], check=True)
    print(f"database: {db_dir}; config: {SHIPPED}; {args.runs} runs per command, interleaved")
    times: dict[str, list[float]] = {}
    for _ in range(args.runs):  # interleaved: a noisy neighbour slows every command alike
        times.setdefault(FLOOR, []).append(timed([sys.executable, "-c", "pass"]))
        for command in COMMANDS:
            base = [] if command[0].startswith("--") else ["--config", str(SHIPPED)]
            label = "watcher " + " ".join(command)
            times.setdefault(label, []).append(watcher(*base, *command, env=env))
    floor = statistics.median(times["watcher --version"])
    print(f"{'command':32} {'min s':>7} {'median s':>9} {'x --version':>12}")
    for label, runs in times.items():
        median = statistics.median(runs)
        print(f"{label:32} {min(runs):7.2f} {median:9.2f} {median / floor:12.1f}")
    print("heaviest top-level imports of `watcher sources` (cumulative ms):")
    for us, name in heaviest_imports(env):
        print(f"  {us / 1000:8.1f}  {name}")


if __name__ == "__main__":
    main()

"""Replays: a rejected import never blocks importing that date again, and the guard overrides
(--min-records, --max-records, --max-removed-share) import a real subset deliberately."""

from __future__ import annotations

import json
from pathlib import Path

from click.testing import CliRunner, Result

from tests.conftest import fixture_bytes
from watcher.cli.main import main


def subset(tmp_path: Path, day: str, rows: int) -> str:
    """The first `rows` lines of a real SDN file (derived here, a real subset)."""
    lines = fixture_bytes(f"ofac_sdn/sdn_{day}.csv").split(b"\r\n")[:rows]
    path = tmp_path / f"sdn_{day}_first{rows}.csv"
    path.write_bytes(b"\r\n".join(lines) + b"\r\n")
    return str(path)


def test_replay_after_a_rejected_import_and_guard_overrides(tmp_path: Path, db_url: str) -> None:
    cfg = tmp_path / "config.toml"
    cfg.write_text(f'[database]\nurl = "{db_url}"\n[sources.ofac_sdn]\ncompanions = []\n')

    def replay(day: str, path: str, *guards: str) -> Result:
        args = ["--config", str(cfg), "replay", "--source", "ofac_sdn", "--at", day, *guards, path]
        return CliRunner().invoke(main, args)

    first = subset(tmp_path, "2021-12-09", 3000)
    rejected = replay("2021-12-09", first)
    assert rejected.exit_code == 1
    assert rejected.stdout.strip() == ("ofac_sdn: rejected: 3000 records, below min_records=5000")
    accepted = replay("2021-12-09", first, "--min-records", "2000")
    assert accepted.exit_code == 0, accepted.output
    assert accepted.stdout.startswith("ofac_sdn: baseline (3000 records")

    full = str(tmp_path / "sdn_2021-12-10.csv")
    Path(full).write_bytes(fixture_bytes("ofac_sdn/sdn_2021-12-10.csv"))
    too_many = replay("2021-12-10", full, "--max-records", "100")
    assert too_many.exit_code == 1 and "above max_records=100" in too_many.stdout

    shrunk = subset(tmp_path, "2021-12-10", 2500)  # removes 500 of 3000: 16.7% > 10%
    quarantined = replay("2021-12-10", shrunk, "--min-records", "2000")
    assert quarantined.exit_code == 1 and "quarantined" in quarantined.stdout
    allowed = replay("2021-12-10", shrunk, "--min-records", "2000", "--max-removed-share", "0.5")
    assert allowed.exit_code == 0, allowed.output
    assert "-500" in allowed.stdout

    listing = CliRunner().invoke(main, ["--config", str(cfg), "snapshots", "--format", "json"])
    statuses = [s["status"] for s in reversed(json.loads(listing.stdout))]
    assert statuses == ["rejected", "ok", "rejected", "quarantined", "ok"]


def test_out_of_order_replay_is_refused_once_with_the_source_named_once(
    tmp_path: Path, db_url: str
) -> None:
    cfg = tmp_path / "config.toml"
    cfg.write_text(f'[database]\nurl = "{db_url}"\n[sources.ofac_sdn]\nmin_records = 100\n')
    path = subset(tmp_path, "2021-12-09", 500)
    args = ["--config", str(cfg), "replay", "--source", "ofac_sdn"]
    assert CliRunner().invoke(main, [*args, "--at", "2021-12-09", path]).exit_code == 0
    late = CliRunner().invoke(main, [*args, "--at", "2021-12-08", path])
    assert late.exit_code == 1
    assert late.stdout == (
        "ofac_sdn: error: snapshot dated 2021-12-08 is not after the latest good one "
        "(2021-12-09); history is append-only\n"
    )

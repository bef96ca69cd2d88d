"""`watcher run --once` runs the daemon's dispatcher tick: the "published in the FR, not yet in
the CSL" check is overdue by the clock, so a poll that finds nothing new still reports it.

Real bytes: the CSL 2023-11-30 sample and the BIS capture with the 2023-03929 rule as the full
text of 2026-17231 (see tests/pipeline/test_linking.py); the FR deadline (2026-08-24 + 72h) is
long past by the machine's clock when the CLI polls.
"""

from __future__ import annotations

from pathlib import Path

from click.testing import CliRunner

from tests.conftest import LocalServer, fixture_bytes
from tests.pipeline.test_linking import CSL, _open_incidents, _replay_csl, _replay_fr, _runtime
from watcher.cli.main import main
from watcher.pipeline.tick import tick


def test_tick_reports_overdue_fr_actions_once(db_url: str) -> None:
    rt, clock = _runtime(db_url)
    _replay_csl(rt, clock, "2026-08-21", fixture_bytes(CSL))
    _replay_fr(rt, clock, "2026-08-24T06:00")
    clock.set("2026-08-26T23:00")
    assert tick(rt, send=False).sent == 0 and _open_incidents(rt) == []
    clock.set("2026-08-28")
    tick(rt, send=False)
    opened = {i.key for i in _open_incidents(rt)}
    assert len(opened) == 13
    tick(rt, send=False)
    assert {i.key for i in _open_incidents(rt)} == opened


def test_run_once_runs_the_lag_check_like_the_daemon(
    tmp_path: Path, db_url: str, http_server: LocalServer
) -> None:
    rt, clock = _runtime(db_url)
    _replay_csl(rt, clock, "2026-08-21", fixture_bytes(CSL))
    _replay_fr(rt, clock, "2026-08-24T06:00")
    url = http_server.serve("csl.csv", fixture_bytes(CSL), headers={"Content-Type": "text/csv"})
    config = tmp_path / "config.toml"
    config.write_text(
        f'[database]\nurl = "{db_url}"\n[sources.trade_csl]\nurl = "{url}"\nmin_records = 100\n'
    )
    result = CliRunner().invoke(main, ["--config", str(config), "run", "--once", "--no-dispatch"])
    assert result.exit_code == 0, result.output
    assert "trade_csl: unchanged" in result.output
    assert len(_open_incidents(rt)) == 13

"""The group: one `error:` line for usage errors, a quiet exit on a closed pipe, nothing on
stderr on success, lazy imports (a listing never loads FastAPI, apprise, pypinyin or ICU)."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest
from click.testing import CliRunner

from tests.conftest import fixture_path
from watcher.cli.main import main


def _config(tmp_path: Path, db_url: str) -> str:
    path = tmp_path / "config.toml"
    path.write_text(f'[database]\nurl = "{db_url}"\n[sources.ofac_sdn]\ncompanions = []\n')
    return str(path)


@pytest.mark.parametrize(
    "args",
    [["nosuch"], ["entries"], ["entries", "--source", "nope"], ["changes", "--limit", "x"],
     ["replay", "--source", "ofac_sdn", "--at", "2024-05-03", "/does/not/exist"]],
    ids=["unknown command", "missing option", "bad choice", "bad int", "missing file"],
)  # fmt: skip
def test_usage_errors_print_one_error_line(args: list[str]) -> None:
    result = CliRunner().invoke(main, args)
    assert result.exit_code == 2
    assert result.stdout == ""
    lines = result.stderr.splitlines()
    assert len(lines) == 1 and lines[0].startswith("error: "), result.stderr


def test_replay_success_prints_only_the_answer(tmp_path: Path, db_url: str) -> None:
    cfg = _config(tmp_path, db_url)
    day = "2021-12-09"
    args = ["--config", cfg, "replay", "--source", "ofac_sdn", "--at", day]
    result = CliRunner().invoke(main, [*args, str(fixture_path(f"ofac_sdn/sdn_{day}.csv"))])
    assert result.exit_code == 0 and result.stderr == ""
    assert result.stdout == "ofac_sdn: baseline (9121 records; +0 -0 ~0; 0 matches, 0 alerts)\n"
    listings = [
        ["sources"],
        ["snapshots"],
        ["changes"],
        ["history", "ZAKIR"],
        ["entries", "--source", "ofac_sdn", "--limit", "3"],
        ["watchlist", "list"],
    ]
    for listing in listings:
        out = CliRunner().invoke(main, ["--config", cfg, *listing])
        assert out.exit_code == 0 and out.stderr == "", (listing, out.stderr)
    again = CliRunner().invoke(main, [*args, str(fixture_path(f"ofac_sdn/sdn_{day}.csv"))])
    assert again.exit_code == 1
    assert again.stdout.count("ofac_sdn") == 1, again.stdout  # the name is not doubled


def test_closed_pipe_exits_quietly(tmp_path: Path) -> None:
    cfg = _config(tmp_path, f"sqlite:///{tmp_path / 'w.db'}")
    day = "2021-12-09"
    path = str(fixture_path(f"ofac_sdn/sdn_{day}.csv"))
    base = [sys.executable, "-m", "watcher", "--config", cfg]
    subprocess.run([*base, "replay", "--source", "ofac_sdn", "--at", day, path], check=True)
    proc = subprocess.Popen(
        [*base, "entries", "--source", "ofac_sdn", "--format", "json"],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
    )
    assert proc.stdout is not None and proc.stderr is not None
    assert proc.stdout.readline() == b"[\n"  # `| head -1`
    proc.stdout.close()
    err = proc.stderr.read().decode()
    assert proc.wait(timeout=120) in (0, 141)  # click's quiet EPIPE exit, or ours (SIGPIPE)
    assert err == ""


def test_a_listing_imports_only_what_it_needs(tmp_path: Path) -> None:
    cfg = _config(tmp_path, f"sqlite:///{tmp_path / 'w.db'}")
    code = (
        "import sys, json\n"
        "from watcher.cli.main import main\n"
        f"try:\n    main(['--config', {cfg!r}, 'sources', '--format', 'json'])\n"
        "except SystemExit:\n    pass\n"
        "heavy = ('fastapi', 'apprise', 'pypinyin', 'icu', 'watcher.matching.matcher', 'alembic',"
        " 'watcher.pipeline.run', 'uvicorn', 'jinja2')\n"
        "print(json.dumps(sorted(m for m in heavy if m in sys.modules)), file=sys.stderr)\n"
    )
    # the first run migrates (alembic); the second finds the schema at head
    subprocess.run([sys.executable, "-c", code], check=True, capture_output=True)
    done = subprocess.run([sys.executable, "-c", code], check=True, capture_output=True, text=True)
    assert json.loads(done.stderr.strip().splitlines()[-1]) == []
    assert json.loads(done.stdout)[0]["source"] == "ofac_sdn"


def test_first_command_on_a_new_database_is_quiet(tmp_path: Path) -> None:
    """Migrating a new database used to print alembic's plugin lines (INFO) before the answer."""
    cfg = _config(tmp_path, f"sqlite:///{tmp_path / 'new.db'}")
    result = CliRunner().invoke(main, ["--config", cfg, "sources", "--format", "json"])
    assert result.exit_code == 0 and result.stderr == ""
    assert [r["state"] for r in json.loads(result.stdout)][0] == "never polled"
    verbose = CliRunner().invoke(main, ["--config", cfg, "-v", "sources"])
    assert verbose.exit_code == 0  # -v is accepted after --config (logs go to stderr)

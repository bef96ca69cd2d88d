"""Start-up of the commands an operator runs all day: with the shipped config.toml on a database
holding two real SDN snapshots, a listing loads none of the heavy modules it does not need (the
timing itself is bench/bench_cli.py's job, not a test's)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from tests.conftest import fixture_path

SHIPPED = Path(__file__).resolve().parents[2] / "config.toml"
# Each costs 40-300 ms of start-up, and none is needed to list what the store holds.
HEAVY = (
    "fastapi",
    "uvicorn",
    "jinja2",
    "apprise",
    "httpx",
    "pypinyin",
    "icu",
    "rapidfuzz",
    "lxml",
    "alembic",
    "sqlalchemy.orm",
    "rich.console",
    "rich.table",
    "watcher.matching.matcher",
    "watcher.pipeline.run",
    "watcher.sources.registry",
    "pydantic",  # config is checked by watcher.config.validation; FastAPI's pydantic is serve's
    "pydantic_core",
)
PROBE = """
import json, os, sys
from watcher.cli.main import main
try:
    main(sys.argv[1:])
except SystemExit:
    pass
loaded = [m for m in {heavy!r} if m in sys.modules]
plugins = os.environ.get("PYDANTIC_DISABLE_PLUGINS")
print(json.dumps({{"loaded": loaded, "plugins": plugins}}), file=sys.stderr)
"""


@pytest.fixture(scope="module")
def database(tmp_path_factory: pytest.TempPathFactory) -> dict[str, str]:
    """The environment of a shipped-config install whose database holds SDN 2021-12-09, -10."""
    db = tmp_path_factory.mktemp("startup") / "watcher.db"
    env = {**os.environ, "WATCHER_DATABASE_URL": f"sqlite:///{db}", "COLUMNS": "120"}
    for day in ("2021-12-09", "2021-12-10"):
        path = str(fixture_path(f"ofac_sdn/sdn_{day}.csv"))
        replay = ["replay", "--source", "ofac_sdn", "--at", day, path]
        watcher = [sys.executable, "-m", "watcher", "--config", str(SHIPPED)]
        subprocess.run([*watcher, *replay], check=True, capture_output=True, env=env)
    return env


@pytest.mark.parametrize(
    "command", [["sources"], ["changes", "--limit", "20"], ["history", "ZAKIR"]], ids=" ".join
)
def test_a_listing_imports_only_what_it_needs(database: dict[str, str], command: list[str]) -> None:
    args = ["--config", str(SHIPPED), *command]
    probe = PROBE.format(heavy=HEAVY)
    done = subprocess.run(
        [sys.executable, "-c", probe, *args],
        check=True,
        capture_output=True,
        text=True,
        env=database,
    )
    report = json.loads(done.stderr.strip().splitlines()[-1])
    assert report == {"loaded": [], "plugins": "__all__"}
    lines = done.stdout.splitlines()
    assert lines[1].startswith("─") and len(lines) > 3  # a table of real rows was drawn
    if command[0] == "changes":
        assert "ZAKIR, Shohrat" in done.stdout  # added on 2021-12-10


def test_an_operator_set_plugin_choice_is_kept(database: dict[str, str]) -> None:
    """PYDANTIC_DISABLE_PLUGINS (for FastAPI's pydantic in `serve`) is only a default: a value
    in the environment wins."""
    env = {**database, "PYDANTIC_DISABLE_PLUGINS": "some_plugin"}
    args = ["--config", str(SHIPPED), "sources"]
    probe = PROBE.format(heavy=HEAVY)
    done = subprocess.run(
        [sys.executable, "-c", probe, *args], check=True, capture_output=True, text=True, env=env
    )
    assert json.loads(done.stderr.strip().splitlines()[-1])["plugins"] == "some_plugin"

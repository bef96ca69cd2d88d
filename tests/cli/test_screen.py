"""`watcher screen` on a real list: a query in any script finds the Latin listing, directly or
through the watchlist's aliases, and says which path matched."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from click.testing import CliRunner
from rich.cells import cell_len

from tests.conftest import fixture_path
from watcher.cli.main import main

SCREEN_KEYS = {"source", "list_code", "key", "name", "score", "method", "path", "via",
               "matched_name", "reason", "since", "programs"}  # as README.md documents  # fmt: skip
HIKVISION = "Hangzhou Hikvision Digital Technology Co., Ltd."
QUERIES = [
    ("Hangzhou Hikvision Digital Technology", "direct"),
    ("Hikvision", "watchlist"),
    ("海康威视", "watchlist"),
    ("海康威視", "watchlist"),
    ("Hǎikāng Wēishì", "watchlist"),
    ("haikangweishi", "watchlist"),
    ("杭州海康威视数字技术股份有限公司", "watchlist"),
]


@pytest.fixture
def cfg(tmp_path: Path, db_url: str) -> str:
    path = tmp_path / "config.toml"
    path.write_text(f'[database]\nurl = "{db_url}"\n[sources.ofac_consolidated]\ncompanions = []\n')
    day = "2025-04-21"
    args = ["--config", str(path), "replay", "--source", "ofac_consolidated", "--at", day]
    result = CliRunner().invoke(
        main, [*args, str(fixture_path(f"ofac_consolidated/cons_prim_{day}.csv"))]
    )
    assert result.exit_code == 0, result.output
    return str(path)


def test_screen_in_every_script(cfg: str) -> None:
    for query, path in QUERIES:
        result = CliRunner().invoke(main, ["--config", cfg, "screen", query, "--format", "json"])
        assert result.exit_code == 0 and result.stderr == "", result.output
        rows = {r["key"]: r for r in json.loads(result.stdout)}
        assert "30946" in rows, query
        hit = rows["30946"]
        assert set(hit) == SCREEN_KEYS
        assert hit["path"] == path, (query, hit)
        assert hit["since"].startswith("2025-04-21")
        if path == "watchlist":
            assert hit["via"].startswith(HIKVISION)
    nothing = CliRunner().invoke(main, ["--config", cfg, "screen", "大华股份有限公司的邻居"])
    assert nothing.exit_code == 0 and nothing.stdout == "(none)\n"


def test_screen_table_fits_80_columns(cfg: str) -> None:
    result = CliRunner().invoke(
        main, ["--config", cfg, "screen", "海康威视"], env={"COLUMNS": "80"}
    )
    assert result.exit_code == 0
    lines = result.stdout.splitlines()
    assert max(cell_len(line) for line in lines) <= 80
    assert any("watchlist" in line and "30946" in line for line in lines)

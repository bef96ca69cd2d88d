"""The command line as a user runs it: real processes' entry point via click's runner."""

from __future__ import annotations

import json
from pathlib import Path

import click
import pytest
from click.testing import CliRunner

from tests.conftest import fixture_path
from watcher.cli.main import main


def _command_paths(group: click.Group, prefix: tuple[str, ...] = ()) -> list[tuple[str, ...]]:
    """Every command and subcommand of the click tree, so a new one is covered without a list."""
    paths = [prefix]
    ctx = click.Context(group)  # the group imports each command's module when asked for it
    for name in group.list_commands(ctx):
        command = group.get_command(ctx, name)
        assert command is not None, name
        if isinstance(command, click.Group):
            paths += _command_paths(command, (*prefix, name))
        else:
            paths.append((*prefix, name))
    return paths


COMMANDS = _command_paths(main)


def test_the_tree_walk_finds_nested_commands() -> None:
    assert {(), ("run",), ("db",), ("db", "upgrade"), ("backfill", "ecfr")} <= set(COMMANDS)
    assert {("subscribers", "add"), ("alerts", "retry"), ("watchlist", "import")} <= set(COMMANDS)
    assert len(COMMANDS) == len(set(COMMANDS)) >= 29


@pytest.mark.parametrize("command", COMMANDS, ids=lambda c: " ".join(c) or "watcher")
def test_every_command_has_help(command: tuple[str, ...]) -> None:
    result = CliRunner().invoke(main, [*command, "--help"])
    assert result.exit_code == 0, result.output
    assert "Usage:" in result.output
    assert f"watcher {' '.join(command)}".strip() in result.output.replace("main", "watcher")


def _config(tmp_path: Path, db_url: str, extra: str = "") -> str:
    path = tmp_path / "config.toml"
    path.write_text(f'[database]\nurl = "{db_url}"\n[sources.ofac_sdn]\ncompanions = []\n{extra}')
    return str(path)


def test_replay_then_changes_json_contract(tmp_path: Path, db_url: str) -> None:
    cfg = _config(tmp_path, db_url)
    runner = CliRunner()
    for day in ("2021-12-09", "2021-12-10"):
        path = fixture_path(f"ofac_sdn/sdn_{day}.csv")
        result = runner.invoke(
            main, ["--config", cfg, "replay", "--source", "ofac_sdn", "--at", day, str(path)]
        )
        assert result.exit_code == 0, result.output
    result = runner.invoke(
        main, ["--config", cfg, "changes", "--format", "json", "--kind", "added"]
    )
    assert result.exit_code == 0, result.output
    rows = json.loads(result.output)
    assert len(rows) == 25
    required = {"id", "source", "list_code", "kind", "key", "name", "aliases", "field_changes",
                "detected_at", "snapshot_id", "source_url", "matches"}  # fmt: skip
    assert all(required <= set(r) for r in rows)
    zakir = next(r for r in rows if r["key"] == "34079")
    assert zakir["list_code"] == "SDN" and zakir["name"] == "ZAKIR, Shohrat"
    assert {m["watch"] for m in zakir["matches"]} >= {"xinjiang-security"}
    assert all({"watch", "score", "method", "matched_name"} <= set(m) for m in zakir["matches"])
    csv_out = runner.invoke(
        main, ["--config", cfg, "changes", "--format", "csv", "--entity", "ZAKIR"]
    )
    assert csv_out.exit_code == 0 and "34079" in csv_out.output and csv_out.output.startswith("id,")


def test_entries_as_of_and_history(tmp_path: Path, db_url: str) -> None:
    cfg = _config(tmp_path, db_url)
    runner = CliRunner()
    for day in ("2021-12-09", "2021-12-10"):
        path = fixture_path(f"ofac_sdn/sdn_{day}.csv")
        assert (
            runner.invoke(
                main, ["--config", cfg, "replay", "--source", "ofac_sdn", "--at", day, str(path)]
            ).exit_code
            == 0
        )
    before = runner.invoke(
        main,
        [
            "--config",
            cfg,
            "entries",
            "--source",
            "ofac_sdn",
            "--as-of",
            "2021-12-09",
            "--format",
            "json",
        ],
    )
    after = runner.invoke(
        main,
        [
            "--config",
            cfg,
            "entries",
            "--source",
            "ofac_sdn",
            "--format",
            "json",
            "--search",
            "zakir",
        ],
    )
    assert len(json.loads(before.output)) == 9121
    found = json.loads(after.output)
    assert "34079" in [r["key"] for r in found]
    assert all("zakir" in json.dumps(r).lower() for r in found)
    found = [r for r in found if r["key"] == "34079"]
    assert {
        "source",
        "key",
        "list_code",
        "name",
        "entity_type",
        "aliases",
        "addresses",
        "programs",
    } <= set(found[0])
    hist = json.loads(
        runner.invoke(main, ["--config", cfg, "history", "ZAKIR", "--format", "json"]).output
    )
    zakir = next(h for h in hist if h["key"] == "34079")
    assert zakir["events"][0]["kind"] == "added" and zakir["valid_from"].startswith("2021-12-10")
    screen = runner.invoke(main, ["--config", cfg, "screen", "Shohrat Zakir", "--format", "json"])
    assert screen.exit_code == 0, screen.output
    assert any(r["key"] == "34079" for r in json.loads(screen.output))


def test_bad_config_names_the_key(tmp_path: Path) -> None:
    path = tmp_path / "config.toml"
    path.write_text('[sources.ofac_sdn]\nintervall = "1h"\n')
    result = CliRunner().invoke(main, ["--config", str(path), "sources"])
    assert result.exit_code != 0
    assert "sources.ofac_sdn.intervall" in result.output


def test_replay_refuses_html_with_one_line_reason(tmp_path: Path, db_url: str) -> None:
    cfg = _config(tmp_path, db_url)
    page = tmp_path / "sdn.csv"
    page.write_bytes(b"<!DOCTYPE html><html><body>Access Denied</body></html>")
    result = CliRunner().invoke(
        main, ["--config", cfg, "replay", "--source", "ofac_sdn", "--at", "2024-01-01", str(page)]
    )
    assert result.exit_code == 1
    assert "HTML" in result.output


def test_watchlist_add_list_remove(tmp_path: Path, db_url: str) -> None:
    cfg = _config(tmp_path, db_url)
    runner = CliRunner()
    assert (
        runner.invoke(
            main,
            [
                "--config",
                cfg,
                "watchlist",
                "add",
                "Acme Surveillance",
                "--alias",
                "ACME",
                "--tag",
                "mine",
            ],
        ).exit_code
        == 0
    )
    listed = json.loads(
        runner.invoke(
            main, ["--config", cfg, "watchlist", "list", "--tag", "mine", "--format", "json"]
        ).output
    )
    assert [r["name"] for r in listed] == ["Acme Surveillance"]
    assert (
        runner.invoke(main, ["--config", cfg, "watchlist", "remove", "Acme Surveillance"]).exit_code
        == 0
    )
    defaults = json.loads(
        runner.invoke(main, ["--config", cfg, "watchlist", "list", "--format", "json"]).output
    )
    assert any("Hikvision" in r["name"] for r in defaults) and not any(
        r["name"] == "Acme Surveillance" for r in defaults
    )


def test_fr_extract_json(tmp_path: Path) -> None:
    path = fixture_path("federal_register/fr_2023-03929_2023-02-27_additions_entity_list.xml")
    result = CliRunner().invoke(
        main,
        [
            "--config",
            _config(tmp_path, f"sqlite:///{tmp_path}/x.db"),
            "fr",
            "extract",
            str(path),
            "--format",
            "json",
        ],
    )
    assert result.exit_code == 0, result.output
    rows = json.loads(result.output)
    assert rows and all(
        {"action", "country", "name", "aliases", "addresses"} <= set(r) for r in rows
    )
    assert all(r["country"] for r in rows)


def test_subscribers_add_refuses_a_digest_time_config_would_refuse(tmp_path: Path) -> None:
    cfg = _config(tmp_path, f"sqlite:///{tmp_path / 'w.db'}")
    args = ["--config", cfg, "subscribers", "add", "d", "--url-env", "HOOK"]
    result = CliRunner().invoke(main, [*args, "--digest-at", "banana"])
    assert result.exit_code == 2
    assert "--digest-at" in result.output and "'banana'" in result.output
    assert not (tmp_path / "w.db").exists()

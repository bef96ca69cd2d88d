"""Listings on real fixtures: never-polled sources, and the documented JSON keys of `changes`
exactly equal to what is printed."""

from __future__ import annotations

import json
import re
from pathlib import Path

from click.testing import CliRunner

from tests.conftest import fixture_bytes, fixture_path
from watcher.cli.main import main

README = Path(__file__).resolve().parents[2] / "README.md"


def _config(tmp_path: Path, db_url: str) -> str:
    path = tmp_path / "config.toml"
    path.write_text(
        f'[database]\nurl = "{db_url}"\n[sources.ofac_sdn]\ncompanions = []\n'
        "[sources.trade_csl]\nenabled = false\n"
    )
    return str(path)


def invoke(*args: str) -> str:
    result = CliRunner().invoke(main, list(args), env={"COLUMNS": "160"})
    assert result.exit_code == 0, result.output
    assert result.stderr == ""
    return result.stdout


def test_sources_never_polled(tmp_path: Path, db_url: str) -> None:
    cfg = _config(tmp_path, db_url)
    rows = {
        r["source"]: r for r in json.loads(invoke("--config", cfg, "sources", "--format", "json"))
    }
    assert rows["ofac_sdn"]["state"] == "never polled"
    # `stale` keeps /readyz's meaning (no success yet); `state` says why, for people
    assert rows["ofac_sdn"]["stale"] is True and rows["ofac_sdn"]["last_error"] is None
    assert rows["trade_csl"]["state"] == "disabled" and rows["news"]["state"] == "disabled"
    table = invoke("--config", cfg, "sources")
    sdn_line = next(line for line in table.splitlines() if line.startswith("ofac_sdn"))
    assert "never polled" in sdn_line and "True" not in table
    day = "2021-12-09"
    invoke("--config", cfg, "replay", "--source", "ofac_sdn", "--at", day,
           str(fixture_path(f"ofac_sdn/sdn_{day}.csv")))  # fmt: skip
    rows = {
        r["source"]: r for r in json.loads(invoke("--config", cfg, "sources", "--format", "json"))
    }
    assert rows["ofac_sdn"]["state"] == "ok" and rows["ofac_sdn"]["entries"] == 9121


def documented_change() -> dict[str, object]:
    """The README's example object for `watcher changes --format json` (placeholders emptied)."""
    text = README.read_text("utf-8")
    block = text.split("`watcher changes --format json`: an array of", 1)[1]
    body = re.search(r"```json\n(.*?)```", block, re.S)
    assert body is not None
    doc: dict[str, object] = json.loads(body.group(1).replace("[...]", "[]"))
    return doc


def test_changes_json_keys_are_exactly_the_documented_ones(tmp_path: Path, db_url: str) -> None:
    cfg = _config(tmp_path, db_url)
    base = fixture_bytes("ofac_sdn/sdn_2021-12-10.csv")
    # derived: ZAKIR gains a program, TUNIYAZ is renamed (a list and a scalar field change)
    derived = base.replace(
        b'34079,"ZAKIR, Shohrat","individual","GLOMAG"',
        b'34079,"ZAKIR, Shohrat","individual","GLOMAG] [SDGT"',
    )
    derived = derived.replace(b'34119,"TUNIYAZ, Erken"', b'34119,"TUNIYAZ, Erkin"')
    assert derived.count(b"GLOMAG] [SDGT") == 1 and b"TUNIYAZ, Erkin" in derived
    (tmp_path / "derived.csv").write_bytes(derived)
    for day, path in (("2021-12-10", fixture_path("ofac_sdn/sdn_2021-12-10.csv")),
                      ("2021-12-11", tmp_path / "derived.csv")):  # fmt: skip
        invoke("--config", cfg, "replay", "--source", "ofac_sdn", "--at", day, str(path))
    rows = json.loads(invoke("--config", cfg, "changes", "--format", "json"))
    assert {r["key"] for r in rows} == {"34079", "34119"}
    doc = documented_change()
    assert all(set(r) == set(doc) for r in rows)
    matches = [m for r in rows for m in r["matches"]]
    doc_matches = doc["matches"]
    assert isinstance(doc_matches, list)
    assert matches and all(set(m) == set(doc_matches[0]) for m in matches)
    printed = {k for r in rows for fc in r["field_changes"] for k in fc}
    doc_fields = doc["field_changes"]
    assert isinstance(doc_fields, list)
    assert printed == {k for fc in doc_fields for k in fc}
    table = invoke("--config", cfg, "changes")
    assert "programs" in table and "xinjiang-security" in table and "T00:00:00" not in table

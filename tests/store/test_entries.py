"""A list as of a date, on SQLite and PostgreSQL: the lean rows equal the Entry round trip, a
page is the head of the whole list, the count is its length, and `watcher entries` shows a
table's first page with how many more while json stays complete."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner
from sqlalchemy import event

from tests.conftest import fixture_bytes
from tests.helpers import at, make_runtime
from watcher.cli.main import main
from watcher.cli.output import TABLE_ROWS
from watcher.models import Entry
from watcher.pipeline.run import replay
from watcher.sources.registry import get_source
from watcher.store.engine import transaction
from watcher.store.entries import count_entries, entries_as_of, entry_rows
from watcher.store.records import entry_dict

DAYS = ("2021-12-09", "2021-12-10", "2021-12-16")  # 9,121 -> 9,146 -> 9,154 (17 modified)


def _parsed(source: str, files: dict[str, str]) -> list[Entry]:
    found = get_source(source, {}).parse({k: fixture_bytes(v) for k, v in files.items()})
    return list(found.entries)


@pytest.mark.parametrize(
    ("source", "files"),
    [
        ("ofac_sdn", {"primary": "ofac_sdn/moov_sdn_2021-07.csv"}),
        ("ofac_consolidated", {"primary": "ofac_consolidated/cons_prim_2025-04-21.csv"}),
        ("trade_csl", {"primary": "trade_gov_csl/moov_csl_sample_2023-11-30.csv"}),
    ],
)
def test_entry_dict_is_the_entry_round_trip(source: str, files: dict[str, str]) -> None:
    entries = _parsed(source, files)
    assert len(entries) > 400
    for entry in entries:
        stored = json.loads(json.dumps(entry.to_dict()))  # as the JSON column returns it
        expected = Entry.from_dict(stored).to_dict()
        assert entry_dict(stored) == expected
        assert list(entry_dict(stored)) == list(expected)  # same key order: same json text


def test_entry_dict_fills_what_an_older_row_lacks() -> None:
    sparse = {
        "source": "ofac_sdn",
        "key": "1",
        "list_code": "SDN",
        "name": "X",
        "addresses": [{"city": "Urumqi"}],
        "ids": [{"type": "Passport", "value": "P1"}],
        "dates": {"b": "2", "a": "1"},
        "raw": {"z": 1, "c": None},
    }
    expected = Entry.from_dict(sparse).to_dict()
    assert entry_dict(sparse) == expected
    assert list(entry_dict(sparse)["dates"]) == ["a", "b"] == list(expected["dates"])
    assert entry_dict(sparse)["addresses"][0]["country"] is None


def _history(db_url: str) -> str:
    rt = make_runtime(db_url, {"sources": {"ofac_sdn": {"companions": []}}})
    for day in DAYS:
        files = [("primary", fixture_bytes(f"ofac_sdn/sdn_{day}.csv"), day)]
        assert replay(rt, "ofac_sdn", at(day), files).ok
    return db_url


@pytest.fixture
def history_url(db_url: str) -> str:
    return _history(db_url)


def test_pages_counts_and_rows_agree_at_every_date(history_url: str) -> None:
    rt = make_runtime(history_url)
    with transaction(rt.engine) as conn:
        for as_of, n in [(at("2021-12-10"), 9121), (at("2021-12-16"), 9146), (None, 9154)]:
            rows = entry_rows(conn, "ofac_sdn", as_of)
            assert rows == [r.to_dict() for r in entries_as_of(conn, "ofac_sdn", as_of)]
            assert len(rows) == count_entries(conn, "ofac_sdn", as_of) == n
            assert entry_rows(conn, "ofac_sdn", as_of, limit=TABLE_ROWS) == rows[:TABLE_ROWS]
            assert len({r["key"] for r in rows}) == n  # one version per key
        # The 17 SDNTK entries modified on 12-16: the older version until then, the newer after.
        before = entry_rows(conn, "ofac_sdn", at("2021-12-16"), search="ILLICIT-DRUGS-EO")
        after = entry_rows(conn, "ofac_sdn", None, search="ILLICIT-DRUGS-EO")
        assert before == [] and len(after) == count_entries(conn, "ofac_sdn", None, "illicit-d")
        assert len(after) >= 17 + 8
        zakir = {r["key"]: r for r in entry_rows(conn, "ofac_sdn", None, search="zakir")}
        assert zakir["34079"]["valid_from"] == "2021-12-10T00:00:00+00:00"
        assert zakir["34079"]["valid_to"] is None
        assert all("zakir" in json.dumps(r, ensure_ascii=False).lower() for r in zakir.values())
        earlier = entry_rows(conn, "ofac_sdn", at("2021-12-10"), search="zakir")
        assert "34079" not in {r["key"] for r in earlier} and len(earlier) == len(zakir) - 1
        assert count_entries(conn, "ofac_sdn", at("2021-12-09")) == 0  # nothing before


def _run(cfg: Path, *args: str) -> str:
    env = {"COLUMNS": "160", "TZ": "UTC"}
    result = CliRunner().invoke(main, ["--config", str(cfg), "entries", *args], env=env)
    assert result.exit_code == 0, result.output
    return result.stdout


def test_the_command_shows_a_page_and_counts_the_rest(tmp_path: Path, history_url: str) -> None:
    cfg = tmp_path / "config.toml"
    cfg.write_text(f'[database]\nurl = "{history_url}"\n', "utf-8")
    base = ("--source", "ofac_sdn", "--as-of", "2021-12-10")
    table = _run(cfg, *base)
    assert table.rstrip().endswith(
        f"… {9146 - TABLE_ROWS} more rows (--all shows every row, --limit N sets how many)"
    )
    whole = json.loads(_run(cfg, *base, "--format", "json"))
    assert len(whole) == 9146
    assert [r["key"] for r in whole[:TABLE_ROWS]] == [
        line.split()[0] for line in table.splitlines()[2 : 2 + TABLE_ROWS]
    ]
    assert len(_run(cfg, *base, "--format", "csv").splitlines()) == 9146 + 1
    assert "more rows" not in _run(cfg, *base, "--limit", "3")
    assert len(_run(cfg, *base, "--limit", "3").strip().splitlines()) == 2 + 3
    everything = _run(cfg, *base, "--all")
    assert "more rows" not in everything and whole[-1]["key"] in everything
    few = _run(cfg, *base, "--search", "zakir")
    assert "34079" in few and "more rows" not in few


def test_sqlite_pages_through_the_listing_index(history_url: str) -> None:
    """The page query walks ix_entry_versions_listing in order (no sort of the whole list) and
    the count reads ix_entry_versions_span alone (no stored JSON): SQLite's plans, asked of the
    very statements the store sends."""
    if not history_url.startswith("sqlite"):
        pytest.skip("SQLite's plans; PostgreSQL's depend on its statistics")
    rt = make_runtime(history_url)
    sent: list[tuple[str, Any]] = []
    engine = rt.engine

    def capture(_conn: Any, _cur: Any, statement: str, params: Any, *_: Any) -> None:
        sent.append((statement, params))

    event.listen(engine, "before_cursor_execute", capture)
    with transaction(rt.engine) as conn:
        assert len(entry_rows(conn, "ofac_sdn", at("2021-12-16"), limit=TABLE_ROWS)) == 50
        assert count_entries(conn, "ofac_sdn", at("2021-12-16")) == 9146
    event.remove(engine, "before_cursor_execute", capture)
    page, count = [s for s in sent if "entry_versions" in s[0]]
    with engine.connect() as conn:
        cursor = conn.connection.cursor()
        plans = [
            " | ".join(r[3] for r in cursor.execute(f"EXPLAIN QUERY PLAN {sql}", params))
            for sql, params in (page, count)
        ]
    assert "USING INDEX ix_entry_versions_listing" in plans[0] and "B-TREE" not in plans[0]
    assert "USING COVERING INDEX ix_entry_versions_span" in plans[1], plans[1]

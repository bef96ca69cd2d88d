"""Table output: fits 80 and 200 columns, cuts cells with an ellipsis, pages by default, shows
dates as dates and times to the second in the operator's zone; json/csv stay complete."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from zoneinfo import ZoneInfo

import click
import pytest
from click.testing import CliRunner
from rich.cells import cell_len

from watcher.cli.output import FORMAT_OPTION, TABLE_ROWS, emit, format_time, json_text

LONG = "HANGZHOU HIKVISION DIGITAL TECHNOLOGY CO., LTD. " * 4
ROWS = [
    {
        "id": i,
        "effective_at": "2021-12-10T00:00:00+00:00",
        "detected_at": "2026-11-22T10:00:00.123456+00:00",
        "name": f"{i} {LONG}",
        "programs": ["CMIC-EO13959", "SDN"],
        "remarks": "Linked To: XINJIANG PUBLIC SECURITY BUREAU. " * 3,
    }
    for i in range(120)
]
COLUMNS = ["id", "effective_at", "detected_at", "name", "programs", "remarks"]


@click.command()
@click.option("--limit", type=int)
@FORMAT_OPTION
def listing(limit: int | None, fmt: str) -> None:
    emit(ROWS[:limit] if limit else ROWS, fmt, COLUMNS)


def run(*args: str, columns: int = 80) -> str:
    result = CliRunner().invoke(listing, list(args), env={"COLUMNS": str(columns), "TZ": "UTC"})
    assert result.exit_code == 0, result.output
    assert result.stderr == ""
    return result.stdout


@pytest.mark.parametrize("columns", [80, 200])
def test_table_fits_the_terminal(columns: int) -> None:
    lines = run(columns=columns).splitlines()
    assert max(cell_len(line) for line in lines) <= columns
    assert max(cell_len(line) for line in lines) > columns - 20  # and uses it
    assert all("…" in line for line in lines if "HANGZHOU" in line)  # cut, not wrapped
    assert LONG not in "".join(lines)


def test_only_the_last_column_wraps() -> None:
    lines = run(columns=120).splitlines()
    first = next(i for i, line in enumerate(lines) if line.lstrip().startswith("0 "))
    continuation = lines[first + 1]
    assert continuation.lstrip().startswith(("Linked", "XINJIANG", "PUBLIC", "SECURITY", "BUREAU"))
    assert "HIKVISION" not in continuation


def test_a_page_of_rows_by_default_with_how_many_more() -> None:
    out = run()
    assert f"… {120 - TABLE_ROWS} more rows (--all shows every row" in out
    assert "\n  49 " in out or " 49 " in out
    assert " 50 HANGZHOU" not in out
    assert "more rows" not in run("--all")
    assert " 119 " in run("--all", columns=200)
    assert "more rows" not in run("--limit", "70")


def test_dates_as_dates_and_times_to_the_second() -> None:
    out = run(columns=200)
    assert "2021-12-10 " in out and "T00:00:00" not in out
    assert "2026-11-22 10:00:00" in out and ".123456" not in out


def test_json_and_csv_stay_complete_and_exact() -> None:
    data = json.loads(run("--format", "json"))
    assert data == ROWS
    csv_lines = run("--format", "csv").splitlines()
    assert len(csv_lines) == 121 and LONG in csv_lines[1]
    assert "2026-11-22T10:00:00.123456+00:00" in csv_lines[1]


def test_format_time_in_the_operator_zone() -> None:
    berlin = ZoneInfo("Europe/Berlin")
    assert format_time(datetime(2024, 5, 3, tzinfo=UTC), berlin) == "2024-05-03"
    moment = datetime(2026, 11, 22, 10, 0, 5, 999, tzinfo=UTC)
    assert format_time(moment, berlin) == "2026-11-22 11:00:05"


def test_empty_table_says_none() -> None:
    @click.command()
    def nothing() -> None:
        emit([], "table", COLUMNS)

    assert CliRunner().invoke(nothing, []).stdout == "(none)\n"


def _stdlib(value: object) -> str:
    return json.dumps(value, ensure_ascii=False, indent=2, default=str)


@pytest.mark.parametrize(
    "value",
    [
        ROWS,
        [],
        {},
        [{}, [], [[]], {"a": {}}, "", None, True, False, 0, -7, 2**70, 1.5, float("nan"), 1e16],
        {"名": "新疆公安厅", "q": 'say "hi"\\\n\t\x00\u2028', "é": ["ü", {"x": None}]},
        [{"at": datetime(2021, 12, 10, tzinfo=UTC), "zone": ZoneInfo("UTC"), "t": (1, "a")}],
        {3: "int key", None: "null key", 2.5: "float key", True: "bool key"},  # json converts
        [{"nested": [{"deep": [{"deeper": ["x", 1, None]}]}]}],
    ],
)
def test_json_text_is_the_stdlib_text_byte_for_byte(value: object) -> None:
    assert json_text(value) == _stdlib(value)


def test_json_text_of_a_real_list_is_the_stdlib_text() -> None:
    from tests.conftest import fixture_bytes
    from watcher.sources.registry import get_source

    csv_bytes = fixture_bytes("trade_gov_csl/moov_csl_sample_2023-11-30.csv")
    rows = [e.to_dict() for e in get_source("trade_csl", {}).parse({"primary": csv_bytes}).entries]
    assert len(rows) > 4000
    assert json_text(rows) == _stdlib(rows)

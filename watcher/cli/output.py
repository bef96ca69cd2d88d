"""Listing output: a table for people (fits the terminal, a page of rows by default), json (the
stable contract) and csv for scripts; json and csv are always complete and exact."""

from __future__ import annotations

import csv
import io
import json
import re
import shutil
import sys
from collections.abc import Callable, Mapping, Sequence
from datetime import UTC, date, datetime, tzinfo
from json.encoder import encode_basestring as _escape
from typing import Any, TypeVar
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import click
from click.core import ParameterSource

F = TypeVar("F", bound=Callable[..., Any])

TABLE_ROWS = 50  # a table shows this many rows unless --all or --limit is given
PIPE_WIDTH = 160  # table width when stdout is not a terminal and $COLUMNS is unset
_ISO = re.compile(r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?([+-]\d{2}:\d{2}|Z)?$")


def emit(
    rows: Sequence[Mapping[str, Any]], fmt: str, columns: Sequence[str], total: int | None = None
) -> None:
    """Print rows; json keeps every field, table/csv show `columns`. `total`: how many rows
    there are when `rows` holds only the first page (see `table_page`)."""
    if fmt == "json":
        click.echo(json_text(list(rows)))
        return
    if fmt == "csv":
        buf = io.StringIO()
        writer = csv.writer(buf, lineterminator="\n")
        writer.writerow(columns)
        for row in rows:
            writer.writerow([_cell(row.get(c)) for c in columns])
        click.echo(buf.getvalue(), nl=False)
        return
    shown = _table_rows(len(rows))
    print_table(rows[:shown], columns, display_zone())
    more = (len(rows) if total is None else total) - shown
    if more > 0:
        click.echo(f"… {more} more rows (--all shows every row, --limit N sets how many)")


def json_text(value: Any) -> str:
    """`json.dumps(value, ensure_ascii=False, indent=2, default=str)`, byte for byte, about
    twice as fast on a whole list (10,000 rows): the stdlib indents in pure Python, generator
    by generator, while here every string goes through its C escaper and each container is one
    join. Anything but str/int/None/bool/list/dict goes to json.dumps, re-indented in place."""
    try:
        return _json_text(value, "")
    except TypeError:  # a key json would convert (int, None ...): let it
        return json.dumps(value, ensure_ascii=False, indent=2, default=str)


_LITERALS = {None: "null", True: "true", False: "false"}


def _json_text(value: Any, indent: str) -> str:
    kind = type(value)
    if kind is str:
        return _escape(value)
    if kind is dict:
        if not value:
            return "{}"
        inner = indent + "  "
        items = [_escape(k) + ": " + _json_text(v, inner) for k, v in value.items()]
        return "{\n" + inner + (",\n" + inner).join(items) + "\n" + indent + "}"
    if kind is list:
        if not value:
            return "[]"
        inner = indent + "  "
        items = [_json_text(v, inner) for v in value]
        return "[\n" + inner + (",\n" + inner).join(items) + "\n" + indent + "]"
    if value is None or kind is bool:
        return _LITERALS[value]
    if kind is int:
        return int.__repr__(value)
    text = json.dumps(value, ensure_ascii=False, indent=2, default=str)
    return text.replace("\n", "\n" + indent)


def print_table(rows: Sequence[Mapping[str, Any]], columns: Sequence[str], zone: tzinfo) -> None:
    """A table as wide as the terminal: cells cut with an ellipsis, only the last column wraps."""
    if not rows:
        click.echo("(none)")
        return
    from watcher.cli import table

    width = shutil.get_terminal_size((PIPE_WIDTH, 24)).columns
    cells = [[_display(row.get(c), zone) for c in columns] for row in rows]
    headers = [c.upper() for c in columns]
    widths = column_widths(headers, cells, width - table.overhead(len(headers)))
    click.echo(table.render(headers, cells, widths))


def column_widths(headers: Sequence[str], cells: Sequence[Sequence[str]], budget: int) -> list[int]:
    """Each column's natural width (capped), shrunk widest-first until the row fits in
    `budget`; the last column takes what is left because it wraps instead of being cut."""
    from rich.cells import cell_len

    natural = [
        max([cell_len(h), *(cell_len(row[i]) for row in cells)]) for i, h in enumerate(headers)
    ]
    widths = [min(n, _CAP) for n in natural[:-1]] + [min(natural[-1], 20)]
    for floor in (10, 5):  # dates and keys stay whole while anything wider can give
        while sum(widths) > budget:
            shrinkable = [i for i in range(len(widths) - 1) if widths[i] > floor]
            if not shrinkable:
                break
            widths[max(shrinkable, key=lambda i: widths[i])] -= 1
    widths[-1] = max(min(natural[-1], 10), min(natural[-1], budget - sum(widths[:-1])))
    return widths


_CAP = 48  # no column but the last is wider than this


def display_zone() -> tzinfo:
    """The operator's time zone: `--tz` / $WATCHER_TZ, else the machine's local zone."""
    ctx = click.get_current_context(silent=True)
    app = ctx.find_root().obj if ctx else None
    name = getattr(app, "tz", None)
    if name:
        try:
            return ZoneInfo(name)
        except (ZoneInfoNotFoundError, ValueError) as exc:
            raise click.BadParameter(f"unknown time zone {name!r}", param_hint="--tz") from exc
    return datetime.now().astimezone().tzinfo or UTC


def table_page(fmt: str) -> int | None:
    """The rows a listing shows (None: all of them): a table without --all or --limit shows
    TABLE_ROWS, so a command can fetch only those and count the rest for `emit`'s `total`."""
    if fmt != "table":
        return None
    ctx = click.get_current_context(silent=True)
    if ctx is None or ctx.meta.get("watcher.show_all"):
        return None
    if "limit" in ctx.params and ctx.get_parameter_source("limit") is ParameterSource.COMMANDLINE:
        return None
    return TABLE_ROWS


def _table_rows(available: int) -> int:
    page = table_page("table")
    return available if page is None else min(available, page)


def _cell(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, list | tuple):
        return "; ".join(_cell(v) for v in value)
    if isinstance(value, dict):
        return json.dumps(value, ensure_ascii=False, sort_keys=True)
    return str(value)


def _display(value: Any, zone: tzinfo) -> str:
    """A table cell: dates as dates, times to the second in the operator's zone."""
    if isinstance(value, str) and _ISO.match(value):
        value = datetime.fromisoformat(value.replace("Z", "+00:00"))
    if isinstance(value, datetime):
        return format_time(value, zone)
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, list | tuple):
        return "; ".join(_display(v, zone) for v in value)
    return _cell(value)


def format_time(value: datetime, zone: tzinfo) -> str:
    """Midnight UTC is a list's effective date: shown as that date, not shifted into a zone."""
    aware = value if value.tzinfo else value.replace(tzinfo=UTC)
    utc = aware.astimezone(UTC)
    if (utc.hour, utc.minute, utc.second, utc.microsecond) == (0, 0, 0, 0):
        return utc.date().isoformat()
    return aware.astimezone(zone).strftime("%Y-%m-%d %H:%M:%S")


def _show_all(ctx: click.Context, _param: click.Parameter, value: bool) -> None:
    ctx.meta["watcher.show_all"] = value


def FORMAT_OPTION(func: F) -> F:  # noqa: N802 (used like the click decorators)
    """--format table|json|csv and --all (every row in a table)."""
    func = click.option(
        "--all",
        "show_all",
        is_flag=True,
        expose_value=False,
        callback=_show_all,
        help=f"Table: every row (default: the first {TABLE_ROWS}).",
    )(func)
    return click.option(
        "--format",
        "fmt",
        type=click.Choice(["table", "json", "csv"]),
        default="table",
        show_default=True,
    )(func)


class Progress:
    """A spinner and a status line on stderr, only when stderr is a terminal: never in pipes
    or logs."""

    def __init__(self, label: str) -> None:
        self.label = label
        self._status: Any = None

    def __enter__(self) -> Progress:
        if sys.stderr.isatty():
            from rich.console import Console

            self._status = Console(stderr=True).status(self.label)
            self._status.__enter__()
        return self

    def update(self, label: str) -> None:
        if self._status is not None:
            self._status.update(label)

    def __exit__(self, *exc: object) -> None:
        if self._status is not None:
            self._status.__exit__(*exc)

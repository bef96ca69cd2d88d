"""The listings' own table renderer draws what rich drew (the layout operators know) for the
same cells and widths: compared with rich's rendering on real list names (Latin, CJK, long
remarks, multi-line errors) and seeded random cells."""

from __future__ import annotations

import io
import random

import click
import pytest
from rich import box
from rich.console import Console
from rich.table import Table

from watcher.cli import table

NAMES = [
    "HANGZHOU HIKVISION DIGITAL TECHNOLOGY CO., LTD.",
    "杭州海康威视数字技术股份有限公司",
    "ZAKIR, Shohrat",
    "Xinjiang Public Security Bureau; a.k.a. XPSB",
    "",
    "x",
    "Linked To: XINJIANG PUBLIC SECURITY BUREAU.   Linked To: 新疆生产建设兵团",
    "fetch failed: HTTP 503\nretry in 2 m",
    "a-very-long-identifier-without-any-spaces-at-all-0123456789",
    "  leading and trailing spaces  ",
    "广州 Tiandy 天地伟业技术有限公司 Technologies Co.,Ltd.",
]


def rich_render(headers: list[str], rows: list[list[str]], widths: list[int]) -> str:
    """How output.py drew a table with rich (the settings it used; but cells as written: rich
    read `[...]` as markup and `:x:` as an emoji code in names)."""
    t = Table(box=box.SIMPLE_HEAD, pad_edge=False, show_edge=False, padding=(0, 1, 0, 0))
    for i, (header, w) in enumerate(zip(headers, widths, strict=True)):
        last = i == len(headers) - 1
        t.add_column(header, width=w, no_wrap=not last, overflow="fold" if last else "ellipsis")
    for row in rows:
        t.add_row(*row)
    buf = io.StringIO()
    total = sum(widths) + table.overhead(len(widths))
    Console(
        file=buf, width=total, highlight=False, soft_wrap=False, markup=False, emoji=False
    ).print(t)
    return buf.getvalue()


def ours(headers: list[str], rows: list[list[str]], widths: list[int]) -> str:
    """Without the header's bold (click drops it when stdout is not a terminal)."""
    return click.unstyle(table.render(headers, rows, widths)) + "\n"


@pytest.mark.parametrize("widths", [[6, 10, 12], [1, 3, 1], [20, 48, 30], [5, 5, 40]])
def test_same_as_rich_on_list_names(widths: list[int]) -> None:
    headers = ["ID", "NAME", "REMARKS"]
    rows = [[str(i), name, NAMES[-1 - i]] for i, name in enumerate(NAMES)]
    assert ours(headers, rows, widths) == rich_render(headers, rows, widths)


def test_same_as_rich_on_random_cells() -> None:
    rng = random.Random(14)
    alphabet = "abc XYZ-.,;:   海康威视新疆\n0123"
    for _ in range(300):
        n = rng.randint(1, 5)
        widths = [rng.randint(1, 25) for _ in range(n)]
        headers = ["".join(rng.choices("ABCDEFGH_", k=rng.randint(1, 12))) for _ in range(n)]
        rows = [
            ["".join(rng.choices(alphabet, k=rng.randint(0, 60))) for _ in range(n)]
            for _ in range(rng.randint(1, 4))
        ]
        assert ours(headers, rows, widths) == rich_render(headers, rows, widths), (
            headers,
            rows,
            widths,
        )


def test_overhead_is_what_rich_adds() -> None:
    for n in range(1, 10):
        drawn = rich_render(["x"] * n, [["x"] * n], [1] * n)
        assert max(len(line) for line in drawn.splitlines()) - n == table.overhead(n)


def test_header_is_bold_for_a_terminal() -> None:
    head, rule, row = table.render(["NAME"], [["ZAKIR"]], [6]).splitlines()
    assert head == click.style("NAME   ", bold=True)
    assert rule == "─" * 7 and row == "ZAKIR  "

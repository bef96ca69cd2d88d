"""The plain table the listings print: the layout rich drew for them (columns cut with an
ellipsis, the last one word-wrapped, a rule under the bold header), without importing rich's
console and table (~50 ms of every listing's start-up). tests/cli/test_table.py checks the
output against rich's own rendering of the same table."""

from __future__ import annotations

import re
from collections.abc import Sequence

import click
from rich.cells import cell_len, chop_cells, set_cell_size

OVERHEAD_PER_COLUMN = 2  # one space of padding and one of separator; the last column gets one
_WORD = re.compile(r"\s*\S+\s*")


def overhead(columns: int) -> int:
    """Characters the table adds around `columns` cells of the given widths."""
    return OVERHEAD_PER_COLUMN * columns - 1


def render(headers: Sequence[str], rows: Sequence[Sequence[str]], widths: Sequence[int]) -> str:
    """The table as text, one line per row line, no trailing newline; the header is bold
    (click drops the style when stdout is not a terminal)."""
    # the last column has no separator after it: it gets that cell as room
    room = [*widths[:-1], widths[-1] + 1]
    head = _row(headers, room, bottom=True)
    lines = [click.style(line, bold=True) for line in head]
    lines.append("─" * (sum(room) + OVERHEAD_PER_COLUMN * (len(room) - 1)))
    for row in rows:
        lines.extend(_row(row, room))
    return "\n".join(lines)


def _row(cells: Sequence[str], room: Sequence[int], *, bottom: bool = False) -> list[str]:
    """One row's lines; a cell shorter than the row is blank below (a header cell: above)."""
    last = len(cells) - 1
    columns = [
        _wrap(cell, w) if i == last else _cut(cell, w)
        for i, (cell, w) in enumerate(zip(cells, room, strict=True))
    ]
    height = max(len(c) for c in columns)
    for i, w in enumerate(room):
        blank = [" " * w] * (height - len(columns[i]))
        columns[i] = blank + columns[i] if bottom else columns[i] + blank
    return ["  ".join(parts) for parts in zip(*columns, strict=True)]


def _cut(text: str, width: int) -> list[str]:
    """Each line of the cell, cut with an ellipsis to `width` cells, padded to it."""
    return [_fit(line, width, ellipsis=True) for line in _lines(text)]


def _wrap(text: str, width: int) -> list[str]:
    """Each line of the cell word-wrapped to `width`; a word wider than that is folded."""
    out: list[str] = []
    for line in _lines(text):
        breaks = _breaks(line, width)
        pieces = [line[a:b] for a, b in zip([0, *breaks], [*breaks, len(line)], strict=True)]
        out.extend(_fit(piece, width, ellipsis=False) for piece in pieces)
    return out


def _lines(text: str) -> list[str]:
    return [line.expandtabs(8) for line in text.split("\n")]


def _fit(line: str, width: int, *, ellipsis: bool) -> str:
    """Trailing spaces beyond the width dropped, then cut (with `…`) or padded to it."""
    excess = len(line) - width
    if excess > 0:
        spaces = len(line) - len(line.rstrip())
        line = line[: len(line) - min(spaces, excess)]
    size = cell_len(line)
    if size > width:
        return set_cell_size(line, width - 1) + "…" if ellipsis else set_cell_size(line, width)
    return line + " " * (width - size)


def _breaks(text: str, width: int) -> list[int]:
    """Where to break `text` so each piece fits `width` cells: before the word that does not
    fit, and inside a word wider than a whole line."""
    breaks: list[int] = []
    offset = 0
    for match in _WORD.finditer(text):
        start, word = match.start(), match.group(0)
        length = cell_len(word.rstrip())
        if width - offset >= length:
            offset += cell_len(word)
        elif length > width:
            folded = chop_cells(word, width)
            for i, piece in enumerate(folded):
                if start:
                    breaks.append(start)
                if i == len(folded) - 1:
                    offset = cell_len(piece)
                else:
                    start += len(piece)
        elif offset and start:
            breaks.append(start)
            offset = cell_len(word)
    return breaks

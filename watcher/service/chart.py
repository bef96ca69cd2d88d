"""Changes per day (or month) and per list as stacked bars, laid out for an inline SVG.

Pure geometry: the template writes the SVG, so every label goes through Jinja's escaping.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, timedelta

WIDTH, HEIGHT, TOP, BOTTOM = 720.0, 150.0, 14.0, 20.0
COLORS = ("#1f6f8b", "#c0392b", "#7d5ba6", "#d68910", "#229954", "#5d6d7e", "#a04000")
MAX_SERIES = 6
DAY_BINS_UP_TO = 92


@dataclass(frozen=True)
class Bar:
    x: float
    y: float
    width: float
    height: float
    color: str
    label: str  # "2024-05 SDN: 12"


@dataclass(frozen=True)
class Chart:
    bars: tuple[Bar, ...]
    legend: tuple[tuple[str, str], ...]  # (list code, color)
    ticks: tuple[tuple[float, str], ...]  # (x, bin label)
    peak: int
    unit: str  # "day" / "month"
    total: int
    width: float = WIDTH
    height: float = HEIGHT


def build_chart(counts: Sequence[tuple[str, str, str, int]]) -> Chart | None:
    """From (YYYY-MM-DD, source, list code, n) rows; None when there is nothing to draw."""
    if not counts:
        return None
    days = sorted({d for d, _s, _c, _n in counts})
    monthly = len(days) > 1 and _span_days(days[0], days[-1]) > DAY_BINS_UP_TO
    unit = "month" if monthly else "day"
    totals: dict[str, int] = defaultdict(int)
    cells: dict[tuple[str, str], int] = defaultdict(int)
    for day, _source, code, n in counts:
        totals[code] += n
        cells[(day[:7] if monthly else day, code)] += n
    ranked = sorted(totals, key=lambda c: (-totals[c], c))
    series = ranked[:MAX_SERIES] + (["other"] if len(ranked) > MAX_SERIES else [])
    keep = set(ranked[:MAX_SERIES])
    stacks: dict[str, dict[str, int]] = defaultdict(lambda: defaultdict(int))
    for (bin_, code), n in cells.items():
        stacks[bin_][code if code in keep else "other"] += n
    bins = _all_bins(days[0], days[-1], monthly)
    peak = max(sum(s.values()) for s in stacks.values())
    slot = WIDTH / len(bins)
    scale = (HEIGHT - TOP - BOTTOM) / peak
    color = {code: COLORS[i % len(COLORS)] for i, code in enumerate(series)}
    bars = []
    for i, bin_ in enumerate(bins):
        y = HEIGHT - BOTTOM
        for code in series:
            n = stacks.get(bin_, {}).get(code, 0)
            if not n:
                continue
            h = max(n * scale, 1.0)
            y -= h
            bars.append(
                Bar(round(i * slot, 2), round(y, 2), round(max(slot - 1, 0.6), 2), round(h, 2),
                    color[code], f"{bin_} {code}: {n}")
            )  # fmt: skip
    picks = sorted({0, len(bins) // 2, len(bins) - 1})
    ticks = tuple((round(i * slot + slot / 2, 2), bins[i]) for i in picks)
    total = sum(totals.values())
    return Chart(tuple(bars), tuple((c, color[c]) for c in series), ticks, peak, unit, total)


def _span_days(first: str, last: str) -> int:
    return (date.fromisoformat(last) - date.fromisoformat(first)).days


def _all_bins(first: str, last: str, monthly: bool) -> list[str]:
    """Every bin between the first and last, empty ones too, so time reads left to right."""
    start, end = date.fromisoformat(first), date.fromisoformat(last)
    if not monthly:
        return [(start + timedelta(days=i)).isoformat() for i in range((end - start).days + 1)]
    out = []
    y, m = start.year, start.month
    while (y, m) <= (end.year, end.month):
        out.append(f"{y:04d}-{m:02d}")
        y, m = (y + 1, 1) if m == 12 else (y, m + 1)
    return out

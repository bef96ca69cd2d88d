"""The server-side chart: bins by day up to three months, by month beyond; stacked per list."""

from __future__ import annotations

from watcher.service.chart import HEIGHT, MAX_SERIES, build_chart


def test_nothing_to_draw() -> None:
    assert build_chart([]) is None


def test_daily_bins_stack_lists_and_keep_empty_days() -> None:
    chart = build_chart(
        [
            ("2021-12-10", "ofac_sdn", "SDN", 25),
            ("2021-12-10", "trade_csl", "EL", 5),
            ("2021-12-12", "ofac_sdn", "SDN", 10),
        ]
    )
    assert chart is not None and chart.unit == "day" and chart.peak == 30 and chart.total == 40
    assert [t[1] for t in chart.ticks] == ["2021-12-10", "2021-12-11", "2021-12-12"]
    first_day = [b for b in chart.bars if b.label.startswith("2021-12-10")]
    assert {b.label for b in first_day} == {"2021-12-10 SDN: 25", "2021-12-10 EL: 5"}
    assert sum(b.height for b in first_day) <= HEIGHT
    tallest = max(chart.bars, key=lambda b: b.height)
    assert tallest.label == "2021-12-10 SDN: 25"
    assert dict(chart.legend) == {"SDN": chart.legend[0][1], "EL": chart.legend[1][1]}


def test_monthly_bins_beyond_three_months_and_other_lists_folded() -> None:
    rows = [("2021-05-04", "ofac_sdn", "SDN", 3), ("2024-05-03", "ofac_sdn", "SDN", 900)]
    rows += [("2022-01-01", "trade_csl", f"L{i}", 1) for i in range(MAX_SERIES + 2)]
    chart = build_chart(rows)
    assert chart is not None and chart.unit == "month"
    assert chart.ticks[0][1] == "2021-05" and chart.ticks[-1][1] == "2024-05"
    assert [code for code, _ in chart.legend][-1] == "other"
    assert len(chart.legend) == MAX_SERIES + 1
    assert any(b.label == "2022-01 other: 3" for b in chart.bars)

"""Dates people type (CLI options, API parameters): one reading, a bare date is a whole day."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone

import pytest

from watcher.dates import parse_instant

EST = timezone(timedelta(hours=-5))


@pytest.mark.parametrize(
    ("value", "whole_day", "expected"),
    [
        ("2024-05-03", False, datetime(2024, 5, 3, tzinfo=UTC)),
        ("2024-05-03", True, datetime(2024, 5, 4, tzinfo=UTC)),
        ("2024-05-03T10:30", False, datetime(2024, 5, 3, 10, 30, tzinfo=UTC)),
        ("2024-05-03T10:30", True, datetime(2024, 5, 3, 10, 30, tzinfo=UTC)),
        ("2024-05-03T10:30-05:00", True, datetime(2024, 5, 3, 10, 30, tzinfo=EST)),
    ],
)
def test_parse_instant(value: str, whole_day: bool, expected: datetime) -> None:
    got = parse_instant(value, whole_day=whole_day)
    assert got == expected and got.tzinfo is not None


@pytest.mark.parametrize("value", ["yesterday", "2024-13-01", ""])
def test_bad_dates_name_what_was_expected(value: str) -> None:
    with pytest.raises(ValueError, match="expected an ISO date like 2024-05-03, got"):
        parse_instant(value)

"""Dates given by a person (CLI options, API query parameters): one reading for both shells."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta


def parse_instant(value: str, *, whole_day: bool = False) -> datetime:
    """ISO date or datetime, UTC unless it says otherwise. With `whole_day`, a bare date means
    the end of that day: 'as of 2024-05-04' includes that day's snapshot. ValueError names
    what was expected; each shell adds which option or parameter it came from."""
    try:
        parsed = datetime.fromisoformat(value)
    except ValueError:
        raise ValueError(f"expected an ISO date like 2024-05-03, got {value!r}") from None
    parsed = parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)
    return parsed + timedelta(days=1) if whole_day and len(value) <= 10 else parsed

"""One staleness rule and one list of enabled sources (listing, /readyz, /metrics, incidents)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from watcher.config import settings_from_dict
from watcher.health import enabled_sources, staleness

NOW = datetime(2024, 5, 3, 12, tzinfo=UTC)
BEYOND = "beyond the staleness limit of 3600 s"
SETTINGS = settings_from_dict(
    {
        "sources": {
            "ofac_sdn": {"stale_after": "1h"},
            "trade_csl": {"enabled": False},
            "news": {},
        }
    },
    {},
)


def test_enabled_sources_are_the_configured_ones_not_disabled() -> None:
    assert enabled_sources(SETTINGS) == ["news", "ofac_sdn"]


@pytest.mark.parametrize(
    ("last_success", "expected"),
    [
        (None, "no successful poll yet"),
        (NOW - timedelta(minutes=59), None),
        (NOW - timedelta(hours=1), None),  # at the limit is still fresh
        (
            NOW - timedelta(minutes=61),
            "last success 3660 s ago, beyond the staleness limit of 3600 s",
        ),
    ],
)
def test_staleness(last_success: datetime | None, expected: str | None) -> None:
    assert staleness(SETTINGS, "ofac_sdn", last_success, NOW) == expected

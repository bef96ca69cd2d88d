"""Which sources are watched and when one counts as stale: one rule for the `watcher sources`
listing, `/readyz`, `/metrics` and the operators' "source failing" alert."""

from __future__ import annotations

from datetime import datetime

from watcher.config import Settings


def enabled_sources(settings: Settings) -> list[str]:
    """Sources with a [sources.X] table that is not disabled: what the daemon polls."""
    return sorted(name for name, s in settings.sources.items() if s.enabled)


def staleness(
    settings: Settings, name: str, last_success: datetime | None, now: datetime
) -> str | None:
    """Why a source counts as stale: no success within its staleness limit (None when fresh)."""
    limit = settings.source(name).staleness_limit
    if last_success is None:
        return "no successful poll yet"
    age = (now - last_success).total_seconds()
    if age > limit:
        return f"last success {int(age)} s ago, beyond the staleness limit of {int(limit)} s"
    return None

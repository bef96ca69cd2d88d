"""Helpers shared by integration tests: a Runtime on a given database with given config."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from watcher.config import settings_from_dict
from watcher.runtime import Runtime
from watcher.store import subscribers, watchlist
from watcher.store.engine import make_engine, transaction


def make_runtime(
    db_url: str, config: dict[str, Any] | None = None, env: dict[str, str] | None = None
) -> Runtime:
    data = {"database": {"url": db_url}, **(config or {})}
    settings = settings_from_dict(data, env or {})
    rt = Runtime(settings, make_engine(db_url))
    with transaction(rt.engine) as conn:
        watchlist.sync_watchlist(conn, settings)
        subscribers.sync_subscribers(conn, settings)
    return rt


def at(day: str) -> datetime:
    return datetime.fromisoformat(day).replace(tzinfo=UTC)

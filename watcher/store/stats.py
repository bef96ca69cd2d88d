"""Aggregates that exist for `/metrics`: counts and histograms, one query each.

Histograms come back as cumulative bucket counts (the last one is the total count) and the
sum, ready for Prometheus; the service only names and labels them.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Connection, Float, case, cast, func, select
from sqlalchemy.sql.elements import ColumnElement

from watcher.store.tables import ALERTS, CHANGES, CHECKS, MATCHES


@dataclass(frozen=True)
class Histogram:
    counts: tuple[int, ...]  # cumulative, one per bucket bound, then the total count
    total: float  # the sum of the observed values


def poll_durations(conn: Connection, buckets: Sequence[float]) -> dict[str, Histogram]:
    """Seconds each recorded poll took, per source."""
    seconds = cast(CHECKS.c.duration_ms, Float) / 1000.0
    sources = conn.scalars(select(CHECKS.c.source).distinct().order_by(CHECKS.c.source))
    return {
        name: _histogram(conn, seconds, buckets, CHECKS.c.source == name) for name in list(sources)
    }


def check_counts(conn: Connection) -> list[tuple[str, str, int]]:
    """(source, outcome, polls), sorted."""
    rows = conn.execute(
        select(CHECKS.c.source, CHECKS.c.outcome, func.count()).group_by(
            CHECKS.c.source, CHECKS.c.outcome
        )
    )
    return sorted((s, o, int(n)) for s, o, n in rows)


def change_counts(conn: Connection) -> dict[tuple[str, str], int]:
    """Changes by (source, kind)."""
    rows = conn.execute(
        select(CHANGES.c.source, CHANGES.c.kind, func.count()).group_by(
            CHANGES.c.source, CHANGES.c.kind
        )
    )
    return {(s, k): int(n) for s, k, n in rows}


def match_counts(conn: Connection) -> list[tuple[str, str, int]]:
    """(source, watch kind, matches), sorted."""
    rows = conn.execute(
        select(CHANGES.c.source, MATCHES.c.watch_kind, func.count())
        .join(CHANGES, CHANGES.c.id == MATCHES.c.change_id)
        .group_by(CHANGES.c.source, MATCHES.c.watch_kind)
    )
    return sorted((s, k, int(n)) for s, k, n in rows)


def alert_counts(conn: Connection) -> dict[str, int]:
    """Outbox rows by status."""
    rows = conn.execute(select(ALERTS.c.status, func.count()).group_by(ALERTS.c.status))
    return {status: int(n) for status, n in rows}


def dispatch_latency(conn: Connection, buckets: Sequence[float]) -> Histogram:
    """Seconds from queued to delivered, for sent alerts."""
    seconds = _seconds_between(conn, ALERTS.c.created_at, ALERTS.c.sent_at)
    return _histogram(
        conn, seconds, buckets, ALERTS.c.status == "sent", ALERTS.c.sent_at.is_not(None)
    )


def _histogram(
    conn: Connection, seconds: ColumnElement[Any], buckets: Sequence[float], *where: Any
) -> Histogram:
    """Cumulative bucket counts and the sum, in one aggregate query."""
    columns: list[ColumnElement[Any]] = [
        func.sum(case((seconds <= b, 1), else_=0)) for b in buckets
    ]
    columns += [func.count(), func.coalesce(func.sum(seconds), 0.0)]
    row = conn.execute(select(*columns).where(*where)).one()
    return Histogram(tuple(int(v or 0) for v in row[:-1]), float(row[-1] or 0.0))


def _seconds_between(conn: Connection, start: Any, end: Any) -> ColumnElement[Any]:
    """end - start in seconds, per dialect (SQLite stores ISO text, PostgreSQL timestamptz)."""
    if conn.dialect.name == "postgresql":
        return func.extract("epoch", end - start)
    return (func.julianday(end) - func.julianday(start)) * 86400.0

"""Aggregates that exist for `/metrics`: counts and histograms, one query each.

Histograms come back as cumulative bucket counts (the last one is the total count) and the
sum, ready for Prometheus; the service only names and labels them.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Float, case, cast, func, select
from sqlalchemy.orm import Session
from sqlalchemy.sql.elements import ColumnElement

from watcher.store.tables import AlertRow, ChangeRow, CheckRow, MatchRow


@dataclass(frozen=True)
class Histogram:
    counts: tuple[int, ...]  # cumulative, one per bucket bound, then the total count
    total: float  # the sum of the observed values


def poll_durations(session: Session, buckets: Sequence[float]) -> dict[str, Histogram]:
    """Seconds each recorded poll took, per source."""
    seconds = cast(CheckRow.duration_ms, Float) / 1000.0
    sources = session.scalars(select(CheckRow.source).distinct().order_by(CheckRow.source))
    return {
        name: _histogram(session, seconds, buckets, CheckRow.source == name)
        for name in list(sources)
    }


def check_counts(session: Session) -> list[tuple[str, str, int]]:
    """(source, outcome, polls), sorted."""
    rows = session.execute(
        select(CheckRow.source, CheckRow.outcome, func.count()).group_by(
            CheckRow.source, CheckRow.outcome
        )
    )
    return sorted((s, o, int(n)) for s, o, n in rows)


def change_counts(session: Session) -> dict[tuple[str, str], int]:
    """Changes by (source, kind)."""
    rows = session.execute(
        select(ChangeRow.source, ChangeRow.kind, func.count()).group_by(
            ChangeRow.source, ChangeRow.kind
        )
    )
    return {(s, k): int(n) for s, k, n in rows}


def match_counts(session: Session) -> list[tuple[str, str, int]]:
    """(source, watch kind, matches), sorted."""
    rows = session.execute(
        select(ChangeRow.source, MatchRow.watch_kind, func.count())
        .join(ChangeRow, ChangeRow.id == MatchRow.change_id)
        .group_by(ChangeRow.source, MatchRow.watch_kind)
    )
    return sorted((s, k, int(n)) for s, k, n in rows)


def alert_counts(session: Session) -> dict[str, int]:
    """Outbox rows by status."""
    rows = session.execute(select(AlertRow.status, func.count()).group_by(AlertRow.status))
    return {status: int(n) for status, n in rows}


def dispatch_latency(session: Session, buckets: Sequence[float]) -> Histogram:
    """Seconds from queued to delivered, for sent alerts."""
    seconds = _seconds_between(session, AlertRow.created_at, AlertRow.sent_at)
    return _histogram(
        session, seconds, buckets, AlertRow.status == "sent", AlertRow.sent_at.is_not(None)
    )


def _histogram(
    session: Session, seconds: ColumnElement[Any], buckets: Sequence[float], *where: Any
) -> Histogram:
    """Cumulative bucket counts and the sum, in one aggregate query."""
    columns: list[ColumnElement[Any]] = [
        func.sum(case((seconds <= b, 1), else_=0)) for b in buckets
    ]
    columns += [func.count(), func.coalesce(func.sum(seconds), 0.0)]
    row = session.execute(select(*columns).where(*where)).one()
    return Histogram(tuple(int(v or 0) for v in row[:-1]), float(row[-1] or 0.0))


def _seconds_between(session: Session, start: Any, end: Any) -> ColumnElement[Any]:
    """end - start in seconds, per dialect (SQLite stores ISO text, PostgreSQL timestamptz)."""
    if session.get_bind().dialect.name == "postgresql":
        return func.extract("epoch", end - start)
    return (func.julianday(end) - func.julianday(start)) * 86400.0

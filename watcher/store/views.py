"""Read-only look-ups the web pages need beyond the CLI listings (entity versions, outbox
totals, a cache key for the lists); like every store function they return dataclasses."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import Connection, func, select

from watcher.models import Entry
from watcher.store.records import EntryRecord
from watcher.store.tables import ALERTS, ENTRY_VERSIONS, SNAPSHOTS

_From = SNAPSHOTS.alias("from_snapshot")  # the snapshot that opened a version
_To = SNAPSHOTS.alias("to_snapshot")  # and the one that closed it


@dataclass(frozen=True)
class OutboxCount:
    subscriber: str
    status: str
    count: int
    next_attempt_at: datetime | None
    last_error: str | None


def versions_of(conn: Connection, source: str, key: str) -> list[EntryRecord]:
    """Every stored version of one entry, oldest first."""
    q = (
        select(
            ENTRY_VERSIONS,
            _From.c.effective_at.label("valid_from"),
            _To.c.effective_at.label("valid_to"),
        )
        .join(_From, _From.c.id == ENTRY_VERSIONS.c.valid_from_snapshot)
        .outerjoin(_To, _To.c.id == ENTRY_VERSIONS.c.valid_to_snapshot)
        .where(ENTRY_VERSIONS.c.source == source, ENTRY_VERSIONS.c.key == key)
        .order_by(_From.c.effective_at, ENTRY_VERSIONS.c.id)
    )
    return [
        EntryRecord(Entry.from_dict(row.data), row.id, row.valid_from, row.valid_to)
        for row in conn.execute(q)
    ]


def outbox_counts(conn: Connection) -> list[OutboxCount]:
    """Alerts per subscriber and status, with the next retry and the latest error of each."""
    q = (
        select(
            ALERTS.c.subscriber,
            ALERTS.c.status,
            func.count(),
            func.min(ALERTS.c.next_attempt_at),
            func.max(ALERTS.c.id),
        )
        .group_by(ALERTS.c.subscriber, ALERTS.c.status)
        .order_by(ALERTS.c.subscriber, ALERTS.c.status)
    )
    rows = conn.execute(q).all()
    errors = dict(
        conn.execute(
            select(ALERTS.c.id, ALERTS.c.last_error).where(ALERTS.c.id.in_([r[4] for r in rows]))
        ).all()
    )
    return [
        OutboxCount(sub, status, int(n), nxt if status in ("pending", "failed") else None,
                    errors.get(last))
        for sub, status, n, nxt, last in rows
    ]  # fmt: skip


def lists_stamp(conn: Connection) -> tuple[int, int]:
    """Changes whenever a list may have changed (newest snapshot and version ids): a cache key."""
    newest = conn.scalar(select(func.max(SNAPSHOTS.c.id))) or 0
    version = conn.scalar(select(func.max(ENTRY_VERSIONS.c.id))) or 0
    return int(newest), int(version)

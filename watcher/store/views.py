"""Read-only look-ups the web pages need beyond the CLI listings (entity versions, outbox
totals, a cache key for the lists); like every store function they return dataclasses."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import func, select
from sqlalchemy.orm import Session, aliased

from watcher.models import Entry
from watcher.store.records import EntryRecord
from watcher.store.tables import AlertRow, EntryVersionRow, SnapshotRow

_From = aliased(SnapshotRow)
_To = aliased(SnapshotRow)


@dataclass(frozen=True)
class OutboxCount:
    subscriber: str
    status: str
    count: int
    next_attempt_at: datetime | None
    last_error: str | None


def versions_of(session: Session, source: str, key: str) -> list[EntryRecord]:
    """Every stored version of one entry, oldest first."""
    q = (
        select(EntryVersionRow, _From.effective_at, _To.effective_at)
        .join(_From, _From.id == EntryVersionRow.valid_from_snapshot)
        .outerjoin(_To, _To.id == EntryVersionRow.valid_to_snapshot)
        .where(EntryVersionRow.source == source, EntryVersionRow.key == key)
        .order_by(_From.effective_at, EntryVersionRow.id)
    )
    return [
        EntryRecord(Entry.from_dict(row.data), row.id, valid_from, valid_to)
        for row, valid_from, valid_to in session.execute(q)
    ]


def outbox_counts(session: Session) -> list[OutboxCount]:
    """Alerts per subscriber and status, with the next retry and the latest error of each."""
    q = (
        select(
            AlertRow.subscriber,
            AlertRow.status,
            func.count(),
            func.min(AlertRow.next_attempt_at),
            func.max(AlertRow.id),
        )
        .group_by(AlertRow.subscriber, AlertRow.status)
        .order_by(AlertRow.subscriber, AlertRow.status)
    )
    rows = session.execute(q).all()
    errors = dict(
        session.execute(
            select(AlertRow.id, AlertRow.last_error).where(AlertRow.id.in_([r[4] for r in rows]))
        ).all()
    )
    return [
        OutboxCount(sub, status, int(n), nxt if status in ("pending", "failed") else None,
                    errors.get(last))
        for sub, status, n, nxt, last in rows
    ]  # fmt: skip

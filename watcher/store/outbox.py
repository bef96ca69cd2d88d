"""The alert outbox and the matches behind it: the only code that reads or writes those rows.

Alerts are written in the same transaction as the changes they describe, with a unique
idempotency key per (subscriber, event): a crash before commit loses nothing (the snapshot
is retried), a crash after commit re-sends from the outbox, never twice after success.
Claiming is a lease (`next_attempt_at` pushed ahead); the dispatcher in `alerts/` decides
what to send and when, this module only runs the queries.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import ColumnElement, and_, func, or_, select, true, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from watcher.matching.matcher import Match
from watcher.store.tables import AlertRow, MatchRow

STATUSES = ("pending", "sent", "failed", "dead")


@dataclass(frozen=True)
class Claimed:
    """An alert leased for delivery."""

    id: int
    subscriber: str
    kind: str
    payload: dict[str, Any]
    attempts: int
    created_at: datetime


@dataclass(frozen=True)
class AlertInfo:
    """One outbox row as `watcher alerts list` and `GET /api/alerts` show it."""

    id: int
    subscriber: str
    kind: str
    status: str
    attempts: int
    change_id: int | None
    name: str | None
    created_at: datetime
    sent_at: datetime | None
    last_error: str | None
    key: str

    def to_dict(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "subscriber": self.subscriber,
            "kind": self.kind,
            "status": self.status,
            "attempts": self.attempts,
            "change_id": self.change_id,
            "name": self.name,
            "created_at": self.created_at.isoformat(),
            "sent_at": self.sent_at.isoformat() if self.sent_at else None,
            "last_error": self.last_error,
            "key": self.key,
        }


def add_matches(session: Session, change_id: int, matches: Sequence[Match]) -> None:
    """The watchlist matches found on one stored change."""
    for m in matches:
        session.add(
            MatchRow(
                change_id=change_id,
                watch=m.watch,
                watch_kind=m.kind,
                score=float(m.score),
                method=m.method,
                matched_name=m.matched_name,
                matched_text=m.matched_text,
                tags=list(m.tags),
                reason=m.reason,
            )
        )


def queue_alert(
    session: Session,
    subscriber: str,
    key: str,
    kind: str,
    payload: dict[str, Any],
    now: datetime,
    change_id: int | None = None,
) -> int:
    """Insert one outbox row; an existing key means it is already queued (returns 0)."""
    if session.scalar(select(AlertRow.id).where(AlertRow.idempotency_key == key)) is not None:
        return 0
    try:
        with session.begin_nested():
            session.add(
                AlertRow(
                    subscriber=subscriber,
                    change_id=change_id,
                    idempotency_key=key,
                    kind=kind,
                    payload=payload,
                    status="pending",
                    attempts=0,
                    next_attempt_at=now,
                    created_at=now,
                )
            )
    except IntegrityError:
        return 0
    return 1


def list_alerts(session: Session, status: str | None = None, limit: int = 200) -> list[AlertInfo]:
    """Alerts, newest first."""
    q = select(AlertRow).order_by(AlertRow.id.desc()).limit(limit)
    if status:
        q = q.where(AlertRow.status == status)
    return [
        AlertInfo(
            id=a.id,
            subscriber=a.subscriber,
            kind=a.kind,
            status=a.status,
            attempts=a.attempts,
            change_id=a.change_id,
            name=a.payload.get("name") or a.payload.get("title"),
            created_at=a.created_at,
            sent_at=a.sent_at,
            last_error=a.last_error,
            key=a.idempotency_key,
        )
        for a in session.scalars(q)
    ]


def claim_due(
    session: Session,
    digests: Mapping[str, datetime],
    limit: int,
    now: datetime,
    lease_until: datetime,
    holder: str | None = None,
) -> list[Claimed]:
    """Lease due alerts; `digests` maps digest subscribers to their last boundary (alerts
    created after it are held).

    PostgreSQL: the rows are selected FOR UPDATE SKIP LOCKED, so replicas take disjoint sets
    without waiting. SQLite: the SELECT holds no lock, so two processes may read the same
    rows; each row is claimed by a compare-and-set UPDATE that only succeeds while it is
    still due, so only one of them sends it.
    """
    q = (
        select(
            AlertRow.id,
            AlertRow.subscriber,
            AlertRow.kind,
            AlertRow.payload,
            AlertRow.attempts,
            AlertRow.created_at,
        )
        .where(_due(now), _released(digests))
        .order_by(AlertRow.id)
        .limit(limit)
    )
    if session.get_bind().dialect.name == "postgresql":
        # the rows are locked until commit: one UPDATE leases them all
        rows = session.execute(q.with_for_update(skip_locked=True)).all()
        session.execute(
            update(AlertRow)
            .where(AlertRow.id.in_([r.id for r in rows]))
            .values(next_attempt_at=lease_until, claimed_by=holder)
            .execution_options(synchronize_session=False)
        )
        return [Claimed(*row) for row in rows]
    claimed = []
    for row in session.execute(q).all():
        won = session.execute(
            update(AlertRow)
            .where(AlertRow.id == row.id, _due(now))
            .values(next_attempt_at=lease_until, claimed_by=holder)
            .execution_options(synchronize_session=False)
        )
        if getattr(won, "rowcount", 0) == 1:
            claimed.append(Claimed(*row))
    return claimed


def release_claims(session: Session, host: str, alive: Callable[[int], bool], now: datetime) -> int:
    """Leases held by processes of this host that no longer exist are due again at once
    (a run killed after claiming would otherwise delay its alerts until the lease ran out)."""
    q = select(AlertRow.id, AlertRow.claimed_by).where(
        AlertRow.status.in_(("pending", "failed")),
        AlertRow.next_attempt_at > now,
        AlertRow.claimed_by.like(f"{host}:%"),
    )
    dead = [
        row.id
        for row in session.execute(q)
        if not (pid := row.claimed_by.rsplit(":", 1)[-1]).isdigit() or not alive(int(pid))
    ]
    if dead:
        session.execute(
            update(AlertRow)
            .where(AlertRow.id.in_(dead), AlertRow.next_attempt_at > now)
            .values(next_attempt_at=now, claimed_by=None)
            .execution_options(synchronize_session=False)
        )
    return len(dead)


def count_held(session: Session, digests: Mapping[str, datetime], now: datetime) -> int:
    """Due alerts waiting for their subscriber's next digest time."""
    if not digests:
        return 0
    held = or_(
        *(and_(AlertRow.subscriber == n, AlertRow.created_at >= b) for n, b in digests.items())
    )
    q = select(func.count()).select_from(AlertRow).where(_due(now), held)
    return int(session.scalar(q) or 0)


def update_alert(session: Session, alert_id: int, values: Mapping[str, Any]) -> None:
    """Record one delivery attempt's result (status, attempts, error, next attempt)."""
    session.execute(
        update(AlertRow)
        .where(AlertRow.id == alert_id)
        .values(**{"claimed_by": None, **values})
        .execution_options(synchronize_session=False)
    )


def retry_alerts(session: Session, ids: Sequence[int] | None, now: datetime) -> int:
    """Re-queue dead (or failed) alerts: `watcher alerts retry`."""
    q = update(AlertRow).where(AlertRow.status.in_(("dead", "failed")))
    if ids:
        q = q.where(AlertRow.id.in_(list(ids)))
    result = session.execute(
        q.values(status="pending", attempts=0, next_attempt_at=now, last_error=None)
    )
    return int(getattr(result, "rowcount", 0) or 0)


def _due(now: datetime) -> ColumnElement[bool]:
    return and_(AlertRow.status.in_(("pending", "failed")), AlertRow.next_attempt_at <= now)


def _released(digests: Mapping[str, datetime]) -> ColumnElement[bool]:
    """Not held for a digest: held rows are filtered in SQL so they never use up `limit`."""
    if not digests:
        return true()
    return or_(
        AlertRow.subscriber.not_in(list(digests)),
        *(and_(AlertRow.subscriber == n, AlertRow.created_at < b) for n, b in digests.items()),
    )

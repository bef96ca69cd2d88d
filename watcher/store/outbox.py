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

from sqlalchemy import (
    ColumnElement,
    Connection,
    and_,
    exists,
    func,
    insert,
    or_,
    select,
    true,
    update,
)
from sqlalchemy.exc import IntegrityError

from watcher.matching.matcher import Match
from watcher.store.tables import ALERTS, MATCHES

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


def add_matches(conn: Connection, change_id: int, matches: Sequence[Match]) -> None:
    """The watchlist matches found on one stored change."""
    rows = [
        {
            "change_id": change_id,
            "watch": m.watch,
            "watch_kind": m.kind,
            "score": float(m.score),
            "method": m.method,
            "matched_name": m.matched_name,
            "matched_text": m.matched_text,
            "tags": list(m.tags),
            "reason": m.reason,
        }
        for m in matches
    ]
    if rows:
        conn.execute(insert(MATCHES), rows)


def queue_alert(
    conn: Connection,
    subscriber: str,
    key: str,
    kind: str,
    payload: dict[str, Any],
    now: datetime,
    change_id: int | None = None,
) -> int:
    """Insert one outbox row; an existing key means it is already queued (returns 0)."""
    if conn.scalar(select(ALERTS.c.id).where(ALERTS.c.idempotency_key == key)) is not None:
        return 0
    try:
        with conn.begin_nested():  # a lost race rolls back this insert only
            conn.execute(
                insert(ALERTS).values(
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


def list_alerts(conn: Connection, status: str | None = None, limit: int = 200) -> list[AlertInfo]:
    """Alerts, newest first."""
    q = select(ALERTS).order_by(ALERTS.c.id.desc()).limit(limit)
    if status:
        q = q.where(ALERTS.c.status == status)
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
        for a in conn.execute(q)
    ]


def claim_due(
    conn: Connection,
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
            ALERTS.c.id,
            ALERTS.c.subscriber,
            ALERTS.c.kind,
            ALERTS.c.payload,
            ALERTS.c.attempts,
            ALERTS.c.created_at,
        )
        .where(_due(now), _released(digests), _not_behind_a_failure(now))
        .order_by(ALERTS.c.id)
        .limit(limit)
    )
    if conn.dialect.name == "postgresql":
        # the rows are locked until commit: one UPDATE leases them all
        rows = conn.execute(q.with_for_update(skip_locked=True)).all()
        conn.execute(
            update(ALERTS)
            .where(ALERTS.c.id.in_([r.id for r in rows]))
            .values(next_attempt_at=lease_until, claimed_by=holder)
        )
        return [Claimed(*row) for row in rows]
    claimed = []
    for row in conn.execute(q).all():
        won = conn.execute(
            update(ALERTS)
            .where(ALERTS.c.id == row.id, _due(now))
            .values(next_attempt_at=lease_until, claimed_by=holder)
        )
        if getattr(won, "rowcount", 0) == 1:
            claimed.append(Claimed(*row))
    return claimed


def release_claims(conn: Connection, host: str, alive: Callable[[int], bool], now: datetime) -> int:
    """Leases held by processes of this host that no longer exist are due again at once
    (a run killed after claiming would otherwise delay its alerts until the lease ran out)."""
    q = select(ALERTS.c.id, ALERTS.c.claimed_by).where(
        ALERTS.c.status.in_(("pending", "failed")),
        ALERTS.c.next_attempt_at > now,
        ALERTS.c.claimed_by.like(f"{host}:%"),
    )
    dead = [
        row.id
        for row in conn.execute(q)
        if not (pid := row.claimed_by.rsplit(":", 1)[-1]).isdigit() or not alive(int(pid))
    ]
    if dead:
        conn.execute(
            update(ALERTS)
            .where(ALERTS.c.id.in_(dead), ALERTS.c.next_attempt_at > now)
            .values(next_attempt_at=now, claimed_by=None)
        )
    return len(dead)


def count_held(conn: Connection, digests: Mapping[str, datetime], now: datetime) -> int:
    """Due alerts waiting for their subscriber's next digest time."""
    if not digests:
        return 0
    held = or_(
        *(and_(ALERTS.c.subscriber == n, ALERTS.c.created_at >= b) for n, b in digests.items())
    )
    q = select(func.count()).select_from(ALERTS).where(_due(now), held)
    return int(conn.scalar(q) or 0)


def update_alert(conn: Connection, alert_id: int, values: Mapping[str, Any]) -> None:
    """Record one delivery attempt's result (status, attempts, error, next attempt)."""
    conn.execute(
        update(ALERTS).where(ALERTS.c.id == alert_id).values(**{"claimed_by": None, **values})
    )


def retry_alerts(conn: Connection, ids: Sequence[int] | None, now: datetime) -> int:
    """Re-queue dead (or failed) alerts: `watcher alerts retry`."""
    q = update(ALERTS).where(ALERTS.c.status.in_(("dead", "failed")))
    if ids:
        q = q.where(ALERTS.c.id.in_(list(ids)))
    result = conn.execute(
        q.values(status="pending", attempts=0, next_attempt_at=now, last_error=None)
    )
    return int(getattr(result, "rowcount", 0) or 0)


def _due(now: datetime) -> ColumnElement[bool]:
    return and_(ALERTS.c.status.in_(("pending", "failed")), ALERTS.c.next_attempt_at <= now)


def _not_behind_a_failure(now: datetime) -> ColumnElement[bool]:
    """No earlier alert of the same subscriber is waiting to be retried: its channel is presumed
    down (or asked to wait, Retry-After), so later alerts wait with it instead of each spending
    an attempt, and a subscriber's alerts keep their order."""
    earlier = ALERTS.alias("earlier")
    return ~exists().where(
        earlier.c.subscriber == ALERTS.c.subscriber,
        earlier.c.id < ALERTS.c.id,
        earlier.c.status == "failed",
        earlier.c.next_attempt_at > now,
    )


def _released(digests: Mapping[str, datetime]) -> ColumnElement[bool]:
    """Not held for a digest: held rows are filtered in SQL so they never use up `limit`."""
    if not digests:
        return true()
    return or_(
        ALERTS.c.subscriber.not_in(list(digests)),
        *(and_(ALERTS.c.subscriber == n, ALERTS.c.created_at < b) for n, b in digests.items()),
    )

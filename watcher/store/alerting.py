"""Operator incidents: a source failing or rejected, a dead channel, an FR action not yet in the
CSL. Each opens once and alerts the operators channel once (and once more on recovery)."""

from __future__ import annotations

import logging
from datetime import datetime

from sqlalchemy import Connection, insert, select, update

from watcher.config import Settings
from watcher.health import staleness
from watcher.store.outbox import queue_alert
from watcher.store.records import SourceState
from watcher.store.tables import INCIDENTS, SOURCE_STATE

log = logging.getLogger(__name__)
OPERATORS = "__operators__"


def open_incident(
    conn: Connection,
    settings: Settings,
    key: str,
    *,
    source: str | None,
    kind: str,
    title: str,
    detail: str,
    now: datetime,
) -> bool:
    """Open an operator incident and alert once; an already-open incident stays quiet."""
    row = conn.execute(select(INCIDENTS.c.closed_at).where(INCIDENTS.c.key == key)).first()
    if row is not None and row.closed_at is None:
        return False
    if row is None:
        conn.execute(
            insert(INCIDENTS).values(
                key=key, source=source, kind=kind, detail=detail, opened_at=now
            )
        )
    else:
        conn.execute(
            update(INCIDENTS)
            .where(INCIDENTS.c.key == key)
            .values(kind=kind, detail=detail, opened_at=now, closed_at=None)
        )
    log.warning("operator incident: %s: %s", title, detail)
    if not (settings.operators.url_env or settings.operators.url_file):
        return True  # no operators channel configured: the log line above is all there is
    payload = {
        "kind": kind,
        "source": source,
        "title": title,
        "detail": detail,
        "occurred_at": now.isoformat(),
    }
    queue_alert(conn, OPERATORS, f"{OPERATORS}:{key}:{now.isoformat()}", "operator", payload, now)
    return True


def close_incident(
    conn: Connection, settings: Settings, key: str, *, now: datetime, recovered: bool
) -> bool:
    row = conn.execute(
        select(INCIDENTS).where(INCIDENTS.c.key == key, INCIDENTS.c.closed_at.is_(None))
    ).first()
    if row is None:
        return False
    conn.execute(update(INCIDENTS).where(INCIDENTS.c.id == row.id).values(closed_at=now))
    if (
        recovered
        and key.startswith("failing:")
        and (settings.operators.url_env or settings.operators.url_file)
    ):
        payload = {
            "kind": "source_recovered",
            "source": row.source,
            "title": f"{row.source}: recovered",
            "detail": f"polling works again (failing since {row.opened_at.isoformat()})",
            "occurred_at": now.isoformat(),
        }
        queue_alert(
            conn,
            OPERATORS,
            f"{OPERATORS}:{key}:closed:{now.isoformat()}",
            "operator",
            payload,
            now,
        )
    return True


def close_recovered(conn: Connection, settings: Settings, now: datetime) -> int:
    """Close `failing:` incidents of sources that have polled successfully since they opened.

    Poll paths close their own incidents; this catches one that does not (an unchanged
    download after an outage), so each recovery is announced, once."""
    state = SOURCE_STATE.c
    rows = conn.execute(
        select(
            INCIDENTS.c.key,
            INCIDENTS.c.opened_at,
            state.consecutive_failures,
            state.last_success_at,
        )
        .join(SOURCE_STATE, state.source == INCIDENTS.c.source)
        .where(INCIDENTS.c.key.like("failing:%"), INCIDENTS.c.closed_at.is_(None))
        .order_by(INCIDENTS.c.id)
    ).all()
    closed = 0
    for row in rows:
        if (
            row.consecutive_failures == 0
            and row.last_success_at is not None
            and row.last_success_at >= row.opened_at
        ):
            closed += close_incident(conn, settings, row.key, now=now, recovered=True)
    return closed


def check_failing(conn: Connection, settings: Settings, state: SourceState, now: datetime) -> bool:
    """A source failing longer than its staleness limit raises one operator alert."""
    stale = staleness(settings, state.source, state.last_success_at, now) is not None
    if state.consecutive_failures >= 3 and stale:
        return open_incident(
            conn,
            settings,
            f"failing:{state.source}",
            source=state.source,
            kind="source_failing",
            title=f"{state.source}: failing",
            detail=f"{state.consecutive_failures} failed polls; last error: {state.last_error}",
            now=now,
        )
    return False

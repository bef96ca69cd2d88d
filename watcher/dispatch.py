"""The outbox dispatcher: claim due alerts, render, deliver through apprise, record the result.

Delivery is at-least-once: an alert is claimed with a lease (next_attempt_at pushed ahead),
sent, then marked `sent`. A crash between send and mark re-sends after the lease; a confirmed
send is never repeated. Failures back off exponentially with jitter and become `dead` after
`alerts.max_attempts`. Each subscriber is served by its own worker, so one slow or failing
channel never delays the others.
"""

from __future__ import annotations

import logging
import random
from collections import defaultdict
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from datetime import datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from watcher import notify
from watcher.config import Settings, SubscriberSettings, resolve_secret
from watcher.pipeline import Runtime
from watcher.store import alerting
from watcher.store.engine import transaction
from watcher.store.tables import AlertRow

log = logging.getLogger(__name__)
LEASE = timedelta(minutes=5)


@dataclass(frozen=True)
class DispatchSummary:
    sent: int = 0
    failed: int = 0
    dead: int = 0
    held: int = 0

    def __add__(self, other: DispatchSummary) -> DispatchSummary:
        return DispatchSummary(
            self.sent + other.sent,
            self.failed + other.failed,
            self.dead + other.dead,
            self.held + other.held,
        )


@dataclass(frozen=True)
class Claimed:
    id: int
    subscriber: str
    kind: str
    payload: dict[str, Any]
    attempts: int
    created_at: datetime


def dispatch_pending(
    rt: Runtime, limit: int = 1000, now: datetime | None = None
) -> DispatchSummary:
    """Send every due alert once; returns counts."""
    now = now or rt.clock()
    with transaction(rt.sessions) as session:
        subs = {s.name: s for s in alerting.subscribers(session)}
    claimed = claim_due(rt, subs, limit, now)
    by_sub: dict[str, list[Claimed]] = defaultdict(list)
    for alert in claimed:
        by_sub[alert.subscriber].append(alert)
    if not by_sub:
        return DispatchSummary()
    total = DispatchSummary()
    with ThreadPoolExecutor(max_workers=min(8, len(by_sub))) as pool:
        futures = [
            pool.submit(_serve_subscriber, rt, name, subs.get(name), alerts, now)
            for name, alerts in by_sub.items()
        ]
        for f in futures:
            total = total + f.result()
    return total


def claim_due(
    rt: Runtime, subs: dict[str, SubscriberSettings], limit: int, now: datetime
) -> list[Claimed]:
    """Lease due alerts; SKIP LOCKED lets replicas share the outbox without double sends."""
    with transaction(rt.sessions) as session:
        q = (
            select(AlertRow)
            .where(AlertRow.status.in_(("pending", "failed")), AlertRow.next_attempt_at <= now)
            .order_by(AlertRow.id)
            .limit(limit)
        )
        if session.get_bind().dialect.name == "postgresql":
            q = q.with_for_update(skip_locked=True)
        rows = list(session.scalars(q))
        claimed = []
        for row in rows:
            sub = subs.get(row.subscriber)
            if (
                sub is not None
                and sub.mode == "digest"
                and row.created_at >= last_digest_boundary(sub, now)
            ):
                continue  # held until the subscriber's next digest time
            row.next_attempt_at = now + LEASE
            claimed.append(
                Claimed(
                    row.id,
                    row.subscriber,
                    row.kind,
                    dict(row.payload),
                    row.attempts,
                    row.created_at,
                )
            )
    return claimed


def last_digest_boundary(sub: SubscriberSettings, now: datetime) -> datetime:
    """The most recent digest time at or before `now` ('08:00 America/New_York')."""
    spec = (sub.digest_at or "08:00 UTC").split()
    hour, minute = (int(x) for x in spec[0].split(":"))
    zone = ZoneInfo(spec[1] if len(spec) > 1 else "UTC")
    local = now.astimezone(zone)
    boundary = datetime.combine(local.date(), time(hour, minute), zone)
    if boundary > local:
        boundary -= timedelta(days=1)
    return boundary


def _serve_subscriber(
    rt: Runtime, name: str, sub: SubscriberSettings | None, alerts: Sequence[Claimed], now: datetime
) -> DispatchSummary:
    url = _url_for(rt.settings, name, sub)
    if sub is not None and sub.mode == "digest":
        return _send_digest(rt, name, url, alerts, now)
    summary = DispatchSummary()
    for alert in alerts:
        ok, error = _deliver(rt.settings, url, [alert], name)
        summary = summary + _record(rt, [alert], ok, error, now)
    return summary


def _url_for(settings: Settings, name: str, sub: SubscriberSettings | None) -> str | None:
    if name == alerting.OPERATORS:
        return resolve_secret(settings.operators.url_env, settings.operators.url_file)
    if sub is None:
        return None
    return resolve_secret(sub.url_env, sub.url_file)


def _send_digest(
    rt: Runtime, name: str, url: str | None, alerts: Sequence[Claimed], now: datetime
) -> DispatchSummary:
    ok, error = _deliver(rt.settings, url, alerts, name, digest=True)
    return _record(rt, alerts, ok, error, now)


def _deliver(
    settings: Settings, url: str | None, alerts: Sequence[Claimed], name: str, digest: bool = False
) -> tuple[bool, str | None]:
    if not url:
        where = (
            "[operators] url_env/url_file"
            if name == alerting.OPERATORS
            else f"subscriber {name!r}: url_env/url_file"
        )
        return False, f"no apprise URL configured or found ({where})"
    templates = settings.alerts.templates_dir
    try:
        if digest:
            events = [alert_event(a.payload) for a in alerts]
            rendered = notify.render_digest(
                events, f"{len(events)} changes", templates_dir=templates
            )
        elif alerts[0].kind == "operator":
            rendered = notify.render_operator(
                operator_event(alerts[0].payload), templates_dir=templates
            )
        else:
            rendered = notify.render_alert(alert_event(alerts[0].payload), templates_dir=templates)
        result = notify.deliver(url, rendered)
    except Exception as exc:  # noqa: BLE001 - a template or plugin bug must not stop the outbox
        return False, f"{type(exc).__name__}: {notify.redact(str(exc))}"
    return result.ok, result.error


def alert_event(payload: dict[str, Any]) -> notify.AlertEvent:
    """The outbox payload (frozen at queue time) back into the renderer's event."""
    p = dict(payload)
    for key in ("aliases", "programs", "addresses", "field_changes", "matches"):
        p[key] = tuple(p.get(key) or ())
    p["detected_at"] = datetime.fromisoformat(p["detected_at"])
    fields = notify.AlertEvent.__dataclass_fields__
    return notify.AlertEvent(**{k: v for k, v in p.items() if k in fields})


def operator_event(payload: dict[str, Any]) -> notify.OperatorEvent:
    return notify.OperatorEvent(
        kind=str(payload.get("kind")),
        source=str(payload.get("source") or "watcher"),
        title=str(payload.get("title")),
        detail=str(payload.get("detail")),
        occurred_at=datetime.fromisoformat(payload["occurred_at"]),
    )


def test_event(subscriber: str, now: datetime) -> notify.AlertEvent:
    """What `watcher subscribers test` sends: clearly a test, shaped like a real alert."""
    return notify.AlertEvent(
        id=f"test:{subscriber}:{now.isoformat()}",
        kind="test",
        source="watcher",
        list_code="TEST",
        list_name="watcher test message",
        key="test",
        name=f"Test alert for subscriber {subscriber}",
        source_url="https://ofac.treasury.gov/recent-actions",
        detected_at=now,
        remarks="If you can read this, the channel works.",
    )


def _record(
    rt: Runtime, alerts: Sequence[Claimed], ok: bool, error: str | None, now: datetime
) -> DispatchSummary:
    max_attempts = rt.settings.alerts.max_attempts
    sent = failed = dead = 0
    with transaction(rt.sessions) as session:
        for alert in alerts:
            attempts = alert.attempts + 1
            if ok:
                values: dict[str, Any] = {
                    "status": "sent",
                    "sent_at": rt.clock(),
                    "attempts": attempts,
                    "last_error": None,
                }
                sent += 1
            elif attempts >= max_attempts:
                values = {"status": "dead", "attempts": attempts, "last_error": error}
                dead += 1
                _dead_incident(session, rt.settings, alert, error, now)
            else:
                values = {
                    "status": "failed",
                    "attempts": attempts,
                    "last_error": error,
                    "next_attempt_at": now + backoff(rt.settings, attempts),
                }
                failed += 1
            session.execute(update(AlertRow).where(AlertRow.id == alert.id).values(**values))
    if not ok:
        log.warning(
            "delivery failed",
            extra={"subscriber": alerts[0].subscriber, "alerts": len(alerts), "error": error},
        )
    return DispatchSummary(sent, failed, dead)


def backoff(settings: Settings, attempts: int) -> timedelta:
    base = min(settings.alerts.backoff * 2 ** (attempts - 1), settings.alerts.max_backoff)
    return timedelta(seconds=base * random.uniform(0.8, 1.2))


def _dead_incident(
    session: Session, settings: Settings, alert: Claimed, error: str | None, now: datetime
) -> None:
    if alert.subscriber == alerting.OPERATORS:
        return  # the operators channel itself is broken: nobody to tell but the log
    alerting.open_incident(
        session,
        settings,
        f"dead:{alert.subscriber}",
        source=None,
        kind="dead_alerts",
        title=f"alerts to {alert.subscriber} are dead",
        detail=f"alert {alert.id} gave up after {alert.attempts + 1} attempts: {error}. "
        "Re-queue with `watcher alerts retry`.",
        now=now,
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

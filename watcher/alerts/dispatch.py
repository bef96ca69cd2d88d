"""The outbox dispatcher: claim due alerts, render, deliver through apprise, record the result.

Delivery is at-least-once: an alert is claimed with a lease (next_attempt_at pushed ahead by a
compare-and-set UPDATE, so two processes never claim one row), sent, then marked `sent`. A
crash between send and mark re-sends after the lease; a confirmed send is never repeated.
Failures back off exponentially with jitter and become `dead` after `alerts.max_attempts`
(operators hear once per dead channel). Each subscriber is served by its own worker, so one
slow or failing channel never delays the others; after one failure a channel gets no more
attempts in that pass, so a dead endpoint costs one timeout per backoff period, not one per
alert, and alerts queued for it later wait behind the failed one (store/outbox: a
subscriber's alerts keep their order). A channel that says when to come back (Retry-After on a
429/503 from a `slack+http(s)://` endpoint) is not tried before then: the worker never sleeps,
the alerts wait in the outbox.
Digest subscribers' alerts are held in SQL until their `digest_at` boundary, then sent as one
message.

Every transaction here takes the process's SQLite turn (store.locks.sqlite_turn), as polls do,
so the dispatcher thread of `watcher serve` waits for an ingest instead of failing with
"database is locked"; a delivery itself never holds the turn, so a slow channel never stalls
an ingest.
"""

from __future__ import annotations

import logging
import random
from collections import defaultdict
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, replace
from datetime import datetime, timedelta
from time import monotonic
from typing import Any

from sqlalchemy import Connection

from watcher.alerts import notify
from watcher.alerts.notify import DeliveryResult
from watcher.config import Settings, SubscriberSettings, parse_digest_at, resolve_secret
from watcher.runtime import Runtime
from watcher.store import alerting, locks, outbox, subscribers
from watcher.store.engine import retry_transient, transaction
from watcher.store.locks import process_alive
from watcher.store.outbox import Claimed

log = logging.getLogger(__name__)
LEASE = timedelta(minutes=5)  # a claimed alert is not claimed again before this runs out
LEASE_MARGIN = timedelta(seconds=45)  # stop sending a claim this long before its lease ends
MAX_WORKERS = 32  # subscribers served at once; each has its own worker
DEFAULT_DIGEST_AT = "08:00 UTC"
# Recording a sent alert is retried after these waits (seconds) before giving up: if it is lost
# the alert is sent again when its lease runs out.
RECORD_RETRY_WAITS = (0.1, 0.5, 2.0)


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


def dispatch_pending(
    rt: Runtime, limit: int = 1000, now: datetime | None = None
) -> DispatchSummary:
    """Send every due alert once; returns counts. Never call it holding the SQLite turn: its
    workers take it to record results."""
    now = now or rt.clock()
    started = monotonic()
    with locks.sqlite_turn(rt.engine), transaction(rt.engine) as conn:
        host = rt.holder.rsplit(":", 1)[0]
        released = outbox.release_claims(conn, host, process_alive, now)
        if released:
            log.warning("released %d alert leases of dead processes", released)
        alerting.close_recovered(conn, rt.settings, now)
        subs = {s.name: s for s in subscribers.subscribers(conn)}
        held = outbox.count_held(conn, _boundaries(subs, now), now)
    claimed = claim_due(rt, subs, limit, now)
    by_sub: dict[str, list[Claimed]] = defaultdict(list)
    for alert in claimed:
        by_sub[alert.subscriber].append(alert)
    if not by_sub:
        return DispatchSummary(held=held)
    total = DispatchSummary(held=held)
    with ThreadPoolExecutor(max_workers=min(MAX_WORKERS, len(by_sub))) as pool:
        futures = [
            pool.submit(_serve_subscriber, rt, name, subs.get(name), alerts, now, started)
            for name, alerts in by_sub.items()
        ]
        for f in futures:
            total = total + f.result()
    return total


def claim_due(
    rt: Runtime, subs: dict[str, SubscriberSettings], limit: int, now: datetime
) -> list[Claimed]:
    """Lease due alerts (digest alerts only once their boundary has passed)."""
    with locks.sqlite_turn(rt.engine), transaction(rt.engine) as conn:
        return outbox.claim_due(conn, _boundaries(subs, now), limit, now, now + LEASE, rt.holder)


def _boundaries(subs: dict[str, SubscriberSettings], now: datetime) -> dict[str, datetime]:
    return {n: last_digest_boundary(s, now) for n, s in subs.items() if s.mode == "digest"}


def last_digest_boundary(sub: SubscriberSettings, now: datetime) -> datetime:
    """The most recent digest time at or before `now` ('08:00 America/New_York')."""
    try:
        at, zone = parse_digest_at(sub.digest_at or DEFAULT_DIGEST_AT)
    except ValueError:
        # config refuses a bad digest_at at load; one stored by an older version must still
        # not stop the outbox for everyone
        log.warning(
            "invalid digest_at %r for %s; using %s", sub.digest_at, sub.name, DEFAULT_DIGEST_AT
        )
        return last_digest_boundary(replace(sub, digest_at=DEFAULT_DIGEST_AT), now)
    local = now.astimezone(zone)
    boundary = datetime.combine(local.date(), at, zone)
    if boundary > local:
        boundary = datetime.combine(local.date() - timedelta(days=1), at, zone)
    return boundary


def _serve_subscriber(
    rt: Runtime,
    name: str,
    sub: SubscriberSettings | None,
    alerts: Sequence[Claimed],
    now: datetime,
    started: float,
) -> DispatchSummary:
    """Deliver one subscriber's alerts in order, recording each result as soon as it is known.
    After a failure the channel is presumed down: the rest wait for the failed alert's retry
    time instead of each waiting for its own timeout (they keep their attempt counts).
    `started`: monotonic time of `now`, so a Retry-After counts from when the channel said it."""
    url = _url_for(rt.settings, name, sub)
    if sub is not None and sub.mode == "digest":
        label = last_digest_boundary(sub, now).strftime("%Y-%m-%d %H:%M %Z")
        result = _deliver(rt.settings, url, alerts, name, digest_label=label)
        outcomes = _outcomes(rt, alerts, result, now, _elapsed(now, started))
        return _record(rt, outcomes, reopened=result.ok)
    # Stop sending before the lease runs out: after it, another replica may claim the rest.
    deadline = started + (LEASE - LEASE_MARGIN).total_seconds()
    summary = DispatchSummary()
    for i, alert in enumerate(alerts):
        if monotonic() > deadline:
            break  # the rest keep their lease and are claimed again when it runs out
        result = _deliver(rt.settings, url, [alert], name)
        if not result.ok:
            answered = _elapsed(now, started)
            attempts = alert.attempts + 1
            retry_at = retry_time(rt.settings, attempts, now, result.retry_after, answered)
            outcomes = _outcomes(rt, [alert], result, now, answered, retry_at)
            outcomes += [_Outcome(a, {"next_attempt_at": retry_at}) for a in alerts[i + 1 :]]
            return summary + _record(rt, outcomes)
        outcomes = _outcomes(rt, [alert], result, now, now)
        summary = summary + _record(rt, outcomes, reopened=not summary.sent)
    return summary


def _elapsed(now: datetime, started: float) -> datetime:
    """`now` moved on by the time this pass has taken (on the caller's clock, real or not)."""
    return now + timedelta(seconds=monotonic() - started)


def retry_time(
    settings: Settings,
    attempts: int,
    now: datetime,
    retry_after: float | None = None,
    answered: datetime | None = None,
) -> datetime:
    """When a failed alert may be tried again: after its backoff, or later if the channel said
    when (Retry-After seconds, counted from its answer, capped at alerts.max_backoff)."""
    at = now + backoff(settings, attempts)
    if retry_after is not None:
        wait = timedelta(seconds=min(retry_after, settings.alerts.max_backoff))
        at = max(at, (answered or now) + wait)
    return at


def _url_for(settings: Settings, name: str, sub: SubscriberSettings | None) -> str | None:
    if name == alerting.OPERATORS:
        return resolve_secret(settings.operators.url_env, settings.operators.url_file)
    if sub is None:
        return None
    return resolve_secret(sub.url_env, sub.url_file)


def _deliver(
    settings: Settings,
    url: str | None,
    alerts: Sequence[Claimed],
    name: str,
    digest_label: str | None = None,
) -> DeliveryResult:
    if not url:
        where = (
            "[operators] url_env/url_file"
            if name == alerting.OPERATORS
            else f"subscriber {name!r}: url_env/url_file"
        )
        return DeliveryResult(False, f"no apprise URL configured or found ({where})")
    templates = settings.alerts.templates_dir
    try:
        if digest_label is not None:
            events = [alert_event(a.payload) for a in alerts]
            rendered = notify.render_digest(events, digest_label, templates_dir=templates)
        elif alerts[0].kind == "operator":
            rendered = notify.render_operator(
                operator_event(alerts[0].payload), templates_dir=templates
            )
        else:
            rendered = notify.render_alert(alert_event(alerts[0].payload), templates_dir=templates)
        result = notify.deliver(url, rendered)
    except Exception as exc:  # noqa: BLE001 - a template or plugin bug must not stop the outbox
        return DeliveryResult(False, f"{type(exc).__name__}: {notify.redact(str(exc))}")
    cap = settings.alerts.max_backoff
    if result.retry_after is not None and result.retry_after > cap and result.error:
        result = replace(result, error=f"{result.error} (waiting alerts.max_backoff, {cap:.0f} s)")
    return result


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


@dataclass(frozen=True)
class _Outcome:
    """The row update one delivery attempt (or deferral) needs."""

    alert: Claimed
    values: dict[str, Any]
    dead: bool = False


def _outcomes(
    rt: Runtime,
    alerts: Sequence[Claimed],
    result: DeliveryResult,
    now: datetime,
    answered: datetime,
    retry_at: datetime | None = None,
) -> list[_Outcome]:
    """Row updates for one attempt; a failed alert is due again at `retry_at`, or at its own
    `retry_time`."""
    settings, ok, error = rt.settings, result.ok, result.error
    out = []
    for alert in alerts:
        attempts = alert.attempts + 1
        if ok:
            values: dict[str, Any] = {
                "status": "sent",
                "sent_at": rt.clock(),
                "attempts": attempts,
                "last_error": None,
            }
        elif attempts >= settings.alerts.max_attempts:
            values = {"status": "dead", "attempts": attempts, "last_error": error}
        else:
            values = {
                "status": "failed",
                "attempts": attempts,
                "last_error": error,
                "next_attempt_at": retry_at
                or retry_time(settings, attempts, now, result.retry_after, answered),
            }
        out.append(_Outcome(alert, values, dead=values["status"] == "dead"))
    if not ok:
        log.warning(
            "delivery failed",
            extra={"subscriber": alerts[0].subscriber, "alerts": len(alerts), "error": error},
        )
    return out


def _record(rt: Runtime, outcomes: Sequence[_Outcome], reopened: bool = False) -> DispatchSummary:
    """Write results at once: the window in which a crash re-sends a confirmed message is
    one commit long. `reopened`: the channel works, so a later outage alerts operators again.
    A confirmed send whose record fails on a database error (locked by another process, a
    lost connection) is recorded again after short waits: losing it means a duplicate."""
    sent = [o.alert.id for o in outcomes if o.values.get("status") == "sent"]
    if not sent:
        return _write(rt, outcomes, reopened)
    try:
        return retry_transient(
            lambda: _write(rt, outcomes, reopened),
            RECORD_RETRY_WAITS,
            f"recording sent alerts {sent}",
        )
    except Exception:
        log.error(
            "alerts %s were delivered but their success could not be recorded: they will be "
            "sent again when their lease runs out (a duplicate)",
            sent,
            exc_info=True,
        )
        raise


def _write(rt: Runtime, outcomes: Sequence[_Outcome], reopened: bool) -> DispatchSummary:
    settings, now = rt.settings, rt.clock()
    counts = {"sent": 0, "failed": 0, "dead": 0}
    with locks.sqlite_turn(rt.engine), transaction(rt.engine) as conn:
        for o in outcomes:
            outbox.update_alert(conn, o.alert.id, o.values)
            status = str(o.values.get("status"))
            counts[status] = counts.get(status, 0) + 1
            if o.dead:
                _dead_incident(conn, settings, o.alert, o.values["last_error"], now)
        if reopened and outcomes:
            key = f"dead:{outcomes[0].alert.subscriber}"
            alerting.close_incident(conn, settings, key, now=now, recovered=False)
    return DispatchSummary(counts["sent"], counts["failed"], counts["dead"])


def backoff(settings: Settings, attempts: int) -> timedelta:
    base = min(settings.alerts.backoff * 2 ** (attempts - 1), settings.alerts.max_backoff)
    return timedelta(seconds=base * random.uniform(0.8, 1.2))


def _dead_incident(
    conn: Connection, settings: Settings, alert: Claimed, error: str | None, now: datetime
) -> None:
    """One operator alert per dead channel, until a send to it succeeds again."""
    if alert.subscriber == alerting.OPERATORS:
        return  # the operators channel itself is broken: nobody to tell but the log
    alerting.open_incident(
        conn,
        settings,
        f"dead:{alert.subscriber}",
        source=None,
        kind="dead_alerts",
        title=f"alerts to {alert.subscriber} are dead",
        detail=f"alert {alert.id} gave up after {alert.attempts + 1} attempts: {error}. "
        "Re-queue with `watcher alerts retry`.",
        now=now,
    )

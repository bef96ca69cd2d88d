"""Watchlist sync, matching of stored changes, the alert outbox and operator incidents.

Alerts are written in the same transaction as the changes they describe, with a unique
idempotency key per (subscriber, event): a crash before commit loses nothing (the snapshot
is retried), a crash after commit re-sends from the outbox, never twice after success.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from watcher.config import Settings, SubscriberSettings
from watcher.models import Change, WatchEntity
from watcher.store.tables import (
    AlertRow,
    IncidentRow,
    MatchRow,
    SourceStateRow,
    SubscriberRow,
    WatchEntityRow,
)

log = logging.getLogger(__name__)
OPERATORS = "__operators__"
LIST_NAMES = {
    ("ofac_sdn", "SDN"): "OFAC SDN list",
    ("trade_csl", "EL"): "BIS Entity List (via the Consolidated Screening List)",
    ("ecfr_entity_list", "EL"): "BIS Entity List (eCFR, 15 CFR 744 Supp. 4)",
    ("federal_register", "EL"): "BIS Entity List (Federal Register rule)",
    ("federal_register", "FR"): "Federal Register",
    ("news", "NEWS"): "news",
}


def list_name(source: str, list_code: str) -> str:
    if (source, list_code) in LIST_NAMES:
        return LIST_NAMES[(source, list_code)]
    if source == "ofac_consolidated":
        return f"OFAC Consolidated (non-SDN) list: {list_code}"
    if source == "trade_csl":
        return f"Consolidated Screening List: {list_code}"
    return f"{source} {list_code}"


def sync_watchlist(session: Session, settings: Settings) -> int:
    """Config and bundled entries into the table; CLI-added entries are left alone."""
    from watcher.matching.matcher import load_default_watchlist

    wanted: dict[str, tuple[WatchEntity, str]] = {}
    if settings.include_default_watchlist:
        entities, _topics = load_default_watchlist()
        wanted.update((e.name, (e, "default")) for e in entities)
    for w in settings.watchlist:
        wanted[w.name] = (w, "config")
    existing = {r.name: r for r in session.scalars(select(WatchEntityRow))}
    for name, row in existing.items():
        if row.origin in ("config", "default") and name not in wanted:
            session.delete(row)
    for name, (w, origin) in wanted.items():
        found = existing.get(name)
        if found is not None and found.origin == "cli":
            continue
        row = found or WatchEntityRow(name=name)
        if found is None:
            session.add(row)
        row.aliases, row.tags, row.country = list(w.aliases), list(w.tags), w.country
        row.entity_type, row.notes, row.origin = w.entity_type, w.notes, origin
    session.flush()
    return len(wanted)


def sync_subscribers(session: Session, settings: Settings) -> None:
    existing = {r.name: r for r in session.scalars(select(SubscriberRow))}
    names = {s.name for s in settings.subscribers}
    for name, row in existing.items():
        if row.origin == "config" and name not in names:
            session.delete(row)
    for s in settings.subscribers:
        row = existing.get(s.name) or SubscriberRow(name=s.name)
        if row not in existing.values():
            session.add(row)
        row.url_env, row.url_file, row.mode, row.digest_at = (
            s.url_env,
            s.url_file,
            s.mode,
            s.digest_at,
        )
        row.filters = {
            "tags": list(s.tags),
            "sources": list(s.sources),
            "kinds": list(s.kinds),
            "min_score": s.min_score,
        }
        row.origin = "config"
    session.flush()


def subscribers(session: Session) -> list[SubscriberSettings]:
    out = []
    for r in session.scalars(select(SubscriberRow).order_by(SubscriberRow.name)):
        f = r.filters or {}
        out.append(
            SubscriberSettings(
                name=r.name,
                url_env=r.url_env,
                url_file=r.url_file,
                tags=tuple(f.get("tags", ())),
                sources=tuple(f.get("sources", ())),
                kinds=tuple(f.get("kinds", ())),
                min_score=float(f.get("min_score", 0.0)),
                mode=r.mode,
                digest_at=r.digest_at,
            )
        )
    return out


def build_matcher(session: Session, settings: Settings) -> Any:
    from watcher.matching.matcher import build_matcher, load_default_watchlist

    _entities, topics = load_default_watchlist()
    return build_matcher(
        watch_entities(session),
        topics if settings.include_default_watchlist else [],
        threshold=settings.match.threshold,
    )


def watch_entities(session: Session) -> list[WatchEntity]:
    """The tracked entities as stored (config, bundled and CLI-added), by name."""
    rows = session.scalars(select(WatchEntityRow).order_by(WatchEntityRow.name))
    return [
        WatchEntity(
            r.name, tuple(r.aliases or ()), tuple(r.tags or ()), r.country, r.entity_type, r.notes
        )
        for r in rows
    ]


def match_change(matcher: Any, change: Change) -> list[Any]:
    entry = change.entry
    if entry.list_code in ("NEWS", "FR"):
        text = " ".join(
            filter(None, [entry.name, entry.remarks, str(entry.raw.get("abstract") or "")])
        )
        return list(matcher.match_text(text))
    return list(matcher.match_entry(entry))


def match_and_queue(
    session: Session, settings: Settings, changes: Sequence[tuple[int, Change]], now: datetime
) -> tuple[int, int]:
    """Match each stored change; queue one alert per (subscriber, change) that passes filters."""
    if not changes:
        return 0, 0
    matcher = build_matcher(session, settings)
    subs = subscribers(session)
    n_matches = n_alerts = 0
    for change_id, change in changes:
        found = match_change(matcher, change)
        for m in found:
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
        n_matches += len(found)
        if not found:
            continue
        for sub in subs:
            relevant = [m for m in found if _wants(sub, change, m)]
            if relevant:
                payload = event_payload(change_id, change, relevant, now)
                n_alerts += queue_alert(
                    session,
                    sub.name,
                    f"{sub.name}:change:{change_id}",
                    "change",
                    payload,
                    now,
                    change_id=change_id,
                )
    session.flush()
    return n_matches, n_alerts


def _wants(sub: SubscriberSettings, change: Change, m: Any) -> bool:
    if sub.sources and change.entry.source not in sub.sources:
        return False
    if sub.kinds and change.kind not in sub.kinds:
        return False
    if float(m.score) < sub.min_score:
        return False
    return not sub.tags or bool(set(sub.tags) & (set(m.tags) | {m.watch}))


def event_payload(
    change_id: int, change: Change, matches: Sequence[Any], now: datetime
) -> dict[str, Any]:
    """Everything a message needs, frozen at queue time (the AlertEvent fields)."""
    e = change.entry
    return {
        "id": f"change:{change_id}",
        "kind": change.kind,
        "source": e.source,
        "list_code": e.list_code,
        "list_name": list_name(e.source, e.list_code),
        "key": e.key,
        "name": e.name,
        "aliases": list(e.aliases),
        "programs": list(e.programs),
        "addresses": [a.text() for a in e.addresses],
        "field_changes": [f.to_dict() for f in change.field_changes],
        "matches": [
            {
                "watch": m.watch,
                "score": round(float(m.score), 1),
                "method": m.method,
                "matched_name": m.matched_name,
                "reason": m.reason,
            }
            for m in matches
        ],
        "source_url": source_link(e.source, e.raw),
        "effective_date": e.dates.get("effective")
        or e.dates.get("effective_on")
        or e.dates.get("publication_date")
        or e.dates.get("start_date"),
        "detected_at": now.isoformat(),
        "remarks": e.remarks,
    }


def source_link(source: str, raw: Any) -> str:
    """The official page a reader should open to verify."""
    for key in ("html_url", "link", "source_information_url", "source_list_url"):
        if raw.get(key):
            return str(raw[key])
    return {
        "ofac_sdn": "https://ofac.treasury.gov/recent-actions",
        "ofac_consolidated": "https://ofac.treasury.gov/consolidated-sanctions-list-non-sdn-lists",
        "trade_csl": "https://www.trade.gov/consolidated-screening-list",
        "ecfr_entity_list": "https://www.ecfr.gov/current/title-15/subtitle-B/chapter-VII/subchapter-C/part-744/appendix-Supplement%20No.%204%20to%20Part%20744",
    }.get(source, "https://www.federalregister.gov/")


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


def open_incident(
    session: Session,
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
    row = session.scalars(select(IncidentRow).where(IncidentRow.key == key)).first()
    if row is not None and row.closed_at is None:
        return False
    if row is None:
        row = IncidentRow(key=key, source=source, kind=kind, detail=detail, opened_at=now)
        session.add(row)
    else:
        row.kind, row.detail, row.opened_at, row.closed_at = kind, detail, now, None
    session.flush()
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
    queue_alert(
        session, OPERATORS, f"{OPERATORS}:{key}:{now.isoformat()}", "operator", payload, now
    )
    return True


def close_incident(
    session: Session, settings: Settings, key: str, *, now: datetime, recovered: bool
) -> bool:
    row = session.scalars(
        select(IncidentRow).where(IncidentRow.key == key, IncidentRow.closed_at.is_(None))
    ).first()
    if row is None:
        return False
    row.closed_at = now
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
            session,
            OPERATORS,
            f"{OPERATORS}:{key}:closed:{now.isoformat()}",
            "operator",
            payload,
            now,
        )
    session.flush()
    return True


def close_recovered(session: Session, settings: Settings, now: datetime) -> int:
    """Close `failing:` incidents of sources that have polled successfully since they opened.

    Poll paths close their own incidents; this catches one that does not (an unchanged
    download after an outage), so each recovery is announced, once."""
    rows = session.scalars(
        select(IncidentRow).where(
            IncidentRow.key.like("failing:%"), IncidentRow.closed_at.is_(None)
        )
    ).all()
    closed = 0
    for row in rows:
        state = session.get(SourceStateRow, row.source) if row.source else None
        if (
            state is not None
            and state.consecutive_failures == 0
            and state.last_success_at is not None
            and state.last_success_at >= row.opened_at
        ):
            closed += close_incident(session, settings, row.key, now=now, recovered=True)
    return closed


def check_failing(session: Session, settings: Settings, state: Any, now: datetime) -> bool:
    """A source failing longer than its staleness limit raises one operator alert."""
    limit = settings.source(state.source).staleness_limit
    since = state.last_success_at
    failing_for = (now - since).total_seconds() if since else None
    if state.consecutive_failures >= 3 and (failing_for is None or failing_for >= limit):
        return open_incident(
            session,
            settings,
            f"failing:{state.source}",
            source=state.source,
            kind="source_failing",
            title=f"{state.source}: failing",
            detail=f"{state.consecutive_failures} failed polls; last error: {state.last_error}",
            now=now,
        )
    return False

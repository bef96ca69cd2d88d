"""Match stored changes against the watchlist and queue an alert per interested subscriber.

Runs inside the pipeline's transaction: matching (`matching/`) and the subscriber filters
(`alerts.filters`) decide, the store only writes the match and outbox rows.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from sqlalchemy import Connection

from watcher.alerts.filters import route
from watcher.alerts.payload import event_payload
from watcher.config import Settings
from watcher.matching.matcher import Match, Matcher, build_matcher, load_default_watchlist
from watcher.models import Change
from watcher.sources.base import Source
from watcher.store import outbox, subscribers, watchlist


def stored_matcher(conn: Connection, settings: Settings) -> Matcher:
    """The matcher for the watchlist as stored (config, bundled and CLI entries)."""
    _entities, topics = load_default_watchlist()
    return build_matcher(
        watchlist.watch_entities(conn),
        topics if settings.include_default_watchlist else [],
        threshold=settings.match.threshold,
    )


def match_change(matcher: Matcher, source: Source, change: Change) -> list[Match]:
    """Documents (news items, rules) are read as text; list entries are matched as parties."""
    if change.entry.list_code in source.text_lists:
        return matcher.match_document(change.entry)
    return matcher.match_entry(change.entry)


def match_and_queue(
    conn: Connection,
    settings: Settings,
    source: Source,
    changes: Sequence[tuple[int, Change]],
    now: datetime,
) -> tuple[int, int]:
    """Match each stored change; queue one alert per (subscriber, change) that passes filters."""
    if not changes:
        return 0, 0
    matcher = stored_matcher(conn, settings)
    subs = subscribers.subscribers(conn)
    n_matches = n_alerts = 0
    for change_id, change in changes:
        found = match_change(matcher, source, change)
        outbox.add_matches(conn, change_id, found)
        n_matches += len(found)
        for sub, relevant in route(subs, change, found) if found else ():
            n_alerts += outbox.queue_alert(
                conn,
                sub.name,
                f"{sub.name}:change:{change_id}",
                "change",
                event_payload(change_id, change, relevant, now),
                now,
                change_id=change_id,
            )
    return n_matches, n_alerts

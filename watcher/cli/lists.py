"""Listings of what the store holds: sources, snapshots, changes, entries, history, screen."""

from __future__ import annotations

from typing import Any

import click

from watcher.cli.common import App, end_of, handled, parse_date, pass_app
from watcher.cli.output import FORMAT_OPTION, emit
from watcher.sources.registry import SOURCES
from watcher.store import queries
from watcher.store import snapshots as store
from watcher.store.engine import transaction


@click.command("sources")
@FORMAT_OPTION
@pass_app
@handled
def sources_cmd(app: App, fmt: str) -> None:
    """Each source: state, last success, last error, staleness."""
    rt = app.runtime()
    with transaction(rt.sessions) as session:
        found = queries.source_statuses(session, rt.settings, list(SOURCES), rt.clock())
    rows = [s.to_dict() for s in found]
    emit(
        rows,
        fmt,
        ["source", "enabled", "entries", "last_success", "failures", "stale", "last_error"],
    )


@click.command()
@click.option("--source", type=click.Choice(sorted(SOURCES)))
@click.option("--limit", default=100, show_default=True)
@FORMAT_OPTION
@pass_app
@handled
def snapshots(app: App, source: str | None, limit: int, fmt: str) -> None:
    """Snapshot history (status ok / rejected / quarantined, with the reason)."""
    with transaction(app.runtime().sessions) as session:
        rows = [
            {
                "id": s.id,
                "source": s.source,
                "effective_at": s.effective_at.isoformat(),
                "fetched_at": s.fetched_at.isoformat(),
                "published_at": s.published_at.isoformat() if s.published_at else None,
                "status": s.status,
                "reason": s.reason,
                "records": s.record_count,
                "bytes": s.raw_size,
                "sha256": s.sha256,
                "origin": s.origin,
                "warnings": list(s.warnings),
            }
            for s in store.list_snapshots(session, source, limit)
        ]
    emit(
        rows,
        fmt,
        ["id", "source", "effective_at", "status", "records", "bytes", "origin", "reason"],
    )


@click.command()
@click.option("--source", type=click.Choice(sorted(SOURCES)))
@click.option("--since", help="ISO date (inclusive)")
@click.option("--until", help="ISO date (inclusive)")
@click.option("--entity", help="Name, alias or watch entry (substring, case-insensitive)")
@click.option("--kind", type=click.Choice(["added", "removed", "modified"]))
@click.option("--list-code", help="e.g. SDN, CMIC, EL")
@click.option("--limit", default=1000, show_default=True)
@FORMAT_OPTION
@pass_app
@handled
def changes(
    app: App,
    source: str | None,
    since: str | None,
    until: str | None,
    entity: str | None,
    kind: str | None,
    list_code: str | None,
    limit: int,
    fmt: str,
) -> None:
    """Changes between snapshots, with field-level detail and watchlist matches."""
    with transaction(app.runtime().sessions) as session:
        found = queries.list_changes(
            session,
            source=source,
            since=parse_date(since, "--since") if since else None,
            until=end_of(until, "--until") if until else None,
            entity=entity,
            kind=kind,
            list_code=list_code,
            limit=limit,
        )
    rows = [c.to_dict() for c in found]
    for row in rows:
        row["matched"] = [m["watch"] for m in row["matches"]]
        row["fields"] = [fc["field"] for fc in row["field_changes"]]
    emit(
        rows,
        fmt,
        ["id", "effective_at", "source", "list_code", "kind", "key", "name", "fields", "matched"],
    )


@click.command()
@click.option("--source", required=True, type=click.Choice(sorted(SOURCES)))
@click.option("--as-of", "as_of", help="ISO date: the list as it stood at the end of that day")
@click.option("--search", help="Substring of the name or any field")
@click.option("--limit", type=int)
@FORMAT_OPTION
@pass_app
@handled
def entries(
    app: App, source: str, as_of: str | None, search: str | None, limit: int | None, fmt: str
) -> None:
    """A list as of a date (default: now)."""
    with transaction(app.runtime().sessions) as session:
        found = queries.entries_as_of(
            session, source, end_of(as_of, "--as-of") if as_of else None, search, limit
        )
    rows = [r.to_dict() for r in found]
    emit(rows, fmt, ["key", "list_code", "name", "entity_type", "programs", "valid_from"])


@click.command()
@click.argument("name")
@FORMAT_OPTION
@pass_app
@handled
def history(app: App, name: str, fmt: str) -> None:
    """One entity's timeline across every list."""
    with transaction(app.runtime().sessions) as session:
        rows = queries.history(session, name)
    emit(rows, fmt, ["source", "list_code", "key", "name", "valid_from", "valid_to", "programs"])


@click.command()
@click.argument("name")
@click.option("--threshold", type=float, help="Fuzzy score needed (default: match.threshold)")
@FORMAT_OPTION
@pass_app
@handled
def screen(app: App, name: str, threshold: float | None, fmt: str) -> None:
    """Is NAME on any current list, since when, and why it matched."""
    from watcher.matching.matcher import WatchEntity, build_matcher

    matcher = build_matcher(
        [WatchEntity(name, (), (), None, None, None)],
        [],
        threshold=threshold or app.settings.match.threshold,
    )
    rows: list[dict[str, Any]] = []
    with transaction(app.runtime().sessions) as session:
        for rec in queries.current_all(session):
            for m in matcher.match_entry(rec.entry):
                since = queries.first_listed(session, rec.entry.source, rec.entry.key)
                rows.append(
                    {
                        "source": rec.entry.source,
                        "list_code": rec.entry.list_code,
                        "key": rec.entry.key,
                        "name": rec.entry.name,
                        "score": round(float(m.score), 1),
                        "method": m.method,
                        "matched_name": m.matched_name,
                        "reason": m.reason,
                        "since": since.isoformat() if since else None,
                        "programs": list(rec.entry.programs),
                    }
                )
    rows.sort(key=lambda r: -r["score"])
    emit(
        rows,
        fmt,
        ["score", "method", "source", "list_code", "key", "name", "matched_name", "since"],
    )

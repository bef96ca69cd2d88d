"""Listings of what the store holds: sources, snapshots, changes, entries, history.

Read-only: they open the database without syncing the config watchlist (no matcher import)."""

from __future__ import annotations

from datetime import UTC, datetime

import click

from watcher.cli.common import App, end_of, handled, parse_date, pass_app
from watcher.cli.output import FORMAT_OPTION, emit, table_page
from watcher.sources.names import SOURCE_NAMES

SOURCES = sorted(SOURCE_NAMES)


@click.command("sources")
@FORMAT_OPTION
@pass_app
@handled
def sources_cmd(app: App, fmt: str) -> None:
    """Each source: state (ok, failing, stale, never polled, disabled), last success, error."""
    from watcher.store import documents, queries
    from watcher.store.engine import transaction

    with transaction(app.engine()) as conn:
        found = queries.source_statuses(conn, app.settings, SOURCE_NAMES, datetime.now(UTC))
        leads = documents.lead_times(conn)
    rows = [s.to_dict() for s in found]
    for row in rows:
        if row["source"] == documents.FR_SOURCE:
            row["lead_times"] = leads  # public inspection seen -> published, per document
    emit(
        rows,
        fmt,
        ["source", "state", "entries", "last_success", "failures", "last_error"],
    )
    if fmt == "table" and leads:
        click.echo("\nfederal_register: seen on public inspection -> published")
        for lead in leads:
            hours = (lead["lead_time_seconds"] or 0) / 3600
            click.echo(
                f"  {lead['document_number']}  {lead['public_inspection_seen']} -> "
                f"{lead['published_seen']}  ({hours:.1f} h)"
            )


@click.command()
@click.option("--source", type=click.Choice(SOURCES))
@click.option("--limit", default=100, show_default=True)
@FORMAT_OPTION
@pass_app
@handled
def snapshots(app: App, source: str | None, limit: int, fmt: str) -> None:
    """Snapshot history (status ok / rejected / quarantined, with the reason)."""
    from watcher.store import snapshots as store
    from watcher.store.engine import transaction

    with transaction(app.engine()) as conn:
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
            for s in store.list_snapshots(conn, source, limit)
        ]
    emit(
        rows,
        fmt,
        ["id", "source", "effective_at", "status", "records", "bytes", "origin", "reason"],
    )


@click.command()
@click.option("--source", type=click.Choice(SOURCES))
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
    from watcher.store import queries
    from watcher.store.engine import transaction

    with transaction(app.engine()) as conn:
        found = queries.list_changes(
            conn,
            source=source,
            since=parse_date(since, "--since") if since else None,
            until=end_of(until, "--until") if until else None,
            entity=entity,
            kind=kind,
            list_code=list_code,
            limit=limit,
        )
    rows = [c.to_dict() for c in found]
    if fmt != "json":  # table/csv summaries; the JSON contract has the full lists
        for row in rows:
            row["matched"] = [m["watch"] for m in row["matches"]]
            row["fields"] = [fc["field"] for fc in row["field_changes"]]
    emit(
        rows,
        fmt,
        ["id", "effective_at", "source", "list_code", "kind", "key", "name", "fields", "matched"],
    )


@click.command()
@click.option("--source", required=True, type=click.Choice(SOURCES))
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
    from watcher.store import entries as store
    from watcher.store.engine import transaction

    when = end_of(as_of, "--as-of") if as_of else None
    page = table_page(fmt)  # a table's first page: fetch only those rows, count the others
    fetch = min(page, limit) if page and limit else page or limit
    total = None
    with transaction(app.engine()) as conn:
        rows = store.entry_rows(conn, source, when, search, fetch)
        if page is not None and len(rows) == page:
            total = store.count_entries(conn, source, when, search)
            if limit:
                total = min(total, limit)
    columns = ["key", "list_code", "name", "entity_type", "programs", "valid_from"]
    emit(rows, fmt, columns, total)


@click.command()
@click.argument("name")
@FORMAT_OPTION
@pass_app
@handled
def history(app: App, name: str, fmt: str) -> None:
    """One entity's timeline across every list."""
    from watcher.store import queries
    from watcher.store.engine import transaction

    with transaction(app.engine()) as conn:
        rows = queries.history(conn, name)
    emit(rows, fmt, ["source", "list_code", "key", "name", "valid_from", "valid_to", "programs"])

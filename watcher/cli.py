"""The `watcher` command: thin shells over the pipeline and the store (DESIGN.md section 5)."""

from __future__ import annotations

import logging
import sys
from datetime import UTC, datetime
from pathlib import Path

import click

from watcher.cli_common import App, end_of, fail, handled, parse_date, pass_app
from watcher.output import FORMAT_OPTION, emit
from watcher.pipeline import RunResult, replay, run_source
from watcher.sources.registry import SOURCES
from watcher.store import queries
from watcher.store import snapshots as store
from watcher.store.engine import make_engine, transaction, upgrade


@click.group()
@click.option(
    "--config",
    "config",
    metavar="PATH",
    help="config.toml (else $WATCHER_CONFIG, else ./config.toml)",
)
@click.option("-v", "--verbose", is_flag=True, help="Debug logging.")
@click.version_option(package_name="watcher")
@click.pass_context
def main(ctx: click.Context, config: str | None, verbose: bool) -> None:
    """Watch US sanctions and export-control lists and alert on tracked parties."""
    from watcher.logs import configure_logging

    configure_logging(logging.DEBUG if verbose else logging.INFO)
    ctx.obj = App(config)


@main.command()
@click.option(
    "--once", is_flag=True, required=True, help="Poll now and exit (the daemon is `serve`)."
)
@click.option(
    "--source",
    "sources",
    multiple=True,
    type=click.Choice(sorted(SOURCES)),
    help="Only these sources.",
)
@click.option("--no-dispatch", is_flag=True, help="Queue alerts but do not send them.")
@pass_app
@handled
def run(app: App, once: bool, sources: tuple[str, ...], no_dispatch: bool) -> None:
    """Poll sources now, diff, match, notify; print a summary."""
    rt = app.runtime()
    names = list(sources) or [
        n
        for n, s in ((n, app.settings.source(n)) for n in SOURCES)
        if s.enabled and n in app.settings.sources
    ]
    if not names:
        fail("no source enabled: add [sources.NAME] tables to the config")
    results: list[RunResult] = []
    for name in names:
        result = run_source(rt, name)
        results.append(result)
        click.echo(result.summary())
    if not no_dispatch:
        from watcher.dispatch import dispatch_pending

        sent = dispatch_pending(rt)
        click.echo(
            f"alerts: {sent.sent} sent, {sent.failed} failed, {sent.dead} dead, "
            f"{sent.held} held for digest"
        )
    if not all(r.ok for r in results):
        sys.exit(1)


@main.group()
def db() -> None:
    """Database maintenance."""


@db.command("upgrade")
@pass_app
@handled
def db_upgrade(app: App) -> None:
    """Apply migrations (serve and run do it too)."""
    upgrade(make_engine(app.settings.database_url))
    click.echo("database is at the latest revision")


@main.command("sources")
@FORMAT_OPTION
@pass_app
@handled
def sources_cmd(app: App, fmt: str) -> None:
    """Each source: state, last success, last error, staleness."""
    rt = app.runtime()
    now = datetime.now(UTC)
    with transaction(rt.sessions) as session:
        states = {s.source: s for s in store.all_states(session)}
        rows = []
        for name in SOURCES:
            cfg = app.settings.source(name)
            st = states.get(name)
            last_ok = st.last_success_at if st else None
            age = (now - last_ok).total_seconds() if last_ok else None
            rows.append(
                {
                    "source": name,
                    "enabled": cfg.enabled and name in app.settings.sources,
                    "interval_s": int(cfg.interval),
                    "last_check": st.last_check_at.isoformat() if st and st.last_check_at else None,
                    "last_success": last_ok.isoformat() if last_ok else None,
                    "failures": st.consecutive_failures if st else 0,
                    "last_error": st.last_error if st else None,
                    "stale": bool(
                        cfg.enabled
                        and name in app.settings.sources
                        and (age is None or age > cfg.staleness_limit)
                    ),
                    "entries": store.count_current(session, name),
                }
            )
    emit(
        rows,
        fmt,
        ["source", "enabled", "entries", "last_success", "failures", "stale", "last_error"],
    )


@main.command()
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


@main.command()
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


@main.command()
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


@main.command()
@click.argument("name")
@FORMAT_OPTION
@pass_app
@handled
def history(app: App, name: str, fmt: str) -> None:
    """One entity's timeline across every list."""
    with transaction(app.runtime().sessions) as session:
        rows = queries.history(session, name)
    emit(rows, fmt, ["source", "list_code", "key", "name", "valid_from", "valid_to", "programs"])


@main.command("replay")
@click.option("--source", required=True, type=click.Choice(sorted(SOURCES)))
@click.option("--at", "at", required=True, help="ISO date the archived files speak for")
@click.argument(
    "files", nargs=-1, required=True, type=click.Path(exists=True, dir_okay=False, path_type=Path)
)
@pass_app
@handled
def replay_cmd(app: App, source: str, at: str, files: tuple[Path, ...]) -> None:
    """Import archived files as a dated snapshot (first FILE is the primary, others companions)."""
    rt = app.runtime()
    named = [
        ("primary" if i == 0 else p.name, p.read_bytes(), str(p.resolve()))
        for i, p in enumerate(files)
    ]
    result = replay(rt, source, parse_date(at, "--at"), named)
    click.echo(result.summary())
    if not result.ok:
        sys.exit(1)


def _register_optional() -> None:
    """Commands that live in their own modules (service, FR tools, watchlist, alerts)."""
    from watcher import cli_extra

    cli_extra.register(main)


_register_optional()


if __name__ == "__main__":  # pragma: no cover
    main()

"""The `watcher` command: the click group, `run`, `serve` and `db`; the rest live one module per
command family and are added here (DESIGN.md section 5)."""

from __future__ import annotations

import logging
import sys

import click

from watcher.cli import alerts, fr, lists, replay, subscribers, watchlist
from watcher.cli.common import App, fail, handled, pass_app
from watcher.health import enabled_sources
from watcher.pipeline.run import RunResult, run_source
from watcher.pipeline.tick import tick
from watcher.sources.registry import SOURCES
from watcher.store.engine import make_engine, upgrade


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
    enabled = set(enabled_sources(app.settings))
    names = list(sources) or [n for n in SOURCES if n in enabled]
    if not names:
        fail("no source enabled: add [sources.NAME] tables to the config")
    results: list[RunResult] = []
    for name in names:
        result = run_source(rt, name)
        results.append(result)
        click.echo(result.summary())
    sent = tick(rt, send=not no_dispatch)  # the daemon's dispatcher tick, same function
    if not no_dispatch:
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


@main.command()
@click.option("--host", help="Bind address (default [http] host, 127.0.0.1)")
@click.option("--port", type=int, help="Port (default [http] port, 8080)")
@pass_app
@handled
def serve(app: App, host: str | None, port: int | None) -> None:
    """The daemon: scheduler + HTTP (health, metrics, read-only API)."""
    from watcher.service.app import serve as run_service

    run_service(app.runtime(), host or app.settings.http.host, port or app.settings.http.port)


for _command in (
    lists.sources_cmd,
    lists.snapshots,
    lists.changes,
    lists.entries,
    lists.history,
    lists.screen,
    replay.replay_cmd,
    replay.backfill,
    fr.fr,
    watchlist.watchlist,
    subscribers.subscribers,
    alerts.alerts,
):
    main.add_command(_command)


if __name__ == "__main__":  # pragma: no cover
    main()

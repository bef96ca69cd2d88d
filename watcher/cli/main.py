"""The `watcher` command: the click group, `run`, `serve` and `db`; the rest live one module per
command family and are imported only when that command runs (DESIGN.md section 5), so a listing
never pays for FastAPI, apprise, pypinyin or ICU."""

from __future__ import annotations

import importlib
import logging
import os
import sys
from collections.abc import Sequence
from typing import Any

import click

from watcher.cli.common import App, fail, handled, pass_app
from watcher.sources.names import SOURCE_NAMES

# command name -> "module:attribute", imported on first use
_LAZY = {
    "sources": "watcher.cli.lists:sources_cmd",
    "snapshots": "watcher.cli.lists:snapshots",
    "changes": "watcher.cli.lists:changes",
    "entries": "watcher.cli.lists:entries",
    "history": "watcher.cli.lists:history",
    "screen": "watcher.cli.screen:screen",
    "replay": "watcher.cli.replay:replay_cmd",
    "backfill": "watcher.cli.replay:backfill",
    "fr": "watcher.cli.fr:fr",
    "watchlist": "watcher.cli.watchlist:watchlist",
    "subscribers": "watcher.cli.subscribers:subscribers",
    "alerts": "watcher.cli.alerts:alerts",
}


class LazyGroup(click.Group):
    """Imports a command's module on first use; prints usage errors as one `error:` line and
    leaves quietly when the reader of stdout goes away (`| head`)."""

    def list_commands(self, ctx: click.Context) -> list[str]:
        return sorted([*super().list_commands(ctx), *_LAZY])

    def get_command(self, ctx: click.Context, cmd_name: str) -> click.Command | None:
        if cmd_name in _LAZY:
            module, attr = _LAZY[cmd_name].split(":")
            command: click.Command = getattr(importlib.import_module(module), attr)
            return command
        return super().get_command(ctx, cmd_name)

    def main(  # type: ignore[override]
        self, args: Sequence[str] | None = None, prog_name: str | None = None, **extra: Any
    ) -> Any:
        extra.pop("standalone_mode", None)
        try:
            self._main_checked(args, prog_name or "watcher", extra)
        except BrokenPipeError:
            _quiet_broken_pipe()
        sys.exit(0)

    def _main_checked(self, args: Sequence[str] | None, prog_name: str, extra: Any) -> None:
        try:
            code = super().main(args, prog_name, standalone_mode=False, **extra)
        except click.exceptions.Exit as exc:
            sys.exit(exc.exit_code)
        except click.exceptions.Abort:
            fail("aborted")
        except click.ClickException as exc:
            click.echo(f"error: {' '.join(exc.format_message().split())}", err=True)
            sys.exit(exc.exit_code)
        if isinstance(code, int) and code:
            sys.exit(code)
        sys.stdout.flush()


def _quiet_broken_pipe() -> None:
    """The reader closed the pipe after click's own EPIPE handling (which exits 0, quietly):
    stop writing and exit like other Unix tools (SIGPIPE)."""
    devnull = os.open(os.devnull, os.O_WRONLY)
    os.dup2(devnull, sys.stdout.fileno())
    sys.exit(141)


@click.group(cls=LazyGroup)
@click.option(
    "--config",
    "config",
    metavar="PATH",
    help="config.toml (else $WATCHER_CONFIG, else ./config.toml)",
)
@click.option(
    "--tz",
    "tz",
    metavar="ZONE",
    envvar="WATCHER_TZ",
    help="Time zone for times in tables, e.g. Europe/Berlin (else $WATCHER_TZ, else local).",
)
@click.option("-v", "--verbose", is_flag=True, help="Log to stderr (debug level).")
@click.version_option(package_name="watcher")
@click.pass_context
def main(ctx: click.Context, config: str | None, tz: str | None, verbose: bool) -> None:
    """Watch US sanctions and export-control lists and alert on tracked parties."""
    from watcher.logs import configure_logging

    # pydantic scans every installed distribution for plugins when it first validates (FastAPI's
    # models in `serve`; config does not use pydantic); watcher uses none. An operator's value
    # is kept.
    os.environ.setdefault("PYDANTIC_DISABLE_PLUGINS", "__all__")

    # A command prints its answer; logs are for `-v`, warnings and the daemon.
    configure_logging(logging.DEBUG if verbose else logging.WARNING)
    ctx.obj = App(config, tz=tz, verbose=verbose)


@main.command()
@click.option(
    "--once", is_flag=True, required=True, help="Poll now and exit (the daemon is `serve`)."
)
@click.option(
    "--source",
    "sources",
    multiple=True,
    type=click.Choice(sorted(SOURCE_NAMES)),
    help="Only these sources.",
)
@click.option("--no-dispatch", is_flag=True, help="Queue alerts but do not send them.")
@click.option(
    "--jobs",
    default=4,
    show_default=True,
    type=click.IntRange(1, 16),
    help="Sources polled at the same time.",
)
@pass_app
@handled
def run(app: App, once: bool, sources: tuple[str, ...], no_dispatch: bool, jobs: int) -> None:
    """Poll sources now, diff, match, notify; print a summary."""
    from watcher.cli.output import Progress
    from watcher.health import enabled_sources
    from watcher.pipeline.batch import run_sources
    from watcher.pipeline.run import RunResult
    from watcher.pipeline.tick import tick

    rt = app.runtime()
    enabled = set(enabled_sources(app.settings))
    names = list(sources) or [n for n in SOURCE_NAMES if n in enabled]
    if not names:
        fail("no source enabled: add [sources.NAME] tables to the config")
    with Progress(f"polling {len(names)} sources") as progress:
        done: list[str] = []

        def report(result: RunResult) -> None:
            done.append(result.source)
            progress.update(f"polled {len(done)} of {len(names)} sources")
            click.echo(result.summary())

        results = run_sources(rt, names, jobs=jobs, on_done=report)
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
    from watcher.store.engine import make_engine, upgrade

    upgrade(make_engine(app.settings.database_url))
    click.echo("database is at the latest revision")


@main.command()
@click.option("--host", help="Bind address (default [http] host, 127.0.0.1)")
@click.option("--port", type=int, help="Port (default [http] port, 8080)")
@pass_app
@handled
def serve(app: App, host: str | None, port: int | None) -> None:
    """The daemon: scheduler + HTTP (health, metrics, read-only API)."""
    from watcher.logs import configure_logging
    from watcher.service.memory import lean_process

    lean_process()  # first: before the service's imports and threads
    from watcher.service.app import migrate_apart
    from watcher.service.app import serve as run_service

    configure_logging(logging.DEBUG if app.verbose else logging.INFO)
    migrate_apart(app.settings.database_url)  # alembic in a child: the daemon never holds it
    run_service(app.runtime(), host or app.settings.http.host, port or app.settings.http.port)


if __name__ == "__main__":  # pragma: no cover
    main()

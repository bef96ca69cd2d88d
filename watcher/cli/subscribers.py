"""Who gets alerts: list, add, remove, test."""

from __future__ import annotations

import sys
from datetime import UTC, datetime

import click

from watcher.cli.common import App, handled, pass_app
from watcher.cli.output import FORMAT_OPTION, emit
from watcher.config import parse_digest_at, resolve_secret
from watcher.store import subscribers as store
from watcher.store.engine import transaction


@click.group()
def subscribers() -> None:
    """Who gets alerts, and through which channel (apprise URL held in env or a file)."""


@subscribers.command("list")
@FORMAT_OPTION
@pass_app
@handled
def sub_list(app: App, fmt: str) -> None:
    """Subscribers and their filters (never the secret URL)."""
    with transaction(app.runtime().engine) as conn:
        rows = [
            {
                "name": s.name,
                "mode": s.mode,
                "digest_at": s.digest_at,
                "url_env": s.url_env,
                "url_file": s.url_file,
                "url_set": bool(resolve_secret(s.url_env, s.url_file)),
                "tags": list(s.tags),
                "sources": list(s.sources),
                "kinds": list(s.kinds),
                "min_score": s.min_score,
            }
            for s in store.subscribers(conn)
        ]
    emit(rows, fmt, ["name", "mode", "url_env", "url_set", "tags", "sources", "kinds"])


@subscribers.command("add")
@click.argument("name")
@click.option("--url-env", help="Environment variable holding the apprise URL")
@click.option("--url-file", help="File holding the apprise URL")
@click.option("--tag", "tags", multiple=True)
@click.option("--source", "sources", multiple=True)
@click.option("--kind", "kinds", multiple=True, type=click.Choice(["added", "removed", "modified"]))
@click.option("--min-score", type=float, default=0.0)
@click.option("--digest-at", help="'08:00 America/New_York' for a daily digest")
@pass_app
@handled
def sub_add(
    app: App,
    name: str,
    url_env: str | None,
    url_file: str | None,
    tags: tuple[str, ...],
    sources: tuple[str, ...],
    kinds: tuple[str, ...],
    min_score: float,
    digest_at: str | None,
) -> None:
    """Add a subscriber (the URL itself is never stored, only where to find it)."""
    if not url_env and not url_file:
        raise click.UsageError("give --url-env or --url-file")
    if digest_at is not None:
        try:
            parse_digest_at(digest_at)
        except ValueError as exc:
            raise click.BadParameter(str(exc), param_hint="--digest-at") from None
    with transaction(app.runtime().engine) as conn:
        added = store.add_subscriber(
            conn,
            name,
            url_env=url_env,
            url_file=url_file,
            tags=tags,
            sources=sources,
            kinds=kinds,
            min_score=min_score,
            digest_at=digest_at,
        )
    if not added:
        raise click.UsageError(f"subscriber {name} exists")
    click.echo(f"added {name}")


@subscribers.command("remove")
@click.argument("name")
@pass_app
@handled
def sub_remove(app: App, name: str) -> None:
    """Remove a subscriber added here."""
    with transaction(app.runtime().engine) as conn:
        removed = store.remove_subscriber(conn, name)
    if not removed:
        raise click.UsageError(f"{name}: no such subscriber added with the CLI")
    click.echo(f"removed {name}")


@subscribers.command("test")
@click.argument("name")
@pass_app
@handled
def sub_test(app: App, name: str) -> None:
    """Send a real test message and report apprise's result."""
    from watcher.alerts import notify
    from watcher.alerts.dispatch import test_event

    with transaction(app.runtime().engine) as conn:
        subs = {s.name: s for s in store.subscribers(conn)}
    if name not in subs:
        raise click.UsageError(f"no subscriber {name}")
    url = resolve_secret(subs[name].url_env, subs[name].url_file)
    if not url:
        click.echo(
            f"error: no apprise URL found for {name} "
            f"(url_env={subs[name].url_env}, url_file={subs[name].url_file})",
            err=True,
        )
        sys.exit(1)
    result = notify.deliver(url, notify.render_alert(test_event(name, datetime.now(UTC))))
    click.echo("sent" if result.ok else f"failed: {result.error}")
    if not result.ok:
        sys.exit(1)

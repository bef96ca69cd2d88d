"""The outbox: list alerts, re-queue failed and dead ones."""

from __future__ import annotations

from datetime import UTC, datetime

import click

from watcher.cli.common import App, handled, pass_app
from watcher.cli.output import FORMAT_OPTION, emit
from watcher.store import outbox
from watcher.store.engine import transaction


@click.group()
def alerts() -> None:
    """The outbox: pending, sent, failed and dead alerts."""


@alerts.command("list")
@click.option("--status", type=click.Choice(["pending", "sent", "failed", "dead"]))
@click.option("--limit", default=200, show_default=True)
@FORMAT_OPTION
@pass_app
@handled
def alerts_list(app: App, status: str | None, limit: int, fmt: str) -> None:
    """Alerts, newest first."""
    with transaction(app.runtime().engine) as conn:
        rows = [a.to_dict() for a in outbox.list_alerts(conn, status, limit)]
    emit(
        rows,
        fmt,
        ["id", "subscriber", "kind", "status", "attempts", "name", "created_at", "last_error"],
    )


@alerts.command("retry")
@click.argument("ids", nargs=-1, type=int)
@pass_app
@handled
def alerts_retry(app: App, ids: tuple[int, ...]) -> None:
    """Re-queue dead/failed alerts (all, or the given ids)."""
    with transaction(app.runtime().engine) as conn:
        n = outbox.retry_alerts(conn, list(ids) or None, datetime.now(UTC))
    click.echo(f"re-queued {n} alerts")

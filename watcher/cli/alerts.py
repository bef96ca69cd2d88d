"""The outbox: list alerts, re-queue failed and dead ones."""

from __future__ import annotations

from datetime import UTC, datetime

import click
from sqlalchemy import select

from watcher.cli.common import App, handled, pass_app
from watcher.cli.output import FORMAT_OPTION, emit
from watcher.store.engine import transaction
from watcher.store.tables import AlertRow


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
    with transaction(app.runtime().sessions) as session:
        q = select(AlertRow).order_by(AlertRow.id.desc()).limit(limit)
        if status:
            q = q.where(AlertRow.status == status)
        rows = [
            {
                "id": a.id,
                "subscriber": a.subscriber,
                "kind": a.kind,
                "status": a.status,
                "attempts": a.attempts,
                "change_id": a.change_id,
                "name": a.payload.get("name") or a.payload.get("title"),
                "created_at": a.created_at.isoformat(),
                "sent_at": a.sent_at.isoformat() if a.sent_at else None,
                "last_error": a.last_error,
                "key": a.idempotency_key,
            }
            for a in session.scalars(q)
        ]
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
    from watcher.alerts.dispatch import retry_alerts

    with transaction(app.runtime().sessions) as session:
        n = retry_alerts(session, list(ids) or None, datetime.now(UTC))
    click.echo(f"re-queued {n} alerts")

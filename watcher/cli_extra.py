"""CLI commands beyond the core listings: screen, fr, backfill, watchlist, subscribers, alerts."""

from __future__ import annotations

import csv
import sys
from dataclasses import asdict
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import click
from sqlalchemy import select

from watcher.cli_common import App, handled, pass_app
from watcher.config import load_watchlist_file, resolve_secret
from watcher.models import WatchEntity
from watcher.output import FORMAT_OPTION, emit
from watcher.store import alerting, queries
from watcher.store.engine import transaction
from watcher.store.tables import AlertRow, SubscriberRow, WatchEntityRow


def register(main: click.Group) -> None:
    @main.command()
    @click.argument("name")
    @click.option("--threshold", type=float, help="Fuzzy score needed (default: match.threshold)")
    @FORMAT_OPTION
    @pass_app
    @handled
    def screen(app: App, name: str, threshold: float | None, fmt: str) -> None:
        """Is NAME on any current list, since when, and why it matched."""
        from watcher.match import WatchEntity, build_matcher

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

    @main.group()
    def fr() -> None:
        """Federal Register tools."""

    @fr.command("extract")
    @click.argument("file_or_url")
    @FORMAT_OPTION
    @pass_app
    @handled
    def fr_extract(app: App, file_or_url: str, fmt: str) -> None:
        """The entity actions (add / remove / revise) of one Federal Register rule."""
        from watcher.entity_actions import extract_actions
        from watcher.http import fetch, make_client

        if file_or_url.startswith(("http://", "https://")):
            with make_client(app.settings.fetch) as client:
                data = fetch(client, file_or_url, app.settings.fetch).content
        else:
            data = Path(file_or_url).read_bytes()
        actions = extract_actions(data)
        rows = [asdict(a) for a in actions]
        emit(
            rows, fmt, ["action", "country", "name", "aliases", "addresses", "license_requirement"]
        )

    @main.group()
    def backfill() -> None:
        """Build history from dated archives."""

    @backfill.command("ecfr")
    @click.option("--from", "start", required=True, help="ISO date")
    @click.option("--to", "end", required=True, help="ISO date")
    @click.option(
        "--delay", default=1.0, show_default=True, help="Seconds between requests (be polite)"
    )
    @pass_app
    @handled
    def backfill_ecfr(app: App, start: str, end: str, delay: float) -> None:
        """Fetch only the dates on which 15 CFR 744 changed, as dated snapshots (resumable)."""
        from watcher.backfill import backfill_ecfr as run_backfill

        results = run_backfill(
            app.runtime(),
            datetime.fromisoformat(start).date(),
            datetime.fromisoformat(end).date(),
            delay=delay,
            progress=sys.stderr.isatty(),
        )
        bad = [r for r in results if not r.ok]
        click.echo(f"{len(results)} dates processed, {len(bad)} failed")
        for r in bad:
            click.echo(r.summary())
        if bad:
            sys.exit(1)

    _register_watchlist(main)
    _register_subscribers(main)
    _register_alerts(main)

    @main.command()
    @click.option("--host", help="Bind address (default [http] host, 127.0.0.1)")
    @click.option("--port", type=int, help="Port (default [http] port, 8080)")
    @pass_app
    @handled
    def serve(app: App, host: str | None, port: int | None) -> None:
        """The daemon: scheduler + HTTP (health, metrics, read-only API)."""
        from watcher.service import serve as run_service

        run_service(app.runtime(), host or app.settings.http.host, port or app.settings.http.port)


def _watch_rows(session: Any) -> list[dict[str, Any]]:
    return [
        {
            "name": r.name,
            "aliases": r.aliases,
            "tags": r.tags,
            "country": r.country,
            "entity_type": r.entity_type,
            "notes": r.notes,
            "origin": r.origin,
        }
        for r in session.scalars(select(WatchEntityRow).order_by(WatchEntityRow.name))
    ]


def _register_watchlist(main: click.Group) -> None:
    @main.group()
    def watchlist() -> None:
        """Tracked entities (config, bundled default, and added here)."""

    @watchlist.command("list")
    @click.option("--tag")
    @FORMAT_OPTION
    @pass_app
    @handled
    def wl_list(app: App, tag: str | None, fmt: str) -> None:
        """Every tracked entity."""
        with transaction(app.runtime().sessions) as session:
            rows = [r for r in _watch_rows(session) if not tag or tag in r["tags"]]
        emit(rows, fmt, ["name", "tags", "country", "origin", "aliases"])

    @watchlist.command("add")
    @click.argument("name")
    @click.option("--alias", "aliases", multiple=True)
    @click.option("--tag", "tags", multiple=True)
    @click.option("--country")
    @click.option("--notes")
    @pass_app
    @handled
    def wl_add(
        app: Any,
        name: str,
        aliases: tuple[str, ...],
        tags: tuple[str, ...],
        country: str | None,
        notes: str | None,
    ) -> None:
        """Track a name (with aliases and tags)."""
        with transaction(app.runtime().sessions) as session:
            _upsert_watch(session, WatchEntity(name, aliases, tags, country, None, notes))
        click.echo(f"tracking {name}")

    @watchlist.command("remove")
    @click.argument("name")
    @pass_app
    @handled
    def wl_remove(app: App, name: str) -> None:
        """Stop tracking a name added here (config entries live in the config)."""
        with transaction(app.runtime().sessions) as session:
            row = session.scalars(select(WatchEntityRow).where(WatchEntityRow.name == name)).first()
            if row is None:
                click.echo(f"error: not tracked: {name}", err=True)
                sys.exit(1)
            if row.origin != "cli":
                click.echo(
                    f"error: {name} comes from the {row.origin} watchlist; "
                    "change the config instead",
                    err=True,
                )
                sys.exit(1)
            session.delete(row)
        click.echo(f"removed {name}")

    @watchlist.command("import")
    @click.argument("file", type=click.Path(exists=True, dir_okay=False, path_type=Path))
    @pass_app
    @handled
    def wl_import(app: App, file: Path) -> None:
        """Import a CSV (name,aliases,tags,country,notes; ';'-separated lists) or TOML file."""
        items = load_watchlist_file(file) if file.suffix == ".toml" else _read_watch_csv(file)
        with transaction(app.runtime().sessions) as session:
            for item in items:
                _upsert_watch(session, item)
        click.echo(f"imported {len(items)} entries")


def _read_watch_csv(path: Path) -> tuple[WatchEntity, ...]:
    def split(value: str | None) -> tuple[str, ...]:
        return tuple(v.strip() for v in (value or "").split(";") if v.strip())

    with path.open(encoding="utf-8-sig", newline="") as fh:
        return tuple(
            WatchEntity(
                row["name"].strip(),
                split(row.get("aliases")),
                split(row.get("tags")),
                row.get("country") or None,
                None,
                row.get("notes") or None,
            )
            for row in csv.DictReader(fh)
            if (row.get("name") or "").strip()
        )


def _upsert_watch(session: Any, w: WatchEntity) -> None:
    row = session.scalars(select(WatchEntityRow).where(WatchEntityRow.name == w.name)).first()
    if row is None:
        row = WatchEntityRow(name=w.name)
        session.add(row)
    row.aliases, row.tags, row.country, row.notes, row.origin = (
        list(w.aliases),
        list(w.tags),
        w.country,
        w.notes,
        "cli",
    )


def _register_subscribers(main: click.Group) -> None:
    @main.group()
    def subscribers() -> None:
        """Who gets alerts, and through which channel (apprise URL held in env or a file)."""

    @subscribers.command("list")
    @FORMAT_OPTION
    @pass_app
    @handled
    def sub_list(app: App, fmt: str) -> None:
        """Subscribers and their filters (never the secret URL)."""
        with transaction(app.runtime().sessions) as session:
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
                for s in alerting.subscribers(session)
            ]
        emit(rows, fmt, ["name", "mode", "url_env", "url_set", "tags", "sources", "kinds"])

    @subscribers.command("add")
    @click.argument("name")
    @click.option("--url-env", help="Environment variable holding the apprise URL")
    @click.option("--url-file", help="File holding the apprise URL")
    @click.option("--tag", "tags", multiple=True)
    @click.option("--source", "sources", multiple=True)
    @click.option(
        "--kind", "kinds", multiple=True, type=click.Choice(["added", "removed", "modified"])
    )
    @click.option("--min-score", type=float, default=0.0)
    @click.option("--digest-at", help="'08:00 America/New_York' for a daily digest")
    @pass_app
    @handled
    def sub_add(
        app: Any,
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
        with transaction(app.runtime().sessions) as session:
            if session.scalars(select(SubscriberRow).where(SubscriberRow.name == name)).first():
                raise click.UsageError(f"subscriber {name} exists")
            session.add(
                SubscriberRow(
                    name=name,
                    url_env=url_env,
                    url_file=url_file,
                    mode="digest" if digest_at else "immediate",
                    digest_at=digest_at,
                    origin="cli",
                    filters={
                        "tags": list(tags),
                        "sources": list(sources),
                        "kinds": list(kinds),
                        "min_score": min_score,
                    },
                )
            )
        click.echo(f"added {name}")

    @subscribers.command("remove")
    @click.argument("name")
    @pass_app
    @handled
    def sub_remove(app: App, name: str) -> None:
        """Remove a subscriber added here."""
        with transaction(app.runtime().sessions) as session:
            row = session.scalars(select(SubscriberRow).where(SubscriberRow.name == name)).first()
            if row is None or row.origin != "cli":
                raise click.UsageError(f"{name}: no such subscriber added with the CLI")
            session.delete(row)
        click.echo(f"removed {name}")

    @subscribers.command("test")
    @click.argument("name")
    @pass_app
    @handled
    def sub_test(app: App, name: str) -> None:
        """Send a real test message and report apprise's result."""
        from watcher import notify
        from watcher.dispatch import test_event

        with transaction(app.runtime().sessions) as session:
            subs = {s.name: s for s in alerting.subscribers(session)}
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


def _register_alerts(main: click.Group) -> None:
    @main.group()
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
        from watcher.dispatch import retry_alerts

        with transaction(app.runtime().sessions) as session:
            n = retry_alerts(session, list(ids) or None, datetime.now(UTC))
        click.echo(f"re-queued {n} alerts")

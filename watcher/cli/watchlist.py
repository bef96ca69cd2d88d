"""Tracked entities: list, add, remove, import."""

from __future__ import annotations

import csv
import sys
from pathlib import Path
from typing import Any

import click
from sqlalchemy import select

from watcher.cli.common import App, handled, pass_app
from watcher.cli.output import FORMAT_OPTION, emit
from watcher.config import load_watchlist_file
from watcher.models import WatchEntity
from watcher.store.engine import transaction
from watcher.store.tables import WatchEntityRow


@click.group()
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
                f"error: {name} comes from the {row.origin} watchlist; change the config instead",
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

"""Tracked entities: list, add, remove, import."""

from __future__ import annotations

import csv
import sys
from pathlib import Path

import click

from watcher.cli.common import App, handled, pass_app
from watcher.cli.output import FORMAT_OPTION, emit
from watcher.config import load_watchlist_file
from watcher.models import WatchEntity
from watcher.store import watchlist as store
from watcher.store.engine import transaction


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
    with transaction(app.runtime().engine) as conn:
        rows = [r.to_dict() for r in store.list_watch(conn) if not tag or tag in r.entity.tags]
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
    app: App,
    name: str,
    aliases: tuple[str, ...],
    tags: tuple[str, ...],
    country: str | None,
    notes: str | None,
) -> None:
    """Track a name (with aliases and tags)."""
    with transaction(app.runtime().engine) as conn:
        store.upsert_watch(conn, WatchEntity(name, aliases, tags, country, None, notes))
    click.echo(f"tracking {name}")


@watchlist.command("remove")
@click.argument("name")
@pass_app
@handled
def wl_remove(app: App, name: str) -> None:
    """Stop tracking a name added here (config entries live in the config)."""
    with transaction(app.runtime().engine) as conn:
        origin = store.remove_watch(conn, name)
    if origin is None:
        click.echo(f"error: not tracked: {name}", err=True)
        sys.exit(1)
    if origin != "cli":
        click.echo(
            f"error: {name} comes from the {origin} watchlist; change the config instead",
            err=True,
        )
        sys.exit(1)
    click.echo(f"removed {name}")


@watchlist.command("import")
@click.argument("file", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@pass_app
@handled
def wl_import(app: App, file: Path) -> None:
    """Import a CSV (name,aliases,tags,country,notes; ';'-separated lists) or TOML file."""
    items = load_watchlist_file(file) if file.suffix == ".toml" else _read_watch_csv(file)
    with transaction(app.runtime().engine) as conn:
        if sys.stderr.isatty():  # a bar on a terminal; nothing in logs and pipes
            with click.progressbar(length=len(items), label="importing", file=sys.stderr) as bar:
                store.import_watch(conn, items, lambda done: bar.update(done - bar.pos))
        else:
            store.import_watch(conn, items)
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

"""Tracked entities: the config and bundled entries synced in, the CLI's own added and removed.

Rows carry their origin (config / default / cli): a config sync never touches what an operator
added with the CLI, and the CLI never removes what the config declares.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Connection, Row, bindparam, delete, insert, select, update

from watcher.config import Settings
from watcher.matching.matcher import load_default_watchlist
from watcher.models import WatchEntity
from watcher.store.tables import WATCH_ENTITIES

_BATCH = 5000


@dataclass(frozen=True)
class WatchRecord:
    """One tracked entity as stored, with where it came from."""

    entity: WatchEntity
    origin: str

    def to_dict(self) -> dict[str, Any]:
        """The `watcher watchlist list --format json` object."""
        e = self.entity
        return {
            "name": e.name,
            "aliases": list(e.aliases),
            "tags": list(e.tags),
            "country": e.country,
            "entity_type": e.entity_type,
            "notes": e.notes,
            "origin": self.origin,
        }


def sync_watchlist(conn: Connection, settings: Settings) -> int:
    """Config and bundled entries into the table; CLI-added entries are left alone."""
    wanted: dict[str, tuple[WatchEntity, str]] = {}
    if settings.include_default_watchlist:
        entities, _topics = load_default_watchlist()
        wanted.update((e.name, (e, "default")) for e in entities)
    for w in settings.watchlist:
        wanted[w.name] = (w, "config")
    table = WATCH_ENTITIES
    existing = {r.name: r._mapping for r in conn.execute(select(table))}
    gone = [
        name
        for name, row in existing.items()
        if row["origin"] in ("config", "default") and name not in wanted
    ]
    if gone:
        conn.execute(delete(table).where(table.c.name.in_(gone)))
    inserts = []
    for name, (w, origin) in wanted.items():
        found = existing.get(name)
        if found is not None and found["origin"] == "cli":
            continue
        values = {
            "aliases": list(w.aliases),
            "tags": list(w.tags),
            "country": w.country,
            "entity_type": w.entity_type,
            "notes": w.notes,
            "origin": origin,
        }
        if found is None:
            inserts.append({"name": name, **values})
        elif any(found[k] != v for k, v in values.items()):  # most syncs change nothing
            conn.execute(update(table).where(table.c.id == found["id"]).values(values))
    if inserts:
        conn.execute(insert(table), inserts)
    return len(wanted)


def list_watch(conn: Connection) -> list[WatchRecord]:
    """Every tracked entity, by name."""
    rows = conn.execute(select(WATCH_ENTITIES).order_by(WATCH_ENTITIES.c.name))
    return [WatchRecord(_entity(r), r.origin) for r in rows]


def watch_entities(conn: Connection) -> list[WatchEntity]:
    """What the matcher is built from."""
    return [r.entity for r in list_watch(conn)]


def upsert_watch(conn: Connection, w: WatchEntity) -> None:
    """Track a name from the CLI (replacing its aliases, tags, country and notes)."""
    values = {
        "aliases": list(w.aliases),
        "tags": list(w.tags),
        "country": w.country,
        "notes": w.notes,
        "origin": "cli",
    }
    where = WATCH_ENTITIES.c.name == w.name
    if conn.scalar(select(WATCH_ENTITIES.c.id).where(where)) is None:
        conn.execute(insert(WATCH_ENTITIES).values(name=w.name, **values))
    else:
        conn.execute(update(WATCH_ENTITIES).where(where).values(values))


def import_watch(
    conn: Connection,
    items: Sequence[WatchEntity],
    progress: Callable[[int], None] | None = None,
) -> int:
    """`upsert_watch` for a whole file in bulk (100,000 names in seconds, not minutes).

    Same result as upserting one by one: a later row of the same name wins, known names are
    updated (and become the CLI's), new ones inserted. `progress` gets the rows done so far.
    """
    wanted = {w.name: w for w in items}
    known = dict(conn.execute(select(WATCH_ENTITIES.c.name, WATCH_ENTITIES.c.id)).all())
    rows: list[dict[str, Any]] = [
        {
            "name": w.name,
            "aliases": list(w.aliases),
            "tags": list(w.tags),
            "country": w.country,
            "notes": w.notes,
            "origin": "cli",
        }
        for w in wanted.values()
    ]
    updates: list[dict[str, Any]] = [
        {"row_id": known[r["name"]], **r} for r in rows if r["name"] in known
    ]
    inserts = [r for r in rows if r["name"] not in known]
    by_id = update(WATCH_ENTITIES).where(WATCH_ENTITIES.c.id == bindparam("row_id"))
    statements: list[tuple[Any, list[dict[str, Any]]]] = []
    statements += [(by_id, updates[i : i + _BATCH]) for i in range(0, len(updates), _BATCH)]
    statements += [
        (insert(WATCH_ENTITIES), inserts[i : i + _BATCH]) for i in range(0, len(inserts), _BATCH)
    ]
    done = 0
    for statement, batch in statements:
        conn.execute(statement, batch)  # executemany
        done += len(batch)
        if progress is not None:
            progress(done)
    return len(rows)


def remove_watch(conn: Connection, name: str) -> str | None:
    """Delete a CLI-added entry; returns its origin (None: not tracked) and deletes only 'cli'."""
    origin: str | None = conn.scalar(
        select(WATCH_ENTITIES.c.origin).where(WATCH_ENTITIES.c.name == name)
    )
    if origin == "cli":
        conn.execute(delete(WATCH_ENTITIES).where(WATCH_ENTITIES.c.name == name))
    return origin


def _entity(r: Row[Any]) -> WatchEntity:
    return WatchEntity(
        r.name, tuple(r.aliases or ()), tuple(r.tags or ()), r.country, r.entity_type, r.notes
    )

"""What `watcher screen` learnt about the listed names, kept for the next command.

Normalizing every listed name (pypinyin, ICU, fingerprints) costs seconds, and a one-shot
command would otherwise repeat it for each name screened. This cache keeps, for each entry
content (its `content_hash`: the same hash means the same names), the screening index keys of
its names, and for each name its normalized tokens, so a command normalizes only the entries
that changed since the last one. It is a SQLite file of its own beside a SQLite database (in
the user's cache directory for any other database): the database's rows are never touched.

Every row is keyed by content, never by row id, so the cache is right whatever database it
meets; `version` (the normalizer's code and libraries) empties it when normalizing changes.
Writes are single transactions, so concurrent commands see whole entries or nothing, and a
command reads its candidates in one transaction that fails if another emptied the cache since.
"""

from __future__ import annotations

import hashlib
import os
import sqlite3
from collections.abc import Collection, Iterable, Iterator, Mapping
from pathlib import Path
from typing import Any

from sqlalchemy import Connection, String, cast, func, select
from sqlalchemy.engine import URL

from watcher.store.tables import ENTRY_VERSIONS

_FORMAT = "3"  # the tables' shape: a cache of another shape is dropped
_TABLES = ("entry_names", "keys", "entries", "names", "meta")
_SCHEMA = """
CREATE TABLE meta (k TEXT PRIMARY KEY, v TEXT NOT NULL);
CREATE TABLE names (id INTEGER PRIMARY KEY, name TEXT NOT NULL UNIQUE, tokens TEXT NOT NULL);
CREATE TABLE keys (key TEXT NOT NULL, name INTEGER NOT NULL, PRIMARY KEY (key, name))
    WITHOUT ROWID;
CREATE TABLE entries (id INTEGER PRIMARY KEY, hash TEXT NOT NULL UNIQUE);
CREATE TABLE entry_names (name INTEGER NOT NULL, entry INTEGER NOT NULL,
    PRIMARY KEY (name, entry)) WITHOUT ROWID;
"""
_CHUNK = 500  # bound parameters per statement, well under SQLite's limit


class CacheCleared(Exception):
    """Another command emptied the cache meanwhile: what this one saw is gone."""


# What a missing, locked, broken or meanwhile emptied cache file raises.
CACHE_ERRORS = (OSError, sqlite3.Error, CacheCleared)


def current_versions(conn: Connection) -> list[tuple[int, str]]:
    """(version id, content hash) of every current entry: what the cache is checked against.
    Aggregated into one string by the database: 15,000 result rows cost twice as long,
    and this runs on every `watcher screen`."""
    pair = cast(ENTRY_VERSIONS.c.id, String) + ":" + ENTRY_VERSIONS.c.content_hash
    q = select(func.aggregate_strings(pair, ",")).where(
        ENTRY_VERSIONS.c.valid_to_snapshot.is_(None)
    )
    text = conn.execute(q).scalar_one()
    out = []
    for part in text.split(",") if text else ():
        version_id, _, content_hash = part.partition(":")
        out.append((int(version_id), content_hash))
    return out


def cache_path(url: URL) -> Path | None:
    """Beside a SQLite database file; per database in the user's cache directory otherwise;
    None for an in-memory database (nothing outlives the process)."""
    if url.get_backend_name() == "sqlite":
        db = url.database or ""
        if not db or db == ":memory:" or db.startswith("file:"):
            return None
        path = Path(db)
        return path.with_name(path.name + ".screen-cache")
    home = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    digest = hashlib.sha256(url.render_as_string(hide_password=True).encode()).hexdigest()
    return Path(home) / "watcher" / f"screen-{digest[:16]}.sqlite"


class ScreenCache:
    """One open cache file; every method may raise `sqlite3.Error` (callers then do without)."""

    def __init__(self, path: Path, version: str) -> None:
        path.parent.mkdir(parents=True, exist_ok=True)
        self._db = sqlite3.connect(path, timeout=10.0, isolation_level=None)
        self._version = f"{_FORMAT}:{version}"
        try:
            try:
                meta = dict(self._db.execute("SELECT k, v FROM meta"))
            except sqlite3.OperationalError:  # no such table: a new file
                meta = {}
            self._generation = meta.get("generation", "")
            if meta.get("version") != self._version or not self._generation:
                self.clear()
        except BaseException:
            self._db.close()
            raise

    def close(self) -> None:
        self._db.close()

    def clear(self) -> None:
        """Start again, empty (normalizer changed, or mostly entries no longer listed)."""
        with self._write():
            for table in _TABLES:
                self._db.execute(f"DROP TABLE IF EXISTS {table}")
            for statement in _SCHEMA.split(";"):
                if statement.strip():
                    self._db.execute(statement)
            self._generation = os.urandom(8).hex()
            self._db.executemany(
                "INSERT INTO meta VALUES (?, ?)",
                [("version", self._version), ("generation", self._generation)],
            )

    def consistent(self) -> _Transaction:
        """A read transaction that raises `CacheCleared` if another command emptied the cache
        since this one opened it: entries are only ever added, so what this command saw (and
        added) is all still there when the generation is unchanged."""
        return _Transaction(self._db, "BEGIN", self._generation)

    def entries(self) -> set[str]:
        """Content hashes of the entries whose names are cached."""
        return {r[0] for r in self._db.execute("SELECT hash FROM entries")}

    def tokens(self, names: Iterable[str]) -> dict[str, tuple[str, ...]]:
        """The cached tokens of those `names` the cache knows."""
        return {n: tuple(t.split()) for n, t in self._select(_TOKENS, names)}

    def names_with(self, keys: Iterable[str]) -> dict[str, tuple[str, ...]]:
        """Listed names having any of `keys`, with their tokens."""
        return {n: tuple(t.split()) for n, t in self._select(_NAMES_WITH, keys)}

    def entries_named(self, names: Iterable[str]) -> set[str]:
        """Content hashes of the entries having any of `names`."""
        return {r[0] for r in self._select(_ENTRIES_NAMED, names)}

    def add(
        self,
        entries: Mapping[str, Collection[str]],
        tokens: Mapping[str, tuple[str, ...]],
        keys: Mapping[str, Iterable[str]],
    ) -> None:
        """Store names' tokens, listed names' keys and entries (content hash -> its names), in
        one transaction. Every name of `entries` must be in `tokens` or already cached."""
        with self._write():
            self._db.executemany(
                "INSERT OR IGNORE INTO names (name, tokens) VALUES (?, ?)",
                ((n, " ".join(t)) for n, t in tokens.items()),
            )
            wanted = {n for names in entries.values() for n in names} | set(keys)
            ids = dict(self._select("SELECT name, id FROM names WHERE name IN ({})", wanted))
            self._db.executemany(  # in key order: appends to the index, no page splits
                "INSERT OR IGNORE INTO keys VALUES (?, ?)",
                sorted((k, ids[n]) for n, name_keys in keys.items() for k in name_keys),
            )
            cached = dict(self._select("SELECT hash, id FROM entries WHERE hash IN ({})", entries))
            new = [h for h in entries if h not in cached]  # others: cached by another command
            self._db.executemany("INSERT INTO entries (hash) VALUES (?)", ((h,) for h in new))
            entry_ids = dict(self._select("SELECT hash, id FROM entries WHERE hash IN ({})", new))
            self._db.executemany(
                "INSERT OR IGNORE INTO entry_names VALUES (?, ?)",
                ((ids[n], entry_ids[h]) for h in new for n in entries[h]),
            )

    def _select(self, query: str, values: Iterable[str]) -> Iterator[tuple[Any, ...]]:
        """`query` with its `IN ({})` filled with `values`, a chunk at a time."""
        items = sorted(set(values))
        for start in range(0, len(items), _CHUNK):
            chunk = items[start : start + _CHUNK]
            yield from self._db.execute(query.format(",".join("?" * len(chunk))), chunk)

    def _write(self) -> _Transaction:
        return _Transaction(self._db)


_TOKENS = "SELECT name, tokens FROM names WHERE name IN ({})"
_NAMES_WITH = (
    "SELECT DISTINCT n.name, n.tokens FROM keys k JOIN names n ON n.id = k.name WHERE k.key IN ({})"
)
_ENTRIES_NAMED = (
    "SELECT DISTINCT e.hash FROM names n JOIN entry_names en ON en.name = n.id"
    " JOIN entries e ON e.id = en.entry WHERE n.name IN ({})"
)


class _Transaction:
    """BEGIN ... COMMIT (ROLLBACK on error). IMMEDIATE: one writer at a time, all or nothing;
    deferred with a `generation`: a consistent read of the generation this command knows."""

    def __init__(
        self, db: sqlite3.Connection, begin: str = "BEGIN IMMEDIATE", generation: str | None = None
    ) -> None:
        self._db = db
        self._begin = begin
        self._generation = generation

    def __enter__(self) -> None:
        self._db.execute(self._begin)
        if self._generation is None:
            return
        row = self._db.execute("SELECT v FROM meta WHERE k = 'generation'").fetchone()
        if row is None or row[0] != self._generation:
            self._db.execute("ROLLBACK")
            raise CacheCleared

    def __exit__(self, kind: object, *_: object) -> None:
        self._db.execute("COMMIT" if kind is None else "ROLLBACK")

"""What `watcher screen` learnt about the listed names, kept for the next command.

Normalizing every listed name (pypinyin, ICU, fingerprints) costs seconds, and a one-shot
command would otherwise repeat it for each name screened. This cache keeps, for each entry
content (its `content_hash`: the same hash means the same names), the screening index keys of
its names, and for each name its normalized tokens, so a command normalizes only the entries
that changed since the last one. It is a SQLite file of its own beside a SQLite database (in
the user's cache directory for any other database): the database's rows are never touched.

Every row is keyed by content, never by row id, so the cache is right whatever database it
meets; `version` (the normalizer's code and libraries) empties it when normalizing changes.
Writes are single transactions, so concurrent commands see whole entries or nothing.
"""

from __future__ import annotations

import hashlib
import os
import sqlite3
from collections.abc import Iterable, Mapping, Sequence
from pathlib import Path

from sqlalchemy import select
from sqlalchemy.engine import URL
from sqlalchemy.orm import Session

from watcher.store.tables import EntryVersionRow

_SCHEMA = """
CREATE TABLE IF NOT EXISTS meta (k TEXT PRIMARY KEY, v TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS entries (id INTEGER PRIMARY KEY, hash TEXT NOT NULL UNIQUE);
CREATE TABLE IF NOT EXISTS keys (
    key TEXT NOT NULL, entry INTEGER NOT NULL, PRIMARY KEY (key, entry)
) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS names (name TEXT PRIMARY KEY, tokens TEXT NOT NULL) WITHOUT ROWID;
"""
_CHUNK = 500  # bound parameters per statement, well under SQLite's limit
# What a missing, locked or broken cache file raises.
CACHE_ERRORS = (OSError, sqlite3.Error)


def current_versions(session: Session) -> list[tuple[int, str]]:
    """(version id, content hash) of every current entry: what the cache is checked against."""
    q = select(EntryVersionRow.id, EntryVersionRow.content_hash).where(
        EntryVersionRow.valid_to_snapshot.is_(None)
    )
    return [(i, h) for i, h in session.execute(q)]


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
        try:
            self._db.executescript(_SCHEMA)
            row = self._db.execute("SELECT v FROM meta WHERE k = 'version'").fetchone()
            if row is None or row[0] != version:
                self.clear(version)
        except BaseException:
            self._db.close()
            raise

    def close(self) -> None:
        self._db.close()

    def clear(self, version: str) -> None:
        """Forget everything (normalizer changed, or too many entries no longer listed)."""
        with self._write():
            for table in ("keys", "entries", "names", "meta"):
                self._db.execute(f"DELETE FROM {table}")  # noqa: S608 (fixed names)
            self._db.execute("INSERT INTO meta VALUES ('version', ?)", (version,))

    def entries(self) -> dict[str, int]:
        """Content hash -> cache id of every entry whose keys are cached."""
        return dict(self._db.execute("SELECT hash, id FROM entries"))

    def entries_with(self, keys: Iterable[str]) -> set[int]:
        """Cache ids of the entries having a name with any of `keys`."""
        found: set[int] = set()
        for chunk in _chunks(sorted(keys)):
            marks = ",".join("?" * len(chunk))
            q = f"SELECT DISTINCT entry FROM keys WHERE key IN ({marks})"  # noqa: S608
            found.update(r[0] for r in self._db.execute(q, chunk))
        return found

    def tokens(self, names: Iterable[str]) -> dict[str, tuple[str, ...]]:
        """The cached tokens of those `names` the cache knows."""
        out: dict[str, tuple[str, ...]] = {}
        for chunk in _chunks(sorted(set(names))):
            marks = ",".join("?" * len(chunk))
            q = f"SELECT name, tokens FROM names WHERE name IN ({marks})"  # noqa: S608
            out.update((n, tuple(t.split())) for n, t in self._db.execute(q, chunk))
        return out

    def add(
        self,
        entries: Mapping[str, Iterable[str]],
        tokens: Mapping[str, tuple[str, ...]],
    ) -> None:
        """Store entries (content hash -> index keys of its names) and name tokens, at once."""
        with self._write():
            self._db.executemany(
                "INSERT OR IGNORE INTO names VALUES (?, ?)",
                ((n, " ".join(t)) for n, t in tokens.items()),
            )
            for content_hash, keys in entries.items():
                cur = self._db.execute(
                    "INSERT OR IGNORE INTO entries (hash) VALUES (?)", (content_hash,)
                )
                if cur.rowcount != 1:
                    continue  # another command cached it meanwhile
                entry = cur.lastrowid
                self._db.executemany(
                    "INSERT INTO keys VALUES (?, ?)", ((k, entry) for k in set(keys))
                )

    def _write(self) -> _Transaction:
        return _Transaction(self._db)


class _Transaction:
    """BEGIN IMMEDIATE ... COMMIT (ROLLBACK on error): one writer at a time, all or nothing."""

    def __init__(self, db: sqlite3.Connection) -> None:
        self._db = db

    def __enter__(self) -> None:
        self._db.execute("BEGIN IMMEDIATE")

    def __exit__(self, kind: object, *_: object) -> None:
        self._db.execute("COMMIT" if kind is None else "ROLLBACK")


def _chunks(items: Sequence[str]) -> Iterable[Sequence[str]]:
    for start in range(0, len(items), _CHUNK):
        yield items[start : start + _CHUNK]

"""One list as it stood at a time: the query behind `watcher entries` and `/api/entries`.

A version is on the list at time T when its first snapshot took effect before T and its last
one (if any) at or after T. Listings sort by (list code, name, key):
`ix_entry_versions_listing` walks that order, so a page of rows reads only that page, and
`ix_entry_versions_span` counts the whole list without reading any stored JSON.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import ColumnElement, Connection, Select, String, cast, func, literal, or_, select

from watcher.models import Entry
from watcher.store.records import EntryRecord, entry_dict
from watcher.store.tables import ENTRY_VERSIONS, SNAPSHOTS

_From = SNAPSHOTS.alias("from_snapshot")  # the snapshot that opened a version
_To = SNAPSHOTS.alias("to_snapshot")  # and the one that closed it


def like_pattern(term: str) -> str:
    """`term` anywhere, case-insensitive, as a LIKE pattern (escape character: backslash)."""
    escaped = term.lower().replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    return f"%{escaped}%"


def _listing(
    columns: Select[Any], source: str, as_of: datetime | None, search: str | None
) -> Select[Any]:
    """`columns` restricted to the versions on `source`'s list at `as_of` (None: now)."""
    q = columns.join(_From, _From.c.id == ENTRY_VERSIONS.c.valid_from_snapshot).where(
        ENTRY_VERSIONS.c.source == source
    )
    if as_of is None:
        q = q.where(ENTRY_VERSIONS.c.valid_to_snapshot.is_(None))
    else:
        q = q.outerjoin(_To, _To.c.id == ENTRY_VERSIONS.c.valid_to_snapshot).where(
            _From.c.effective_at < as_of, or_(_To.c.id.is_(None), _To.c.effective_at >= as_of)
        )
    if search:
        pattern = like_pattern(search)
        matched: ColumnElement[bool] = or_(
            func.lower(ENTRY_VERSIONS.c.name).like(pattern, escape="\\"),
            func.lower(cast(ENTRY_VERSIONS.c.data, String)).like(pattern, escape="\\"),
        )
        q = q.where(matched)
    return q


def _rows(
    conn: Connection, source: str, as_of: datetime | None, search: str | None, limit: int | None
) -> list[Any]:
    valid_to = _To.c.effective_at if as_of is not None else literal(None)
    q = _listing(
        select(ENTRY_VERSIONS.c.id, ENTRY_VERSIONS.c.data, _From.c.effective_at, valid_to),
        source,
        as_of,
        search,
    ).order_by(ENTRY_VERSIONS.c.list_code, ENTRY_VERSIONS.c.name, ENTRY_VERSIONS.c.key)
    if limit:
        q = q.limit(limit)
    return list(conn.execute(q))


def entries_as_of(
    conn: Connection,
    source: str,
    as_of: datetime | None = None,
    search: str | None = None,
    limit: int | None = None,
) -> list[EntryRecord]:
    """The list as it stood at `as_of` (exclusive upper bound); the current list when None."""
    return [
        EntryRecord(Entry.from_dict(data), version_id, valid_from, valid_to)
        for version_id, data, valid_from, valid_to in _rows(conn, source, as_of, search, limit)
    ]


def entry_rows(
    conn: Connection,
    source: str,
    as_of: datetime | None = None,
    search: str | None = None,
    limit: int | None = None,
) -> list[dict[str, Any]]:
    """`entries_as_of` as `EntryRecord.to_dict()` objects, built straight from the stored JSON:
    a whole list is thousands of rows, and Entry objects would only be turned back into dicts."""
    out = []
    for _id, data, valid_from, valid_to in _rows(conn, source, as_of, search, limit):
        row = entry_dict(data)
        row["valid_from"] = valid_from.isoformat()
        row["valid_to"] = valid_to.isoformat() if valid_to else None
        out.append(row)
    return out


def count_entries(
    conn: Connection, source: str, as_of: datetime | None = None, search: str | None = None
) -> int:
    """How many entries `entries_as_of` would list without a limit."""
    q = _listing(select(func.count()).select_from(ENTRY_VERSIONS), source, as_of, search)
    return int(conn.scalar(q) or 0)

"""Source state, checks, snapshots, entry versions and changes: what one pipeline run writes."""

from __future__ import annotations

import io
import zipfile
from collections.abc import Iterable, Mapping, Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import Connection, Row, Table, func, insert, select, update

from watcher.models import Change, Entry, FetchedFile
from watcher.store import _bulk as bulk
from watcher.store.records import CurrentVersion, SnapshotInfo, SourceState, VersionRef
from watcher.store.tables import (
    CHANGES,
    CHECKS,
    ENTRY_VERSIONS,
    SNAPSHOTS,
    SOURCE_STATE,
)

_CHUNK = 500


def get_state(conn: Connection, source: str) -> SourceState:
    row = conn.execute(select(SOURCE_STATE).where(SOURCE_STATE.c.source == source)).first()
    if row is None:
        return SourceState(source=source)
    return _state(row)


def _state(row: Row[Any]) -> SourceState:
    return SourceState(
        source=row.source,
        last_check_at=row.last_check_at,
        last_success_at=row.last_success_at,
        validators=dict(row.validators or {}),
        consecutive_failures=row.consecutive_failures,
        last_error=row.last_error,
    )


def all_states(conn: Connection) -> list[SourceState]:
    rows = conn.execute(select(SOURCE_STATE).order_by(SOURCE_STATE.c.source))
    return [_state(r) for r in rows]


def save_state(
    conn: Connection,
    source: str,
    *,
    checked_at: datetime,
    success: bool,
    error: str | None = None,
    validators: Mapping[str, Any] | None = None,
) -> SourceState:
    """Record a poll's outcome; failures count up until the next success."""
    where = SOURCE_STATE.c.source == source
    found = conn.execute(select(SOURCE_STATE.c.consecutive_failures).where(where)).first()
    if found is None:
        conn.execute(
            insert(SOURCE_STATE).values(source=source, validators={}, consecutive_failures=0)
        )
    failures = found.consecutive_failures if found is not None else 0
    values: dict[str, Any] = {"last_check_at": checked_at}
    if success:
        values.update(last_success_at=checked_at, consecutive_failures=0, last_error=None)
    else:
        values.update(consecutive_failures=(failures or 0) + 1, last_error=error)
    if validators is not None:
        values["validators"] = dict(validators)
    conn.execute(update(SOURCE_STATE).where(where).values(values))
    return get_state(conn, source)


def record_check(
    conn: Connection,
    source: str,
    *,
    started_at: datetime,
    duration_ms: int,
    outcome: str,
    http_status: int | None = None,
    size: int = 0,
    error: str | None = None,
    snapshot_id: int | None = None,
    changes: int = 0,
) -> int:
    row = dict(
        source=source,
        started_at=started_at,
        duration_ms=duration_ms,
        outcome=outcome,
        http_status=http_status,
        bytes=size,
        error=error,
        snapshot_id=snapshot_id,
        changes=changes,
    )
    return _insert_id(conn, CHECKS, row)


def pack_files(files: Sequence[FetchedFile]) -> bytes:
    """All fetched files of one poll, compressed, so any snapshot can be re-parsed later."""
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED, compresslevel=6) as zf:
        for i, f in enumerate(files):
            zf.writestr(f"{i:04d}_{_safe(f.name)}", f.content)
    return buf.getvalue()


def unpack_files(blob: bytes) -> dict[str, bytes]:
    """The fetched files of a snapshot; {} once its raw bytes were pruned (`keep_raw`)."""
    if not blob:
        return {}
    with zipfile.ZipFile(io.BytesIO(blob)) as zf:
        return {n.split("_", 1)[1]: zf.read(n) for n in sorted(zf.namelist())}


def _safe(name: str) -> str:
    return "".join(c if c.isalnum() or c in "._-:" else "_" for c in name)


def add_snapshot(
    conn: Connection,
    source: str,
    *,
    files: Sequence[FetchedFile],
    sha256: str,
    fetched_at: datetime,
    published_at: datetime | None,
    effective_at: datetime,
    record_count: int,
    status: str,
    reason: str | None = None,
    warnings: Iterable[str] = (),
    origin: str = "poll",
    packed: bytes | None = None,
) -> SnapshotInfo:
    """`packed`: `pack_files(files)` when the caller already made it (while parsing)."""
    row: dict[str, Any] = dict(
        source=source,
        fetched_at=fetched_at,
        published_at=published_at,
        effective_at=effective_at,
        sha256=sha256,
        raw=pack_files(files) if packed is None else packed,
        raw_size=sum(len(f.content) for f in files),
        files=[_file_meta(f) for f in files],
        record_count=record_count,
        status=status,
        reason=reason,
        warnings=list(warnings)[:200],
        origin=origin,
    )
    snapshot_id = _insert_id(conn, SNAPSHOTS, row)
    return _snapshot_info({**row, "id": snapshot_id})


def _file_meta(f: FetchedFile) -> dict[str, Any]:
    return {
        "name": f.name,
        "url": f.url,
        "status": f.status,
        "bytes": len(f.content),
        "etag": f.etag,
        "last_modified": f.last_modified,
        "content_type": f.content_type,
    }


def _insert_id(conn: Connection, table: Table, row: Mapping[str, Any]) -> int:
    """Insert one row, return its new id (a column left out takes its table default)."""
    return int(conn.execute(insert(table).returning(table.c.id), row).scalar_one())


# What a SnapshotInfo shows: never the stored bytes (`raw`, megabytes) nor the file list.
_INFO = [c for c in SNAPSHOTS.c if c.name not in ("raw", "files")]


def _snapshot_info(row: Mapping[Any, Any]) -> SnapshotInfo:
    return SnapshotInfo(
        id=row["id"],
        source=row["source"],
        fetched_at=row["fetched_at"],
        published_at=row["published_at"],
        effective_at=row["effective_at"],
        sha256=row["sha256"],
        raw_size=row["raw_size"],
        record_count=row["record_count"],
        status=row["status"],
        reason=row["reason"],
        origin=row["origin"],
        warnings=tuple(row["warnings"] or ()),
    )


def prune_raw(conn: Connection, source: str, *, before: datetime, keep_id: int) -> int:
    """Drop the stored bytes of a source's snapshots dated before `before` (`keep_raw`).

    The snapshot rows stay, with their hash, size and status, and so does all history derived
    from them; only re-parsing those files becomes impossible. Returns how many were pruned.
    """
    result = conn.execute(
        update(SNAPSHOTS)
        .where(
            SNAPSHOTS.c.source == source,
            SNAPSHOTS.c.effective_at < before,
            SNAPSHOTS.c.id != keep_id,
            func.length(SNAPSHOTS.c.raw) > 0,
        )
        .values(raw=b"")
    )
    return int(getattr(result, "rowcount", 0) or 0)


def latest_snapshot(
    conn: Connection, source: str, status: str | None = None
) -> SnapshotInfo | None:
    query = select(*_INFO).where(SNAPSHOTS.c.source == source)
    if status:
        query = query.where(SNAPSHOTS.c.status == status)
    row = conn.execute(
        query.order_by(SNAPSHOTS.c.effective_at.desc(), SNAPSHOTS.c.id.desc()).limit(1)
    ).first()
    return _snapshot_info(row._mapping) if row else None


def list_snapshots(
    conn: Connection, source: str | None = None, limit: int = 200
) -> list[SnapshotInfo]:
    query = select(*_INFO)
    if source:
        query = query.where(SNAPSHOTS.c.source == source)
    rows = conn.execute(
        query.order_by(SNAPSHOTS.c.effective_at.desc(), SNAPSHOTS.c.id.desc()).limit(limit)
    )
    return [_snapshot_info(r._mapping) for r in rows]


def current_refs(conn: Connection, source: str) -> dict[str, VersionRef]:
    """Key -> (version id, content hash) of the open versions: the diff loads data only for
    the entries whose hash differs, so a snapshot with few changes reads few rows."""
    new = tuple.__new__  # VersionRef(...) costs a Python call per row; this is one C call
    return {row[0]: new(VersionRef, row[1:]) for row in bulk.open_versions(conn, source)}


def load_versions(conn: Connection, version_ids: Iterable[int]) -> dict[str, CurrentVersion]:
    """The stored entries of the given versions, by key."""
    ids = sorted(version_ids)
    out: dict[str, CurrentVersion] = {}
    for start in range(0, len(ids), _CHUNK):
        rows = conn.execute(
            select(ENTRY_VERSIONS.c.id, ENTRY_VERSIONS.c.data).where(
                ENTRY_VERSIONS.c.id.in_(ids[start : start + _CHUNK])
            )
        )
        for version_id, data in rows:
            entry = Entry.from_dict(data)
            out[entry.key] = CurrentVersion(version_id, entry)
    return out


def current_keys(conn: Connection, source: str) -> frozenset[str]:
    """Keys of the open versions only (what paginated sources need to know where to stop)."""
    return frozenset(
        conn.scalars(
            select(ENTRY_VERSIONS.c.key).where(
                ENTRY_VERSIONS.c.source == source, ENTRY_VERSIONS.c.valid_to_snapshot.is_(None)
            )
        )
    )


def count_current(conn: Connection, source: str) -> int:
    return (
        conn.scalar(
            select(func.count()).where(
                ENTRY_VERSIONS.c.source == source, ENTRY_VERSIONS.c.valid_to_snapshot.is_(None)
            )
        )
        or 0
    )


def insert_versions(
    conn: Connection, snapshot_id: int, entries: Sequence[Entry], *, want_ids: bool = True
) -> dict[str, int]:
    """New versions in bulk (rows proportional to what changed, never a copy per snapshot);
    returns key -> new version id (`{}` when `want_ids` is false: a baseline needs none).

    The driver's bulk path (`_bulk`), then one indexed read of the ids: RETURNING in parameter
    order makes SQLAlchemy run one statement per row on SQLite, and psycopg re-parse each
    batch's giant multi-VALUES statement: together more than everything else an ingest does.
    """
    bulk.write_versions(conn, snapshot_id, entries)
    if not want_ids or not entries:
        return {}
    # Versions opened by this snapshot are still open (closing comes before inserting): the
    # (source, valid_to_snapshot) index finds them. Ordered by id, a repeated key keeps the last.
    found = conn.execute(
        select(ENTRY_VERSIONS.c.key, ENTRY_VERSIONS.c.id)
        .where(
            ENTRY_VERSIONS.c.source.in_(sorted({e.source for e in entries})),
            ENTRY_VERSIONS.c.valid_to_snapshot.is_(None),
            ENTRY_VERSIONS.c.valid_from_snapshot == snapshot_id,
        )
        .order_by(ENTRY_VERSIONS.c.id)
    )
    return {key: version_id for key, version_id in found}


def _insert_returning_ids(conn: Connection, table: Table, rows: list[dict[str, Any]]) -> list[int]:
    """Executemany batched by SQLAlchemy's insertmanyvalues; ids come back in row order."""
    result = conn.execute(insert(table).returning(table.c.id, sort_by_parameter_order=True), rows)
    return list(result.scalars().all())


def close_versions(conn: Connection, version_ids: Sequence[int], snapshot_id: int) -> None:
    for start in range(0, len(version_ids), _CHUNK):
        chunk = list(version_ids[start : start + _CHUNK])
        conn.execute(
            update(ENTRY_VERSIONS)
            .where(ENTRY_VERSIONS.c.id.in_(chunk))
            .values(valid_to_snapshot=snapshot_id)
        )


def apply_changes(
    conn: Connection,
    snapshot: SnapshotInfo,
    current: Mapping[str, VersionRef],
    changes: Sequence[Change],
    *,
    detected_at: datetime,
    source_url: str | None,
    record: bool = True,
) -> list[int]:
    """Move history forward by one snapshot; returns the ids of the change rows written.

    `record=False` is the baseline (first snapshot of a source): versions are written, but
    nothing is reported as a change, so a first import never alerts anyone.
    """
    to_close = [
        current[c.before.key].version_id
        for c in changes
        if c.before is not None and c.before.key in current
    ]
    new_entries = [c.after for c in changes if c.after is not None]
    close_versions(conn, to_close, snapshot.id)
    new_ids = insert_versions(conn, snapshot.id, new_entries, want_ids=record)
    if not record:
        return []
    rows = []
    for c in changes:
        entry = c.entry
        before_id = (
            current[c.before.key].version_id
            if c.before is not None and c.before.key in current
            else None
        )
        rows.append(
            {
                "source": snapshot.source,
                "snapshot_id": snapshot.id,
                "key": c.key,
                "kind": c.kind,
                "list_code": entry.list_code,
                "name": entry.name,
                "before_version_id": before_id,
                "after_version_id": new_ids.get(c.after.key) if c.after is not None else None,
                "field_changes": [f.to_dict() for f in c.field_changes],
                "detected_at": detected_at,
                "effective_at": snapshot.effective_at,
                "source_url": str(
                    entry.raw.get("html_url") or entry.raw.get("link") or source_url or ""
                )
                or None,
            }
        )
    ids: list[int] = []
    for start in range(0, len(rows), _CHUNK):
        ids.extend(_insert_returning_ids(conn, CHANGES, rows[start : start + _CHUNK]))
    return ids

"""Read-only listings behind the CLI and the HTTP API."""

from __future__ import annotations

import json
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import ColumnElement, Connection, Row, Select, String, and_, cast, func, or_, select

from watcher.config import Settings
from watcher.health import enabled_sources, staleness
from watcher.models import Entry
from watcher.store import links
from watcher.store.entries import entries_as_of as entries_as_of  # re-exported: callers' name
from watcher.store.entries import like_pattern as _like
from watcher.store.records import ChangeInfo, EntryRecord, MatchInfo, SourceStatus
from watcher.store.snapshots import all_states, count_current
from watcher.store.tables import CHANGES, ENTRY_VERSIONS, MATCHES, SNAPSHOTS

_From = SNAPSHOTS.alias("from_snapshot")  # the snapshot that opened a version
_To = SNAPSHOTS.alias("to_snapshot")  # and the one that closed it
_VALID_FROM = _From.c.effective_at.label("valid_from")
_VALID_TO = _To.c.effective_at.label("valid_to")


def source_statuses(
    conn: Connection, settings: Settings, names: Sequence[str], now: datetime
) -> list[SourceStatus]:
    """The `watcher sources` rows for `names` (every known source, in registry order)."""
    enabled = set(enabled_sources(settings))
    states = {s.source: s for s in all_states(conn)}
    rows = []
    for name in names:
        st = states.get(name)
        last_ok = st.last_success_at if st else None
        rows.append(
            SourceStatus(
                source=name,
                enabled=name in enabled,
                interval_s=int(settings.source(name).interval),
                last_check=st.last_check_at if st else None,
                last_success=last_ok,
                failures=st.consecutive_failures if st else 0,
                last_error=st.last_error if st else None,
                stale=name in enabled and staleness(settings, name, last_ok, now) is not None,
                entries=count_current(conn, name),
            )
        )
    return rows


@dataclass(frozen=True)
class ChangeFilter:
    """What the CLI, the API and the web timeline filter changes by (all optional)."""

    source: str | None = None
    since: datetime | None = None
    until: datetime | None = None
    entity: str | None = None  # name, any field, or watch name contains this text
    kind: str | None = None
    list_code: str | None = None
    tag: str | None = None  # a match carries this tag (watch-entry tag or topic name)
    watch: str | None = None  # a match with this watch entity or topic (exact name)
    key: str | None = None


def _joined() -> Select[Any]:
    return select(CHANGES, ENTRY_VERSIONS.c.data).join(
        ENTRY_VERSIONS,
        ENTRY_VERSIONS.c.id
        == func.coalesce(CHANGES.c.after_version_id, CHANGES.c.before_version_id),
    )


def _conditions(f: ChangeFilter) -> list[ColumnElement[bool]]:
    out: list[ColumnElement[bool]] = []
    for column, value in (
        (CHANGES.c.source, f.source),
        (CHANGES.c.kind, f.kind),
        (CHANGES.c.list_code, f.list_code),
        (CHANGES.c.key, f.key),
    ):
        if value:
            out.append(column == value)
    if f.since:
        out.append(CHANGES.c.effective_at >= f.since)
    if f.until:
        out.append(CHANGES.c.effective_at < f.until)
    if f.watch:
        out.append(CHANGES.c.id.in_(select(MATCHES.c.change_id).where(MATCHES.c.watch == f.watch)))
    if f.tag:
        tagged = _like(json.dumps(f.tag, ensure_ascii=False))
        out.append(
            CHANGES.c.id.in_(
                select(MATCHES.c.change_id).where(
                    func.lower(cast(MATCHES.c.tags, String)).like(tagged, escape="\\")
                )
            )
        )
    if f.entity:
        pattern = _like(f.entity)
        watched = select(MATCHES.c.change_id).where(
            func.lower(MATCHES.c.watch).like(pattern, escape="\\")
        )
        out.append(
            or_(
                func.lower(CHANGES.c.name).like(pattern, escape="\\"),
                func.lower(cast(ENTRY_VERSIONS.c.data, String)).like(pattern, escape="\\"),
                CHANGES.c.id.in_(watched),
            )
        )
    return out


def list_changes(
    conn: Connection,
    *,
    source: str | None = None,
    since: datetime | None = None,
    until: datetime | None = None,
    entity: str | None = None,
    kind: str | None = None,
    list_code: str | None = None,
    limit: int | None = 1000,
    after_id: int | None = None,
    where: ChangeFilter | None = None,
    before: tuple[datetime, int] | None = None,
) -> list[ChangeInfo]:
    """Changes newest first; dates filter on the date the change took effect.

    `where` replaces the single filters; `before` (effective_at, id) is the timeline's cursor:
    only changes listed after that one, so pages stay stable while new changes arrive.
    """
    f = where or ChangeFilter(source, since, until, entity, kind, list_code)
    q = _joined().where(*_conditions(f))
    if after_id:
        q = q.where(CHANGES.c.id > after_id)
    if before:
        at, last = before
        q = q.where(
            or_(
                CHANGES.c.effective_at < at,
                and_(CHANGES.c.effective_at == at, CHANGES.c.id < last),
            )
        )
    q = q.order_by(CHANGES.c.effective_at.desc(), CHANGES.c.id.desc())
    if limit:
        q = q.limit(limit)
    rows = conn.execute(q).all()
    matches = _matches_for(conn, [r.id for r in rows])
    return [_change_info(row, matches.get(row.id, ())) for row in rows]


def count_changes(conn: Connection, where: ChangeFilter) -> list[tuple[str, str, str, int]]:
    """(UTC day as YYYY-MM-DD, source, list code, changes) for every day with changes."""
    if conn.dialect.name == "postgresql":
        day = func.to_char(func.timezone("UTC", CHANGES.c.effective_at), "YYYY-MM-DD")
    else:
        day = func.substr(cast(CHANGES.c.effective_at, String), 1, 10)
    needs_data = bool(where.entity)
    base = _joined() if needs_data else select(CHANGES)
    q = (
        base.with_only_columns(day, CHANGES.c.source, CHANGES.c.list_code, func.count())
        .where(*_conditions(where))
        .group_by(day, CHANGES.c.source, CHANGES.c.list_code)
        .order_by(day)
    )
    return [(str(d), s, c, int(n)) for d, s, c, n in conn.execute(q)]


def _matches_for(conn: Connection, change_ids: Sequence[int]) -> dict[int, tuple[MatchInfo, ...]]:
    out: dict[int, list[MatchInfo]] = {}
    for start in range(0, len(change_ids), 500):
        chunk = change_ids[start : start + 500]
        for m in conn.execute(
            select(MATCHES).where(MATCHES.c.change_id.in_(chunk)).order_by(MATCHES.c.score.desc())
        ):
            out.setdefault(m.change_id, []).append(
                MatchInfo(
                    m.watch,
                    m.watch_kind,
                    m.score,
                    m.method,
                    m.matched_name,
                    m.matched_text,
                    tuple(m.tags or ()),
                    m.reason,
                )
            )
    return {k: tuple(v) for k, v in out.items()}


def _change_info(row: Row[Any], matches: Iterable[MatchInfo]) -> ChangeInfo:
    """`row`: a change with its entry version's `data` (`_joined`)."""
    return ChangeInfo(
        id=row.id,
        source=row.source,
        list_code=row.list_code,
        kind=row.kind,
        key=row.key,
        name=row.name,
        entry=Entry.from_dict(row.data),
        field_changes=tuple(row.field_changes or ()),
        detected_at=row.detected_at,
        effective_at=row.effective_at,
        snapshot_id=row.snapshot_id,
        source_url=row.source_url,
        matches=tuple(matches),
    )


def history(conn: Connection, name: str, limit: int = 500) -> list[dict[str, Any]]:
    """Every version of every entry whose name or aliases contain `name`, across all lists."""
    pattern = _like(name)
    q = (
        select(ENTRY_VERSIONS, _VALID_FROM, _VALID_TO)
        .join(_From, _From.c.id == ENTRY_VERSIONS.c.valid_from_snapshot)
        .outerjoin(_To, _To.c.id == ENTRY_VERSIONS.c.valid_to_snapshot)
        .where(
            or_(
                func.lower(ENTRY_VERSIONS.c.name).like(pattern, escape="\\"),
                func.lower(cast(ENTRY_VERSIONS.c.data, String)).like(pattern, escape="\\"),
            )
        )
        .order_by(ENTRY_VERSIONS.c.source, ENTRY_VERSIONS.c.key, _From.c.effective_at)
        .limit(limit)
    )
    out: list[dict[str, Any]] = []
    for row in conn.execute(q).all():
        changes = conn.execute(
            select(
                CHANGES.c.id, CHANGES.c.kind, CHANGES.c.effective_at, CHANGES.c.field_changes
            ).where(
                or_(
                    CHANGES.c.after_version_id == row.id,
                    and_(CHANGES.c.before_version_id == row.id, CHANGES.c.kind == "removed"),
                )
            )
        ).all()
        out.append(
            {
                "source": row.source,
                "key": row.key,
                "list_code": row.list_code,
                "name": row.name,
                "aliases": row.data.get("aliases", []),
                "programs": row.data.get("programs", []),
                "valid_from": row.valid_from.isoformat(),
                "valid_to": row.valid_to.isoformat() if row.valid_to else None,
                "links": [
                    {
                        "document_number": link.document_number,
                        "action": link.action,
                        "title": link.document_title,
                        "html_url": link.html_url,
                        "linked_source": link.target_source,
                        "linked_key": link.target_key,
                        "linked_kind": link.target_kind,
                    }
                    for link in links.links_for(conn, row.source, row.key)
                ],
                "events": [
                    {
                        "change_id": c.id,
                        "kind": c.kind,
                        "at": c.effective_at.isoformat(),
                        "field_changes": c.field_changes,
                    }
                    for c in changes
                ],
            }
        )
    return out


def current_all(conn: Connection) -> list[EntryRecord]:
    q = (
        select(ENTRY_VERSIONS, _VALID_FROM)
        .join(_From, _From.c.id == ENTRY_VERSIONS.c.valid_from_snapshot)
        .where(ENTRY_VERSIONS.c.valid_to_snapshot.is_(None))
    )
    return [EntryRecord(Entry.from_dict(r.data), r.id, r.valid_from, None) for r in conn.execute(q)]


def first_listed(conn: Connection, source: str, key: str) -> datetime | None:
    """Since when a key has been continuously on its list (start of the current run of versions)."""
    rows = conn.execute(
        select(_VALID_FROM, _VALID_TO)
        .select_from(ENTRY_VERSIONS)
        .join(_From, _From.c.id == ENTRY_VERSIONS.c.valid_from_snapshot)
        .outerjoin(_To, _To.c.id == ENTRY_VERSIONS.c.valid_to_snapshot)
        .where(ENTRY_VERSIONS.c.source == source, ENTRY_VERSIONS.c.key == key)
        .order_by(_From.c.effective_at.desc())
    ).all()
    since = None
    for start, end in rows:
        if since is not None and end is not None and end < since:
            break
        since = start
    return since


def current_texts(conn: Connection) -> list[tuple[int, str]]:
    """Every current entry version as (id, its stored JSON text): screening prefilters on the
    text and decodes only the few candidates (`versions_by_id`)."""
    q = select(ENTRY_VERSIONS.c.id, cast(ENTRY_VERSIONS.c.data, String)).where(
        ENTRY_VERSIONS.c.valid_to_snapshot.is_(None)
    )
    return [(i, text or "") for i, text in conn.execute(q)]


def versions_by_id(conn: Connection, ids: Sequence[int]) -> list[EntryRecord]:
    out: list[EntryRecord] = []
    for start in range(0, len(ids), 500):
        q = (
            select(ENTRY_VERSIONS, _VALID_FROM)
            .join(_From, _From.c.id == ENTRY_VERSIONS.c.valid_from_snapshot)
            .where(ENTRY_VERSIONS.c.id.in_(ids[start : start + 500]))
        )
        out += [
            EntryRecord(Entry.from_dict(r.data), r.id, r.valid_from, None) for r in conn.execute(q)
        ]
    return out

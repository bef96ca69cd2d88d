"""Federal Register documents, their entity actions, and the links to CSL / eCFR changes.

A document is one row per document number: the public-inspection filing and the published
document are the same row, with the time each was first seen (`public_inspection_seen`,
`published_seen`). Its entity actions are stored twice on purpose: as the JSON the extractor
produced (`documents.actions`, what an analyst reads) and one row each in `document_actions`
(what linking and the "not yet in the CSL" check query).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from sqlalchemy import Connection, Row, insert, select, update

from watcher.keys import name_key
from watcher.models import Entry
from watcher.store.tables import (
    DOCUMENT_ACTIONS,
    DOCUMENTS,
    ENTRY_VERSIONS,
    SNAPSHOTS,
)

FR_SOURCE = "federal_register"
CountryKey = Callable[[str | None], str | None]


@dataclass(frozen=True)
class DocumentInfo:
    document_number: str
    title: str
    type: str | None
    action: str | None
    publication_date: date | None
    effective_on: date | None
    filed_at: datetime | None
    html_url: str | None
    full_text_xml_url: str | None
    entity_list_rule: bool
    actions: tuple[dict[str, Any], ...] | None
    first_seen: datetime
    public_inspection_seen: datetime | None
    published_seen: datetime | None
    actions_seen: datetime | None = None

    def to_dict(self) -> dict[str, Any]:
        def iso(value: date | datetime | None) -> str | None:
            return value.isoformat() if value else None

        return {
            "document_number": self.document_number,
            "title": self.title,
            "type": self.type,
            "action": self.action,
            "publication_date": iso(self.publication_date),
            "effective_on": iso(self.effective_on),
            "filed_at": iso(self.filed_at),
            "html_url": self.html_url,
            "full_text_xml_url": self.full_text_xml_url,
            "entity_list_rule": self.entity_list_rule,
            "actions": list(self.actions) if self.actions is not None else None,
            "first_seen": iso(self.first_seen),
            "public_inspection_seen": iso(self.public_inspection_seen),
            "published_seen": iso(self.published_seen),
            "actions_seen": iso(self.actions_seen),
            "lead_time_seconds": self.lead_time_seconds,
        }

    @property
    def lead_time_seconds(self) -> float | None:
        """How long before publication the document was seen on public inspection."""
        if self.public_inspection_seen is None or self.published_seen is None:
            return None
        return (self.published_seen - self.public_inspection_seen).total_seconds()


@dataclass(frozen=True)
class ActionInfo:
    """One stored entity action (the matching fields only)."""

    key: str
    document_number: str
    action: str
    country: str | None
    country_code: str | None
    name: str
    names: tuple[str, ...]
    publication_date: date | None
    reflected_at: datetime | None


def record_documents(
    conn: Connection,
    entries: Iterable[Entry],
    actions: Mapping[str, Sequence[Mapping[str, Any]]],
    *,
    now: datetime,
    snapshot_id: int | None,
    country_code: CountryKey | None = None,
) -> int:
    """Upsert the FR documents of one snapshot and their extracted actions; returns new docs."""
    new = 0
    for entry in entries:
        if entry.source == FR_SOURCE and entry.list_code == "FR":
            new += _upsert_document(conn, entry, now, snapshot_id)
    for number, doc_actions in actions.items():
        if not doc_actions:  # a broken or action-less full text: fetched again next poll
            continue
        _record_actions(conn, number, doc_actions, now, snapshot_id, country_code)
    return new


def _upsert_document(conn: Connection, entry: Entry, now: datetime, snapshot_id: int | None) -> int:
    row = conn.execute(select(DOCUMENTS).where(DOCUMENTS.c.document_number == entry.key)).first()
    old: Mapping[Any, Any] = row._mapping if row is not None else {}
    values: dict[str, Any] = {"updated_at": now}
    pi = bool(entry.raw.get("public_inspection"))
    if pi and old.get("public_inspection_seen") is None:
        values["public_inspection_seen"] = now
    if not pi and old.get("published_seen") is None:
        values["published_seen"] = now
    values["filed_at"] = old.get("filed_at") or _timestamp(entry.dates.get("filed_at"))
    # A later public-inspection record never overwrites what the published document says.
    if not pi or not old.get("published_seen"):
        values.update(_metadata(entry, old))
    if row is None:
        first = {"document_number": entry.key, "first_seen": now, "agencies": []}
        conn.execute(
            insert(DOCUMENTS).values({**first, "first_snapshot_id": snapshot_id, **values})
        )
        return 1
    conn.execute(update(DOCUMENTS).where(DOCUMENTS.c.id == row.id).values(values))
    return 0


def _metadata(entry: Entry, old: Mapping[Any, Any]) -> dict[str, Any]:
    """A document's columns as its listing record gives them (`old`: the stored ones)."""
    raw = entry.raw
    return {
        "title": entry.name,
        "type": _text(raw.get("type")),
        "action": _text(raw.get("action")),
        "abstract": _text(raw.get("abstract")),
        "citation": entry.citations[0] if entry.citations else None,
        "publication_date": _date(entry.dates.get("publication_date"))
        or old.get("publication_date"),
        "effective_on": _date(entry.dates.get("effective_on")) or old.get("effective_on"),
        "html_url": _text(raw.get("html_url")) or old.get("html_url"),
        "full_text_xml_url": _text(raw.get("full_text_xml_url")) or old.get("full_text_xml_url"),
        "agencies": list(raw.get("agencies") or []),
        "entity_list_rule": bool(raw.get("entity_list_rule")),
    }


def _record_actions(
    conn: Connection,
    number: str,
    actions: Sequence[Mapping[str, Any]],
    now: datetime,
    snapshot_id: int | None,
    country_code: CountryKey | None,
) -> None:
    where = DOCUMENTS.c.document_number == number
    doc = conn.execute(
        select(DOCUMENTS.c.actions_seen, DOCUMENTS.c.publication_date).where(where)
    ).first()
    stored = [dict(a) for a in actions]
    if doc is None:  # a full text read without its listing (a replayed file)
        conn.execute(
            insert(DOCUMENTS).values(
                document_number=number,
                title=number,
                agencies=[],
                first_seen=now,
                updated_at=now,
                first_snapshot_id=snapshot_id,
                actions=stored,
                actions_seen=now,
            )
        )
    else:
        seen = doc.actions_seen or now
        conn.execute(update(DOCUMENTS).where(where).values(actions=stored, actions_seen=seen))
    known = set(
        conn.scalars(
            select(DOCUMENT_ACTIONS.c.key).where(DOCUMENT_ACTIONS.c.document_number == number)
        )
    )
    _restage(conn, number, actions, now)
    rows: list[dict[str, Any]] = []
    for a in actions:
        key = str(a.get("key") or "")
        if not key or key in known:
            continue
        known.add(key)
        name = str(a.get("name") or "")
        country = _text(a.get("country"))
        names = sorted({name_key(n) for n in [name, *a.get("aliases", ())] if n})
        rows.append(
            {
                "key": key,
                "document_number": number,
                "action": str(a.get("action") or ""),
                "country": country,
                "country_code": country_code(country) if country_code else None,
                "name": name,
                "name_norm": name_key(name)[:512],
                "names": names,
                "publication_date": doc.publication_date if doc is not None else None,
                "first_seen": now,
                "stage": str(a.get("stage") or "published"),
                "staged_at": now,
            }
        )
    if rows:
        conn.execute(insert(DOCUMENT_ACTIONS), rows)


def _restage(
    conn: Connection, number: str, actions: Sequence[Mapping[str, Any]], now: datetime
) -> None:
    """Published actions promote the stored public-inspection ones (same key) in place."""
    stages = {str(a.get("key")): str(a.get("stage") or "published") for a in actions}
    rows = conn.execute(
        select(DOCUMENT_ACTIONS.c.key, DOCUMENT_ACTIONS.c.stage).where(
            DOCUMENT_ACTIONS.c.document_number == number
        )
    ).all()
    for key, stored in rows:
        stage = stages.get(key)
        if stage is not None and stage != stored:
            set_stage(conn, key, stage, now=now)


def set_stage(conn: Connection, key: str, stage: str, *, now: datetime) -> bool:
    """Mark one stored action (e.g. withdrawn before publication); False if not stored."""
    result = conn.execute(
        update(DOCUMENT_ACTIONS)
        .where(DOCUMENT_ACTIONS.c.key == key)
        .values(stage=stage, staged_at=now)
    )
    return bool(result.rowcount)


def awaiting_publication(conn: Connection) -> list[str]:
    """Documents whose actions are known only from public inspection so far."""
    rows = conn.execute(select(DOCUMENT_ACTIONS.c.document_number, DOCUMENT_ACTIONS.c.stage))
    stages: dict[str, set[str]] = {}
    for number, stage in rows:
        stages.setdefault(number, set()).add(stage)
    return sorted(n for n, s in stages.items() if s == {"public_inspection"})


def get_document(conn: Connection, number: str) -> DocumentInfo | None:
    row = conn.execute(select(DOCUMENTS).where(DOCUMENTS.c.document_number == number)).first()
    return _document_info(row) if row else None


def list_documents(
    conn: Connection, *, entity_list_only: bool = False, limit: int = 200
) -> list[DocumentInfo]:
    """Newest publication first; public-inspection-only documents sort by when seen."""
    q = select(DOCUMENTS)
    if entity_list_only:
        q = q.where(DOCUMENTS.c.entity_list_rule.is_(True))
    q = q.order_by(DOCUMENTS.c.publication_date.desc(), DOCUMENTS.c.document_number.desc())
    q = q.limit(limit)
    return [_document_info(r) for r in conn.execute(q)]


def _document_info(row: Row[Any]) -> DocumentInfo:
    return DocumentInfo(
        document_number=row.document_number,
        title=row.title,
        type=row.type,
        action=row.action,
        publication_date=row.publication_date,
        effective_on=row.effective_on,
        filed_at=row.filed_at,
        html_url=row.html_url,
        full_text_xml_url=row.full_text_xml_url,
        entity_list_rule=row.entity_list_rule,
        actions=tuple(row.actions) if row.actions is not None else None,
        first_seen=row.first_seen,
        public_inspection_seen=row.public_inspection_seen,
        published_seen=row.published_seen,
        actions_seen=row.actions_seen,
    )


def actions(
    conn: Connection, *, kinds: Sequence[str] = (), pending_only: bool = False
) -> list[ActionInfo]:
    """Stored entity actions, optionally only some kinds or only those not yet in the CSL."""
    q = select(DOCUMENT_ACTIONS)
    if kinds:
        q = q.where(DOCUMENT_ACTIONS.c.action.in_(list(kinds)))
    if pending_only:
        q = q.where(DOCUMENT_ACTIONS.c.reflected_at.is_(None))
    q = q.order_by(DOCUMENT_ACTIONS.c.publication_date.desc(), DOCUMENT_ACTIONS.c.id.desc())
    return [_action_info(r) for r in conn.execute(q)]


def _action_info(row: Row[Any]) -> ActionInfo:
    return ActionInfo(
        key=row.key,
        document_number=row.document_number,
        action=row.action,
        country=row.country,
        country_code=row.country_code,
        name=row.name,
        names=tuple(row.names or ()),
        publication_date=row.publication_date,
        reflected_at=row.reflected_at,
    )


def mark_reflected(conn: Connection, key: str, *, now: datetime, by: str) -> bool:
    """Record that the CSL carries an action out; False when it was already recorded."""
    result = conn.execute(
        update(DOCUMENT_ACTIONS)
        .where(DOCUMENT_ACTIONS.c.key == key, DOCUMENT_ACTIONS.c.reflected_at.is_(None))
        .values(reflected_at=now, reflected_by=by)
    )
    return bool(result.rowcount)


def _text(value: Any) -> str | None:
    text = " ".join(str(value).split()) if value is not None else ""
    return text or None


def _date(value: str | None) -> date | None:
    try:
        return date.fromisoformat(value[:10]) if value else None
    except ValueError:
        return None


def _timestamp(value: str | None) -> datetime | None:
    if not value:
        return None
    try:
        when = datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        return None
    return when if when.tzinfo else None


def first_good_snapshot_at(conn: Connection, source: str) -> datetime | None:
    """Since when a source's list has been watched (its first good snapshot's date)."""
    return conn.scalar(
        select(SNAPSHOTS.c.effective_at)
        .where(SNAPSHOTS.c.source == source, SNAPSHOTS.c.status == "ok")
        .order_by(SNAPSHOTS.c.effective_at, SNAPSHOTS.c.id)
        .limit(1)
    )


def current_list(conn: Connection, source: str, list_code: str) -> list[Entry]:
    """The current entries of one list of a source (e.g. the CSL's Entity List rows)."""
    rows = conn.scalars(
        select(ENTRY_VERSIONS.c.data).where(
            ENTRY_VERSIONS.c.source == source,
            ENTRY_VERSIONS.c.list_code == list_code,
            ENTRY_VERSIONS.c.valid_to_snapshot.is_(None),
        )
    )
    return [Entry.from_dict(d) for d in rows]


def lead_times(conn: Connection, *, limit: int = 50) -> list[dict[str, Any]]:
    """Documents seen on public inspection and then published, newest publication first."""
    q = (
        select(DOCUMENTS)
        .where(
            DOCUMENTS.c.public_inspection_seen.is_not(None), DOCUMENTS.c.published_seen.is_not(None)
        )
        .order_by(DOCUMENTS.c.published_seen.desc(), DOCUMENTS.c.document_number.desc())
        .limit(limit)
    )
    out = []
    for row in conn.execute(q):
        info = _document_info(row)
        out.append(
            {
                "document_number": info.document_number,
                "public_inspection_seen": iso(info.public_inspection_seen),
                "published_seen": iso(info.published_seen),
                "lead_time_seconds": info.lead_time_seconds,
            }
        )
    return out


def iso(value: date | datetime | None) -> str | None:
    return value.isoformat() if value else None

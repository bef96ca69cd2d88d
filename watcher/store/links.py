"""Links from Federal Register entity actions to the list changes (CSL, eCFR) that carried
them out: written by `pipeline.linking`, read by `watcher fr` and the change listings."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from sqlalchemy import Connection, Row, insert, or_, select

from watcher.store.documents import FR_SOURCE, ActionInfo
from watcher.store.tables import DOCUMENTS, LINKS


@dataclass(frozen=True)
class LinkInfo:
    """An FR action and the list change that carried it out, with the delay between them."""

    document_number: str
    action_key: str
    action: str
    target_source: str
    target_change_id: int
    target_key: str
    target_kind: str
    method: str
    linked_at: datetime
    document_title: str | None
    html_url: str | None
    publication_date: date | None

    def to_dict(self) -> dict[str, Any]:
        return {
            "document_number": self.document_number,
            "action_key": self.action_key,
            "action": self.action,
            "target_source": self.target_source,
            "target_change_id": self.target_change_id,
            "target_key": self.target_key,
            "target_kind": self.target_kind,
            "method": self.method,
            "linked_at": self.linked_at.isoformat(),
            "document_title": self.document_title,
            "html_url": self.html_url,
            "publication_date": (
                self.publication_date.isoformat() if self.publication_date else None
            ),
        }


def add_link(
    conn: Connection,
    action: ActionInfo,
    *,
    target_source: str,
    change_id: int,
    target_key: str,
    target_kind: str,
    method: str,
    now: datetime,
) -> bool:
    """One link row; an existing (action, change) pair is left alone."""
    exists = conn.scalar(
        select(LINKS.c.id).where(
            LINKS.c.action_key == action.key, LINKS.c.target_change_id == change_id
        )
    )
    if exists is not None:
        return False
    conn.execute(
        insert(LINKS).values(
            document_number=action.document_number,
            action_key=action.key,
            action=action.action,
            target_source=target_source,
            target_change_id=change_id,
            target_key=target_key,
            target_kind=target_kind,
            method=method,
            linked_at=now,
        )
    )
    return True


def linked_sources(conn: Connection, action_keys: Sequence[str]) -> set[tuple[str, str]]:
    """(action key, target source) pairs already linked: one link per action and list."""
    out: set[tuple[str, str]] = set()
    for start in range(0, len(action_keys), 500):
        chunk = list(action_keys[start : start + 500])
        rows = conn.execute(
            select(LINKS.c.action_key, LINKS.c.target_source).where(LINKS.c.action_key.in_(chunk))
        )
        out.update((k, s) for k, s in rows)
    return out


def links_for(conn: Connection, source: str, key: str) -> list[LinkInfo]:
    """Links of one entry: an FR document or action key, or a CSL / eCFR entry key."""
    doc = (DOCUMENTS.c.title, DOCUMENTS.c.html_url, DOCUMENTS.c.publication_date)
    q = select(LINKS, *(c.label(f"document_{c.name}") for c in doc)).outerjoin(
        DOCUMENTS, DOCUMENTS.c.document_number == LINKS.c.document_number
    )
    if source == FR_SOURCE:
        q = q.where(or_(LINKS.c.action_key == key, LINKS.c.document_number == key))
    else:
        q = q.where(LINKS.c.target_source == source, LINKS.c.target_key == key)
    rows = conn.execute(q.order_by(LINKS.c.linked_at, LINKS.c.id)).all()
    return [_link_info(row) for row in rows]


def _link_info(link: Row[Any]) -> LinkInfo:
    """A link row with its document's `document_*` columns (None without a document)."""
    return LinkInfo(
        document_number=link.document_number,
        action_key=link.action_key,
        action=link.action,
        target_source=link.target_source,
        target_change_id=link.target_change_id,
        target_key=link.target_key,
        target_kind=link.target_kind,
        method=link.method,
        linked_at=link.linked_at,
        document_title=link.document_title,
        html_url=link.document_html_url,
        publication_date=link.document_publication_date,
    )

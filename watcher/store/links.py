"""Links from Federal Register entity actions to the list changes (CSL, eCFR) that carried
them out: written by `pipeline.linking`, read by `watcher fr` and the change listings."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from sqlalchemy import or_, select
from sqlalchemy.orm import Session

from watcher.store.documents import FR_SOURCE, ActionInfo
from watcher.store.tables import DocumentRow, LinkRow


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
    session: Session,
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
    exists = session.scalar(
        select(LinkRow.id).where(
            LinkRow.action_key == action.key, LinkRow.target_change_id == change_id
        )
    )
    if exists is not None:
        return False
    session.add(
        LinkRow(
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
    session.flush()
    return True


def linked_sources(session: Session, action_keys: Sequence[str]) -> set[tuple[str, str]]:
    """(action key, target source) pairs already linked: one link per action and list."""
    out: set[tuple[str, str]] = set()
    for start in range(0, len(action_keys), 500):
        chunk = list(action_keys[start : start + 500])
        rows = session.execute(
            select(LinkRow.action_key, LinkRow.target_source).where(LinkRow.action_key.in_(chunk))
        )
        out.update((k, s) for k, s in rows)
    return out


def links_for(session: Session, source: str, key: str) -> list[LinkInfo]:
    """Links of one entry: an FR document or action key, or a CSL / eCFR entry key."""
    q = select(LinkRow, DocumentRow).outerjoin(
        DocumentRow, DocumentRow.document_number == LinkRow.document_number
    )
    if source == FR_SOURCE:
        q = q.where(or_(LinkRow.action_key == key, LinkRow.document_number == key))
    else:
        q = q.where(LinkRow.target_source == source, LinkRow.target_key == key)
    rows = session.execute(q.order_by(LinkRow.linked_at, LinkRow.id)).all()
    return [_link_info(link, doc) for link, doc in rows]


def _link_info(link: LinkRow, doc: DocumentRow | None) -> LinkInfo:
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
        document_title=doc.title if doc else None,
        html_url=doc.html_url if doc else None,
        publication_date=doc.publication_date if doc else None,
    )

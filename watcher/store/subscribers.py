"""Who gets alerts: config subscribers synced in, CLI-added ones kept apart (by origin)."""

from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy import select
from sqlalchemy.orm import Session

from watcher.config import Settings, SubscriberSettings
from watcher.store.tables import SubscriberRow


def sync_subscribers(session: Session, settings: Settings) -> None:
    existing = {r.name: r for r in session.scalars(select(SubscriberRow))}
    names = {s.name for s in settings.subscribers}
    for name, row in existing.items():
        if row.origin == "config" and name not in names:
            session.delete(row)
    for s in settings.subscribers:
        row = existing.get(s.name) or SubscriberRow(name=s.name)
        if row not in existing.values():
            session.add(row)
        row.url_env, row.url_file, row.mode, row.digest_at = (
            s.url_env,
            s.url_file,
            s.mode,
            s.digest_at,
        )
        row.filters = _filters(s.tags, s.sources, s.kinds, s.min_score)
        row.origin = "config"
    session.flush()


def subscribers(session: Session) -> list[SubscriberSettings]:
    out = []
    for r in session.scalars(select(SubscriberRow).order_by(SubscriberRow.name)):
        f = r.filters or {}
        out.append(
            SubscriberSettings(
                name=r.name,
                url_env=r.url_env,
                url_file=r.url_file,
                tags=tuple(f.get("tags", ())),
                sources=tuple(f.get("sources", ())),
                kinds=tuple(f.get("kinds", ())),
                min_score=float(f.get("min_score", 0.0)),
                mode=r.mode,
                digest_at=r.digest_at,
            )
        )
    return out


def add_subscriber(
    session: Session,
    name: str,
    *,
    url_env: str | None,
    url_file: str | None,
    tags: Sequence[str] = (),
    sources: Sequence[str] = (),
    kinds: Sequence[str] = (),
    min_score: float = 0.0,
    digest_at: str | None = None,
) -> bool:
    """Add a CLI subscriber (a digest one when `digest_at` is given); False if the name is taken."""
    if session.scalars(select(SubscriberRow).where(SubscriberRow.name == name)).first():
        return False
    session.add(
        SubscriberRow(
            name=name,
            url_env=url_env,
            url_file=url_file,
            mode="digest" if digest_at else "immediate",
            digest_at=digest_at,
            origin="cli",
            filters=_filters(tags, sources, kinds, min_score),
        )
    )
    return True


def remove_subscriber(session: Session, name: str) -> bool:
    """Remove a CLI-added subscriber; False when there is none by that name."""
    row = session.scalars(select(SubscriberRow).where(SubscriberRow.name == name)).first()
    if row is None or row.origin != "cli":
        return False
    session.delete(row)
    return True


def _filters(
    tags: Sequence[str], sources: Sequence[str], kinds: Sequence[str], min_score: float
) -> dict[str, object]:
    return {
        "tags": list(tags),
        "sources": list(sources),
        "kinds": list(kinds),
        "min_score": min_score,
    }

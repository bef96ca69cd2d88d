"""Who gets alerts: config subscribers synced in, CLI-added ones kept apart (by origin)."""

from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy import Connection, delete, insert, select, update

from watcher.config import Settings, SubscriberSettings
from watcher.store.tables import SUBSCRIBERS


def sync_subscribers(conn: Connection, settings: Settings) -> None:
    existing = dict(conn.execute(select(SUBSCRIBERS.c.name, SUBSCRIBERS.c.origin)).all())
    names = {s.name for s in settings.subscribers}
    gone = [n for n, origin in existing.items() if origin == "config" and n not in names]
    if gone:
        conn.execute(delete(SUBSCRIBERS).where(SUBSCRIBERS.c.name.in_(gone)))
    for s in settings.subscribers:
        values = {
            "url_env": s.url_env,
            "url_file": s.url_file,
            "mode": s.mode,
            "digest_at": s.digest_at,
            "filters": _filters(s.tags, s.sources, s.kinds, s.min_score),
            "origin": "config",
        }
        if s.name in existing:
            conn.execute(update(SUBSCRIBERS).where(SUBSCRIBERS.c.name == s.name).values(values))
        else:
            conn.execute(insert(SUBSCRIBERS).values(name=s.name, **values))


def subscribers(conn: Connection) -> list[SubscriberSettings]:
    out = []
    for r in conn.execute(select(SUBSCRIBERS).order_by(SUBSCRIBERS.c.name)):
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
    conn: Connection,
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
    if conn.scalar(select(SUBSCRIBERS.c.id).where(SUBSCRIBERS.c.name == name)) is not None:
        return False
    conn.execute(
        insert(SUBSCRIBERS).values(
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


def remove_subscriber(conn: Connection, name: str) -> bool:
    """Remove a CLI-added subscriber; False when there is none by that name."""
    result = conn.execute(
        delete(SUBSCRIBERS).where(SUBSCRIBERS.c.name == name, SUBSCRIBERS.c.origin == "cli")
    )
    return bool(result.rowcount)


def _filters(
    tags: Sequence[str], sources: Sequence[str], kinds: Sequence[str], min_score: float
) -> dict[str, object]:
    return {
        "tags": list(tags),
        "sources": list(sources),
        "kinds": list(kinds),
        "min_score": min_score,
    }

"""Bulk watchlist import stores exactly what upserting the names one by one stored."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

from sqlalchemy.orm import Session

from tests.helpers import make_runtime
from watcher.models import WatchEntity
from watcher.store.engine import make_engine, transaction, upgrade
from watcher.store.watchlist import import_watch, list_watch, upsert_watch

CONFIG = {"watchlist": [{"name": "SenseTime", "aliases": ["商汤科技"], "tags": ["surveillance"]}]}


def items() -> list[WatchEntity]:
    """Real names (CMIC list), one repeated with other aliases, one already in the config."""
    return [
        WatchEntity("MEGVII TECHNOLOGY LIMITED", ("Megvii",), ("cmic",), "CN"),
        WatchEntity("HANGZHOU HIKVISION DIGITAL TECHNOLOGY CO., LTD.", (), ("cmic",)),
        WatchEntity("MEGVII TECHNOLOGY LIMITED", ("Face++", "旷视科技"), ("cmic", "ai"), "CN"),
        WatchEntity("SenseTime", ("SenseTime Group Limited",), ("cmic",), None, None, "note"),
        *(WatchEntity(f"SUPPLIER {i:05d} TRADING CO", (), ("suppliers",)) for i in range(1200)),
    ]


def load(db_url: str, import_all: Callable[[Session, list[WatchEntity]], object]) -> list[Any]:
    """Config synced, one name already added by hand, then the import; what is stored."""
    rt = make_runtime(db_url, CONFIG)
    with transaction(rt.sessions) as session:
        upsert_watch(session, WatchEntity("HANGZHOU HIKVISION DIGITAL TECHNOLOGY CO., LTD."))
    with transaction(rt.sessions) as session:
        import_all(session, items())
    with transaction(rt.sessions) as session:
        return [r.to_dict() for r in list_watch(session)]


def one_by_one(session: Session, entities: list[WatchEntity]) -> None:
    for item in entities:
        upsert_watch(session, item)


def test_bulk_import_equals_one_by_one(db_url: str, tmp_path: Path) -> None:
    reference = f"sqlite:///{tmp_path / 'reference.db'}"
    upgrade(make_engine(reference))
    expected = load(reference, one_by_one)
    seen: list[int] = []
    got = load(db_url, lambda session, entities: import_watch(session, entities, seen.append))
    assert got == expected
    assert sum(r["origin"] == "cli" for r in got) == 1203  # SenseTime (config) became the CLI's
    assert next(r for r in got if r["name"] == "SenseTime")["notes"] == "note"
    assert seen[-1] == len(items()) - 1 and seen == sorted(seen)

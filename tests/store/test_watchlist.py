"""Tracked entities in the store, on SQLite and PostgreSQL: config and CLI entries kept apart."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

from sqlalchemy import Connection

from tests.helpers import make_runtime
from watcher.config import settings_from_dict
from watcher.models import WatchEntity
from watcher.store import watchlist
from watcher.store.engine import make_engine, transaction, upgrade
from watcher.store.watchlist import import_watch, list_watch, upsert_watch

CONFIG = {
    "include_default_watchlist": False,
    "watchlist": [{"name": "ZAKIR Shohrat", "tags": ["xinjiang"], "aliases": ["Zakir"]}],
}


def test_config_and_cli_entries(db_url: str) -> None:
    rt = make_runtime(db_url, CONFIG)
    added = WatchEntity("Acme Ltd", ("ACME",), ("tech",), "CN", None, "note")
    with transaction(rt.engine) as conn:
        watchlist.upsert_watch(conn, added)
    with transaction(rt.engine) as conn:
        listed = watchlist.list_watch(conn)
        assert [(r.entity.name, r.origin) for r in listed] == [
            ("Acme Ltd", "cli"),
            ("ZAKIR Shohrat", "config"),
        ]
        assert listed[0].entity == added
        assert listed[1].to_dict() == {
            "name": "ZAKIR Shohrat",
            "aliases": ["Zakir"],
            "tags": ["xinjiang"],
            "country": None,
            "entity_type": None,
            "notes": None,
            "origin": "config",
        }
        assert watchlist.remove_watch(conn, "ZAKIR Shohrat") == "config"  # kept
        assert watchlist.remove_watch(conn, "Nobody") is None
    # A sync without the config entry removes it and leaves the CLI's alone.
    with transaction(rt.engine) as conn:
        watchlist.sync_watchlist(conn, settings_from_dict({**CONFIG, "watchlist": []}, {}))
        assert [e.name for e in watchlist.watch_entities(conn)] == ["Acme Ltd"]
        assert watchlist.remove_watch(conn, "Acme Ltd") == "cli"
    with transaction(rt.engine) as conn:
        assert watchlist.list_watch(conn) == []


# --- bulk import (issue 11) -----------------------------------------------------------

BULK_CONFIG = {
    "watchlist": [{"name": "SenseTime", "aliases": ["商汤科技"], "tags": ["surveillance"]}]
}


def items() -> list[WatchEntity]:
    """Real names (CMIC list), one repeated with other aliases, one already in the config."""
    return [
        WatchEntity("MEGVII TECHNOLOGY LIMITED", ("Megvii",), ("cmic",), "CN"),
        WatchEntity("HANGZHOU HIKVISION DIGITAL TECHNOLOGY CO., LTD.", (), ("cmic",)),
        WatchEntity("MEGVII TECHNOLOGY LIMITED", ("Face++", "旷视科技"), ("cmic", "ai"), "CN"),
        WatchEntity("SenseTime", ("SenseTime Group Limited",), ("cmic",), None, None, "note"),
        *(WatchEntity(f"SUPPLIER {i:05d} TRADING CO", (), ("suppliers",)) for i in range(1200)),
    ]


def load(db_url: str, import_all: Callable[[Connection, list[WatchEntity]], object]) -> list[Any]:
    """Config synced, one name already added by hand, then the import; what is stored."""
    rt = make_runtime(db_url, BULK_CONFIG)
    with transaction(rt.engine) as conn:
        upsert_watch(conn, WatchEntity("HANGZHOU HIKVISION DIGITAL TECHNOLOGY CO., LTD."))
    with transaction(rt.engine) as conn:
        import_all(conn, items())
    with transaction(rt.engine) as conn:
        return [r.to_dict() for r in list_watch(conn)]


def one_by_one(conn: Connection, entities: list[WatchEntity]) -> None:
    for item in entities:
        upsert_watch(conn, item)


def test_bulk_import_equals_one_by_one(db_url: str, tmp_path: Path) -> None:
    reference = f"sqlite:///{tmp_path / 'reference.db'}"
    upgrade(make_engine(reference))
    expected = load(reference, one_by_one)
    seen: list[int] = []
    got = load(db_url, lambda conn, entities: import_watch(conn, entities, seen.append))
    assert got == expected
    assert sum(r["origin"] == "cli" for r in got) == 1203  # SenseTime (config) became the CLI's
    assert next(r for r in got if r["name"] == "SenseTime")["notes"] == "note"
    assert seen[-1] == len(items()) - 1 and seen == sorted(seen)

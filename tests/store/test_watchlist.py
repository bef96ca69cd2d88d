"""Tracked entities in the store, on SQLite and PostgreSQL: config and CLI entries kept apart."""

from __future__ import annotations

from tests.helpers import make_runtime
from watcher.config import settings_from_dict
from watcher.models import WatchEntity
from watcher.store import watchlist
from watcher.store.engine import transaction

CONFIG = {
    "include_default_watchlist": False,
    "watchlist": [{"name": "ZAKIR Shohrat", "tags": ["xinjiang"], "aliases": ["Zakir"]}],
}


def test_config_and_cli_entries(db_url: str) -> None:
    rt = make_runtime(db_url, CONFIG)
    added = WatchEntity("Acme Ltd", ("ACME",), ("tech",), "CN", None, "note")
    with transaction(rt.sessions) as session:
        watchlist.upsert_watch(session, added)
    with transaction(rt.sessions) as session:
        listed = watchlist.list_watch(session)
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
        assert watchlist.remove_watch(session, "ZAKIR Shohrat") == "config"  # kept
        assert watchlist.remove_watch(session, "Nobody") is None
    # A sync without the config entry removes it and leaves the CLI's alone.
    with transaction(rt.sessions) as session:
        watchlist.sync_watchlist(session, settings_from_dict({**CONFIG, "watchlist": []}, {}))
        assert [e.name for e in watchlist.watch_entities(session)] == ["Acme Ltd"]
        assert watchlist.remove_watch(session, "Acme Ltd") == "cli"
    with transaction(rt.sessions) as session:
        assert watchlist.list_watch(session) == []

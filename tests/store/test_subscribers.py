"""Subscribers in the store, on SQLite and PostgreSQL: config ones synced, CLI ones kept apart."""

from __future__ import annotations

from tests.helpers import make_runtime
from watcher.config import SubscriberSettings, settings_from_dict
from watcher.store import subscribers
from watcher.store.engine import transaction

CONFIG = {"subscribers": [{"name": "ops", "url_env": "OPS_HOOK", "tags": ["xinjiang"]}]}


def test_add_remove_and_sync(db_url: str) -> None:
    rt = make_runtime(db_url, CONFIG)
    with transaction(rt.engine) as conn:
        assert subscribers.add_subscriber(
            conn, "daily", url_env=None, url_file="/run/hook", kinds=["added"],
            min_score=90.0, digest_at="08:00 UTC",
        )  # fmt: skip
        assert not subscribers.add_subscriber(conn, "ops", url_env="X", url_file=None)
    with transaction(rt.engine) as conn:
        assert subscribers.subscribers(conn) == [
            SubscriberSettings(
                "daily", None, "/run/hook", (), (), ("added",), 90.0, "digest", "08:00 UTC"
            ),
            SubscriberSettings("ops", "OPS_HOOK", tags=("xinjiang",)),
        ]
        assert not subscribers.remove_subscriber(conn, "ops")  # lives in the config
    with transaction(rt.engine) as conn:
        subscribers.sync_subscribers(conn, settings_from_dict({}, {}))
        assert [s.name for s in subscribers.subscribers(conn)] == ["daily"]
        assert subscribers.remove_subscriber(conn, "daily")
    with transaction(rt.engine) as conn:
        assert subscribers.subscribers(conn) == []

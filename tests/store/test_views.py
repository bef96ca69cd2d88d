"""Store look-ups behind the web pages, on both databases, over real SDN files."""

from __future__ import annotations

from tests.conftest import fixture_bytes
from tests.helpers import at, make_runtime
from watcher.pipeline.run import replay
from watcher.runtime import Runtime
from watcher.store import queries, views
from watcher.store.engine import transaction

CONFIG = {
    "sources": {"ofac_sdn": {"companions": []}},
    "include_default_watchlist": False,
    "watchlist": [{"name": "ZAKIR Shohrat", "tags": ["xinjiang"]}],
    "subscribers": [{"name": "hook", "url_env": "TEST_VIEWS_HOOK_URL", "tags": ["xinjiang"]}],
}


def _replay(rt: Runtime, day: str) -> None:
    files = [("primary", fixture_bytes(f"ofac_sdn/sdn_{day}.csv"), day)]
    assert replay(rt, "ofac_sdn", at(day), files).ok


def test_versions_counts_cursor_and_outbox(db_url: str) -> None:
    rt = make_runtime(db_url, CONFIG)
    _replay(rt, "2021-12-09")
    _replay(rt, "2021-12-10")
    _replay(rt, "2021-12-16")
    with transaction(rt.engine) as conn:
        modified = queries.list_changes(conn, kind="modified", limit=1)[0]
        versions = views.versions_of(conn, "ofac_sdn", modified.key)
        counts = queries.count_changes(conn, queries.ChangeFilter(source="ofac_sdn"))
        tagged = queries.list_changes(conn, where=queries.ChangeFilter(tag="xinjiang"))
        outbox = views.outbox_counts(conn)
        first = queries.list_changes(conn, limit=10)
        rest = queries.list_changes(conn, limit=None, before=(first[-1].effective_at, first[-1].id))
        every = queries.list_changes(conn, limit=None)
    assert len(versions) == 2 and versions[0].valid_to == at("2021-12-16")
    assert versions[1].valid_to is None and versions[0].valid_from == at("2021-12-09")
    assert "ILLICIT-DRUGS-EO" in versions[1].entry.programs
    assert ("2021-12-10", "ofac_sdn", "SDN", 25) in counts
    assert sum(n for d, _s, _c, n in counts if d == "2021-12-16") == 8 + 17
    assert [c.name for c in tagged] == ["ZAKIR, Shohrat"]
    assert [(o.subscriber, o.status, o.count) for o in outbox] == [("hook", "pending", 1)]
    assert outbox[0].next_attempt_at is not None
    assert [c.id for c in first + rest] == [c.id for c in every]  # the cursor loses nothing

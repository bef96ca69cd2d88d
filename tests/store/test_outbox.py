"""The outbox queries, on SQLite and PostgreSQL: the shared listing, digest holds, retries."""

from __future__ import annotations

from datetime import timedelta

from tests.helpers import at, make_runtime
from watcher.store import outbox
from watcher.store.engine import transaction


def test_listing_holds_and_retries(db_url: str) -> None:
    rt = make_runtime(db_url)
    now = at("2024-05-03T09:00")
    with transaction(rt.engine) as conn:
        for i, sub in enumerate(["a", "b", "a"]):
            payload = {"name": f"party {i}"}
            outbox.queue_alert(conn, sub, f"{sub}:change:{i}", "change", payload, now)
        outbox.queue_alert(conn, "ops", "ops:x", "operator", {"title": "down"}, now)
    with transaction(rt.engine) as conn:
        listed = outbox.list_alerts(conn)
        assert [(a.subscriber, a.name) for a in listed] == [
            ("ops", "down"), ("a", "party 2"), ("b", "party 1"), ("a", "party 0"),
        ]  # fmt: skip
        assert listed[0].to_dict() == {
            "id": listed[0].id, "subscriber": "ops", "kind": "operator", "status": "pending",
            "attempts": 0, "change_id": None, "name": "down", "created_at": now.isoformat(),
            "sent_at": None, "last_error": None, "key": "ops:x",
        }  # fmt: skip
        assert len(outbox.list_alerts(conn, limit=2)) == 2
        assert outbox.list_alerts(conn, status="dead") == []
        # "b" gets a digest whose last boundary is before the alert: held, never claimed.
        digests = {"b": now - timedelta(hours=1)}
        assert outbox.count_held(conn, digests, now) == 1
        claimed = outbox.claim_due(conn, digests, 10, now, now + timedelta(minutes=5))
        assert sorted(c.subscriber for c in claimed) == ["a", "a", "ops"]
        dead = claimed[0].id
        outbox.update_alert(conn, dead, {"status": "dead", "attempts": 5, "last_error": "x"})
    with transaction(rt.engine) as conn:
        assert [a.id for a in outbox.list_alerts(conn, status="dead")] == [dead]
        assert outbox.retry_alerts(conn, None, now) == 1
    with transaction(rt.engine) as conn:
        assert outbox.list_alerts(conn, status="dead") == []

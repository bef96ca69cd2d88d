"""The outbox queries, on SQLite and PostgreSQL: the shared listing, digest holds, retries."""

from __future__ import annotations

from datetime import timedelta

from tests.helpers import at, make_runtime
from watcher.store import outbox
from watcher.store.engine import transaction


def test_listing_holds_and_retries(db_url: str) -> None:
    rt = make_runtime(db_url)
    now = at("2024-05-03T09:00")
    with transaction(rt.sessions) as session:
        for i, sub in enumerate(["a", "b", "a"]):
            payload = {"name": f"party {i}"}
            outbox.queue_alert(session, sub, f"{sub}:change:{i}", "change", payload, now)
        outbox.queue_alert(session, "ops", "ops:x", "operator", {"title": "down"}, now)
    with transaction(rt.sessions) as session:
        listed = outbox.list_alerts(session)
        assert [(a.subscriber, a.name) for a in listed] == [
            ("ops", "down"), ("a", "party 2"), ("b", "party 1"), ("a", "party 0"),
        ]  # fmt: skip
        assert listed[0].to_dict() == {
            "id": listed[0].id, "subscriber": "ops", "kind": "operator", "status": "pending",
            "attempts": 0, "change_id": None, "name": "down", "created_at": now.isoformat(),
            "sent_at": None, "last_error": None, "key": "ops:x",
        }  # fmt: skip
        assert len(outbox.list_alerts(session, limit=2)) == 2
        assert outbox.list_alerts(session, status="dead") == []
        # "b" gets a digest whose last boundary is before the alert: held, never claimed.
        digests = {"b": now - timedelta(hours=1)}
        assert outbox.count_held(session, digests, now) == 1
        claimed = outbox.claim_due(session, digests, 10, now, now + timedelta(minutes=5))
        assert sorted(c.subscriber for c in claimed) == ["a", "a", "ops"]
        dead = claimed[0].id
        outbox.update_alert(session, dead, {"status": "dead", "attempts": 5, "last_error": "x"})
    with transaction(rt.sessions) as session:
        assert [a.id for a in outbox.list_alerts(session, status="dead")] == [dead]
        assert outbox.retry_alerts(session, None, now) == 1
    with transaction(rt.sessions) as session:
        assert outbox.list_alerts(session, status="dead") == []

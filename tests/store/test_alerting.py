"""The outbox and operator incidents in the store, on SQLite and PostgreSQL, fed by the real
2021-12-09 -> 12-10 SDN pair: who gets an alert, idempotent keys, alerts committed with their
changes or not at all, incidents alerting once (and once more on recovery)."""

from __future__ import annotations

from collections import Counter
from typing import Any

import pytest
import sqlalchemy as sa

from tests.alerts.test_dispatch import alerts, replay_pair
from tests.conftest import LocalServer, fixture_bytes
from tests.helpers import at, make_runtime
from watcher.pipeline.run import run_source
from watcher.store import alerting, outbox
from watcher.store import snapshots as store
from watcher.store.engine import transaction
from watcher.store.tables import ALERTS, CHANGES, INCIDENTS, SNAPSHOTS

SDN = "ofac_sdn/sdn_{}.csv"


def _subscriber(name: str, **filters: Any) -> dict[str, Any]:
    return {"name": name, "url_env": f"{name.upper()}_HOOK", **filters}


def test_subscriber_filters_decide_who_hears_of_a_change(db_url: str) -> None:
    config = {
        "sources": {"ofac_sdn": {"companions": []}},
        "subscribers": [
            _subscriber("security", tags=["xinjiang-security"]),
            _subscriber("region", tags=["xinjiang-region"]),
            _subscriber("everything"),
            _subscriber("removals", kinds=["removed"]),
            _subscriber("csl", sources=["trade_csl"]),
            _subscriber("strict", min_score=100.5),
            _subscriber("sdn", sources=["ofac_sdn"], kinds=["added"], min_score=90),
        ],
    }
    rt = make_runtime(db_url, config)
    replay_pair(rt)
    queued = alerts(rt)
    assert Counter(a.subscriber for a in queued) == {
        "security": 2,
        "region": 2,
        "everything": 2,
        "sdn": 2,
    }
    by_sub = {(a.subscriber, a.payload["key"]): a for a in queued}
    assert [m["watch"] for m in by_sub[("security", "34079")].payload["matches"]] == [
        "xinjiang-security"
    ]
    assert sorted(m["watch"] for m in by_sub[("everything", "34119")].payload["matches"]) == [
        "xinjiang-region",
        "xinjiang-security",
    ]
    zakir = by_sub[("security", "34079")]
    assert zakir.idempotency_key == f"security:change:{zakir.change_id}"
    assert zakir.status == "pending" and zakir.attempts == 0 and zakir.kind == "change"
    payload = zakir.payload
    assert (payload["kind"], payload["name"], payload["list_name"]) == (
        "added",
        "ZAKIR, Shohrat",
        "OFAC SDN list",
    )
    assert payload["source_url"] == "https://ofac.treasury.gov/recent-actions"
    assert "XINJIANG PUBLIC SECURITY BUREAU" in payload["remarks"]
    with transaction(rt.engine) as conn:
        found = conn.execute(sa.select(CHANGES).where(CHANGES.c.id == zakir.change_id))
        change = found.first()
        assert change is not None and change.key == "34079" and change.kind == "added"


def test_queue_alert_is_idempotent_per_key(db_url: str) -> None:
    rt = make_runtime(db_url)
    now = at("2021-12-10")
    with transaction(rt.engine) as conn:
        assert outbox.queue_alert(conn, "s", "s:change:1", "change", {"n": 1}, now) == 1
        assert outbox.queue_alert(conn, "s", "s:change:1", "change", {"n": 2}, now) == 0
    with transaction(rt.engine) as conn:
        assert outbox.queue_alert(conn, "s", "s:change:1", "change", {"n": 3}, now) == 0
        assert outbox.queue_alert(conn, "s", "s:change:2", "change", {"n": 4}, now) == 1
    assert [(a.idempotency_key, a.payload["n"]) for a in alerts(rt)] == [
        ("s:change:1", 1),
        ("s:change:2", 4),
    ]


def test_alerts_commit_with_their_changes_or_not_at_all(
    db_url: str, http_server: LocalServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    url = http_server.serve("live/sdn.csv", fixture_bytes(SDN.format("2021-12-09")))
    rt = make_runtime(
        db_url,
        {
            "sources": {"ofac_sdn": {"url": url, "companions": []}},
            "subscribers": [_subscriber("security", tags=["xinjiang-security"])],
        },
    )
    assert run_source(rt, "ofac_sdn").outcome == "baseline"
    http_server.serve("live/sdn.csv", fixture_bytes(SDN.format("2021-12-10")))
    real_queue = outbox.queue_alert

    def crash(*args: Any, **kwargs: Any) -> int:
        raise RuntimeError("disk full while queueing")

    monkeypatch.setattr(outbox, "queue_alert", crash)
    failed = run_source(rt, "ofac_sdn")
    assert failed.outcome == "error" and "disk full" in (failed.error or "")

    def count(table: Any) -> int:
        with transaction(rt.engine) as conn:
            return int(conn.scalar(sa.select(sa.func.count()).select_from(table)) or 0)

    assert (count(CHANGES), count(ALERTS), count(SNAPSHOTS)) == (0, 0, 1)
    monkeypatch.setattr(outbox, "queue_alert", real_queue)
    again = run_source(rt, "ofac_sdn")
    assert again.outcome == "new_snapshot" and (again.added, again.alerts) == (25, 2)
    assert (count(CHANGES), count(ALERTS), count(SNAPSHOTS)) == (25, 2, 2)


def _ops(rt: Any) -> list[tuple[str, str]]:
    return [(a.payload["kind"], a.payload["title"]) for a in alerts(rt, alerting.OPERATORS)]


def _open(rt: Any, key: str, when: str) -> bool:
    with transaction(rt.engine) as conn:
        return alerting.open_incident(
            conn,
            rt.settings,
            key,
            source="ofac_sdn",
            kind="source_failing",
            title="ofac_sdn: failing",
            detail="3 failed polls",
            now=at(when),
        )


def test_incident_alerts_once_and_once_more_on_recovery(db_url: str) -> None:
    rt = make_runtime(db_url, {"operators": {"url_env": "OPS_HOOK"}})
    assert _open(rt, "failing:ofac_sdn", "2024-05-01T10:00:00") is True
    assert _open(rt, "failing:ofac_sdn", "2024-05-01T11:00:00") is False
    with transaction(rt.engine) as conn:
        closed = alerting.close_incident(
            conn, rt.settings, "failing:ofac_sdn", now=at("2024-05-01T12:00"), recovered=True
        )
        assert closed is True
        assert not alerting.close_incident(
            conn, rt.settings, "failing:ofac_sdn", now=at("2024-05-01T12:01"), recovered=True
        )
    assert _open(rt, "failing:ofac_sdn", "2024-05-02T10:00:00") is True
    assert _ops(rt) == [
        ("source_failing", "ofac_sdn: failing"),
        ("source_recovered", "ofac_sdn: recovered"),
        ("source_failing", "ofac_sdn: failing"),
    ]
    assert all(a.kind == "operator" for a in alerts(rt))


def test_without_an_operators_channel_incidents_are_recorded_not_queued(db_url: str) -> None:
    rt = make_runtime(db_url)
    assert _open(rt, "rejected:ofac_sdn", "2024-05-04T10:00:00") is True
    assert _open(rt, "rejected:ofac_sdn", "2024-05-04T11:00:00") is False
    assert alerts(rt) == []
    with transaction(rt.engine) as conn:
        incident = conn.execute(sa.select(INCIDENTS)).one()
        assert incident.key == "rejected:ofac_sdn" and incident.closed_at is None


def _fail(rt: Any, when: str) -> bool:
    with transaction(rt.engine) as conn:
        state = store.save_state(
            conn, "ofac_sdn", checked_at=at(when), success=False, error="HTTP 500"
        )
        return alerting.check_failing(conn, rt.settings, state, now=at(when))


def test_check_failing_needs_three_failures_beyond_the_staleness_limit(db_url: str) -> None:
    rt = make_runtime(
        db_url,
        {
            "sources": {"ofac_sdn": {"stale_after": "1h"}},
            "operators": {"url_env": "OPS_HOOK"},
        },
    )
    with transaction(rt.engine) as conn:
        store.save_state(conn, "ofac_sdn", checked_at=at("2024-05-01T10:00"), success=True)
    assert [_fail(rt, f"2024-05-01T10:{m}") for m in ("10", "20", "30")] == [False] * 3
    assert _fail(rt, "2024-05-01T11:05") is True  # 4 failures, 65 minutes without success
    assert _fail(rt, "2024-05-01T12:00") is False  # already told
    assert [k for k, _ in _ops(rt)] == ["source_failing"]
    assert "4 failed polls; last error: HTTP 500" in alerts(rt)[0].payload["detail"]


def test_close_recovered_closes_only_sources_that_polled_fine_since(db_url: str) -> None:
    rt = make_runtime(db_url, {"operators": {"url_env": "OPS_HOOK"}})
    for when in ("2024-05-01T10:00", "2024-05-01T10:10", "2024-05-01T10:20"):
        _fail(rt, when)
    assert [k for k, _ in _ops(rt)] == ["source_failing"]
    with transaction(rt.engine) as conn:
        assert alerting.close_recovered(conn, rt.settings, at("2024-05-01T10:30")) == 0
        store.save_state(conn, "ofac_sdn", checked_at=at("2024-05-01T10:40"), success=True)
        assert alerting.close_recovered(conn, rt.settings, at("2024-05-01T10:41")) == 1
        assert alerting.close_recovered(conn, rt.settings, at("2024-05-01T10:42")) == 0
    assert [k for k, _ in _ops(rt)] == ["source_failing", "source_recovered"]
    recovered = alerts(rt)[-1].payload
    assert "failing since 2024-05-01T10:20:00+00:00" in recovered["detail"]
    assert recovered["occurred_at"] == (at("2024-05-01T10:41")).isoformat()

"""The HTTP app on both databases: health, readiness, metrics from the store, JSON API, auth."""

from __future__ import annotations

import json
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner
from fastapi.testclient import TestClient
from prometheus_client.parser import text_string_to_metric_families

from tests.conftest import LocalServer, fixture_bytes
from tests.helpers import at, make_runtime
from tests.receivers import HttpReceiver
from watcher.alerts.dispatch import dispatch_pending
from watcher.cli.main import main
from watcher.errors import ConfigError
from watcher.pipeline.run import replay, run_source
from watcher.runtime import Runtime
from watcher.service.api import create_app
from watcher.service.app import check_bind, is_loopback, serve

SDN = "ofac_sdn/sdn_{}.csv"
TOKEN = "t0ken-for-tests-0123456789"


def samples(text: str) -> dict[tuple[str, tuple[tuple[str, str], ...]], float]:
    """Every sample of a Prometheus text page, keyed by (name, sorted labels)."""
    out = {}
    for family in text_string_to_metric_families(text):
        for s in family.samples:
            out[(s.name, tuple(sorted(s.labels.items())))] = s.value
    return out


def _replay_two_days(rt: Runtime) -> None:
    for day in ("2021-12-09", "2021-12-10"):
        result = replay(rt, "ofac_sdn", at(day), [("primary", fixture_bytes(SDN.format(day)), day)])
        assert result.ok, result.error


CONFIG: dict[str, Any] = {
    "sources": {"ofac_sdn": {"companions": []}},
    "include_default_watchlist": False,
    "watchlist": [{"name": "ZAKIR Shohrat", "tags": ["xinjiang"]}],
    "subscribers": [{"name": "hook", "url_env": "TEST_API_HOOK_URL"}],
}


def test_health_is_open_and_readyz_reports_never_polled_source(db_url: str) -> None:
    rt = make_runtime(db_url, {"sources": {"ofac_sdn": {"companions": []}}})
    client = TestClient(create_app(rt, TOKEN))
    assert client.get("/healthz").json() == {"status": "ok"}
    ready = client.get("/readyz")
    assert ready.status_code == 503
    assert ready.json()["ready"] is False
    assert any(r.startswith("ofac_sdn: stale") for r in ready.json()["reasons"])


def test_readyz_ok_after_a_poll_then_stale_past_the_limit(
    db_url: str, http_server: LocalServer
) -> None:
    url = http_server.serve("live/sdn.csv", fixture_bytes(SDN.format("2021-12-09")))
    rt = make_runtime(
        db_url, {"sources": {"ofac_sdn": {"url": url, "companions": [], "interval": "1h"}}}
    )
    client = TestClient(create_app(rt, None))
    assert run_source(rt, "ofac_sdn").outcome == "baseline"
    ready = client.get("/readyz")
    assert ready.status_code == 200 and ready.json() == {
        "ready": True,
        "reasons": [],
        "failing": [],
    }
    later = rt.clock() + timedelta(hours=3, minutes=1)  # the default limit: max(3 x interval, 1h)
    rt.clock = lambda: later
    stale = client.get("/readyz")
    assert stale.status_code == 503
    assert "beyond the staleness limit of 10800 s" in stale.json()["reasons"][0]
    sources = {s["source"]: s for s in client.get("/api/sources").json()}
    assert sources["ofac_sdn"]["stale"] is True and sources["ofac_sdn"]["entries"] == 9121
    assert sources["trade_csl"]["enabled"] is False and sources["trade_csl"]["stale"] is False


def test_changes_and_metrics_after_replaying_real_sdn_files(
    db_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    rt = make_runtime(db_url, CONFIG)
    _replay_two_days(rt)
    client = TestClient(create_app(rt, None))
    changes = client.get("/api/changes", params={"source": "ofac_sdn"}).json()
    assert len(changes) == 25 and {c["kind"] for c in changes} == {"added"}
    zakir = next(c for c in changes if c["key"] == "34079")
    assert zakir["name"] == "ZAKIR, Shohrat" and zakir["matches"][0]["watch"] == "ZAKIR Shohrat"
    assert set(zakir) >= {
        "id",
        "list_code",
        "aliases",
        "field_changes",
        "detected_at",
        "snapshot_id",
        "source_url",
    }
    m = samples(client.get("/metrics").text)
    assert m[("watcher_changes_total", (("kind", "added"), ("source", "ofac_sdn")))] == 25
    assert m[("watcher_changes_total", (("kind", "removed"), ("source", "ofac_sdn")))] == 0
    assert m[("watcher_snapshot_records", (("source", "ofac_sdn"),))] == 9146
    assert m[("watcher_snapshot_bytes", (("source", "ofac_sdn"),))] == len(
        fixture_bytes(SDN.format("2021-12-10"))
    )
    assert m[("watcher_matches_total", (("source", "ofac_sdn"), ("watch_kind", "entity")))] >= 1
    assert m[("watcher_alerts", (("status", "pending"),))] >= 1
    assert m[("watcher_alerts", (("status", "sent"),))] == 0
    assert m[("watcher_database_up", ())] == 1
    assert ("process_resident_memory_bytes", ()) in m
    pending = m[("watcher_alerts", (("status", "pending"),))]
    with HttpReceiver() as receiver:
        monkeypatch.setenv("TEST_API_HOOK_URL", f"json://127.0.0.1:{receiver.port}/hook")
        assert dispatch_pending(rt).sent == pending
        assert len(receiver.requests) == pending
    after = samples(client.get("/metrics").text)
    assert after[("watcher_alerts", (("status", "sent"),))] == pending
    assert after[("watcher_alert_dispatch_latency_seconds_count", ())] == pending
    assert after[("watcher_alert_dispatch_latency_seconds_bucket", (("le", "+Inf"),))] == pending


def test_change_filters_mirror_the_cli(db_url: str) -> None:
    rt = make_runtime(db_url, CONFIG)
    _replay_two_days(rt)
    client = TestClient(create_app(rt, None))

    def count(**params: Any) -> int:
        response = client.get("/api/changes", params=params)
        assert response.status_code == 200, response.text
        return len(response.json())

    assert count(kind="added", list_code="SDN") == 25
    assert count(kind="removed") == 0
    assert count(entity="zakir") == 1
    assert count(since="2021-12-10", until="2021-12-10") == 25
    assert count(until="2021-12-09") == 0
    assert count(limit=3) == 3
    assert client.get("/api/changes", params={"since": "yesterday"}).status_code == 400
    assert client.get("/api/changes", params={"source": "nope"}).status_code == 400
    assert client.get("/api/changes", params={"kind": "renamed"}).status_code == 400


def test_entries_history_and_snapshots(db_url: str) -> None:
    rt = make_runtime(db_url, CONFIG)
    _replay_two_days(rt)
    client = TestClient(create_app(rt, None))
    assert len(client.get("/api/entries", params={"source": "ofac_sdn"}).json()) == 9146
    before = client.get(
        "/api/entries", params={"source": "ofac_sdn", "as_of": "2021-12-09", "q": "zakir, shohrat"}
    )
    assert before.json() == []
    now = client.get("/api/entries", params={"source": "ofac_sdn", "q": "zakir, shohrat"}).json()
    assert [e["key"] for e in now] == ["34079"] and now[0]["list_code"] == "SDN"
    history = client.get("/api/history", params={"name": "ZAKIR, Shohrat"}).json()
    assert history[0]["key"] == "34079" and history[0]["events"][0]["kind"] == "added"
    snaps = client.get("/api/snapshots", params={"source": "ofac_sdn"}).json()
    assert [(s["status"], s["records"]) for s in snaps] == [("ok", 9146), ("ok", 9121)]
    assert client.get("/api/entries").status_code == 400  # source is required


def test_alerts_listing_is_the_cli_json(db_url: str, tmp_path: Path) -> None:
    rt = make_runtime(db_url, CONFIG)
    _replay_two_days(rt)
    client = TestClient(create_app(rt, None))
    listed = client.get("/api/alerts").json()
    assert [(a["subscriber"], a["status"], a["name"]) for a in listed] == [
        ("hook", "pending", "ZAKIR, Shohrat")
    ]
    config = tmp_path / "config.toml"
    config.write_text(
        f'include_default_watchlist = false\n[database]\nurl = "{db_url}"\n'
        '[[subscribers]]\nname = "hook"\nurl_env = "TEST_API_HOOK_URL"\n'
    )
    cli = CliRunner().invoke(main, ["--config", str(config), "alerts", "list", "--format", "json"])
    assert cli.exit_code == 0, cli.output
    assert json.loads(cli.output) == listed
    assert client.get("/api/alerts", params={"status": "sent"}).json() == []
    assert client.get("/api/alerts", params={"status": "lost"}).status_code == 400


def test_token_guards_api_but_not_probes(db_url: str) -> None:
    rt = make_runtime(db_url, {"sources": {"ofac_sdn": {"companions": []}}})
    client = TestClient(create_app(rt, TOKEN))
    assert client.get("/api/changes").status_code == 401
    assert client.get("/api/changes", headers={"Authorization": "Bearer wrong"}).status_code == 401
    assert (
        client.get("/api/changes", headers={"Authorization": f"Basic {TOKEN}"}).status_code == 401
    )
    denied = client.get("/api/sources")
    assert denied.status_code == 401 and denied.headers["www-authenticate"] == "Bearer"
    assert client.get("/api/changes", headers={"Authorization": f"Bearer {TOKEN}"}).json() == []
    for path in ("/healthz", "/metrics"):
        assert client.get(path).status_code == 200
    assert client.get("/readyz").status_code == 503  # open, and honest: never polled
    spec = client.get("/openapi.json").json()
    assert {
        "/api/alerts",
        "/api/changes",
        "/api/entries",
        "/api/history",
        "/api/snapshots",
        "/api/sources",
    } <= set(spec["paths"])
    # no page that needs a CDN (blank on an air-gapped host): the schema is served as JSON
    for path in ("/docs", "/redoc", "/docs/oauth2-redirect"):
        assert client.get(path).status_code == 404


def test_non_loopback_bind_needs_a_token(db_url: str, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("WATCHER_API_TOKEN", raising=False)
    rt = make_runtime(db_url)
    assert is_loopback("127.0.0.1") and is_loopback("::1") and is_loopback("localhost")
    assert not is_loopback("0.0.0.0") and not is_loopback("::") and not is_loopback("example.org")
    assert check_bind(rt.settings, "127.0.0.1") is None
    with pytest.raises(ConfigError, match="WATCHER_API_TOKEN"):
        serve(rt, "0.0.0.0", 1)  # refuses before binding anything
    monkeypatch.setenv("WATCHER_API_TOKEN", TOKEN)
    assert check_bind(rt.settings, "0.0.0.0") == TOKEN


# 60,000 characters: httpx refuses longer query strings; the bound (200) is far below either.
HOSTILE_PARAMS: list[tuple[str, dict[str, str]]] = [
    ("/api/entries", {"source": "ofac_sdn", "q": "x" * 60_000}),
    ("/api/entries", {"source": "ofac_sdn", "as_of": "2024-13-45"}),
    ("/api/entries", {"source": "ofac_sdn", "as_of": "9999-12-31"}),
    ("/api/entries", {"source": "ofac_sdn", "limit": "-1"}),
    ("/api/entries", {"source": "s" * 60_000}),
    ("/api/changes", {"entity": "y" * 60_000}),
    ("/api/changes", {"since": "2024-05-03'; DROP TABLE changes; --"}),
    ("/api/changes", {"until": "0000-00-00"}),
    ("/api/changes", {"limit": "99999999999999999999"}),
    ("/api/changes", {"list_code": "L" * 10_000}),
    ("/api/snapshots", {"source": "ofac_sdn' OR '1'='1"}),
    ("/api/history", {"name": "n" * 60_000}),
]


@pytest.mark.parametrize(("path", "params"), HOSTILE_PARAMS)
def test_hostile_parameters_get_400_with_a_message(
    db_url: str, path: str, params: dict[str, str]
) -> None:
    rt = make_runtime(db_url, CONFIG)
    client = TestClient(create_app(rt, None))
    response = client.get(path, params=params)
    assert response.status_code == 400, response.text
    detail = response.json()["detail"]
    assert isinstance(detail, str) and detail and len(detail) < 500  # no 100 KB echo


def test_sql_metacharacters_in_searches_are_plain_text(db_url: str) -> None:
    rt = make_runtime(db_url, CONFIG)
    _replay_two_days(rt)
    client = TestClient(create_app(rt, None))
    for q in ("%", "_", "' OR 1=1 --", '"; DROP TABLE entry_versions; --', "\\", "ZAKIR%' --"):
        for path, params in (
            ("/api/entries", {"source": "ofac_sdn", "q": q}),
            ("/api/changes", {"entity": q}),
            ("/api/history", {"name": q}),
        ):
            response = client.get(path, params=params)
            assert response.status_code == 200, (path, q, response.text)
    assert len(client.get("/api/entries", params={"source": "ofac_sdn"}).json()) == 9146


def test_a_failed_poll_shows_at_once_in_readyz_and_sources(
    db_url: str, http_server: LocalServer
) -> None:
    url = http_server.serve("gone/sdn.csv", b"not here", status=404)
    rt = make_runtime(db_url, {"sources": {"ofac_sdn": {"url": url, "companions": []}}})
    assert run_source(rt, "ofac_sdn").outcome == "error"
    client = TestClient(create_app(rt, None))
    failing = client.get("/readyz").json()["failing"]
    assert len(failing) == 1 and failing[0].startswith("ofac_sdn: 1 failed") and "404" in failing[0]
    row = next(r for r in client.get("/api/sources").json() if r["source"] == "ofac_sdn")
    assert row["failures"] == 1 and "HTTP 404" in row["last_error"]

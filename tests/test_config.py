"""Config: every key with a good and a bad value, environment overrides, unknown keys, secrets,
and the start-up failure a user sees (one `error:` line naming the key, no traceback)."""

from __future__ import annotations

import copy
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from watcher.config import (
    Settings,
    SubscriberSettings,
    load_settings,
    settings_from_dict,
)
from watcher.errors import ConfigError
from watcher.models import WatchEntity

SUB = {"name": "s", "url_env": "HOOK"}


def _get(settings: Settings, path: str) -> Any:
    value: Any = settings
    for part in path.split("."):
        if isinstance(value, tuple):
            value = value[int(part)]
        elif isinstance(value, dict):
            value = value[part]
        else:
            value = getattr(value, part)
    return value


def _src(source: str, **table: Any) -> dict[str, Any]:
    return {"sources": {source: table}}


def _sub(**keys: Any) -> dict[str, Any]:
    return {"subscribers": [{**SUB, **keys}]}


GOOD: list[tuple[dict[str, Any], str, Any]] = [
    ({"database": {"url": "postgresql://w@db/w"}}, "database_url", "postgresql://w@db/w"),
    ({"http": {"host": "0.0.0.0"}}, "http.host", "0.0.0.0"),
    ({"http": {"port": 9090}}, "http.port", 9090),
    ({"http": {"token_env": "TOKEN"}}, "http.token_env", "TOKEN"),
    ({"http": {"token_file": "/run/token"}}, "http.token_file", "/run/token"),
    ({"fetch": {"timeout": 30}}, "fetch.timeout", 30.0),
    ({"fetch": {"timeout": "2m"}}, "fetch.timeout", 120.0),
    ({"fetch": {"retries": 0}}, "fetch.retries", 0),
    ({"fetch": {"backoff": 0.5}}, "fetch.backoff", 0.5),
    ({"fetch": {"max_bytes": 1024}}, "fetch.max_bytes", 1024),
    ({"fetch": {"user_agent": "me/1"}}, "fetch.user_agent", "me/1"),
    (_src("ofac_sdn", enabled=False), "sources.ofac_sdn.enabled", False),
    (_src("ofac_sdn", url="file:///tmp/sdn.csv"), "sources.ofac_sdn.url", "file:///tmp/sdn.csv"),
    (_src("ofac_sdn", url="https://x.org/a.csv"), "sources.ofac_sdn.url", "https://x.org/a.csv"),
    (_src("ofac_sdn", companions=[]), "sources.ofac_sdn.companions", ()),
    (_src("ofac_sdn", companions=["alt.csv"]), "sources.ofac_sdn.companions", ("alt.csv",)),
    (_src("trade_csl", interval="30s"), "sources.trade_csl.interval", 30.0),
    (_src("trade_csl", interval="15m"), "sources.trade_csl.interval", 900.0),
    (_src("trade_csl", interval="6h"), "sources.trade_csl.interval", 21600.0),
    (_src("trade_csl", interval="2d"), "sources.trade_csl.interval", 172800.0),
    (_src("trade_csl", interval=90), "sources.trade_csl.interval", 90.0),
    (_src("trade_csl", min_records=0), "sources.trade_csl.min_records", 0),
    (_src("trade_csl", max_records=9), "sources.trade_csl.max_records", 9),
    (_src("trade_csl", max_removed_share=0), "sources.trade_csl.max_removed_share", 0.0),
    (_src("trade_csl", max_removed_share=1), "sources.trade_csl.max_removed_share", 1.0),
    (_src("trade_csl", max_removed_share=0.5), "sources.trade_csl.max_removed_share", 0.5),
    (_src("trade_csl", stale_after="2h"), "sources.trade_csl.stale_after", 7200.0),
    (_src("federal_register", agencies=["a"]), "sources.federal_register.options.agencies", ["a"]),
    (
        _src("federal_register", cfr_references=["15 CFR 744"]),
        "sources.federal_register.options.cfr_references",
        ["15 CFR 744"],
    ),
    (
        _src("federal_register", public_inspection=False),
        "sources.federal_register.options.public_inspection",
        False,
    ),
    (_src("federal_register", per_page=50), "sources.federal_register.options.per_page", 50),
    (_src("federal_register", max_pages=2), "sources.federal_register.options.max_pages", 2),
    (
        _src("federal_register", fetch_full_text=True),
        "sources.federal_register.options.fetch_full_text",
        True,
    ),
    (_src("federal_register", csl_lag="48h"), "sources.federal_register.options.csl_lag", 172800),
    (
        _src("news", feeds=["https://x.org/rss"]),
        "sources.news.options.feeds",
        ["https://x.org/rss"],
    ),
    ({"include_default_watchlist": False}, "include_default_watchlist", False),
    (
        {"watchlist": [{"name": "A", "aliases": ["B"], "tags": ["t"], "country": "CN"}]},
        "watchlist.0",
        WatchEntity("A", aliases=("B",), tags=("t",), country="CN"),
    ),
    (
        {"watchlist": [{"name": "A", "entity_type": "entity", "notes": "n"}]},
        "watchlist.0",
        WatchEntity("A", entity_type="entity", notes="n"),
    ),
    (_sub(), "subscribers.0", SubscriberSettings("s", url_env="HOOK")),
    (
        _sub(url_env=None) | {"subscribers": [{"name": "f", "url_file": "/run/hook"}]},
        "subscribers.0.url_file",
        "/run/hook",
    ),  # fmt: skip
    (_sub(tags=["xinjiang"]), "subscribers.0.tags", ("xinjiang",)),
    (_sub(sources=["ofac_sdn"]), "subscribers.0.sources", ("ofac_sdn",)),
    (_sub(kinds=["added", "removed"]), "subscribers.0.kinds", ("added", "removed")),
    (_sub(min_score=100.5), "subscribers.0.min_score", 100.5),
    (_sub(mode="immediate"), "subscribers.0.mode", "immediate"),
    (
        _sub(mode="digest", digest_at="08:00 America/New_York"),
        "subscribers.0.digest_at",
        "08:00 America/New_York",
    ),  # fmt: skip
    (_sub(mode="digest", digest_at="7:30"), "subscribers.0.mode", "digest"),
    ({"operators": {"url_env": "OPS"}}, "operators.url_env", "OPS"),
    ({"operators": {"url_file": "/run/ops"}}, "operators.url_file", "/run/ops"),
    ({"match": {"threshold": 90}}, "match.threshold", 90.0),
    ({"alerts": {"max_attempts": 3}}, "alerts.max_attempts", 3),
    ({"alerts": {"backoff": "1m"}}, "alerts.backoff", 60.0),
    ({"alerts": {"max_backoff": "2h"}}, "alerts.max_backoff", 7200.0),
    ({"alerts": {"templates_dir": "/etc/t"}}, "alerts.templates_dir", "/etc/t"),
]


@pytest.mark.parametrize(("data", "path", "expected"), GOOD, ids=[g[1] for g in GOOD])
def test_good_value(data: dict[str, Any], path: str, expected: Any) -> None:
    assert _get(settings_from_dict(data, {}), path) == expected


BAD: list[tuple[dict[str, Any], str]] = [
    ({"database": {"url": "watcher.db"}}, "database.url"),
    ({"database": {"url": 5}}, "database.url"),
    ({"database": {"uri": "sqlite://"}}, "database.uri"),
    ({"database": "sqlite://"}, "database"),
    ({"http": {"host": 1}}, "http.host"),
    ({"http": {"port": "8080"}}, "http.port"),
    ({"http": {"port": 70000}}, "http.port"),
    ({"http": {"token_env": 5}}, "http.token_env"),
    ({"http": {"token_file": True}}, "http.token_file"),
    ({"fetch": {"timeout": "banana"}}, "fetch.timeout"),
    ({"fetch": {"timeout": 0}}, "fetch.timeout"),
    ({"fetch": {"retries": -1}}, "fetch.retries"),
    ({"fetch": {"retries": 1.5}}, "fetch.retries"),
    ({"fetch": {"backoff": "later"}}, "fetch.backoff"),
    ({"fetch": {"max_bytes": 0}}, "fetch.max_bytes"),
    ({"fetch": {"user_agent": 5}}, "fetch.user_agent"),
    (_src("ofac_sdn", enabled="yes"), "sources.ofac_sdn.enabled"),
    (_src("ofac_sdn", url="ftp://x.org/sdn.csv"), "sources.ofac_sdn.url"),
    (_src("ofac_sdn", url="sdn.csv"), "sources.ofac_sdn.url"),
    (_src("ofac_sdn", companions="add.csv"), "sources.ofac_sdn.companions"),
    (_src("ofac_sdn", interval="banana"), "sources.ofac_sdn.interval"),
    (_src("ofac_sdn", interval="0s"), "sources.ofac_sdn.interval"),
    (_src("ofac_sdn", interval="5w"), "sources.ofac_sdn.interval"),
    (_src("ofac_sdn", interval=-5), "sources.ofac_sdn.interval"),
    (_src("ofac_sdn", interval=True), "sources.ofac_sdn.interval"),
    (_src("ofac_sdn", min_records=-1), "sources.ofac_sdn.min_records"),
    (_src("ofac_sdn", min_records=1.5), "sources.ofac_sdn.min_records"),
    (_src("ofac_sdn", max_records="many"), "sources.ofac_sdn.max_records"),
    (_src("ofac_sdn", max_removed_share=1.5), "sources.ofac_sdn.max_removed_share"),
    (_src("ofac_sdn", max_removed_share=-0.1), "sources.ofac_sdn.max_removed_share"),
    (_src("ofac_sdn", max_removed_share="10%"), "sources.ofac_sdn.max_removed_share"),
    (_src("ofac_sdn", stale_after="soon"), "sources.ofac_sdn.stale_after"),
    (_src("ofac_sdn", feeds=[]), "sources.ofac_sdn.feeds"),  # another source's key
    (_src("ofac_sdn", name="x"), "sources.ofac_sdn.name"),
    (_src("nope"), "sources.nope"),
    ({"sources": {"ofac_sdn": 5}}, "sources.ofac_sdn"),
    (_src("federal_register", agencies="bis"), "sources.federal_register.agencies"),
    (_src("federal_register", cfr_references=[744]), "sources.federal_register.cfr_references[0]"),
    (
        _src("federal_register", public_inspection="no"),
        "sources.federal_register.public_inspection",
    ),
    (_src("federal_register", per_page=0), "sources.federal_register.per_page"),
    (_src("federal_register", max_pages="2"), "sources.federal_register.max_pages"),
    (_src("federal_register", fetch_full_text=1), "sources.federal_register.fetch_full_text"),
    (_src("federal_register", csl_lag="later"), "sources.federal_register.csl_lag"),
    (_src("news", feeds=[1]), "sources.news.feeds[0]"),
    ({"include_default_watchlist": "yes"}, "include_default_watchlist"),
    ({"watchlist": [{"aliases": ["x"]}]}, "watchlist[0].name"),
    ({"watchlist": [{"name": 5}]}, "watchlist[0].name"),
    ({"watchlist": [{"name": "A", "aliases": "B"}]}, "watchlist[0].aliases"),
    ({"watchlist": [{"name": "A", "alias": ["B"]}]}, "watchlist[0].alias"),
    ({"watchlist": {"name": "A"}}, "watchlist"),
    ({"watchlist_file": 5}, "watchlist_file"),
    ({"watchlist_file": "/nonexistent/watchlist.toml"}, "watchlist_file"),
    ({"subscribers": [{"url_env": "HOOK"}]}, "subscribers[0].name"),
    ({"subscribers": [{"name": "s"}]}, "subscribers[0].url_env"),
    (_sub(url="slack://x"), "subscribers[0].url"),
    (_sub(url_file=5), "subscribers[0].url_file"),
    (_sub(tags="xinjiang"), "subscribers[0].tags"),
    (_sub(sources=["ofac"]), "subscribers[0].sources"),
    (_sub(kinds=["renamed"]), "subscribers[0].kinds[0]"),
    (_sub(min_score=-1), "subscribers[0].min_score"),
    (_sub(mode="weekly"), "subscribers[0].mode"),
    (_sub(mode="digest"), "subscribers[0].digest_at"),
    (_sub(mode="digest", digest_at="banana"), "subscribers[0].digest_at"),
    (_sub(mode="digest", digest_at="25:00"), "subscribers[0].digest_at"),
    (_sub(mode="digest", digest_at="08:00 Mars/Base"), "subscribers[0].digest_at"),
    (_sub(mode="digest", digest_at="8 oclock UTC"), "subscribers[0].digest_at"),
    ({"subscribers": [SUB, SUB]}, "subscribers[1].name"),
    ({"operators": {"url_env": 5}}, "operators.url_env"),
    ({"operators": {"url": "mailto://x"}}, "operators.url"),
    ({"match": {"threshold": 101}}, "match.threshold"),
    ({"match": {"threshold": "high"}}, "match.threshold"),
    ({"alerts": {"max_attempts": 0}}, "alerts.max_attempts"),
    ({"alerts": {"backoff": "x"}}, "alerts.backoff"),
    ({"alerts": {"max_backoff": -1}}, "alerts.max_backoff"),
    ({"alerts": {"templates_dir": 5}}, "alerts.templates_dir"),
    ({"alerts": {"max_attempt": 3}}, "alerts.max_attempt"),
    ({"datbase": {"url": "sqlite://"}}, "datbase"),
]


@pytest.mark.parametrize(("data", "key"), BAD, ids=[f"{b[1]}-{i}" for i, b in enumerate(BAD)])
def test_bad_value_names_its_key(data: dict[str, Any], key: str) -> None:
    with pytest.raises(ConfigError) as caught:
        settings_from_dict(data, {})
    message = str(caught.value)
    assert message.startswith(f"config: {key}:"), message
    assert "\n" not in message


def test_unknown_key_lists_the_allowed_ones() -> None:
    with pytest.raises(ConfigError, match=r"http\.prot: unknown key \(allowed: host, port, "):
        settings_from_dict({"http": {"prot": 1}}, {})
    with pytest.raises(ConfigError, match=r"sources\.news\.feed: unknown key \(allowed: .*feeds"):
        settings_from_dict(_src("news", feed=[]), {})


def test_every_bad_key_is_named_on_the_same_line() -> None:
    with pytest.raises(ConfigError) as caught:
        settings_from_dict({"http": {"port": "x"}, "match": {"threshold": -1}}, {})
    assert "http.port:" in str(caught.value) and "match.threshold:" in str(caught.value)


def test_defaults_are_the_documented_ones() -> None:
    s = settings_from_dict({}, {})
    assert s.database_url == "sqlite:///watcher.db"
    assert (s.http.host, s.http.port, s.http.token_env) == ("127.0.0.1", 8080, "WATCHER_API_TOKEN")
    assert (s.fetch.timeout, s.fetch.retries, s.fetch.backoff) == (60.0, 3, 2.0)
    assert s.fetch.max_bytes == 200 * 1024 * 1024
    assert s.include_default_watchlist and s.match.threshold == 88.0
    assert (s.alerts.max_attempts, s.alerts.backoff, s.alerts.max_backoff) == (8, 30.0, 21600.0)
    assert s.sources == {} and s.subscribers == () and s.watchlist == ()
    ofac = s.source("ofac_sdn")
    assert (ofac.enabled, ofac.interval, ofac.max_removed_share) == (True, 3600.0, 0.10)
    assert ofac.staleness_limit == 3 * 3600
    assert (
        settings_from_dict(_src("news", interval="5m"), {}).source("news").staleness_limit == 3600
    )


def test_shipped_config_loads() -> None:
    shipped = Path(__file__).resolve().parents[1] / "config.toml"
    s = load_settings(str(shipped), {})
    assert set(s.sources) == {
        "ofac_sdn", "ofac_consolidated", "trade_csl", "federal_register", "ecfr_entity_list"
    }  # fmt: skip
    assert s.source("federal_register").interval == 900.0
    assert s.config_path == str(shipped)


def test_input_is_not_mutated() -> None:
    data = {"http": {"port": 1}, "sources": {"news": {"feeds": ["https://x.org/rss"]}}}
    before = copy.deepcopy(data)
    settings_from_dict(data, {"WATCHER_HTTP_PORT": "2", "WATCHER_SOURCES_NEWS_URL": "file:///f"})
    assert data == before


ENV: list[tuple[dict[str, str], str, Any]] = [
    ({"WATCHER_DATABASE_URL": "postgresql://e@db/w"}, "database_url", "postgresql://e@db/w"),
    ({"WATCHER_DATABASE_URL": ""}, "database_url", "sqlite:///f.db"),  # empty: not set
    ({"WATCHER_HTTP_HOST": "0.0.0.0"}, "http.host", "0.0.0.0"),
    ({"WATCHER_HTTP_PORT": "9000"}, "http.port", 9000),
    ({"WATCHER_HTTP_PORT": " 9001 "}, "http.port", 9001),
    (
        {"WATCHER_SOURCES_OFAC_SDN_URL": "file:///d/sdn.csv"},
        "sources.ofac_sdn.url",
        "file:///d/sdn.csv",
    ),  # fmt: skip
    ({"WATCHER_SOURCES_OFAC_SDN_URL": "file:///d/sdn.csv"}, "sources.ofac_sdn.interval", 60.0),
    (
        {"WATCHER_SOURCES_TRADE_CSL_URL": "https://x.org/c.csv"},
        "sources.trade_csl.url",
        "https://x.org/c.csv",
    ),  # the source is configured by the variable alone  # fmt: skip
]


@pytest.mark.parametrize(("env", "path", "expected"), ENV, ids=[str(e[0]) for e in ENV])
def test_environment_override(env: dict[str, str], path: str, expected: Any) -> None:
    data = {
        "database": {"url": "sqlite:///f.db"},
        "http": {"host": "127.0.0.1", "port": 8080},
        "sources": {"ofac_sdn": {"url": "https://x.org/sdn.csv", "interval": "1m"}},
    }
    assert _get(settings_from_dict(data, env), path) == expected


@pytest.mark.parametrize(
    ("env", "key"),
    [
        ({"WATCHER_HTTP_PORT": "abc"}, "http.port"),
        ({"WATCHER_HTTP_PORT": "99999"}, "http.port"),
        ({"WATCHER_DATABASE_URL": "watcher.db"}, "database.url"),
        ({"WATCHER_SOURCES_OFAC_SDN_URL": "sdn.csv"}, "sources.ofac_sdn.url"),
    ],
)
def test_bad_environment_value_names_key_and_variable(env: dict[str, str], key: str) -> None:
    with pytest.raises(ConfigError) as caught:
        settings_from_dict({}, env)
    assert str(caught.value).startswith(f"config: {key}:")
    assert next(iter(env)) in str(caught.value)


@pytest.mark.parametrize(
    ("env", "config", "key"),
    [
        ({"WATCHER_HTTP_PORT": "abc"}, "", "http.port"),
        (
            {},
            '[[subscribers]]\nname = "d"\nurl_env = "X"\nmode = "digest"\ndigest_at = "banana"',
            "subscribers[0].digest_at",
        ),  # fmt: skip
        ({}, '[sources.ofac_sdn]\ninterval = "often"', "sources.ofac_sdn.interval"),
    ],
)
def test_cli_stops_with_one_error_line(
    tmp_path: Path, env: dict[str, str], config: str, key: str
) -> None:
    cfg = tmp_path / "config.toml"
    cfg.write_text(f'[database]\nurl = "sqlite:///{tmp_path / "w.db"}"\n{config}\n')
    proc = subprocess.run(
        [sys.executable, "-m", "watcher", "--config", str(cfg), "sources"],
        env={**os.environ, **env},
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert proc.returncode != 0
    lines = proc.stderr.strip().splitlines()
    assert len(lines) == 1, proc.stderr
    assert lines[0].startswith(f"error: config: {key}:"), lines[0]
    assert not (tmp_path / "w.db").exists()  # nothing was started

"""Config beyond the key tables: file lookup, watchlist files, secrets read only when used, and
the value syntaxes (durations, digest times) config shares with the code that reads them late."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from watcher.config import (
    load_settings,
    load_watchlist_file,
    parse_digest_at,
    parse_duration,
    resolve_secret,
    settings_from_dict,
)
from watcher.errors import ConfigError


def test_secrets_come_from_env_or_file_when_used(tmp_path: Path) -> None:
    hook = tmp_path / "hook"
    hook.write_text("json://127.0.0.1/from-file\n")
    empty = tmp_path / "empty"
    empty.write_text("  \n")
    env = {"HOOK": " json://127.0.0.1/from-env \n"}
    assert resolve_secret("HOOK", None, env) == "json://127.0.0.1/from-env"
    assert resolve_secret("HOOK", str(hook), env) == "json://127.0.0.1/from-env"  # env first
    assert resolve_secret("UNSET", str(hook), env) == "json://127.0.0.1/from-file"
    assert resolve_secret(None, str(hook), {}) == "json://127.0.0.1/from-file"
    assert resolve_secret(None, str(empty), {}) is None
    assert resolve_secret(None, str(tmp_path / "missing"), {}) is None
    assert resolve_secret("UNSET", None, env) is None
    data = {"subscribers": [{"name": "f", "url_file": str(hook)}], "operators": {"url_env": "X"}}
    s = settings_from_dict(data, {})  # references only: nothing is read at load
    assert s.subscribers[0].url_file == str(hook) and s.subscribers[0].url_env is None
    assert "from-file" not in repr(s)


def test_config_file_lookup_and_watchlist_file(tmp_path: Path) -> None:
    (tmp_path / "watch.toml").write_text('[[watchlist]]\nname = "Megvii"\naliases = ["旷视"]\n')
    cfg = tmp_path / "config.toml"
    cfg.write_text('watchlist_file = "watch.toml"\n[[watchlist]]\nname = "SenseTime"\n')
    s = load_settings(None, {"WATCHER_CONFIG": str(cfg)})
    assert [w.name for w in s.watchlist] == ["SenseTime", "Megvii"]
    assert load_settings(str(cfg), {}).watchlist == s.watchlist
    with pytest.raises(ConfigError, match="--config: no such file"):
        load_settings(str(tmp_path / "nope.toml"), {})
    with pytest.raises(ConfigError, match="WATCHER_CONFIG: no such file"):
        load_settings(None, {"WATCHER_CONFIG": str(tmp_path / "nope.toml")})
    cfg.write_text("[http\nport = 1\n")
    with pytest.raises(ConfigError, match="not valid TOML"):
        load_settings(str(cfg), {})


def test_watchlist_file_keys_are_checked(tmp_path: Path) -> None:
    path = tmp_path / "w.toml"
    path.write_text('[[watchlist]]\nname = "A"\ncountri = "CN"\n')
    with pytest.raises(ConfigError, match=r"^config: watchlist\[0\]\.countri: unknown key"):
        load_watchlist_file(path)
    path.write_text('[[entities]]\nname = "A"\n')
    with pytest.raises(ConfigError, match=r"^config: entities: unknown key \(allowed: watchlist\)"):
        load_watchlist_file(path)


@pytest.mark.parametrize(
    ("value", "seconds"), [("30s", 30), ("15m", 900), ("6h", 21600), ("2d", 172800), (5, 5)]
)
def test_parse_duration(value: str | int, seconds: float) -> None:
    assert parse_duration(value, "k") == seconds


@pytest.mark.parametrize("value", ["", "banana", "5", "5w", "-1s", "0s", 0, True, None])
def test_parse_duration_rejects(value: Any) -> None:
    with pytest.raises(ConfigError, match="^k: "):
        parse_duration(value, "k")


def test_parse_digest_at() -> None:
    at, zone = parse_digest_at("08:30 America/New_York")
    assert (at.hour, at.minute, str(zone)) == (8, 30, "America/New_York")
    assert str(parse_digest_at("23:59")[1]) == "UTC"

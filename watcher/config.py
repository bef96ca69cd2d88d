"""Typed, frozen settings loaded once from config.toml (+ environment overrides).

Lookup: --config PATH, else $WATCHER_CONFIG, else ./config.toml. Unknown keys and bad values
fail at start with a message naming the key. Secrets are referenced (`url_env`, `url_file`),
never inlined, and are only resolved at the moment of use.
"""

from __future__ import annotations

import os
import re
import tomllib
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from watcher.errors import ConfigError
from watcher.models import WatchEntity

_DURATION = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*([smhd])\s*$")
_UNITS = {"s": 1, "m": 60, "h": 3600, "d": 86400}


def parse_duration(value: Any, key: str) -> float:
    """'30s' / '15m' / '6h' / '2d' (or a number of seconds) to seconds."""
    if isinstance(value, int | float) and not isinstance(value, bool) and value > 0:
        return float(value)
    if isinstance(value, str) and (m := _DURATION.match(value)):
        seconds = float(m.group(1)) * _UNITS[m.group(2)]
        if seconds > 0:
            return seconds
    raise ConfigError(f"{key}: expected a duration like '30s', '15m', '6h', got {value!r}")


@dataclass(frozen=True)
class SourceSettings:
    name: str
    enabled: bool = True
    url: str | None = None
    companions: tuple[str, ...] | None = None
    interval: float = 3600.0
    min_records: int | None = None
    max_records: int | None = None
    max_removed_share: float = 0.10
    max_modified_share: float = 0.10
    stale_after: float | None = None
    options: Mapping[str, Any] = field(default_factory=dict)

    @property
    def staleness_limit(self) -> float:
        """How long without a successful poll before operators hear of it."""
        return self.stale_after if self.stale_after is not None else max(3 * self.interval, 3600)


@dataclass(frozen=True)
class SubscriberSettings:
    name: str
    url_env: str | None = None
    url_file: str | None = None
    tags: tuple[str, ...] = ()
    sources: tuple[str, ...] = ()
    kinds: tuple[str, ...] = ()
    min_score: float = 0.0
    mode: str = "immediate"
    digest_at: str | None = None


@dataclass(frozen=True)
class OperatorSettings:
    url_env: str | None = None
    url_file: str | None = None


@dataclass(frozen=True)
class FetchSettings:
    timeout: float = 60.0
    retries: int = 3
    backoff: float = 2.0
    max_bytes: int = 200 * 1024 * 1024
    deadline: float = 900.0  # seconds for a whole download, retries included
    user_agent: str = "watcher/0.1 (+https://github.com/; entity-list watcher)"


@dataclass(frozen=True)
class HttpSettings:
    host: str = "127.0.0.1"
    port: int = 8080
    token_env: str | None = "WATCHER_API_TOKEN"
    token_file: str | None = None


@dataclass(frozen=True)
class MatchSettings:
    threshold: float = 88.0


@dataclass(frozen=True)
class AlertSettings:
    max_attempts: int = 8
    backoff: float = 30.0
    max_backoff: float = 6 * 3600.0
    templates_dir: str | None = None


@dataclass(frozen=True)
class Settings:
    database_url: str = "sqlite:///watcher.db"
    http: HttpSettings = HttpSettings()
    fetch: FetchSettings = FetchSettings()
    sources: Mapping[str, SourceSettings] = field(default_factory=dict)
    include_default_watchlist: bool = True
    watchlist: tuple[WatchEntity, ...] = ()
    subscribers: tuple[SubscriberSettings, ...] = ()
    operators: OperatorSettings = OperatorSettings()
    match: MatchSettings = MatchSettings()
    alerts: AlertSettings = AlertSettings()
    config_path: str | None = None

    def source(self, name: str) -> SourceSettings:
        return self.sources.get(name) or SourceSettings(name=name)


_SOURCE_KEYS = {
    "enabled",
    "url",
    "companions",
    "interval",
    "min_records",
    "max_records",
    "max_removed_share",
    "max_modified_share",
    "stale_after",
}
_TOP_KEYS = {
    "database",
    "http",
    "fetch",
    "sources",
    "include_default_watchlist",
    "watchlist",
    "watchlist_file",
    "subscribers",
    "operators",
    "match",
    "alerts",
}


def _check_keys(table: Mapping[str, Any], allowed: set[str], where: str) -> None:
    for key in table:
        if key not in allowed:
            raise ConfigError(f"{where}{key}: unknown key (allowed: {', '.join(sorted(allowed))})")


def _typed(table: Mapping[str, Any], key: str, kind: type | tuple[type, ...], where: str) -> Any:
    value = table[key]
    if not isinstance(value, kind) or (isinstance(value, bool) and kind is not bool):
        raise ConfigError(f"{where}{key}: expected {_kind_name(kind)}, got {value!r}")
    return value


def _kind_name(kind: type | tuple[type, ...]) -> str:
    kinds = kind if isinstance(kind, tuple) else (kind,)
    return " or ".join(k.__name__ for k in kinds)


def _str_list(table: Mapping[str, Any], key: str, where: str) -> tuple[str, ...]:
    value = _typed(table, key, list, where)
    if not all(isinstance(v, str) for v in value):
        raise ConfigError(f"{where}{key}: expected a list of strings")
    return tuple(value)


def _dataclass_from(cls: type, table: Mapping[str, Any], where: str) -> Any:
    """Build a flat settings dataclass, checking keys and the type of each default."""
    defaults = cls()
    allowed = set(defaults.__dataclass_fields__)
    _check_keys(table, allowed, where)
    values: dict[str, Any] = {}
    for key in table:
        default = getattr(defaults, key)
        if isinstance(default, bool):
            values[key] = _typed(table, key, bool, where)
        elif isinstance(default, float):
            values[key] = float(_typed(table, key, (int, float), where))
        elif isinstance(default, int):
            values[key] = _typed(table, key, int, where)
        else:
            values[key] = _typed(table, key, str, where)
    return cls(**values)


def _load_source(
    name: str, table: Mapping[str, Any], option_keys: Mapping[str, type]
) -> SourceSettings:
    where = f"sources.{name}."
    _check_keys(table, _SOURCE_KEYS | set(option_keys), where)
    kw: dict[str, Any] = {"name": name}
    if "enabled" in table:
        kw["enabled"] = _typed(table, "enabled", bool, where)
    if "url" in table:
        url = _typed(table, "url", str, where)
        if not re.match(r"^(https?|file)://", url):
            raise ConfigError(f"{where}url: expected an http(s):// or file:// URL, got {url!r}")
        kw["url"] = url
    if "companions" in table:
        kw["companions"] = _str_list(table, "companions", where)
    if "interval" in table:
        kw["interval"] = parse_duration(table["interval"], f"{where}interval")
    if "stale_after" in table:
        kw["stale_after"] = parse_duration(table["stale_after"], f"{where}stale_after")
    for key in ("min_records", "max_records"):
        if key in table:
            if _typed(table, key, int, where) < 0:
                raise ConfigError(f"{where}{key}: must be >= 0")
            kw[key] = table[key]
    for key in ("max_removed_share", "max_modified_share"):
        if key in table:
            share = float(_typed(table, key, (int, float), where))
            if not 0 <= share <= 1:
                raise ConfigError(f"{where}{key}: must be between 0 and 1, got {share}")
            kw[key] = share
    options = {}
    for key, kind in option_keys.items():
        if key in table:
            options[key] = _typed(table, key, kind, where)
    kw["options"] = options
    return SourceSettings(**kw)


def _load_watch(item: Any, where: str) -> WatchEntity:
    if not isinstance(item, Mapping):
        raise ConfigError(f"{where}: expected a table")
    _check_keys(item, {"name", "aliases", "tags", "country", "entity_type", "notes"}, where + ".")
    if "name" not in item:
        raise ConfigError(f"{where}.name: missing")
    return WatchEntity(
        name=_typed(item, "name", str, where + "."),
        aliases=_str_list(item, "aliases", where + ".") if "aliases" in item else (),
        tags=_str_list(item, "tags", where + ".") if "tags" in item else (),
        country=_typed(item, "country", str, where + ".") if "country" in item else None,
        entity_type=_typed(item, "entity_type", str, where + ".")
        if "entity_type" in item
        else None,
        notes=_typed(item, "notes", str, where + ".") if "notes" in item else None,
    )


def load_watchlist_file(path: Path) -> tuple[WatchEntity, ...]:
    """A TOML file of [[watchlist]] tables (the format `watchlist_file` and import use)."""
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except (OSError, tomllib.TOMLDecodeError) as exc:
        raise ConfigError(f"watchlist_file: cannot read {path}: {exc}") from exc
    _check_keys(data, {"watchlist"}, f"{path}: ")
    items = data.get("watchlist", [])
    return tuple(_load_watch(item, f"watchlist[{i}]") for i, item in enumerate(items))


_SUB_KEYS = {
    "name",
    "url_env",
    "url_file",
    "tags",
    "sources",
    "kinds",
    "min_score",
    "mode",
    "digest_at",
}


def _load_subscriber(item: Any, where: str) -> SubscriberSettings:
    if not isinstance(item, Mapping):
        raise ConfigError(f"{where}: expected a table")
    w = where + "."
    _check_keys(item, _SUB_KEYS, w)
    if "name" not in item:
        raise ConfigError(f"{w}name: missing")
    if "url_env" not in item and "url_file" not in item:
        raise ConfigError(f"{w}url_env: missing (or url_file): name where the apprise URL lives")
    mode = _typed(item, "mode", str, w) if "mode" in item else "immediate"
    if mode not in ("immediate", "digest"):
        raise ConfigError(f"{w}mode: expected 'immediate' or 'digest', got {mode!r}")
    kinds = _str_list(item, "kinds", w) if "kinds" in item else ()
    for kind in kinds:
        if kind not in ("added", "removed", "modified"):
            raise ConfigError(f"{w}kinds: unknown change kind {kind!r}")
    digest_at = _typed(item, "digest_at", str, w) if "digest_at" in item else None
    if mode == "digest" and not digest_at:
        raise ConfigError(f"{w}digest_at: required when mode = 'digest' (e.g. '08:00 UTC')")
    return SubscriberSettings(
        name=_typed(item, "name", str, w),
        url_env=_typed(item, "url_env", str, w) if "url_env" in item else None,
        url_file=_typed(item, "url_file", str, w) if "url_file" in item else None,
        tags=_str_list(item, "tags", w) if "tags" in item else (),
        sources=_str_list(item, "sources", w) if "sources" in item else (),
        kinds=kinds,
        min_score=float(_typed(item, "min_score", (int, float), w)) if "min_score" in item else 0.0,
        mode=mode,
        digest_at=digest_at,
    )


def _list_of_tables(data: Mapping[str, Any], key: str) -> list[Any]:
    value = data.get(key, [])
    if not isinstance(value, list):
        raise ConfigError(f"{key}: expected an array of tables ([[{key}]])")
    return value


def settings_from_dict(
    data: Mapping[str, Any],
    env: Mapping[str, str] | None = None,
    base_dir: Path | None = None,
    config_path: str | None = None,
) -> Settings:
    """Validate a parsed TOML document (plus env overrides) into Settings."""
    from watcher.sources import registry  # late: sources import models only

    env = os.environ if env is None else env
    _check_keys(data, _TOP_KEYS, "")
    db = data.get("database", {})
    _check_keys(db, {"url"}, "database.")
    database_url = env.get("WATCHER_DATABASE_URL") or db.get("url") or "sqlite:///watcher.db"
    if not isinstance(database_url, str) or "://" not in database_url:
        raise ConfigError(f"database.url: expected a SQLAlchemy URL, got {database_url!r}")

    sources_table = data.get("sources", {})
    sources: dict[str, SourceSettings] = {}
    for name, table in sources_table.items():
        if name not in registry.SOURCES:
            raise ConfigError(
                f"sources.{name}: unknown source (known: {', '.join(registry.SOURCES)})"
            )
        if not isinstance(table, Mapping):
            raise ConfigError(f"sources.{name}: expected a table")
        sources[name] = _load_source(name, table, registry.SOURCES[name].option_keys)
    for name in registry.SOURCES:
        env_url = env.get(f"WATCHER_SOURCES_{name.upper()}_URL")
        if env_url:
            current = sources.get(name) or SourceSettings(name=name)
            sources[name] = _replace(current, url=env_url)

    watchlist = [
        _load_watch(w, f"watchlist[{i}]") for i, w in enumerate(_list_of_tables(data, "watchlist"))
    ]
    if "watchlist_file" in data:
        path = Path(_typed(data, "watchlist_file", str, ""))
        if not path.is_absolute() and base_dir is not None:
            path = base_dir / path
        watchlist += load_watchlist_file(path)
    subscribers = tuple(
        _load_subscriber(s, f"subscribers[{i}]")
        for i, s in enumerate(_list_of_tables(data, "subscribers"))
    )
    names = [s.name for s in subscribers]
    if len(names) != len(set(names)):
        raise ConfigError("subscribers: names must be unique")

    http = _dataclass_from(HttpSettings, data.get("http", {}), "http.")
    if env.get("WATCHER_HTTP_PORT"):
        http = _replace(http, port=int(env["WATCHER_HTTP_PORT"]))
    if env.get("WATCHER_HTTP_HOST"):
        http = _replace(http, host=env["WATCHER_HTTP_HOST"])
    include_default = data.get("include_default_watchlist", True)
    if not isinstance(include_default, bool):
        raise ConfigError("include_default_watchlist: expected true or false")
    return Settings(
        database_url=database_url,
        http=http,
        fetch=_dataclass_from(FetchSettings, data.get("fetch", {}), "fetch."),
        sources=sources,
        include_default_watchlist=include_default,
        watchlist=tuple(watchlist),
        subscribers=subscribers,
        operators=_dataclass_from(OperatorSettings, data.get("operators", {}), "operators."),
        match=_dataclass_from(MatchSettings, data.get("match", {}), "match."),
        alerts=_dataclass_from(AlertSettings, data.get("alerts", {}), "alerts."),
        config_path=config_path,
    )


def _replace(obj: Any, **changes: Any) -> Any:
    from dataclasses import replace

    return replace(obj, **changes)


def find_config(explicit: str | None, env: Mapping[str, str] | None = None) -> Path | None:
    """--config, else $WATCHER_CONFIG, else ./config.toml; None if none exists."""
    env = os.environ if env is None else env
    if explicit:
        path = Path(explicit)
        if not path.is_file():
            raise ConfigError(f"--config: no such file: {path}")
        return path
    if env.get("WATCHER_CONFIG"):
        path = Path(env["WATCHER_CONFIG"])
        if not path.is_file():
            raise ConfigError(f"WATCHER_CONFIG: no such file: {path}")
        return path
    default = Path("config.toml")
    return default if default.is_file() else None


def load_settings(explicit: str | None = None, env: Mapping[str, str] | None = None) -> Settings:
    """Load settings once at start; every later stage gets them passed explicitly."""
    path = find_config(explicit, env)
    if path is None:
        return settings_from_dict({}, env)
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"{path}: not valid TOML: {exc}") from exc
    return settings_from_dict(data, env, base_dir=path.parent, config_path=str(path))


def resolve_secret(
    url_env: str | None, url_file: str | None, env: Mapping[str, str] | None = None
) -> str | None:
    """Read a secret only when it is needed; never log the value."""
    env = os.environ if env is None else env
    if url_env and env.get(url_env):
        return env[url_env].strip()
    if url_file:
        try:
            return Path(url_file).read_text(encoding="utf-8").strip() or None
        except OSError:
            return None
    return None

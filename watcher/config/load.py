"""Loading: find config.toml, apply environment overrides, validate, and say what is wrong.

Lookup: --config PATH, else $WATCHER_CONFIG, else ./config.toml. The TOML document is validated
in one pass against `_Document` (the file's shape) by `validation`, which reads the settings
dataclasses' annotations (types strict, rules from `values`); every problem becomes one line
`config: KEY: reason`, all of them joined in one ConfigError, so a bad value stops the start
with its name. Secrets are referenced (`url_env`, `url_file`), never inlined, and resolved only
when used. (Not pydantic: importing it and building the schema cost every command ~55 ms.)
"""

from __future__ import annotations

import os
import tomllib
from collections.abc import Mapping
from dataclasses import dataclass, field, fields
from pathlib import Path
from typing import Any

from watcher.config.settings import (
    AlertSettings,
    FetchSettings,
    HttpSettings,
    MatchSettings,
    OperatorSettings,
    Settings,
    SourceSettings,
    SubscriberSettings,
)
from watcher.config.validation import UNSEEN, Loc, Problem, check
from watcher.config.values import DatabaseUrl, Positive
from watcher.errors import ConfigError
from watcher.models import WatchEntity


@dataclass(frozen=True)
class _Database:
    url: DatabaseUrl = Settings.database_url


@dataclass(frozen=True)
class _Document:
    """config.toml as written (Settings is what the program uses)."""

    database: _Database = _Database()
    http: HttpSettings = HttpSettings()
    fetch: FetchSettings = FetchSettings()
    sources: Mapping[str, SourceSettings] = field(default_factory=dict)
    include_default_watchlist: bool = True
    watchlist: tuple[WatchEntity, ...] = ()
    watchlist_file: str | None = None
    subscribers: tuple[SubscriberSettings, ...] = ()
    operators: OperatorSettings = OperatorSettings()
    match: MatchSettings = MatchSettings()
    alerts: AlertSettings = AlertSettings()


@dataclass(frozen=True)
class _WatchlistFile:
    watchlist: tuple[WatchEntity, ...] = ()


_SOURCE_KEYS = frozenset(f.name for f in fields(SourceSettings)) - {"name", "options"}
# TOML types a source declares for its own keys, as checked at load (others are used as given).
_OPTION_TYPES: Mapping[Any, Any] = {list: list[str], bool: bool, int: Positive, str: str}


def _path(loc: Loc) -> str:
    out = ""
    for part in loc:
        out += f"[{part}]" if isinstance(part, int) else f"{'.' if out else ''}{part}"
    return out


def _problem(problem: Problem, env_names: Mapping[str, str]) -> str:
    """One `KEY: reason (got VALUE [from ENV_VAR])`."""
    where = _path(problem.loc)
    origin = f"from {env_names[where]}" if where in env_names else ""
    got = repr(problem.value)
    if problem.value is not UNSEEN and ", got " not in problem.reason and got not in problem.reason:
        origin = f"got {got if len(got) <= 60 else got[:57] + '...'} {origin}".strip()
    return f"{where}: {problem.reason} ({origin})" if origin else f"{where}: {problem.reason}"


def _validate(
    kind: Any, data: Any, env_names: Mapping[str, str] | None = None, prefix: Loc = ()
) -> Any:
    """`data` checked as `kind`, or one ConfigError line naming every bad key."""
    value, problems = check(kind, data, prefix)
    if problems:
        lines = (_problem(p, env_names or {}) for p in problems)
        raise ConfigError("config: " + "; ".join(lines))
    return value


def _table(data: Mapping[str, Any], key: str, parent: str = "") -> dict[str, Any]:
    """A copy of one [table] (the caller's data stays untouched); not a table: an error."""
    value = data.get(key, {})
    if not isinstance(value, Mapping):
        where = f"{parent}{key}"
        raise ConfigError(f"config: {where}: expected a table ([{where}]), got {value!r}")
    return dict(value)


def _with_env(
    data: Mapping[str, Any], env: Mapping[str, str]
) -> tuple[dict[str, Any], dict[str, str]]:
    """The document with environment overrides applied, and which key came from which variable."""
    from watcher.sources import names as source_names  # late: sources import the base modules

    doc = dict(data)
    names: dict[str, str] = {}
    for var, table, key in (
        ("WATCHER_DATABASE_URL", "database", "url"),
        ("WATCHER_HTTP_HOST", "http", "host"),
        ("WATCHER_HTTP_PORT", "http", "port"),
    ):
        if env.get(var):
            value: Any = env[var].strip()
            if key == "port" and value.isdigit():
                value = int(value)
            doc[table] = {**_table(doc, table), key: value}
            names[f"{table}.{key}"] = var
    sources = _table(doc, "sources")
    for name in source_names.SOURCE_NAMES:
        var = f"WATCHER_SOURCES_{name.upper()}_URL"
        if env.get(var):
            sources[name] = {**_table(sources, name, "sources."), "url": env[var].strip()}
            names[f"sources.{name}.url"] = var
    doc["sources"] = sources
    return doc, names


def _source_tables(sources: Mapping[str, Any]) -> dict[str, Any]:
    """Each [sources.NAME] table with its name, its own keys checked and moved to `options`.
    The names and keys come from `sources.names` and `sources.options`: importing every parser
    costs ~120 ms."""
    from watcher.sources import names
    from watcher.sources import options as source_options

    out: dict[str, Any] = {}
    for name in sources:
        if name not in names.SOURCE_NAMES:
            known = ", ".join(names.SOURCE_NAMES)
            raise ConfigError(f"config: sources.{name}: unknown source (known: {known})")
        table = _table(sources, name, "sources.")
        option_keys = source_options.OPTION_KEYS.get(name, {})
        allowed = _SOURCE_KEYS | set(option_keys)
        for key in table:
            if key not in allowed:
                keys = ", ".join(sorted(allowed))
                raise ConfigError(f"config: sources.{name}.{key}: unknown key (allowed: {keys})")
        options = {
            key: _validate(
                _OPTION_TYPES.get(kind, kind), table.pop(key), prefix=("sources", name, key)
            )
            for key, kind in option_keys.items()
            if key in table
        }
        out[name] = {**table, "name": name, "options": options}
    return out


def _check_subscribers(subscribers: tuple[SubscriberSettings, ...]) -> None:
    """What one subscriber's keys cannot say alone: where its URL is, digest time, unique names."""
    from watcher.sources import names

    seen: set[str] = set()
    for i, s in enumerate(subscribers):
        where = f"config: subscribers[{i}]"
        if not s.url_env and not s.url_file:
            raise ConfigError(
                f"{where}.url_env: missing (or url_file): where the apprise URL lives"
            )
        if s.mode == "digest" and not s.digest_at:
            raise ConfigError(
                f"{where}.digest_at: required when mode = 'digest' (e.g. '08:00 UTC')"
            )
        unknown = [name for name in s.sources if name not in names.SOURCE_NAMES]
        if unknown:
            raise ConfigError(f"{where}.sources: unknown source {unknown[0]!r}")
        if s.name in seen:
            raise ConfigError(f"{where}.name: {s.name!r} is used twice (names must be unique)")
        seen.add(s.name)


def load_watchlist_file(path: Path) -> tuple[WatchEntity, ...]:
    """A TOML file of [[watchlist]] tables (the format `watchlist_file` and import use)."""
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except (OSError, tomllib.TOMLDecodeError) as exc:
        raise ConfigError(f"config: watchlist_file: cannot read {path}: {exc}") from exc
    doc: _WatchlistFile = _validate(_WatchlistFile, data)
    return tuple(doc.watchlist)


def settings_from_dict(
    data: Mapping[str, Any],
    env: Mapping[str, str] | None = None,
    base_dir: Path | None = None,
    config_path: str | None = None,
) -> Settings:
    """Validate a parsed TOML document (plus environment overrides) into Settings."""
    raw, env_names = _with_env(data, os.environ if env is None else env)
    raw["sources"] = _source_tables(raw["sources"])
    doc: _Document = _validate(_Document, raw, env_names)
    _check_subscribers(doc.subscribers)
    watchlist = doc.watchlist
    if doc.watchlist_file is not None:
        path = Path(doc.watchlist_file)
        if not path.is_absolute() and base_dir is not None:
            path = base_dir / path
        watchlist += load_watchlist_file(path)
    return Settings(
        database_url=doc.database.url,
        http=doc.http,
        fetch=doc.fetch,
        sources=dict(doc.sources),
        include_default_watchlist=doc.include_default_watchlist,
        watchlist=watchlist,
        subscribers=doc.subscribers,
        operators=doc.operators,
        match=doc.match,
        alerts=doc.alerts,
        config_path=config_path,
    )


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

"""Typed, frozen settings loaded once from config.toml (+ environment overrides).

`settings` holds the types (their annotations are the rules), `values` the value syntaxes
(durations, digest times) and the rules' vocabulary, `validation` the validator that reads the
annotations, `load` finding, validating and explaining. Unknown keys and bad values stop the
start with one line naming every bad key. (No pydantic: it cost every command ~55 ms to start.)
"""

from watcher.config.load import (
    find_config,
    load_settings,
    load_watchlist_file,
    resolve_secret,
    settings_from_dict,
)
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
from watcher.config.values import Duration, parse_digest_at, parse_duration

__all__ = [
    "AlertSettings",
    "Duration",
    "FetchSettings",
    "HttpSettings",
    "MatchSettings",
    "OperatorSettings",
    "Settings",
    "SourceSettings",
    "SubscriberSettings",
    "find_config",
    "load_settings",
    "load_watchlist_file",
    "parse_digest_at",
    "parse_duration",
    "resolve_secret",
    "settings_from_dict",
]

"""The settings types: frozen dataclasses whose annotations are the validation rules.

`load` validates them when config is read (types strict, an unknown key is an error naming it,
a field without a default is required); constructing one directly (from database rows, in
tests) checks nothing, as for any dataclass.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from watcher.config.values import (
    Count,
    Delay,
    DigestAt,
    Duration,
    Kind,
    Mode,
    Percent,
    Port,
    Positive,
    Score,
    Share,
    SourceUrl,
)
from watcher.models import WatchEntity


@dataclass(frozen=True)
class SourceSettings:
    name: str
    enabled: bool = True
    url: SourceUrl | None = None
    companions: tuple[str, ...] | None = None
    interval: Duration = 3600.0
    min_records: Count | None = None
    max_records: Count | None = None
    max_removed_share: Share = 0.10
    max_modified_share: Share = 0.10
    stale_after: Duration | None = None
    keep_raw: Duration | None = None  # raw bytes older than this are pruned (rows stay); None: all
    # source-specific keys, checked against the source's `option_keys` at load
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
    kinds: tuple[Kind, ...] = ()
    min_score: Score = 0.0
    mode: Mode = "immediate"
    digest_at: DigestAt = None


@dataclass(frozen=True)
class OperatorSettings:
    url_env: str | None = None
    url_file: str | None = None


@dataclass(frozen=True)
class FetchSettings:
    timeout: Duration = 60.0
    retries: Count = 3
    backoff: Delay = 2.0
    max_bytes: Positive = 200 * 1024 * 1024
    deadline: Duration = 900.0  # a whole download, retries and Retry-After waits included
    user_agent: str = "watcher/0.1 (+https://github.com/; entity-list watcher)"


@dataclass(frozen=True)
class HttpSettings:
    host: str = "127.0.0.1"
    port: Port = 8080
    token_env: str | None = "WATCHER_API_TOKEN"
    token_file: str | None = None


@dataclass(frozen=True)
class MatchSettings:
    threshold: Percent = 88.0  # fuzzy score (0-100) needed for a name match


@dataclass(frozen=True)
class AlertSettings:
    max_attempts: Positive = 8
    backoff: Delay = 30.0
    max_backoff: Delay = 6 * 3600.0
    templates_dir: str | None = None


@dataclass(frozen=True)
class Settings:
    """Everything a run needs, built by `load_settings` from the validated document."""

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

"""The value syntaxes config accepts beyond TOML's own (durations, digest times, URLs) and the
small vocabulary the settings annotations use to say them: `Annotated[float, Parse(seconds),
Range(gt=0)]` reads '15m' as 900.0 and refuses zero.

Each rule raises ValueError with a message meant to follow the key's name; `load` turns it into
`config: KEY: reason`, and the dispatcher reuses `parse_digest_at` so the rule the config checks
is the rule that runs. Types themselves are strict (load's validator): TOML values are typed, so
`true` is not an integer, "8080" is not a port and 1.5 is not a count; a float takes an integer.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from datetime import time
from typing import Annotated, Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from watcher.errors import ConfigError

_DURATION = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*([smhd])\s*$")
_UNITS = {"s": 1, "m": 60, "h": 3600, "d": 86400}
_DIGEST_AT = re.compile(r"^(\d{1,2}):(\d{2})(?:\s+(\S+))?$")
_SOURCE_URL = re.compile(r"^(https?|file)://\S+$")


def seconds(value: Any) -> float:
    """'30s' / '15m' / '6h' / '2d' (or a number of seconds) to seconds; negatives are refused."""
    if isinstance(value, int | float) and not isinstance(value, bool) and value >= 0:
        return float(value)
    if isinstance(value, str) and (m := _DURATION.match(value)):
        return float(m.group(1)) * _UNITS[m.group(2)]
    raise ValueError(f"expected a duration like '30s', '15m', '6h', '2d', got {value!r}")


def parse_duration(value: Any, key: str) -> float:
    """A positive duration in seconds, or ConfigError naming `key` (for values read late)."""
    try:
        result = seconds(value)
    except ValueError as exc:
        raise ConfigError(f"{key}: {exc}") from None
    if result <= 0:
        raise ConfigError(f"{key}: expected a duration above zero, got {value!r}")
    return result


def parse_digest_at(spec: str) -> tuple[time, ZoneInfo]:
    """'08:00 America/New_York' (zone optional, UTC by default) to a time of day and zone."""
    match = _DIGEST_AT.match(spec.strip())
    if match is None:
        raise ValueError(f"expected 'HH:MM' or 'HH:MM Area/City' like '08:00 UTC', got {spec!r}")
    hour, minute, zone = int(match.group(1)), int(match.group(2)), match.group(3) or "UTC"
    if hour > 23 or minute > 59:
        raise ValueError(f"no such time of day: {spec!r}")
    try:
        return time(hour, minute), ZoneInfo(zone)
    except (ValueError, ZoneInfoNotFoundError):
        raise ValueError(f"unknown time zone {zone!r} in {spec!r}") from None


def _digest_at(spec: str | None) -> str | None:
    if spec is not None:
        parse_digest_at(spec)
    return spec


def _source_url(url: str) -> str:
    if not _SOURCE_URL.match(url):
        raise ValueError(f"expected an http(s):// or file:// URL, got {url!r}")
    return url


def _database_url(url: str) -> str:
    if "://" not in url:
        raise ValueError(f"expected a SQLAlchemy URL like sqlite:///watcher.db, got {url!r}")
    return url


@dataclass(frozen=True)
class Parse:
    """Read the raw value with `read` instead of checking its type ('15m' -> 900.0): the reader
    is the syntax, and its ValueError says what was expected."""

    read: Callable[[Any], Any]


@dataclass(frozen=True)
class Range:
    """Bounds on a number: above `gt`, at least `ge`, at most `le` (NaN is in no range)."""

    gt: float | None = None
    ge: float | None = None
    le: float | None = None

    def check(self, value: float) -> None:
        if self.gt is not None and not value > self.gt:
            raise ValueError(f"must be > {self.gt:g}")
        if self.ge is not None and not value >= self.ge:
            raise ValueError(f"must be >= {self.ge:g}")
        if self.le is not None and not value <= self.le:
            raise ValueError(f"must be <= {self.le:g}")


@dataclass(frozen=True)
class OneOf:
    """One of a few words (the string form of a Literal)."""

    allowed: tuple[str, ...]

    def check(self, value: str) -> None:
        if value not in self.allowed:
            raise ValueError(f"expected one of: {', '.join(self.allowed)}")


@dataclass(frozen=True)
class Check:
    """Any other rule on the typed value: `rule` raises ValueError saying what is wrong."""

    rule: Callable[[Any], object]

    def check(self, value: Any) -> None:
        self.rule(value)


# Annotated types for the settings dataclasses: validated at load only (plain construction, as
# from database rows and tests, is unchecked).
Duration = Annotated[float, Parse(seconds), Range(gt=0)]
Delay = Annotated[float, Parse(seconds), Range(ge=0)]
Share = Annotated[float, Range(ge=0, le=1)]
Score = Annotated[float, Range(ge=0)]
Percent = Annotated[float, Range(ge=0, le=100)]
Count = Annotated[int, Range(ge=0)]
Positive = Annotated[int, Range(ge=1)]
Port = Annotated[int, Range(ge=0, le=65535)]
SourceUrl = Annotated[str, Check(_source_url)]
DatabaseUrl = Annotated[str, Check(_database_url)]
DigestAt = Annotated[str | None, Check(_digest_at)]
Mode = Annotated[str, OneOf(("immediate", "digest"))]
Kind = Annotated[str, OneOf(("added", "removed", "modified"))]

"""The one interface every source implements.

A source turns bytes into records and says which URLs to fetch; it never opens a network
or database connection (the pipeline does all I/O), so every parser is testable offline on
real fixture bytes.
"""

from __future__ import annotations

import hashlib
from abc import ABC, abstractmethod
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any, ClassVar, Literal

from watcher.models import Change, Entry, ParseResult


@dataclass(frozen=True)
class FetchPlan:
    """The files one poll needs: `primary` first, then companions (same directory)."""

    files: tuple[tuple[str, str], ...]  # (logical name, url)


class Source(ABC):
    """A list or feed watched by the pipeline.

    `mode = "full"`: each fetch is the whole list; keys missing from a new snapshot are removed.
    `mode = "incremental"`: each fetch is a window (newest documents, feed items); nothing is
    ever removed by absence.
    """

    name: ClassVar[str]
    default_url: ClassVar[str]
    mode: ClassVar[Literal["full", "incremental"]] = "full"
    default_min_records: ClassVar[int] = 1
    default_companions: ClassVar[tuple[str, ...]] = ()
    default_interval: ClassVar[float] = 3600.0
    # Sources whose real payload is HTML say so; for the others an HTML page is an error page.
    accepts_html: ClassVar[bool] = False
    # Where a person reads the list (used as the change link when a record has none).
    public_url: ClassVar[str | None] = None
    # List codes whose entries are documents (matched as free text, not as listed parties).
    text_lists: ClassVar[frozenset[str]] = frozenset()
    # Source-specific config keys ([sources.NAME] key = value): their TOML type (list, bool,
    # int, str) or a type from watcher.config (e.g. Duration), checked when config is loaded.
    option_keys: ClassVar[Mapping[str, object]] = {}

    def __init__(self, options: Mapping[str, Any] | None = None) -> None:
        self.options: Mapping[str, Any] = options or {}

    def plan(self, url: str, companions: Sequence[str]) -> FetchPlan:
        """Primary URL plus companion files resolved against its directory."""
        base = url.rsplit("/", 1)[0]
        files = [("primary", url)]
        files += [(c, f"{base}/{c}") for c in companions]
        return FetchPlan(tuple(files))

    def follow(
        self, name: str, url: str, content: bytes, known_keys: frozenset[str]
    ) -> list[tuple[str, str]]:
        """More (name, url) pairs to fetch after seeing one file: next pages, full texts.

        `known_keys` are the keys already stored for this source, so paginated sources stop
        when they reach documents they already have. Default: nothing more.
        """
        return []

    def optional(self, name: str) -> bool:
        """Whether a followed file may fail to download without failing the poll."""
        return False

    def digest(self, files: Mapping[str, bytes]) -> str:
        """Fingerprint of a fetch; equal digests mean 'unchanged'. Default: bytes in order."""
        h = hashlib.sha256()
        for name in sorted(files):
            h.update(name.encode() + b"\0" + hashlib.sha256(files[name]).digest())
        return h.hexdigest()

    def reconcile_window(
        self, old: Mapping[str, Entry], new: Mapping[str, Entry], changes: list[Change]
    ) -> list[Change]:
        """An incremental source's say on the plain diff of its window (default: as is)."""
        return changes

    def alertable(self, change: Change) -> bool:
        """Whether a stored change is matched and alerted; a source may silence bookkeeping."""
        return True

    @abstractmethod
    def parse(self, files: Mapping[str, bytes]) -> ParseResult:
        """Bytes (by logical name, `primary` always present) to records; raise ParseError."""

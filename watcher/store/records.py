"""What the store returns: frozen dataclasses, never ORM rows."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, NamedTuple

from watcher.models import Entry


@dataclass(frozen=True)
class SourceState:
    source: str
    last_check_at: datetime | None = None
    last_success_at: datetime | None = None
    validators: dict[str, Any] = field(default_factory=dict)
    consecutive_failures: int = 0
    last_error: str | None = None


@dataclass(frozen=True)
class SnapshotInfo:
    id: int
    source: str
    fetched_at: datetime
    published_at: datetime | None
    effective_at: datetime
    sha256: str
    raw_size: int
    record_count: int
    status: str
    reason: str | None
    origin: str
    warnings: tuple[str, ...] = ()


class VersionRef(NamedTuple):
    """An open version without its data: enough to tell whether an entry changed. A named
    tuple, not a dataclass: a poll reads one per listed entry, 15,000 at a time."""

    version_id: int
    content_hash: str


@dataclass(frozen=True)
class CurrentVersion:
    version_id: int
    entry: Entry


@dataclass(frozen=True)
class MatchInfo:
    watch: str
    watch_kind: str
    score: float
    method: str
    matched_name: str
    matched_text: str | None
    tags: tuple[str, ...]
    reason: str | None

    def to_dict(self) -> dict[str, Any]:
        return {
            "watch": self.watch,
            "kind": self.watch_kind,
            "score": round(self.score, 1),
            "method": self.method,
            "matched_name": self.matched_name,
            "matched_text": self.matched_text,
            "tags": list(self.tags),
            "reason": self.reason,
        }


@dataclass(frozen=True)
class ChangeInfo:
    id: int
    source: str
    list_code: str
    kind: str
    key: str
    name: str
    entry: Entry
    field_changes: tuple[dict[str, Any], ...]
    detected_at: datetime
    effective_at: datetime
    snapshot_id: int
    source_url: str | None
    matches: tuple[MatchInfo, ...] = ()

    def to_dict(self) -> dict[str, Any]:
        """The `changes --format json` contract (DESIGN.md section 5)."""
        return {
            "id": self.id,
            "source": self.source,
            "list_code": self.list_code,
            "kind": self.kind,
            "key": self.key,
            "name": self.name,
            "aliases": list(self.entry.aliases),
            "entity_type": self.entry.entity_type,
            "programs": list(self.entry.programs),
            "field_changes": list(self.field_changes),
            "detected_at": self.detected_at.isoformat(),
            "effective_at": self.effective_at.isoformat(),
            "snapshot_id": self.snapshot_id,
            "source_url": self.source_url,
            "matches": [m.to_dict() for m in self.matches],
        }


@dataclass(frozen=True)
class EntryRecord:
    """An entry as listed at some time, with the span of snapshots it was valid for."""

    entry: Entry
    version_id: int
    valid_from: datetime
    valid_to: datetime | None

    def to_dict(self) -> dict[str, Any]:
        data = self.entry.to_dict()
        data["valid_from"] = self.valid_from.isoformat()
        data["valid_to"] = self.valid_to.isoformat() if self.valid_to else None
        return data


def entry_dict(data: dict[str, Any]) -> dict[str, Any]:
    """`Entry.from_dict(data).to_dict()` without building the Entry: what a listing of a whole
    list prints, ten thousand rows at a time (tests/store/test_entries.py holds them equal)."""
    return {
        "source": data["source"],
        "key": data["key"],
        "list_code": data["list_code"],
        "name": data["name"],
        "entity_type": data.get("entity_type"),
        "aliases": list(data.get("aliases", ())),
        "addresses": [
            {
                "address": a.get("address"),
                "city": a.get("city"),
                "state": a.get("state"),
                "postal_code": a.get("postal_code"),
                "country": a.get("country"),
            }
            for a in data.get("addresses", ())
        ],
        "programs": list(data.get("programs", ())),
        "ids": [
            {"type": i["type"], "value": i["value"], "country": i.get("country")}
            for i in data.get("ids", ())
        ],
        "remarks": data.get("remarks"),
        "citations": list(data.get("citations", ())),
        "dates": dict(sorted(data.get("dates", {}).items())),
        "raw": dict(sorted(data.get("raw", {}).items())),
    }


@dataclass(frozen=True)
class SourceStatus:
    """One row of `watcher sources` and `GET /api/sources`."""

    source: str
    enabled: bool
    interval_s: int
    last_check: datetime | None
    last_success: datetime | None
    failures: int
    last_error: str | None
    stale: bool
    entries: int

    @property
    def state(self) -> str:
        """One word an operator reads first: a source never polled is not "stale"."""
        if not self.enabled:
            return "disabled"
        if self.last_check is None:
            return "never polled"
        if self.stale:
            return "stale"
        return "failing" if self.failures else "ok"

    def to_dict(self) -> dict[str, Any]:
        return {
            "source": self.source,
            "enabled": self.enabled,
            "state": self.state,
            "interval_s": self.interval_s,
            "last_check": self.last_check.isoformat() if self.last_check else None,
            "last_success": self.last_success.isoformat() if self.last_success else None,
            "failures": self.failures,
            "last_error": self.last_error,
            "stale": self.stale,
            "entries": self.entries,
        }

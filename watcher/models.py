"""Frozen records that flow through the pipeline: fetch -> parse -> diff -> match -> notify.

Every stage takes and returns these; only the store and the dispatcher touch I/O.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Literal

ChangeKind = Literal["added", "removed", "modified"]
SnapshotStatus = Literal["ok", "rejected", "quarantined"]
CheckOutcome = Literal["unchanged", "new_snapshot", "rejected", "quarantined", "error"]


@dataclass(frozen=True)
class Address:
    """One postal address; `country` is the name as the source spells it."""

    address: str | None = None
    city: str | None = None
    state: str | None = None
    postal_code: str | None = None
    country: str | None = None

    def text(self) -> str:
        parts = (self.address, self.city, self.state, self.postal_code, self.country)
        return ", ".join(p for p in parts if p)


@dataclass(frozen=True)
class Identifier:
    """An identity document or registration number (passport, USCC, IMO ...)."""

    type: str
    value: str
    country: str | None = None


@dataclass(frozen=True)
class Entry:
    """One normalized list record; identical content always hashes identically."""

    source: str
    key: str
    list_code: str
    name: str
    entity_type: str | None = None
    aliases: tuple[str, ...] = ()
    addresses: tuple[Address, ...] = ()
    programs: tuple[str, ...] = ()
    ids: tuple[Identifier, ...] = ()
    remarks: str | None = None
    citations: tuple[str, ...] = ()
    dates: Mapping[str, str] = field(default_factory=dict)
    raw: Mapping[str, Any] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        return {
            "source": self.source,
            "key": self.key,
            "list_code": self.list_code,
            "name": self.name,
            "entity_type": self.entity_type,
            "aliases": list(self.aliases),
            "addresses": [_address_dict(a) for a in self.addresses],
            "programs": list(self.programs),
            "ids": [{"type": i.type, "value": i.value, "country": i.country} for i in self.ids],
            "remarks": self.remarks,
            "citations": list(self.citations),
            "dates": dict(sorted(self.dates.items())),
            "raw": dict(sorted(self.raw.items())),
        }

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> Entry:
        return cls(
            source=data["source"],
            key=data["key"],
            list_code=data["list_code"],
            name=data["name"],
            entity_type=data.get("entity_type"),
            aliases=tuple(data.get("aliases", ())),
            addresses=tuple(Address(**a) for a in data.get("addresses", ())),
            programs=tuple(data.get("programs", ())),
            ids=tuple(Identifier(**i) for i in data.get("ids", ())),
            remarks=data.get("remarks"),
            citations=tuple(data.get("citations", ())),
            dates=dict(data.get("dates", {})),
            raw=dict(data.get("raw", {})),
        )

    def content_hash(self) -> str:
        """Hash of the canonical JSON form: what decides 'modified'."""
        # Diff and store both ask for it, over every entry of a list: computed once, kept in
        # the instance dict (a cached_property would take a lock on each first access).
        found: str | None = self.__dict__.get("_content_hash")
        if found is None:
            found = hashlib.sha256(canonical_json(self).encode("utf-8")).hexdigest()
            self.__dict__["_content_hash"] = found
        return found

    def countries(self) -> tuple[str, ...]:
        return tuple(sorted({a.country for a in self.addresses if a.country}))


def built_entry(
    source: str,
    key: str,
    list_code: str,
    name: str,
    entity_type: str | None,
    aliases: tuple[str, ...],
    addresses: tuple[Address, ...],
    programs: tuple[str, ...],
    ids: tuple[Identifier, ...],
    remarks: str | None,
    citations: tuple[str, ...],
    dates: Mapping[str, str],
    raw: Mapping[str, Any],
) -> Entry:
    """`Entry(...)` with every field given, for code building a whole list: a frozen
    dataclass's __init__ sets each field through object.__setattr__, five times the cost."""
    entry = object.__new__(Entry)
    entry.__dict__.update(
        source=source,
        key=key,
        list_code=list_code,
        name=name,
        entity_type=entity_type,
        aliases=aliases,
        addresses=addresses,
        programs=programs,
        ids=ids,
        remarks=remarks,
        citations=citations,
        dates=dates,
        raw=raw,
    )
    return entry


# json.dumps(..., sort_keys=True, ensure_ascii=False) builds this encoder on every call.
_CANONICAL = json.JSONEncoder(sort_keys=True, ensure_ascii=False)
# What that encoder writes for one str (C): quotes and escapes, non-ASCII kept.
_encode_str: Callable[[str], str] = json.encoder.encode_basestring


def canonical_json(e: Entry) -> str:
    """Exactly `json.dumps(e.to_dict(), sort_keys=True, ensure_ascii=False)`, the text the
    content hash covers, written out field by field: the generic encoder costs three times
    as much, and it runs over every entry of every snapshot (tests/test_models_json.py)."""
    dates = _CANONICAL.encode(dict(e.dates)) if e.dates else "{}"
    raw = _CANONICAL.encode(dict(e.raw)) if e.raw else "{}"
    return (
        f'{{"addresses": [{", ".join(map(_canonical_address, e.addresses))}], '
        f'"aliases": {_list(e.aliases)}, "citations": {_list(e.citations)}, "dates": {dates}, '
        f'"entity_type": {_value(e.entity_type)}, '
        f'"ids": [{", ".join(map(_canonical_id, e.ids))}], "key": {_value(e.key)}, '
        f'"list_code": {_value(e.list_code)}, "name": {_value(e.name)}, '
        f'"programs": {_list(e.programs)}, "raw": {raw}, "remarks": {_value(e.remarks)}, '
        f'"source": {_value(e.source)}}}'
    )


def _value(value: object) -> str:
    if type(value) is str:
        return _encode_str(value)
    return "null" if value is None else _CANONICAL.encode(value)


def _list(values: tuple[Any, ...]) -> str:
    return f"[{', '.join(map(_value, values))}]" if values else "[]"


def _canonical_address(a: Address) -> str:
    return (
        f'{{"address": {_value(a.address)}, "city": {_value(a.city)}, '
        f'"country": {_value(a.country)}, "postal_code": {_value(a.postal_code)}, '
        f'"state": {_value(a.state)}}}'
    )


def _canonical_id(i: Identifier) -> str:
    return (
        f'{{"country": {_value(i.country)}, "type": {_value(i.type)}, "value": {_value(i.value)}}}'
    )


def _address_dict(a: Address) -> dict[str, str | None]:
    return {
        "address": a.address,
        "city": a.city,
        "state": a.state,
        "postal_code": a.postal_code,
        "country": a.country,
    }


def _clean(value: str | None) -> str | None:
    if value is None:
        return None
    value = " ".join(value.split())
    return value or None


def _unique_sorted(values: Iterable[str | None]) -> tuple[str, ...]:
    return tuple(sorted({v for v in (_clean(x) for x in values) if v}))


def make_entry(
    *,
    source: str,
    key: str,
    list_code: str,
    name: str,
    entity_type: str | None = None,
    aliases: Iterable[str | None] = (),
    addresses: Iterable[Address] = (),
    programs: Iterable[str | None] = (),
    ids: Iterable[Identifier] = (),
    remarks: str | None = None,
    citations: Iterable[str | None] = (),
    dates: Mapping[str, str] | None = None,
    raw: Mapping[str, Any] | None = None,
) -> Entry:
    """Build an Entry in canonical form: whitespace collapsed, set-like fields sorted and
    de-duplicated, so that field order, quoting and line endings never look like a change."""
    clean_name = _clean(name) or ""
    addr = {
        Address(*(_clean(v) for v in (a.address, a.city, a.state, a.postal_code, a.country)))
        for a in addresses
    }
    addr.discard(Address())
    idents = {
        Identifier(_clean(i.type) or "", _clean(i.value) or "", _clean(i.country)) for i in ids
    }
    return built_entry(
        source=source,
        key=key,
        list_code=list_code,
        name=clean_name,
        entity_type=_clean(entity_type.lower()) if entity_type else None,
        aliases=tuple(a for a in _unique_sorted(aliases) if a != clean_name),
        addresses=tuple(sorted(addr, key=lambda a: _address_sort_key(a))),
        programs=_unique_sorted(programs),
        ids=tuple(
            sorted((i for i in idents if i.value), key=lambda i: (i.type, i.value, i.country or ""))
        ),
        remarks=_clean(remarks),
        citations=_unique_sorted(citations),
        dates={k: v for k, v in sorted((dates or {}).items()) if v},
        raw={k: v for k, v in sorted((raw or {}).items()) if v not in (None, "", [], {})},
    )


def _address_sort_key(a: Address) -> tuple[str, ...]:
    return tuple(v or "" for v in (a.country, a.city, a.address, a.state, a.postal_code))


@dataclass(frozen=True)
class WatchEntity:
    """A tracked party: names in any script, tags (the first is its group for bundled ones)."""

    name: str
    aliases: tuple[str, ...] = ()
    tags: tuple[str, ...] = ()
    country: str | None = None
    entity_type: str | None = None
    notes: str | None = None


@dataclass(frozen=True)
class ParseResult:
    """What a source makes of a fetch: records plus what it noticed along the way."""

    entries: tuple[Entry, ...]
    published_at: datetime | None = None
    warnings: tuple[str, ...] = ()
    # Extra records a source wants stored beside entries (e.g. FR documents' entity actions).
    extras: Mapping[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class FieldChange:
    """One field's difference; set-like fields report added/removed members."""

    field: str
    before: Any = None
    after: Any = None
    added: tuple[Any, ...] = ()
    removed: tuple[Any, ...] = ()

    def to_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {"field": self.field}
        if self.added or self.removed:
            out["added"] = list(self.added)
            out["removed"] = list(self.removed)
        else:
            out["before"] = self.before
            out["after"] = self.after
        return out


@dataclass(frozen=True)
class Change:
    """An entry added to, removed from, or modified on a list between two snapshots."""

    kind: ChangeKind
    key: str
    before: Entry | None
    after: Entry | None
    field_changes: tuple[FieldChange, ...] = ()

    @property
    def entry(self) -> Entry:
        """The version that describes the party: the new one, or the old one if removed."""
        found = self.after or self.before
        assert found is not None
        return found


@dataclass(frozen=True)
class FetchedFile:
    """One downloaded file with the HTTP facts worth keeping."""

    name: str
    url: str
    content: bytes
    status: int
    etag: str | None = None
    last_modified: str | None = None
    content_type: str | None = None


@dataclass(frozen=True)
class RawSnapshot:
    """Everything one poll fetched; `sha256` covers all files in order."""

    source: str
    files: tuple[FetchedFile, ...]
    sha256: str
    fetched_at: datetime

"""Pure diffing of two keyed sets of entries into typed changes with field-level detail."""

from __future__ import annotations

from collections.abc import Callable, Collection, Iterable, Mapping, Sequence
from operator import attrgetter
from typing import Any

from watcher.models import Change, ChangeKind, Entry, FieldChange

# Fields compared as sets: report members added / removed rather than before / after.
SET_FIELDS = ("aliases", "addresses", "programs", "ids", "citations")
SCALAR_FIELDS = ("name", "list_code", "entity_type", "remarks")
# An incremental source's new entry may itself be an action (Federal Register rules).
ACTION_KINDS: Mapping[str, ChangeKind] = {"add": "added", "remove": "removed", "revise": "modified"}

RenamePairer = Callable[[Sequence[Entry], Sequence[Entry]], Sequence[tuple[Entry, Entry]]]


def _members(entry: Entry, field: str) -> list[Any]:
    data = entry.to_dict()[field]
    return [m if isinstance(m, str) else _describe(m) for m in data]


def _describe(member: Mapping[str, Any]) -> str:
    """Addresses and ids as one readable string, so field changes stay human-sized."""
    if "type" in member:
        country = f" ({member['country']})" if member.get("country") else ""
        return f"{member['type']}: {member['value']}{country}"
    parts = ("address", "city", "state", "postal_code", "country")
    return ", ".join(member[p] for p in parts if member.get(p))


def field_changes(before: Entry, after: Entry) -> tuple[FieldChange, ...]:
    """What differs between two versions of one entry, field by field."""
    out: list[FieldChange] = []
    for field in SCALAR_FIELDS:
        old, new = getattr(before, field), getattr(after, field)
        if old != new:
            out.append(FieldChange(field, before=old, after=new))
    for field in SET_FIELDS:
        old_set, new_set = _members(before, field), _members(after, field)
        added = tuple(m for m in new_set if m not in old_set)
        removed = tuple(m for m in old_set if m not in new_set)
        if added or removed:
            out.append(FieldChange(field, added=added, removed=removed))
    for field in ("dates", "raw"):
        old_map, new_map = dict(getattr(before, field)), dict(getattr(after, field))
        for key in sorted(set(old_map) | set(new_map)):
            if old_map.get(key) != new_map.get(key):
                out.append(FieldChange(f"{field}.{key}", old_map.get(key), new_map.get(key)))
    return tuple(out)


def diff_full(
    old: Mapping[str, Entry],
    new: Mapping[str, Entry],
    pair_renames: RenamePairer | None = None,
) -> list[Change]:
    """Whole-list snapshots: keys that vanish are removed; renames may be paired by the source."""
    changes: list[Change] = []
    removed = [old[k] for k in sorted(old.keys() - new.keys())]
    added = [new[k] for k in sorted(new.keys() - old.keys())]
    if pair_renames and removed and added:
        for before, after in pair_renames(removed, added):
            removed.remove(before)
            added.remove(after)
            # The party keeps its old key's history: reported once, as a modification.
            changes.append(
                Change("modified", after.key, before, after, field_changes(before, after))
            )
    changes += [_change("removed", e.key, e, None) for e in removed]
    changes += [_change("added", e.key, None, e) for e in added]
    for key in sorted(old.keys() & new.keys()):
        if old[key].content_hash() != new[key].content_hash():
            changes.append(
                Change("modified", key, old[key], new[key], field_changes(old[key], new[key]))
            )
    return sorted(changes, key=attrgetter("kind", "key"))


def _change(kind: ChangeKind, key: str, before: Entry | None, after: Entry | None) -> Change:
    """`Change(kind, key, before, after)`: a first snapshot is 15,000 additions, and a frozen
    dataclass's __init__ sets each field through object.__setattr__."""
    change = object.__new__(Change)
    change.__dict__.update(kind=kind, key=key, before=before, after=after, field_changes=())
    return change


def diff_incremental(old: Mapping[str, Entry], new: Mapping[str, Entry]) -> list[Change]:
    """Windowed sources (documents, feeds): absence means nothing; new and changed entries count."""
    changes: list[Change] = []
    for key in sorted(new):
        entry = new[key]
        if key not in old:
            kind = ACTION_KINDS.get(str(entry.raw.get("action", "")), "added")
            changes.append(Change(kind, key, None, entry))
        elif old[key].content_hash() != entry.content_hash():
            changes.append(Change("modified", key, old[key], entry, field_changes(old[key], entry)))
    return changes


def removed_share(old: Collection[str], new: Collection[str]) -> float:
    """Share of the last good list (its keys) that a new snapshot would remove (the guard)."""
    if not old:
        return 0.0
    return sum(1 for key in old if key not in new) / len(old)


def modified_share(old_hashes: Mapping[str, str], new: Iterable[Entry]) -> float:
    """Share of the last good list (key -> content hash) a new snapshot would modify (the
    mass-modification guard): a file with its columns shuffled keeps every key but changes every
    entry."""
    if not old_hashes:
        return 0.0
    changed = sum(1 for e in new if e.key in old_hashes and old_hashes[e.key] != e.content_hash())
    return changed / len(old_hashes)

"""Screening one name against every listed entry, fast enough for a web page.

`watcher screen` used to run the matcher over every current entry (~1 s for the SDN alone).
Here the entries' names are normalized once into blocking keys (the matcher's own), so a query
only runs the matcher on entries that share a key with it: the same candidates the full scan
would score above zero, hence the same results, in milliseconds. The index is immutable; the
caller rebuilds it when the lists change.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass

from watcher.matching.matcher import Match, build_matcher
from watcher.matching.normalize import NormName, normalize
from watcher.matching.topics import remark_parts
from watcher.models import Entry, WatchEntity


@dataclass(frozen=True)
class ScreenHit:
    entry: Entry
    match: Match


@dataclass(frozen=True)
class ScreenIndex:
    """Every current entry, and for each blocking key the entries having a name with it."""

    entries: tuple[Entry, ...]
    keys: dict[str, tuple[int, ...]]


def _keys(norm: NormName) -> set[str]:
    keys = {"f:" + norm.folded, "s:" + norm.sorted_key, "c:" + norm.compact[:6]}
    for token in norm.tokens:
        keys.add("t:" + token)
        if len(token) >= 4:
            keys.add("p:" + token[:4])
    return keys


def entry_names(entry: Entry) -> tuple[str, ...]:
    """The names the matcher reads: name, aliases and the a.k.a.s written in the remarks."""
    _linked, akas = remark_parts(entry.remarks)
    return (entry.name, *entry.aliases, *akas)


def build_screen_index(entries: Iterable[Entry]) -> ScreenIndex:
    """Normalize every name of every entry once (the slow part: seconds for all lists)."""
    listed = tuple(entries)
    keys: dict[str, set[int]] = defaultdict(set)
    for i, entry in enumerate(listed):
        for name in entry_names(entry):
            norm = normalize(name)
            if norm.tokens:
                for key in _keys(norm):
                    keys[key].add(i)
    return ScreenIndex(listed, {k: tuple(sorted(v)) for k, v in keys.items()})


def screen_name(index: ScreenIndex, name: str, threshold: float) -> list[ScreenHit]:
    """Entries matching `name` (the query is the watch entity), best score first."""
    norm = normalize(name)
    if not norm.tokens:
        return []
    candidates: set[int] = set()
    for key in _keys(norm):
        candidates.update(index.keys.get(key, ()))
    matcher = build_matcher([WatchEntity(name)], [], threshold=threshold)
    hits = [
        ScreenHit(index.entries[i], m)
        for i in sorted(candidates)
        for m in matcher.match_entry(index.entries[i])
    ]
    return sorted(hits, key=lambda h: (-h.match.score, h.entry.source, h.entry.name))

"""Match list entries, news text and screened names against the watchlist and topics.

Pure functions over frozen records. `build_matcher` normalizes every watch name once and
indexes it (exact, normalized, compact forms; a token/prefix index for fuzzy candidates), so
matching one entry costs a few dictionary look-ups plus fuzzy scoring of a handful of
candidates, not a pass over the whole watchlist.

Methods: `exact` (identical after casefold/whitespace), `normalized` (identical after full
normalization: script, legal forms, word order, spacing), `alias` (identical, via an alias on
either side), `fuzzy` (rapidfuzz score, checked token by token), `topic` (place/role rules).
"""

from __future__ import annotations

import gc
import tomllib
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, replace
from functools import lru_cache
from importlib import resources
from typing import Any, Literal

from watcher.matching.index import NameIndex, WatchName, score_names
from watcher.matching.normalize import country_code, normalize, text_tokens, to_simplified
from watcher.matching.topics import (
    CompiledTopic,
    Evidence,
    Topic,
    TopicHit,
    compile_topic,
    evaluate,
    is_china_or_unknown,
    points_elsewhere,
    prepare,
    remark_parts,
)
from watcher.models import Address, Entry, WatchEntity, make_entry

__all__ = [
    "Match",
    "Matcher",
    "Topic",
    "WatchEntity",
    "build_matcher",
    "load_default_watchlist",
    "parse_watchlist",
]

DEFAULT_GROUPS = ("xinjiang-2019", "xinjiang-sdn")
OPT_IN_GROUPS = ("china-tech",)
MatchKind = Literal["entity", "topic"]
MatchMethod = Literal["exact", "normalized", "fuzzy", "alias", "topic"]
_FUZZY_MARGIN = 15.0  # names scoring this far below the threshold are scored (then country)
_NOT_ORGANIZATIONS = frozenset({"individual", "vessel", "aircraft"})


@dataclass(frozen=True)
class Match:
    """Why an entry, text or name concerns a watch entity or topic.

    `matched_name` is the listed name/alias that matched (news: the watch name found in the
    text; screen: the screened name); `matched_text` is the other side: the watch name/alias
    (entity matches) or the evidence (topic matches: the name, address or "Linked To:" text;
    news: the excerpt around the mention).
    """

    watch: str
    kind: MatchKind
    score: float
    method: MatchMethod
    matched_name: str
    matched_text: str
    tags: tuple[str, ...]
    reason: str


def parse_watchlist(
    text: str, groups: Iterable[str] | None = None
) -> tuple[list[WatchEntity], list[Topic]]:
    """Entities and topics of a watchlist TOML document; `groups` selects by first tag."""
    return _parse(tomllib.loads(text), groups)


def _parse(
    data: dict[str, Any], groups: Iterable[str] | None
) -> tuple[list[WatchEntity], list[Topic]]:
    wanted = set(groups) if groups is not None else None
    entities = [
        _entity(row)
        for row in data.get("entities", [])
        if wanted is None or row.get("group") in wanted
    ]
    return entities, _topics(data.get("topics", []))


def load_default_watchlist(
    groups: Iterable[str] | None = None,
) -> tuple[list[WatchEntity], list[Topic]]:
    """The bundled watchlist; `china-tech` only when asked for by name."""
    return _parse(_bundled_data(), DEFAULT_GROUPS if groups is None else groups)


@lru_cache(maxsize=1)
def _bundled_data() -> dict[str, Any]:
    """The bundled TOML, parsed once a process (a command syncs and screens it: 15 ms each)."""
    text = (
        resources.files("watcher.matching")
        .joinpath("data/default_watchlist.toml")
        .read_text("utf-8")
    )
    return tomllib.loads(text)


def _entity(row: dict[str, Any]) -> WatchEntity:
    group = row.get("group")
    tags = tuple(dict.fromkeys([*([group] if group else []), *row.get("tags", [])]))
    return WatchEntity(
        name=row["name"],
        aliases=tuple(row.get("aliases", ())),
        tags=tags,
        country=row.get("country"),
        entity_type=row.get("entity_type"),
        notes=row.get("notes"),
    )


def _topics(rows: list[dict[str, Any]]) -> list[Topic]:
    by_name = {row["name"]: row for row in rows}
    out = []
    for row in rows:
        source = by_name.get(row.get("places_from", ""), row)
        out.append(
            Topic(
                name=row["name"],
                description=row.get("description", ""),
                places=tuple(source.get("places", ())),
                ambiguous_places=tuple(source.get("ambiguous_places", ())),
                roles=tuple(row.get("roles", ())),
                tags=tuple(row.get("tags", ())),
            )
        )
    return out


@dataclass(frozen=True)
class Matcher:
    """Precomputed watchlist and topics; build with `build_matcher`."""

    entities: tuple[WatchEntity, ...]
    topics: tuple[CompiledTopic, ...]
    index: NameIndex
    threshold: float

    def match_entry(self, entry: Entry) -> list[Match]:
        """Entity matches (best per watch entity) and topic matches for one list entry."""
        linked, akas = remark_parts(entry.remarks)
        names = (entry.name, *entry.aliases, *akas)
        found = self._entity_matches(names, entry.entity_type, entry.addresses)
        if not self.topics:  # a screener's matcher: no topic evidence to gather
            return found
        countries = tuple(country_code(a.country) for a in entry.addresses)
        individual = (entry.entity_type or "").lower() == "individual"
        named = () if individual else tuple(prepare(n) for n in names)
        addresses = tuple(prepare(a.text()) for a in entry.addresses)
        elsewhere = points_elsewhere(
            entry.programs, (i.country for i in entry.ids), entry.remarks, (*named, *addresses)
        )
        evidence = Evidence(
            names=named,
            addresses=addresses,
            linked=tuple(prepare(t) for t in linked),
            china_or_unknown=is_china_or_unknown(countries) and not elsewhere,
        )
        return found + [match for match, _ in self._topic_matches(evidence, entry.name)]

    def match_name(self, name: str) -> list[Match]:
        """Screen one bare name (no type, no country) against the watchlist and topics."""
        return self.match_entry(make_entry(source="screen", key="", list_code="", name=name))

    def match_text(self, text: str) -> list[Match]:
        """Mentions of watch names/aliases (whole tokens or Han text) and topics in free text."""
        found = self.index.mentions(text_tokens(text), to_simplified(text))
        matches = [self._mention_match(wn, text) for wn in found]
        evidence = Evidence((prepare(text),), (), (), True)
        return matches + [_as_mention(m, text) for m in self._topic_matches(evidence, text)]

    def match_document(self, entry: Entry) -> list[Match]:
        """A document (a news item, a rule) read as text: its title, remarks and abstract."""
        abstract = str(entry.raw.get("abstract") or "")
        return self.match_text(" ".join(filter(None, [entry.name, entry.remarks, abstract])))

    def may_match_name(self, name: str) -> bool:
        """Could this listed name match a watch entity (before the type and country checks)?
        A listed entry none of whose names may match has no entity match."""
        return bool(score_names(self.index, normalize(name), self.threshold - _FUZZY_MARGIN))

    def _entity_matches(
        self, names: Sequence[str], entity_type: str | None, addresses: Sequence[Address]
    ) -> list[Match]:
        best: dict[int, Match] = {}
        countries: tuple[str | None, ...] | None = None  # looked up once a name matches
        for position, name in enumerate(names):
            for hit in score_names(self.index, normalize(name), self.threshold - _FUZZY_MARGIN):
                entity = self.entities[hit.watch.entity]
                if not _types_compatible(entity.entity_type, entity_type):
                    continue
                if countries is None:
                    countries = tuple(country_code(a.country) for a in addresses)
                delta, evidence = _country_evidence(entity.country, countries)
                score = min(100.0, hit.score + delta)
                if score < self.threshold:
                    continue
                listed_alias = position > 0
                method: MatchMethod = hit.method
                if method != "fuzzy" and (listed_alias or hit.watch.is_alias):
                    method = "alias"
                reason = _reason(hit.watch, name, listed_alias, hit.score, method, evidence)
                match = Match(
                    watch=entity.name,
                    kind="entity",
                    score=round(score, 1),
                    method=method,
                    matched_name=name,
                    matched_text=hit.watch.raw,
                    tags=entity.tags,
                    reason=reason,
                )
                previous = best.get(hit.watch.entity)
                if previous is None or match.score > previous.score:
                    best[hit.watch.entity] = match
        return sorted(best.values(), key=lambda m: (-m.score, m.watch))

    def _topic_matches(self, evidence: Evidence, name: str) -> list[tuple[Match, TopicHit]]:
        out = []
        for compiled in self.topics:
            hit = evaluate(compiled, evidence)
            if hit is None:
                continue
            topic = compiled.topic
            match = Match(
                watch=topic.name,
                kind="topic",
                score=100.0,
                method="topic",
                matched_name=name,
                matched_text=hit.matched_text,
                tags=tuple(dict.fromkeys((topic.name, *topic.tags))),
                reason=hit.reason,
            )
            out.append((match, hit))
        return out

    def _mention_match(self, watch_name: WatchName, text: str) -> Match:
        entity = self.entities[watch_name.entity]
        label = "alias" if watch_name.is_alias else "name"
        return Match(
            watch=entity.name,
            kind="entity",
            score=100.0,
            method="alias" if watch_name.is_alias else "normalized",
            matched_name=watch_name.raw,
            matched_text=_excerpt(text, watch_name.raw),
            tags=entity.tags,
            reason=f"text mentions watch {label} '{watch_name.raw}' (whole words)",
        )


def build_matcher(
    entities: Iterable[WatchEntity], topics: Iterable[Topic], threshold: float = 88.0
) -> Matcher:
    """Normalize and index every watch name once; compile the topics.

    The result is shared while the watchlist stays the same: with 100,000 watched names the
    index costs seconds to build, and every run of every source asks for it.
    """
    return _build_matcher(tuple(entities), tuple(topics), float(threshold))


@lru_cache(maxsize=2)
def _build_matcher(
    entity_tuple: tuple[WatchEntity, ...], topics: tuple[Topic, ...], threshold: float
) -> Matcher:
    # Hundreds of thousands of small objects that all stay alive: a garbage collection every
    # few hundred allocations would rescan them all (a third of the build time at 100k names).
    paused = gc.isenabled()
    gc.disable()
    try:
        return _index_watchlist(entity_tuple, topics, threshold)
    finally:
        if paused:
            gc.enable()


def _index_watchlist(
    entity_tuple: tuple[WatchEntity, ...], topics: tuple[Topic, ...], threshold: float
) -> Matcher:
    names = [
        WatchName(i, raw, normalize(raw), position > 0)
        for i, entity in enumerate(entity_tuple)
        for position, raw in enumerate((entity.name, *entity.aliases))
    ]
    return Matcher(
        entities=entity_tuple,
        topics=tuple(compile_topic(t) for t in topics),
        index=NameIndex.build(names),
        threshold=threshold,
    )


def _types_compatible(watch_type: str | None, listed_type: str | None) -> bool:
    """An individual never matches an organization (nor a vessel); unknown types pass."""
    if not watch_type or not listed_type:
        return True
    watch_person = watch_type.lower() == "individual"
    listed = listed_type.lower()
    if watch_person:
        return listed == "individual"
    return listed not in _NOT_ORGANIZATIONS


# Holding companies of Chinese groups are commonly registered offshore (Megvii, Yitu: KY).
_OFFSHORE = frozenset({"KY", "VG", "BM"})
_SAME_COUNTRY = {"CN": frozenset({"CN", "HK", "MO"})}


def _country_evidence(
    watch_country: str | None, countries: Sequence[str | None]
) -> tuple[float, str]:
    """Score delta and its explanation from the listed addresses' countries."""
    watch = country_code(watch_country)
    known = sorted({c for c in countries if c})
    if watch is None or not known:
        return 0.0, ""
    same = _SAME_COUNTRY.get(watch, frozenset({watch}))
    if any(c in same for c in known):
        return 2.0, f"country {watch} agrees"
    if all(c in _OFFSHORE for c in known):
        return 0.0, f"listed country {'/'.join(known)} (offshore; neutral)"
    return -12.0, f"country {watch} disagrees with listed {'/'.join(known)}"


def _reason(
    watch: WatchName, name: str, listed_alias: bool, score: float, method: str, evidence: str
) -> str:
    watch_label = "watch alias" if watch.is_alias else "watch name"
    listed_label = "listed alias" if listed_alias else "listed name"
    relation = {"exact": "=", "normalized": "= (normalized)", "alias": "="}.get(
        method, f"~ (score {score:.0f})"
    )
    text = f"{watch_label} '{watch.raw}' {relation} {listed_label} '{name}'"
    return f"{text}; {evidence}" if evidence else text


def _as_mention(found: tuple[Match, TopicHit], text: str) -> Match:
    """A topic match on free text names the words found, not the whole text."""
    match, hit = found
    words = [f"role '{hit.role}'"] if hit.role else []
    words += [f"place '{hit.place}'"] if hit.place else []
    return replace(
        match,
        matched_name=hit.place or hit.role or "",
        matched_text=_excerpt(text, hit.place or hit.role or ""),
        reason="text mentions " + " and ".join(words),
    )


def _excerpt(text: str, needle: str, width: int = 60) -> str:
    at = text.casefold().find(needle.casefold())
    if at < 0:
        return text[: 2 * width]
    return text[max(0, at - width) : at + len(needle) + width]

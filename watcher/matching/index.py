"""The watch-name index: every watch name in every form, so screening scales to 100k names.

A listed name is looked up by its exact and normalized forms (dictionary hits), then scored
fuzzily only against the watch names that share a selective blocking key with it (a whole
token, a 4-letter token prefix, a 6-letter compact prefix). Each blocking key keeps its
postings' strings side by side, so one rapidfuzz `process.extract` call scores a whole posting
in C instead of one Python call per pair; a key shared by too many names is skipped.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from functools import cached_property
from typing import Literal

from rapidfuzz import fuzz, process

from watcher.matching.normalize import NormName, has_han, to_simplified

NameMethod = Literal["exact", "normalized", "fuzzy"]
_COUNTERPART = 80.0  # a required watch token needs a listed token at least this similar


@dataclass(frozen=True)
class WatchName:
    """One name or alias of watch entity number `entity`."""

    entity: int
    raw: str
    norm: NormName
    is_alias: bool


@dataclass(frozen=True)
class NameHit:
    watch: WatchName
    score: float
    method: NameMethod


@dataclass(frozen=True)
class Posting:
    """Watch names sharing one blocking key, with the two strings fuzzy scoring compares."""

    ids: tuple[int, ...]
    sorted_keys: tuple[str, ...]
    compacts: tuple[str, ...]


def _block_keys(norm: NormName) -> set[str]:
    """Blocking keys: whole tokens, 4-letter prefixes (spelling variants), compact prefix."""
    keys = {"c:" + norm.compact[:6]} if norm.compact else set()
    for token in norm.tokens:
        keys.add("t:" + token)
        if len(token) >= 4:
            keys.add("p:" + token[:4])
    return keys


@dataclass(frozen=True)
class NameIndex:
    """Every watch name in every form, indexed once for fast look-up."""

    names: tuple[WatchName, ...]
    exact: Mapping[str, tuple[int, ...]]
    normalized: Mapping[str, tuple[int, ...]]
    blocks: Mapping[str, Posting]
    block_cap: int
    entity_df: Mapping[str, int]
    mention_first: Mapping[str, tuple[int, ...]]
    han_names: tuple[int, ...]  # watch names written in Han, found in text by `mention_han`

    @classmethod
    def build(cls, names: Sequence[WatchName]) -> NameIndex:
        exact: dict[str, list[int]] = defaultdict(list)
        normalized: dict[str, list[int]] = defaultdict(list)
        blocks: dict[str, list[int]] = defaultdict(list)
        entity_tokens: dict[str, set[int]] = defaultdict(set)
        mention_first: dict[str, list[int]] = defaultdict(list)
        han_names: list[int] = []
        for i, wn in enumerate(names):
            exact[wn.norm.folded].append(i)
            for form in {wn.norm.sorted_key, wn.norm.compact}:
                normalized[form].append(i)
            for key in _block_keys(wn.norm):
                blocks[key].append(i)
            for token in wn.norm.tokens:
                entity_tokens[token].add(wn.entity)
            if has_han(wn.raw):
                han_names.append(i)
            elif wn.norm.tokens:
                mention_first[wn.norm.tokens[0]].append(i)
        cap = max(64, len(names) // 50)
        return cls(
            names=tuple(names),
            exact=_freeze(exact),
            normalized=_freeze(normalized),
            blocks={k: _posting(names, ids) for k, ids in blocks.items() if len(ids) <= cap},
            block_cap=cap,
            entity_df={t: len(e) for t, e in entity_tokens.items()},
            mention_first=_freeze(mention_first),
            han_names=tuple(han_names),
        )

    @cached_property
    def mention_han(self) -> tuple[tuple[str, int], ...]:
        """Han watch names simplified, made on first use: only text mentions need them, and
        the conversion table costs a screening command 0.4 s to load."""
        return tuple((to_simplified(self.names[i].raw), i) for i in self.han_names)

    def candidates(self, norm: NormName) -> set[int]:
        """Watch names sharing a selective blocking key; keys that hit too many are skipped."""
        found: set[int] = set()
        for key in _block_keys(norm):
            posting = self.blocks.get(key)
            if posting is not None:
                found.update(posting.ids)
        return found

    def fuzzy_scores(self, listed: NormName, cutoff: float) -> dict[int, float]:
        """Best of token-sort ratio (keys) and ratio (compact forms) per candidate >= cutoff.

        The token-sort ratio of two keys is the plain ratio of their sorted forms, which the
        index holds ready: no choice is split and sorted again for every listed name.
        """
        scores: dict[int, float] = {}
        for key in _block_keys(listed):
            posting = self.blocks.get(key)
            if posting is None:
                continue
            for query, choices, scorer in (
                (listed.sorted_key, posting.sorted_keys, fuzz.ratio),
                (listed.compact, posting.compacts, fuzz.ratio),
            ):
                found = process.extract(
                    query, choices, scorer=scorer, score_cutoff=cutoff, limit=None
                )
                for _choice, score, at in found:
                    i = posting.ids[at]
                    if score > scores.get(i, -1.0):
                        scores[i] = score
        return scores

    def mentions(self, tokens: tuple[str, ...], han: str) -> list[WatchName]:
        """Watch names found in a text as runs of whole tokens (or Han substrings)."""
        hits: dict[int, WatchName] = {}
        for i, token in enumerate(tokens):
            for n in self.mention_first.get(token, ()):
                wn = self.names[n]
                if tokens[i : i + len(wn.norm.tokens)] == wn.norm.tokens:
                    hits.setdefault(wn.entity, wn)
        if han:
            for alias, n in self.mention_han:
                if alias in han:
                    hits.setdefault(self.names[n].entity, self.names[n])
        return list(hits.values())


def _posting(names: Sequence[WatchName], ids: list[int]) -> Posting:
    return Posting(
        tuple(ids),
        tuple(names[i].norm.sorted_key for i in ids),
        tuple(names[i].norm.compact for i in ids),
    )


def _freeze(d: Mapping[str, list[int]]) -> dict[str, tuple[int, ...]]:
    return {k: tuple(v) for k, v in d.items()}


def score_names(index: NameIndex, listed: NormName, cutoff: float) -> list[NameHit]:
    """Watch names equal or similar to one listed name, best first (one per watch name)."""
    if not listed.tokens:
        return []
    hits: dict[int, NameHit] = {}
    for i in index.exact.get(listed.folded, ()):
        hits[i] = NameHit(index.names[i], 100.0, "exact")
    for form in (listed.sorted_key, listed.compact):
        for i in index.normalized.get(form, ()):
            hits.setdefault(i, NameHit(index.names[i], 100.0, "normalized"))
    # Ties keep the watch list's order (a name before its aliases).
    for i, score in sorted(index.fuzzy_scores(listed, cutoff).items()):
        wn = index.names[i]
        if i not in hits and _required_tokens_present(index, wn.norm, listed):
            hits[i] = NameHit(wn, float(score), "fuzzy")
    return sorted(hits.values(), key=lambda h: -h.score)


def _required_tokens_present(index: NameIndex, watch: NormName, listed: NormName) -> bool:
    """The watch name's rarest tokens (e.g. the place in "Kashgar ... Public Security Bureau")
    must each have a close counterpart among the listed tokens or adjacent token pairs:
    a fuzzy score alone lets "Lhasa Prefecture PSB" pass for "Kashgar Prefecture PSB"."""
    dfs = {t: index.entity_df.get(t, 1) for t in watch.tokens}
    floor = max(1, min(dfs.values()))
    pieces = list(listed.tokens)
    pieces += [a + b for a, b in zip(listed.tokens, listed.tokens[1:], strict=False)]
    for token, df in dfs.items():
        if df > floor:
            continue
        if not any(fuzz.ratio(token, p, score_cutoff=_COUNTERPART) for p in pieces):
            return False
    return True

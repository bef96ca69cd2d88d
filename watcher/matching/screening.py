"""Screen one name, written in any script, against list entries (which are in Latin script).

Two paths, and every hit says which one it took:
- `direct`: the query itself (Han simplified or traditional, pinyin with or without tones or
  spaces, Uyghur Latin spellings are all normalized to the same ASCII tokens) against the
  listed names and aliases;
- `watchlist`: the query names a watch entity (its name or any alias: 海康威视 is an alias of
  Hikvision), and that entity's names and aliases are screened too, so a Chinese query finds
  the Latin listing.

Candidates come from one of two places, both supersets of what the matcher can match (so the
results equal a full scan): a `ScreenIndex` of every current entry's blocking keys, built once
per list change and kept by the daemon (milliseconds a query), or, for a one-shot command that
would spend longer building the index than screening, a cheap text prefilter (`could_match`)
over the stored entries.
"""

from __future__ import annotations

import gc
import hashlib
import importlib.util
import os
import re
import sys
import unicodedata
from collections import defaultdict
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

from watcher.matching.matcher import Match, Matcher, build_matcher
from watcher.matching.normalize import NormName, ascii_words, has_han, normalize
from watcher.matching.topics import remark_parts
from watcher.models import Entry, WatchEntity

_NON_WORD = re.compile(r"[^a-z0-9]+")


@dataclass(frozen=True)
class ScreenHit:
    """One listed entry that matched, and how."""

    match: Match
    path: str  # "direct" or "watchlist"
    via: str  # for "watchlist": which watch entity the query named, and why


@dataclass(frozen=True)
class Screener:
    """The query and the watch entities it names, indexed once; `screen` one entry at a time."""

    query: str
    matcher: Matcher
    via: Mapping[str, str]  # watch entity name -> how the query resolved to it
    pattern: re.Pattern[str]  # a screened word, or the 4-letter prefix of a longer one
    compacts: tuple[str, ...]
    keys: frozenset[str]  # the screened names' `index_keys`

    def screen(self, entry: Entry) -> ScreenHit | None:
        """The best match of this entry against the query or a watch entity it names."""
        best: ScreenHit | None = None
        for match in self.matcher.match_entry(entry):
            if match.kind != "entity":
                continue
            hit = self._hit(match)
            if best is None or (match.score, hit.path == "direct") > (
                best.match.score,
                best.path == "direct",
            ):
                best = hit
        return best

    def _hit(self, match: Match) -> ScreenHit:
        if match.matched_text == self.query or match.watch not in self.via:
            return ScreenHit(match, "direct", "")
        return ScreenHit(match, "watchlist", self.via[match.watch])

    def could_match(self, text: str) -> bool:
        """Might an entry whose names occur in `text` match at all? A superset of the matcher's
        blocking (a shared word, 4-letter prefix or compact prefix); text the cheap fold cannot
        reduce to ASCII always goes to the matcher."""
        if "\\u" in text:
            return True
        folded = text.casefold()
        if not folded.isascii():
            folded = unicodedata.normalize("NFKD", folded)
            folded = "".join(c for c in folded if not unicodedata.combining(c))
            if not folded.isascii():
                return True
        if self.pattern.search(folded):
            return True
        joined = _NON_WORD.sub("", folded)
        return any(c in joined for c in self.compacts)


def build_screener(
    query: str, watchlist: Iterable[WatchEntity], threshold: float = 88.0
) -> Screener:
    """Resolve the query against the watchlist, then index the query and the entities it names."""
    entities = _unique(watchlist)
    forms = query_forms(query)
    watch = build_matcher(entities, [], threshold=threshold)
    resolved = sorted((m for form in forms for m in watch.match_name(form)), key=lambda m: -m.score)
    by_name = {e.name: e for e in entities}
    named = [by_name[m.watch] for m in resolved if m.kind == "entity" and m.watch in by_name]
    via: dict[str, str] = {}
    for m in resolved:
        if m.watch in by_name and m.kind == "entity":
            label = "alias" if m.method == "alias" else "name"
            via.setdefault(
                m.watch, f"{m.watch} (its {label} '{m.matched_text}', {m.method} {m.score:g})"
            )
    screened = [WatchEntity(query, forms[1:], (), None, None, None)]
    screened += list({e.name: e for e in named if e.name != query}.values())
    norms = [normalize(n) for e in screened for n in (e.name, *e.aliases)]
    tokens = {t for f in norms for t in f.tokens}
    words = {re.escape(t[:4]) if len(t) >= 4 else re.escape(t) + "(?![a-z0-9])" for t in tokens}
    return Screener(
        query=query,
        matcher=build_matcher(screened, [], threshold=threshold),
        via=via,
        pattern=re.compile("(?<![a-z0-9])(?:" + "|".join(sorted(words) or ["(?!)"]) + ")"),
        compacts=tuple(sorted({f.compact[:6] for f in norms if f.compact})),
        keys=frozenset(k for f in norms if f.tokens for k in index_keys(f)),
    )


def query_forms(query: str) -> tuple[str, ...]:
    """The query, and for a query without Han its words run together: syllable-by-syllable
    pinyin ("yī lí hā sà kè") would otherwise lose "sa" and "ju" to legal-form removal, and
    a Han name compares as one run of syllables."""
    if has_han(query):
        return (query,)
    joined = ascii_words(query).replace(" ", "")
    return (query,) if not joined or joined == query else (query, joined)


def _unique(entities: Iterable[WatchEntity]) -> Sequence[WatchEntity]:
    """First entity of each name wins (config over bundled, as the store syncs them)."""
    seen: dict[str, WatchEntity] = {}
    for e in entities:
        seen.setdefault(e.name, e)
    return list(seen.values())


@dataclass(frozen=True)
class ScreenIndex:
    """Every current entry, and for each key of `index_keys` the entries having a name with it.
    Immutable: the holder rebuilds it when the lists change."""

    entries: tuple[Entry, ...]
    keys: Mapping[str, tuple[int, ...]]


def index_keys(norm: NormName) -> set[str]:
    """Every form the matcher can match a name on: exact (folded), normalized (sorted tokens;
    a full compact form shares its 6-letter prefix) and its fuzzy blocking keys (whole token,
    4-letter prefix, compact prefix). Sharing none, the matcher cannot match the two names."""
    keys = {"f:" + norm.folded, "s:" + norm.sorted_key}
    if norm.compact:
        keys.add("c:" + norm.compact[:6])
    for token in norm.tokens:
        keys.add("t:" + token)
        if len(token) >= 4:
            keys.add("p:" + token[:4])
    return keys


def entry_names(entry: Entry) -> tuple[str, ...]:
    """The names the matcher reads: name, aliases and the a.k.a.s written in the remarks."""
    _linked, akas = remark_parts(entry.remarks)
    return (entry.name, *entry.aliases, *akas)


def entry_keys(entry: Entry) -> set[str]:
    """The `index_keys` of all the entry's names: a screener can match it only if it has one."""
    keys: set[str] = set()
    for name in entry_names(entry):
        norm = normalize(name)
        if norm.tokens:
            keys |= index_keys(norm)
    return keys


def keys_version() -> str:
    """What a name's tokens and keys depend on: this package's normalizing code, the libraries
    that romanise and clean names (by installed version), and Python's Unicode tables. A cache
    of keys made under another version is stale."""
    digest = hashlib.sha256(f"{sys.version}|{unicodedata.unidata_version}".encode())
    here = Path(__file__).parent
    for module in ("normalize.py", "screening.py", "topics.py"):
        digest.update((here / module).read_bytes())
    for dist, module in _NORMALIZING_LIBRARIES:
        digest.update(f"|{dist}={_installed_version(dist, module)}".encode())
    return digest.hexdigest()


_NORMALIZING_LIBRARIES = (
    ("pypinyin", "pypinyin"),
    ("zhconv", "zhconv"),
    ("normality", "normality"),
    ("fingerprints", "fingerprints"),
    ("pyicu", "icu"),
)


def _installed_version(dist: str, module: str) -> str:
    """The version in the `dist-info` beside the module (importlib.metadata costs 0.1 s to
    import, more than the cache saves on a small list); importlib.metadata when not found."""
    spec = importlib.util.find_spec(module)
    if spec is not None and spec.origin:
        site = Path(spec.origin).parent.parent
        prefix = dist.casefold() + "-"
        for name in _listing(site):
            if name.endswith(".dist-info") and name.casefold().startswith(prefix):
                return name[len(prefix) : -len(".dist-info")]
    from importlib import metadata

    return metadata.version(dist)


@lru_cache(maxsize=8)
def _listing(directory: Path) -> tuple[str, ...]:
    return tuple(os.listdir(directory))


def build_screen_index(entries: Iterable[Entry]) -> ScreenIndex:
    """Normalize every name of every entry once (the slow part: seconds for all lists)."""
    listed = tuple(entries)
    keys: dict[str, set[int]] = defaultdict(set)
    paused = gc.isenabled()
    gc.disable()  # many small long-lived objects: collections would rescan them all
    try:
        for i, entry in enumerate(listed):
            for key in entry_keys(entry):
                keys[key].add(i)
        return ScreenIndex(listed, {k: tuple(sorted(v)) for k, v in keys.items()})
    finally:
        if paused:
            gc.enable()


def screen_index(index: ScreenIndex, screener: Screener) -> list[tuple[Entry, ScreenHit]]:
    """Indexed entries the screener matches, in index order: only those sharing a key with a
    screened name reach the matcher, which gives exactly what screening every entry gives."""
    candidates: set[int] = set()
    for key in screener.keys:
        candidates.update(index.keys.get(key, ()))
    out = []
    for i in sorted(candidates):
        hit = screener.screen(index.entries[i])
        if hit is not None:
            out.append((index.entries[i], hit))
    return out

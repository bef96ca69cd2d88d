"""`watcher screen` and the web screen page read the store here and screen with
`matching/screening.py`: the same screener (any script, direct or via the watchlist) behind both,
so the page shows exactly what the command prints. Only where the candidates come from differs:
the daemon keeps a `ScreenIndex` of the current entries, rebuilt when a list changes; a one-shot
command looks them up in the screen cache (`store/screen_cache.py`: the same keys, kept on disk,
so only entries changed since the last command are normalized), or without one (an in-memory
database) prefilters the stored text.
"""

from __future__ import annotations

import logging
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import Connection

from watcher.matching.matcher import load_default_watchlist
from watcher.matching.normalize import normalize, remember
from watcher.matching.screening import (
    Screener,
    ScreenHit,
    ScreenIndex,
    build_screen_index,
    build_screener,
    entry_names,
    index_keys,
    keys_version,
    query_forms,
    screen_index,
)
from watcher.models import Entry, WatchEntity
from watcher.store import queries, screen_cache
from watcher.store.watchlist import watch_entities

# Screening resolves names through every bundled group, the opt-in ones too: it is a look-up,
# not an alerting decision.
log = logging.getLogger(__name__)
ALL_GROUPS = ("xinjiang-2019", "xinjiang-sdn", "china-tech")


@dataclass(frozen=True)
class ScreenResult:
    entry: Entry
    hit: ScreenHit
    since: datetime | None  # continuously listed since


def screen_name(
    conn: Connection, name: str, threshold: float, index: ScreenIndex | None = None
) -> list[ScreenResult]:
    """Current entries matching `name` (directly or through a watch entity it names), best first.

    Candidates from `index` when given (it must hold the current entries), else from the
    screen cache's keys of the current entries (`store/screen_cache.py`), else from a cheap
    text prefilter over the stored entries; either way only a few reach the costly matcher,
    and all three give what screening every entry would.
    """
    if index is not None:
        found: Iterable[tuple[Entry, ScreenHit]] = screen_index(
            index, _screener(conn, name, threshold)
        )
    else:
        cached = _cached(conn, name, threshold)
        found = _prefiltered(conn, _screener(conn, name, threshold)) if cached is None else cached
    out = [
        ScreenResult(entry, hit, queries.first_listed(conn, entry.source, entry.key))
        for entry, hit in found
    ]
    return sorted(out, key=lambda r: (-r.hit.match.score, r.entry.source, r.entry.key))


def current_index(conn: Connection) -> ScreenIndex:
    """A screening index of every current entry (seconds: build it once per list change)."""
    return build_screen_index(r.entry for r in queries.current_all(conn))


def _watchlist(conn: Connection) -> list[WatchEntity]:
    bundled, _topics = load_default_watchlist(ALL_GROUPS)
    return [*watch_entities(conn), *bundled]


def _screener(conn: Connection, name: str, threshold: float) -> Screener:
    return build_screener(name, _watchlist(conn), threshold=threshold)


def _prefiltered(conn: Connection, screener: Screener) -> list[tuple[Entry, ScreenHit]]:
    candidates = [i for i, text in queries.current_texts(conn) if screener.could_match(text)]
    out = []
    for rec in queries.versions_by_id(conn, candidates):
        hit = screener.screen(rec.entry)
        if hit is not None:
            out.append((rec.entry, hit))
    return out


def _cached(conn: Connection, name: str, threshold: float) -> list[tuple[Entry, ScreenHit]] | None:
    """Screen with the screen cache; None when there is none to use (an in-memory database,
    a cache file that cannot be opened or read): the caller then prefilters the text."""
    path = screen_cache.cache_path(conn.engine.url)
    if path is None:
        return None
    try:
        cache = screen_cache.ScreenCache(path, keys_version())
    except screen_cache.CACHE_ERRORS as exc:
        log.info("screen cache %s unusable (%s): prefiltering instead", path, exc)
        return None
    try:
        return _screen_cached(conn, cache, name, threshold)
    except screen_cache.CACHE_ERRORS as exc:
        log.info("screen cache %s failed (%s): prefiltering instead", path, exc)
        return None
    finally:
        cache.close()


def _screen_cached(
    conn: Connection, cache: screen_cache.ScreenCache, name: str, threshold: float
) -> list[tuple[Entry, ScreenHit]]:
    """Bring the cache up to date (normalize only the entries it has not seen), then screen
    the entries having a name that shares a key with a screened name and may match it: the
    entries `screen_index` would screen, less those none of whose names can match."""
    current = screen_cache.current_versions(conn)
    id_of = {h: i for i, h in current}  # content hashes are unique unless two entries are equal
    ids_by_hash: dict[str, list[int]] = defaultdict(list)
    for version_id, content_hash in current if len(id_of) < len(current) else ():
        ids_by_hash[content_hash].append(version_id)
    known = cache.entries()
    if len(known - id_of.keys()) > 2 * len(id_of) + 1000:
        cache.clear()  # mostly entries no longer listed
        known = set()
    watchlist = _watchlist(conn)
    wanted = {n for e in watchlist for n in (e.name, *e.aliases)} | set(query_forms(name))
    cached = cache.tokens(wanted)
    remember(cached)

    missing = {id_of[h]: h for h in id_of.keys() - known}
    fresh: dict[str, tuple[str, ...]] = {}
    tokens: dict[str, tuple[str, ...]] = {}
    keys: dict[str, set[str]] = {}
    for rec in queries.versions_by_id(conn, list(missing)):
        fresh[missing[rec.version_id]] = names = entry_names(rec.entry)
        for listed in names:
            norm = normalize(listed)
            tokens[listed] = norm.tokens
            if norm.tokens:
                keys[listed] = index_keys(norm)
    screener = build_screener(name, watchlist, threshold=threshold)
    tokens.update((n, normalize(n).tokens) for n in wanted - cached.keys())  # normalized now
    if tokens:
        cache.add(fresh, tokens, keys)

    with cache.consistent():  # every current entry is in it, and stays until this is read
        candidates = cache.names_with(screener.keys)
        remember(candidates)
        named = cache.entries_named(n for n in candidates if screener.matcher.may_match_name(n))
    ids = sorted(i for h in named if h in id_of for i in ids_by_hash.get(h, [id_of[h]]))
    records = queries.versions_by_id(conn, ids)
    remember(cache.tokens({n for r in records for n in entry_names(r.entry)}))
    out = []
    for rec in records:
        hit = screener.screen(rec.entry)
        if hit is not None:
            out.append((rec.entry, hit))
    return out

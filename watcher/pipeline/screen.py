"""`watcher screen` and the web screen page read the store here and screen with
`matching/screening.py`: the same screener (any script, direct or via the watchlist) behind both,
so the page shows exactly what the command prints. Only where the candidates come from differs:
the daemon keeps a `ScreenIndex` of the current entries, rebuilt when a list changes; a one-shot
command prefilters the stored text instead (building the index would cost it seconds more).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy.orm import Session

from watcher.matching.matcher import load_default_watchlist
from watcher.matching.screening import (
    Screener,
    ScreenHit,
    ScreenIndex,
    build_screen_index,
    build_screener,
    screen_index,
)
from watcher.models import Entry
from watcher.store import queries
from watcher.store.watchlist import watch_entities

# Screening resolves names through every bundled group, the opt-in ones too: it is a look-up,
# not an alerting decision.
ALL_GROUPS = ("xinjiang-2019", "xinjiang-sdn", "china-tech")


@dataclass(frozen=True)
class ScreenResult:
    entry: Entry
    hit: ScreenHit
    since: datetime | None  # continuously listed since


def screen_name(
    session: Session, name: str, threshold: float, index: ScreenIndex | None = None
) -> list[ScreenResult]:
    """Current entries matching `name` (directly or through a watch entity it names), best first.

    Candidates from `index` when given (it must hold the current entries), else from a cheap
    text prefilter over the stored entries; either way only a few reach the costly matcher.
    """
    screener = _screener(session, name, threshold)
    if index is not None:
        found: Iterable[tuple[Entry, ScreenHit]] = screen_index(index, screener)
    else:
        found = _prefiltered(session, screener)
    out = [
        ScreenResult(entry, hit, queries.first_listed(session, entry.source, entry.key))
        for entry, hit in found
    ]
    return sorted(out, key=lambda r: (-r.hit.match.score, r.entry.source, r.entry.key))


def current_index(session: Session) -> ScreenIndex:
    """A screening index of every current entry (seconds: build it once per list change)."""
    return build_screen_index(r.entry for r in queries.current_all(session))


def _screener(session: Session, name: str, threshold: float) -> Screener:
    bundled, _topics = load_default_watchlist(ALL_GROUPS)
    return build_screener(name, [*watch_entities(session), *bundled], threshold=threshold)


def _prefiltered(session: Session, screener: Screener) -> list[tuple[Entry, ScreenHit]]:
    candidates = [i for i, text in queries.current_texts(session) if screener.could_match(text)]
    out = []
    for rec in queries.versions_by_id(session, candidates):
        hit = screener.screen(rec.entry)
        if hit is not None:
            out.append((rec.entry, hit))
    return out

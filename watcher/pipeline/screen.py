"""`watcher screen` and the web screen page: one name, in any script, against every current
list; the same function behind both, so the page shows exactly what the command prints."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy.orm import Session

from watcher.matching.matcher import load_default_watchlist
from watcher.matching.screening import ScreenHit, build_screener
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


def screen_name(session: Session, name: str, threshold: float) -> list[ScreenResult]:
    """Current entries matching `name` (directly or through a watch entity it names), best first.

    A cheap text prefilter over the stored entries keeps the costly matcher to a few candidates.
    """
    bundled, _topics = load_default_watchlist(ALL_GROUPS)
    screener = build_screener(name, [*watch_entities(session), *bundled], threshold=threshold)
    candidates = [i for i, text in queries.current_texts(session) if screener.could_match(text)]
    out = []
    for rec in queries.versions_by_id(session, candidates):
        hit = screener.screen(rec.entry)
        if hit is not None:
            since = queries.first_listed(session, rec.entry.source, rec.entry.key)
            out.append(ScreenResult(rec.entry, hit, since))
    return sorted(out, key=lambda r: (-r.hit.match.score, r.entry.source, r.entry.key))

"""Who wants to hear of a match: subscriber filters as one pure function."""

from __future__ import annotations

from collections.abc import Iterator, Sequence

from watcher.config import SubscriberSettings
from watcher.matching.matcher import Match
from watcher.models import Change


def wants(sub: SubscriberSettings, change: Change, match: Match) -> bool:
    """Source, kind, score and tag filters; an empty filter lets everything through."""
    if sub.sources and change.entry.source not in sub.sources:
        return False
    if sub.kinds and change.kind not in sub.kinds:
        return False
    if float(match.score) < sub.min_score:
        return False
    return not sub.tags or bool(set(sub.tags) & (set(match.tags) | {match.watch}))


def route(
    subs: Sequence[SubscriberSettings], change: Change, matches: Sequence[Match]
) -> Iterator[tuple[SubscriberSettings, list[Match]]]:
    """Each subscriber with the matches it wants (subscribers that want none are left out)."""
    for sub in subs:
        relevant = [m for m in matches if wants(sub, change, m)]
        if relevant:
            yield sub, relevant

"""Subscriber filters as a table of cases: which subscriber wants which match of which change."""

from __future__ import annotations

import pytest

from watcher.alerts.filters import route, wants
from watcher.config import SubscriberSettings
from watcher.matching.matcher import Match
from watcher.models import Change, make_entry

ADDED = Change(
    "added", "34079", None, make_entry(source="ofac_sdn", key="34079", list_code="SDN", name="X")
)
REMOVED = Change("removed", "34079", ADDED.after, None)
ZAKIR = Match("ZAKIR Shohrat", "entity", 96.0, "fuzzy", "ZAKIR, Shohrat", "", ("xinjiang",), "")
TOPIC = Match("xinjiang-security", "topic", 100.0, "topic", "X", "", (), "")


@pytest.mark.parametrize(
    ("sub", "change", "match", "expected"),
    [
        (SubscriberSettings("all"), ADDED, ZAKIR, True),
        (SubscriberSettings("s", sources=("ofac_sdn",)), ADDED, ZAKIR, True),
        (SubscriberSettings("s", sources=("trade_csl",)), ADDED, ZAKIR, False),
        (SubscriberSettings("k", kinds=("removed",)), ADDED, ZAKIR, False),
        (SubscriberSettings("k", kinds=("removed",)), REMOVED, ZAKIR, True),
        (SubscriberSettings("m", min_score=96.0), ADDED, ZAKIR, True),
        (SubscriberSettings("m", min_score=96.5), ADDED, ZAKIR, False),
        (SubscriberSettings("t", tags=("xinjiang",)), ADDED, ZAKIR, True),
        (SubscriberSettings("t", tags=("tech",)), ADDED, ZAKIR, False),
        (SubscriberSettings("w", tags=("xinjiang-security",)), ADDED, TOPIC, True),  # the watch
        (SubscriberSettings("w", tags=("xinjiang-security",)), ADDED, ZAKIR, False),
    ],
)
def test_wants(sub: SubscriberSettings, change: Change, match: Match, expected: bool) -> None:
    assert wants(sub, change, match) is expected


def test_route_gives_each_subscriber_only_the_matches_it_wants() -> None:
    subs = [
        SubscriberSettings("all"),
        SubscriberSettings("topics", tags=("xinjiang-security",)),
        SubscriberSettings("nobody", sources=("news",)),
    ]
    routed = [(s.name, [m.watch for m in found]) for s, found in route(subs, ADDED, [ZAKIR, TOPIC])]
    assert routed == [
        ("all", ["ZAKIR Shohrat", "xinjiang-security"]),
        ("topics", ["xinjiang-security"]),
    ]

"""A Slack-compatible channel answering 429 or 503 with Retry-After (issue 13, channels down):
the alert is not tried again before the time the channel named (capped at alerts.max_backoff),
the worker never sleeps for it, the rest of that subscriber's alerts (also those queued while
it waits) wait with it, in order, a healthy
subscriber is served in the same pass, and the alert is delivered exactly once afterwards.
A Retry-After we cannot use (garbage, past, on a 500, or behind apprise) keeps the backoff.

Real receivers on loopback and the real dispatcher; time moves through `now`, never sleeps.
Setup is the outage tests' (tests/alerts/test_outages.py): the real SDN pair, two Xinjiang
alerts per subscriber."""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from email.utils import format_datetime

import pytest

from tests.alerts.test_dispatch import XJ_NAMES, alerts, names_in, replay_pair, xj_config
from tests.helpers import make_runtime
from tests.receivers import HttpReceiver, ReceivedRequest
from watcher.alerts.dispatch import dispatch_pending, retry_time
from watcher.config import settings_from_dict
from watcher.http import retry_after
from watcher.runtime import Runtime
from watcher.store import outbox
from watcher.store.engine import transaction

BACKOFF, MAX_BACKOFF = 30.0, 600.0  # first backoff 24-36 s (jitter); Retry-After capped at 600


@dataclass(frozen=True)
class Channels:
    """`limited`: the Slack-compatible endpoint under test; `healthy`: a json:// webhook."""

    rt: Runtime
    limited: HttpReceiver
    healthy: HttpReceiver


@pytest.fixture
def channels(
    db_url: str, http_receiver: HttpReceiver, monkeypatch: pytest.MonkeyPatch
) -> Iterator[Channels]:
    with HttpReceiver() as limited:
        monkeypatch.setenv("LIMITED_HOOK", f"slack+http://127.0.0.1:{limited.port}/services/T1")
        monkeypatch.setenv("OK_HOOK", f"json://127.0.0.1:{http_receiver.port}/ok")
        rt = make_runtime(
            db_url,
            xj_config(
                {"name": "limited", "url_env": "LIMITED_HOOK"},
                {"name": "ok", "url_env": "OK_HOOK"},
                alerts={"backoff": BACKOFF, "max_backoff": MAX_BACKOFF},
            ),
        )
        replay_pair(rt)
        yield Channels(rt, limited, http_receiver)


def slack_names(requests: list[ReceivedRequest]) -> Counter[str]:
    """Xinjiang names in Slack payloads answered 200 (the receiver records failed ones too)."""
    return Counter(n for r in requests for n in XJ_NAMES if n in r.body.decode())


def http_date(when: datetime) -> str:
    return format_datetime(when.astimezone(UTC), usegmt=True)


def wait_of(rt: Runtime, now: datetime) -> float:
    """Seconds until the failed alert is due again; the deferred one must wait as long."""
    first, second = alerts(rt, "limited")
    assert (first.status, first.attempts) == ("failed", 1)
    assert (second.status, second.attempts) == ("pending", 0)
    assert second.next_attempt_at == first.next_attempt_at
    return (first.next_attempt_at - now).total_seconds()


def test_429_retry_after_is_honoured_and_the_alert_delivered_once(channels: Channels) -> None:
    rt, limited, healthy = channels.rt, channels.limited, channels.healthy
    limited.fail(1, status=429, retry_after="120")
    now = rt.clock()
    first = dispatch_pending(rt, now=now)
    # the healthy subscriber got both alerts in the same pass; the limited one was tried once
    assert (first.sent, first.failed, first.dead) == (2, 1, 0)
    assert names_in(healthy.requests) == Counter(XJ_NAMES)
    assert len(limited.requests) == 1
    assert 120 <= wait_of(rt, now) < 125  # not the 24-36 s backoff
    error = alerts(rt, "limited")[0].last_error or ""
    assert "HTTP 429" in error and error.endswith("; Retry-After 120 s"), error
    for early in (40, 119):  # past any backoff, but before the channel's time: nothing sent
        assert dispatch_pending(rt, now=now + timedelta(seconds=early)).sent == 0
    assert len(limited.requests) == 1
    due = alerts(rt, "limited")[0].next_attempt_at
    assert dispatch_pending(rt, now=due).sent == 2
    assert dispatch_pending(rt, now=due + timedelta(hours=1)).sent == 0
    assert slack_names(limited.requests[1:]) == Counter(XJ_NAMES)  # each exactly once
    assert len(limited.requests) == 3 and len(healthy.requests) == 2
    assert {(a.status, a.last_error) for a in alerts(rt, "limited")} == {("sent", None)}


def test_an_alert_queued_while_the_channel_waits_waits_too_and_keeps_its_order(
    channels: Channels,
) -> None:
    rt, limited = channels.rt, channels.limited
    limited.fail(1, status=429, retry_after="120")
    now = rt.clock()
    dispatch_pending(rt, now=now)
    first = alerts(rt, "limited")[0]
    later = {**first.payload, "name": "LATER, Queued"}  # a new change for the same subscriber
    with transaction(rt.engine) as conn:
        queued_at = now + timedelta(seconds=60)
        assert outbox.queue_alert(conn, "limited", "limited:later", "change", later, queued_at)
    # due at once, but behind an alert the channel asked to hold: not tried (no 2nd attempt)
    assert dispatch_pending(rt, now=now + timedelta(seconds=61)).sent == 0
    assert len(limited.requests) == 1
    assert dispatch_pending(rt, now=first.next_attempt_at).sent == 3
    texts = [r.body.decode() for r in limited.requests[1:]]
    assert "LATER, Queued" in texts[-1]  # the subscriber's alerts in the order they were queued
    assert not any("LATER, Queued" in t for t in texts[:-1])
    assert slack_names(limited.requests[1:-1]) == Counter(XJ_NAMES)
    assert [a.attempts for a in alerts(rt, "limited")] == [2, 1, 1]


def _in(low: float, high: float) -> tuple[float, float]:
    return low, high


NORMAL = _in(BACKOFF * 0.8, BACKOFF * 1.2 + 1)
CASES = {
    # name: (status, Retry-After (None: an HTTP-date 120 s ahead), expected wait, error ends)
    "429 seconds": (429, "120", _in(120, 125), "; Retry-After 120 s"),
    "429 http-date": (429, None, _in(118, 124), "; Retry-After 1"),
    "503 seconds": (503, "300", _in(300, 305), "HTTP 503: failure; Retry-After 300 s"),
    "capped": (
        429,
        "86400",
        _in(600, 605),
        "Retry-After 86400 s (waiting alerts.max_backoff, 600 s)",
    ),
    "garbage": (429, "soon", NORMAL, "HTTP 429: failure"),
    "negative": (429, "-5", NORMAL, "HTTP 429: failure"),
    "fraction": (503, "1.5", NORMAL, "HTTP 503: failure"),
    "past date": (429, "Wed, 21 Oct 2015 07:28:00 GMT", NORMAL, "HTTP 429: failure"),
    "on a 500": (500, "120", NORMAL, "HTTP 500: failure"),
}


@pytest.mark.parametrize("case", list(CASES))
def test_retry_after_decides_the_next_attempt(channels: Channels, case: str) -> None:
    status, header, (low, high), error_end = CASES[case]
    rt = channels.rt
    now = rt.clock()
    channels.limited.fail(
        1, status=status, retry_after=header or http_date(now + timedelta(0, 120))
    )
    summary = dispatch_pending(rt, now=now)
    assert (summary.sent, summary.failed) == (2, 1)  # the healthy subscriber is on time
    assert low <= wait_of(rt, now) <= high
    error = alerts(rt, "limited")[0].last_error or ""
    assert error.endswith(error_end) if header else error_end in error, error


def test_apprise_channels_cannot_see_retry_after(
    db_url: str, http_receiver: HttpReceiver, monkeypatch: pytest.MonkeyPatch
) -> None:
    """json:// (apprise) hides the answer's headers: a 429 with Retry-After gets the backoff."""
    http_receiver.fail(1, status=429, retry_after="3600")
    monkeypatch.setenv("LIMITED_HOOK", f"json://127.0.0.1:{http_receiver.port}/hook")
    rt = make_runtime(db_url, xj_config({"name": "limited", "url_env": "LIMITED_HOOK"}))
    replay_pair(rt)
    now = rt.clock()
    assert dispatch_pending(rt, now=now).failed == 1
    assert NORMAL[0] <= wait_of(rt, now) <= NORMAL[1]
    assert "Retry-After" not in (alerts(rt, "limited")[0].last_error or "")


# --- the header and the schedule, as units ---------------------------------------------------

NOW = datetime(2015, 10, 21, 7, 26, tzinfo=UTC)
PARSED = [
    ("120", None, 120.0),
    (" 7 ", None, 7.0),
    ("99999999999", None, 99999999999.0),
    ("Wed, 21 Oct 2015 07:28:00 GMT", None, 120.0),  # from `now`
    ("Wed, 21 Oct 2015 07:28:00 GMT", "Wed, 21 Oct 2015 07:27:00 GMT", 60.0),  # server's Date
    ("Wed, 21 Oct 2015 07:28:00 GMT", "yesterday", 120.0),  # bad Date: our clock
    ("Wed Oct 21 07:28:00 2015", None, 120.0),  # asctime form: GMT though it does not say so
    ("0", None, None),
    ("-5", None, None),
    ("1.5", None, None),
    ("+120", None, None),
    ("\u00b2", None, None),  # a digit to str.isdigit(), not to float()
    ("12 s", None, None),
    ("soon", None, None),
    ("", None, None),
    (None, None, None),
    ("Wed, 21 Oct 2015 07:25:00 GMT", None, None),  # past
    ("Wed, 21 Oct 2015 07:26:00 GMT", None, None),  # now
    ("Wed, 32 Oct 2015 07:28:00 GMT", None, None),  # no such day
]


@pytest.mark.parametrize(("value", "date", "seconds"), PARSED)
def test_retry_after_header_parsing(value: str | None, date: str | None, seconds: float) -> None:
    assert retry_after(value, now=NOW, date=date) == seconds


def test_retry_time_takes_the_later_of_backoff_and_retry_after_up_to_the_cap() -> None:
    settings = settings_from_dict({"alerts": {"backoff": 30, "max_backoff": 600}}, {})
    answered = NOW + timedelta(seconds=10)  # the channel took 10 s to say 429

    def wait(attempts: int, retry_after: float | None) -> float:
        at = retry_time(settings, attempts, NOW, retry_after, answered)
        return (at - NOW).total_seconds()

    assert 24 <= wait(1, None) <= 36
    assert wait(1, 120) == 130  # counted from the answer, not from the pass's start
    assert 24 <= wait(1, 5) <= 36  # a shorter Retry-After never shortens the backoff
    assert wait(1, 86400) == 610
    assert 8 * 24 <= wait(4, 60) <= 8 * 36  # attempt 4: backoff 240 s is the later

"""Channels down for an hour of accelerated time: a Slack-style endpoint answering 429 and an
SMTP server refusing connections, beside a healthy webhook. The healthy one is served on the
first pass; the others are retried with backoff, `dead` after alerts.max_attempts with one
operator message each, and `alerts retry` then delivers each alert exactly once (issue 13)."""

from __future__ import annotations

from collections import Counter
from datetime import timedelta

import pytest

from tests.alerts.test_dispatch import XJ_NAMES, alerts, names_in, replay_pair, xj_config
from tests.helpers import make_runtime
from tests.receivers import HttpReceiver, SmtpReceiver, free_port
from watcher.alerts.dispatch import dispatch_pending
from watcher.store import outbox
from watcher.store.engine import transaction


def test_429_and_refused_smtp_back_off_die_once_and_retry_exactly_once(
    db_url: str,
    http_receiver: HttpReceiver,
    smtp_receiver: SmtpReceiver,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    with HttpReceiver() as limited, HttpReceiver() as ops:
        limited.fail(10_000, status=429)
        refused = smtp_receiver.url().replace(f":{smtp_receiver.port}", f":{free_port()}")
        monkeypatch.setenv("OK_HOOK", f"json://127.0.0.1:{http_receiver.port}/ok")
        monkeypatch.setenv("LIMITED_HOOK", f"json://127.0.0.1:{limited.port}/slack")
        monkeypatch.setenv("MAIL_URL", refused)
        monkeypatch.setenv("OPS_URL", f"json://127.0.0.1:{ops.port}/ops")
        rt = make_runtime(
            db_url,
            xj_config(
                {"name": "ok", "url_env": "OK_HOOK"},
                {"name": "limited", "url_env": "LIMITED_HOOK"},
                {"name": "mail", "url_env": "MAIL_URL"},
                alerts={"max_attempts": 4, "backoff": 30},
                operators={"url_env": "OPS_URL"},
            ),
        )
        replay_pair(rt)
        start = rt.clock()
        first = dispatch_pending(rt, now=start)
        assert first.sent == 2 and names_in(http_receiver.requests) == Counter(XJ_NAMES)
        for minute in range(5, 65, 5):  # an hour, one pass every five minutes
            dispatch_pending(rt, now=start + timedelta(minutes=minute))
        for name in ("limited", "mail"):
            assert [(a.status, a.attempts) for a in alerts(rt, name)] == [("dead", 4)] * 2
        assert len(limited.requests) == 8  # two alerts x four attempts, never more
        assert len(http_receiver.requests) == 2  # the healthy channel: once each, on time
        titles = [r.json()["title"] for r in ops.requests]
        assert len(titles) == 2 and all("dead" in t for t in titles), titles

        limited.fail(0)
        monkeypatch.setenv("MAIL_URL", smtp_receiver.url())  # the mail server is back
        with transaction(rt.engine) as conn:
            assert outbox.retry_alerts(conn, None, start) == 4  # `watcher alerts retry`
        later = start + timedelta(hours=1, minutes=1)
        assert dispatch_pending(rt, now=later).sent == 4
        assert dispatch_pending(rt, now=later + timedelta(hours=6)).sent == 0
        assert names_in(limited.requests[-2:]) == Counter(XJ_NAMES)
        mails = [m.message.as_string() for m in smtp_receiver.messages]
        assert Counter(n for m in mails for n in XJ_NAMES if n in m) == Counter(XJ_NAMES)
        assert len(ops.requests) == 2  # nothing new for operators on recovery of alerts

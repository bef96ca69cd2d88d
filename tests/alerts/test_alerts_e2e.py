"""Alerts that arrive, end to end: real OFAC fixture pairs through the real pipeline, the outbox
and apprise to real local receivers (HTTP webhook, Slack-shaped webhook, aiosmtpd), real
processes killed mid-delivery, operator alerts, and `watcher subscribers test`."""

from __future__ import annotations

import logging
import os
import signal
import subprocess
import sys
from collections import Counter
from datetime import timedelta
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pytest
import sqlalchemy as sa

from tests.alerts.test_dispatch import (
    XJ_NAMES,
    HoldingReceiver,
    alerts,
    message,
    names_in,
    replay_pair,
    wait_for,
    xj_config,
)
from tests.conftest import ROOT, LocalServer, fixture_bytes
from tests.helpers import at, make_runtime
from watcher.alerts.dispatch import LEASE, dispatch_pending
from watcher.pipeline.run import replay, run_source
from watcher.runtime import Runtime
from watcher.store import outbox
from watcher.store.engine import transaction
from watcher.store.tables import CHANGES

if TYPE_CHECKING:
    from tests.receivers import HttpReceiver, SmtpReceiver

SDN = "ofac_sdn/sdn_{}.csv"
WATCHER = [sys.executable, "-m", "watcher"]  # the running interpreter, not a project venv
LINK = "https://ofac.treasury.gov/recent-actions"
REASON = "linked to 'XINJIANG PUBLIC SECURITY BUREAU'"
FAKE_TOKEN = "FAKEtok3n9Zq7Xw2"


def test_sdn_pair_alerts_a_xinjiang_security_subscriber_exactly_once(
    db_url: str,
    http_receiver: HttpReceiver,
    http_server: LocalServer,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    hook = f"json://127.0.0.1:{http_receiver.port}/"
    monkeypatch.setenv("XJ_HOOK", hook)  # dispatch resolves secrets from os.environ
    url = http_server.serve("live/sdn.csv", fixture_bytes(SDN.format("2021-12-10")))
    config = xj_config({"name": "xj", "url_env": "XJ_HOOK"})
    config["sources"]["ofac_sdn"]["url"] = url
    rt = make_runtime(db_url, config, env={"XJ_HOOK": hook})
    replay_pair(rt)
    assert dispatch_pending(rt).sent == 2
    # Of the 25 SDN additions exactly these two match the topic, each arrives once.
    assert names_in(http_receiver.requests) == Counter(dict.fromkeys(XJ_NAMES, 1))
    assert len(http_receiver.requests) == 2
    for request in http_receiver.requests:
        text = message(request)
        name = next(n for n in XJ_NAMES if n in text)
        assert f"ADDED to OFAC SDN list: {name}" in text
        assert "List: OFAC SDN list (SDN; source ofac_sdn)" in text
        assert "xinjiang-security: score 100" in text and REASON in text
        assert f"Official source: {LINK}" in text
    keys = {a.payload["key"] for a in alerts(rt)}
    assert keys == {"34079", "34119"}
    assert {(a.status, a.attempts) for a in alerts(rt)} == {("sent", 1)}
    # A second dispatch, and a poll of the same file (unchanged), send nothing more.
    assert dispatch_pending(rt).sent == 0
    assert run_source(rt, "ofac_sdn").outcome == "unchanged"
    assert dispatch_pending(rt).sent == 0
    assert len(http_receiver.requests) == 2 and len(alerts(rt)) == 2


def test_email_and_slack_carry_the_same_event(
    db_url: str,
    http_receiver: HttpReceiver,
    smtp_receiver: SmtpReceiver,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("MAIL_URL", smtp_receiver.url(to="compliance@example.org"))
    slack = f"slack+http://127.0.0.1:{http_receiver.port}/services/T000/B000/{FAKE_TOKEN}"
    monkeypatch.setenv("SLACK_URL", slack)
    rt = make_runtime(
        db_url,
        xj_config(
            {"name": "mail", "url_env": "MAIL_URL"}, {"name": "slack", "url_env": "SLACK_URL"}
        ),
    )
    replay_pair(rt)
    assert dispatch_pending(rt).sent == 4
    assert len(smtp_receiver.messages) == 2
    subjects = sorted(str(m.message["Subject"]) for m in smtp_receiver.messages)
    assert subjects == [
        "[watcher] ADDED to OFAC SDN list: TUNIYAZ, Erken (matches xinjiang-security)",
        "[watcher] ADDED to OFAC SDN list: ZAKIR, Shohrat (matches xinjiang-security)",
    ]
    for mail in smtp_receiver.messages:
        assert mail.rcpt_tos == ("compliance@example.org",) and mail.login == "watcher"
        plain, html = mail.part("text/plain"), mail.part("text/html")
        name = next(n for n in XJ_NAMES if n in str(mail.message["Subject"]))
        assert name in plain and LINK in plain and "xinjiang-security" in plain
        assert name in html and f'href="{LINK}"' in html
    assert len(http_receiver.requests) == 2
    for request in http_receiver.requests:
        assert request.path == f"/services/T000/B000/{FAKE_TOKEN}"
        payload = request.json()
        assert set(payload) == {"text", "blocks"}
        header, *sections = payload["blocks"]
        assert header["type"] == "header" and header["text"]["type"] == "plain_text"
        assert sections and all(s["text"]["type"] == "mrkdwn" for s in sections)
        body = "\n".join(s["text"]["text"] for s in sections)
        assert any(n in payload["text"] and n in body for n in XJ_NAMES)
        assert LINK in body and "xinjiang-security" in body
    slack_names = Counter(
        n for r in http_receiver.requests for n in XJ_NAMES if n in r.json()["text"]
    )
    assert slack_names == Counter(dict.fromkeys(XJ_NAMES, 1))


def _config_file(path: Path, db_url: str, url: str) -> Path:
    path.write_text(
        f"""
[database]
url = "{db_url}"

[fetch]
retries = 0

[sources.ofac_sdn]
url = "{url}"
companions = []

[[subscribers]]
name = "xj"
url_env = "XJ_HOOK"
tags = ["xinjiang-security"]
""",
        encoding="utf-8",
    )
    return path


def _run_once(config: Path, hook: str) -> subprocess.Popen[str]:
    env = {**os.environ, "XJ_HOOK": hook}
    return subprocess.Popen(
        [*WATCHER, "--config", str(config), "run", "--once"],
        cwd=ROOT,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


def _statuses(rt: Runtime) -> list[tuple[str, str, int]]:
    return [(a.payload["key"], a.status, a.attempts) for a in alerts(rt)]


def test_killed_process_resends_unconfirmed_alert_never_a_confirmed_one(
    db_url: str,
    http_server: LocalServer,
    http_receiver: HttpReceiver,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    url = http_server.serve("live/sdn.csv", fixture_bytes(SDN.format("2021-12-09")))
    config = _config_file(tmp_path / "config.toml", db_url, url)
    rt = make_runtime(
        db_url,
        {
            "sources": {"ofac_sdn": {"url": url, "companions": []}},
            "subscribers": [{"name": "xj", "url_env": "XJ_HOOK", "tags": ["xinjiang-security"]}],
        },
    )
    assert run_source(rt, "ofac_sdn").outcome == "baseline"
    http_server.serve("live/sdn.csv", fixture_bytes(SDN.format("2021-12-10")))
    # The channel answers the first alert and hangs on the second; the process is killed
    # while it waits: one alert confirmed and recorded, one claimed but never confirmed.
    channel = HoldingReceiver(answer_first=1)
    try:
        proc = _run_once(config, channel.url("xj"))
        wait_for(
            lambda: channel.held == 1 and [s for _, s, _ in _statuses(rt)].count("sent") == 1,
            "one alert sent and recorded, the other held",
            timeout=180,
        )
        proc.send_signal(signal.SIGKILL)
        assert proc.wait(timeout=30) == -signal.SIGKILL
    finally:
        channel.stop()
    with transaction(rt.engine) as conn:
        assert conn.scalar(sa.select(sa.func.count()).select_from(CHANGES)) == 25
    first_key = next(n for n in XJ_NAMES if n in message(channel.requests[0]))
    statuses = {key: (status, n) for key, status, n in _statuses(rt)}
    confirmed = {"ZAKIR, Shohrat": "34079", "TUNIYAZ, Erken": "34119"}[first_key]
    assert statuses.pop(confirmed) == ("sent", 1)
    assert list(statuses.values()) == [("pending", 0)]  # claimed, leased, never confirmed
    # Restarted: the killed process's lease is released at once (its pid no longer exists on
    # this host), so the unconfirmed alert is delivered exactly once more, without waiting.
    hook = f"json://127.0.0.1:{http_receiver.port}/xj"
    monkeypatch.setenv("XJ_HOOK", hook)
    assert dispatch_pending(rt).sent == 1
    assert dispatch_pending(rt, now=rt.clock() + LEASE * 2).sent == 0
    assert len(http_receiver.requests) == 1
    assert first_key not in message(http_receiver.requests[0])
    assert {s for _, s, _ in _statuses(rt)} == {"sent"}
    # A whole new `run --once` process: the file is unchanged, nothing is sent again.
    proc = _run_once(config, hook)
    out, err = proc.communicate(timeout=180)
    assert proc.returncode == 0, err
    assert "ofac_sdn: unchanged" in out and "alerts: 0 sent, 0 failed, 0 dead" in out
    assert len(http_receiver.requests) == 1 and len(alerts(rt)) == 2


def _ops_config(url: str, **source: Any) -> dict[str, Any]:
    return {
        "fetch": {"retries": 0},
        "sources": {"ofac_sdn": {"url": url, "companions": [], **source}},
        "subscribers": [{"name": "xj", "url_env": "XJ_HOOK"}],  # no filter: hears every match
        "operators": {"url_env": "OPS_HOOK"},
    }


def _paths(receiver: HttpReceiver) -> list[str]:
    return [r.path for r in receiver.requests]


def test_rejected_snapshot_alerts_operators_once_and_never_subscribers(
    db_url: str,
    http_server: LocalServer,
    http_receiver: HttpReceiver,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("XJ_HOOK", f"json://127.0.0.1:{http_receiver.port}/xj")
    monkeypatch.setenv("OPS_HOOK", f"json://127.0.0.1:{http_receiver.port}/ops")
    url = http_server.serve("live/sdn.csv", fixture_bytes(SDN.format("2024-05-03")))
    rt = make_runtime(db_url, _ops_config(url))
    clock = [at("2024-05-03T12:00:00")]
    rt.clock = lambda: clock[0]
    assert run_source(rt, "ofac_sdn").outcome == "baseline"
    html = b"<!DOCTYPE html><html><body><h1>Service Unavailable</h1></body></html>"
    # The real empty download of 2024-05-04, an HTML page, then the same HTML page again.
    for body in (fixture_bytes(SDN.format("2024-05-04")), html, html):
        http_server.serve("live/sdn.csv", body)
        clock[0] += timedelta(hours=1)
        assert run_source(rt, "ofac_sdn").outcome == "rejected"
        dispatch_pending(rt, now=clock[0])
    assert _paths(http_receiver) == ["/ops"]
    text = message(http_receiver.requests[0])
    assert "ofac_sdn: snapshot rejected" in text and "empty download" in text
    assert [a.payload["kind"] for a in alerts(rt)] == ["snapshot_rejected"]


def test_failing_source_alerts_operators_once_and_once_more_on_recovery(
    db_url: str,
    http_server: LocalServer,
    http_receiver: HttpReceiver,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("XJ_HOOK", f"json://127.0.0.1:{http_receiver.port}/xj")
    monkeypatch.setenv("OPS_HOOK", f"json://127.0.0.1:{http_receiver.port}/ops")
    good = fixture_bytes(SDN.format("2021-12-09"))
    url = http_server.serve("live/sdn.csv", good)
    rt = make_runtime(db_url, _ops_config(url, stale_after="1s"))
    clock = [at("2021-12-09T12:00:00")]
    rt.clock = lambda: clock[0]

    def poll(expected: str) -> None:
        clock[0] += timedelta(seconds=10)
        assert run_source(rt, "ofac_sdn").outcome == expected
        dispatch_pending(rt, now=clock[0])

    poll("baseline")
    http_server.serve("live/sdn.csv", b"upstream broke", status=500)
    for _ in range(5):
        poll("error")
    ops = [r for r in http_receiver.requests if r.path == "/ops"]
    assert len(ops) == 1 and "ofac_sdn: failing" in message(ops[0])
    assert "3 failed polls" in message(ops[0]) and "500" in message(ops[0])
    # It recovers serving the very bytes it had before (unchanged), then stays healthy.
    http_server.serve("live/sdn.csv", good)
    poll("unchanged")
    poll("unchanged")
    ops = [r for r in http_receiver.requests if r.path == "/ops"]
    assert len(ops) == 2 and "ofac_sdn: recovered" in message(ops[1])
    # A new outage is a new incident: operators hear of it again.
    http_server.serve("live/sdn.csv", b"down again", status=503)
    for _ in range(3):
        poll("error")
    assert len([r for r in http_receiver.requests if r.path == "/ops"]) == 3
    assert _paths(http_receiver).count("/xj") == 0
    kinds = [a.payload["kind"] for a in alerts(rt)]
    assert kinds == ["source_failing", "source_recovered", "source_failing"]


def _cli(config: Path, env: dict[str, str], *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [*WATCHER, "-v", "--config", str(config), *args],
        cwd=ROOT,
        env={**os.environ, **env},
        capture_output=True,
        text=True,
        timeout=120,
    )


def test_subscribers_test_sends_a_real_message_and_never_shows_the_secret(
    db_url: str, http_receiver: HttpReceiver, tmp_path: Path
) -> None:
    config = _config_file(tmp_path / "config.toml", db_url, "http://127.0.0.1:9/unused")
    hook = f"json://127.0.0.1:{http_receiver.port}/hooks/{FAKE_TOKEN}"
    ok = _cli(config, {"XJ_HOOK": hook}, "subscribers", "test", "xj")
    assert ok.returncode == 0 and ok.stdout.strip() == "sent"
    assert len(http_receiver.requests) == 1
    assert "Test alert for subscriber xj" in message(http_receiver.requests[0])
    http_receiver.fail(1)
    failed = _cli(config, {"XJ_HOOK": hook}, "subscribers", "test", "xj")
    assert failed.returncode == 1 and failed.stdout.startswith("failed: apprise FAILURE")
    assert "500" in failed.stdout
    for result in (ok, failed):
        assert FAKE_TOKEN not in result.stdout + result.stderr
        assert result.stderr  # -v: the debug log was written, and is clean
    missing = _cli(config, {}, "subscribers", "test", "xj")
    assert missing.returncode == 1 and missing.stdout == ""
    lines = [line for line in missing.stderr.splitlines() if line.startswith("error:")]
    assert lines == ["error: no apprise URL found for xj (url_env=XJ_HOOK, url_file=None)"]


def test_failing_delivery_never_logs_or_stores_the_secret(
    db_url: str,
    http_receiver: HttpReceiver,
    monkeypatch: pytest.MonkeyPatch,
    caplog: pytest.LogCaptureFixture,
) -> None:
    secret_url = f"json://watcher:{FAKE_TOKEN}@127.0.0.1:{http_receiver.port}/hooks/{FAKE_TOKEN}"
    monkeypatch.setenv("XJ_HOOK", secret_url)
    http_receiver.fail(10)
    rt = make_runtime(db_url, xj_config({"name": "xj", "url_env": "XJ_HOOK"}))
    replay_pair(rt)
    with caplog.at_level(logging.DEBUG):
        summary = dispatch_pending(rt)
    assert summary.failed == 1 and len(http_receiver.requests) == 1
    assert caplog.records and any("delivery failed" in r.getMessage() for r in caplog.records)
    logged = "\n".join(r.getMessage() + str(r.__dict__) for r in caplog.records)
    assert FAKE_TOKEN not in logged
    stored = [a.last_error or "" for a in alerts(rt)]
    assert any("500" in e for e in stored) and not any(FAKE_TOKEN in e for e in stored)
    assert http_receiver.requests[0].path == f"/hooks/{FAKE_TOKEN}"  # it was really used


def test_replay_of_a_pair_twice_queues_nothing_new(db_url: str) -> None:
    rt = make_runtime(db_url, xj_config({"name": "xj", "url_env": "XJ_HOOK"}))
    replay_pair(rt)
    again = replay(
        rt,
        "ofac_sdn",
        at("2021-12-10"),
        [("primary", fixture_bytes(SDN.format("2021-12-10")), "again")],
    )
    assert again.outcome == "error" and again.alerts == 0
    assert len(alerts(rt)) == 2
    with transaction(rt.engine) as conn:
        queued = outbox.queue_alert(
            conn, "xj", alerts(rt)[0].idempotency_key, "change", {}, rt.clock()
        )
    assert queued == 0 and len(alerts(rt)) == 2

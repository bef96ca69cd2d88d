"""Secrets (apprise URLs with tokens, an SMTP password, the API token) never appear in logs,
errors, metrics, API output or the stored outbox, whatever fails; the API refuses without the
token and answers hostile parameters with 400 (issue 13)."""

from __future__ import annotations

import json
import logging

import pytest
from fastapi.testclient import TestClient

from tests.alerts.test_dispatch import replay_pair, xj_config
from tests.helpers import make_runtime
from tests.receivers import HttpReceiver, SmtpReceiver, free_port
from watcher.alerts.dispatch import dispatch_pending
from watcher.service.api import create_app

HOOK_TOKEN = "hookTOKEN7Qz81xN"
SMTP_PASSWORD = "smtpPASS4Wk29vB"
API_TOKEN = "apiTOKEN0Lm55cD-0123456789"


def test_no_secret_in_logs_errors_metrics_or_api(
    db_url: str,
    http_receiver: HttpReceiver,
    smtp_receiver: SmtpReceiver,
    monkeypatch: pytest.MonkeyPatch,
    caplog: pytest.LogCaptureFixture,
) -> None:
    http_receiver.fail(100)  # the webhook fails: its URL must not leak into errors
    hook = f"json://user:{HOOK_TOKEN}@127.0.0.1:{http_receiver.port}/hooks/{HOOK_TOKEN}"
    refused = smtp_receiver.url(password=SMTP_PASSWORD).replace(
        f":{smtp_receiver.port}", f":{free_port()}"
    )
    monkeypatch.setenv("SEC_HOOK", hook)
    monkeypatch.setenv("SEC_MAIL", refused)
    monkeypatch.setenv("SEC_OPS", hook)
    rt = make_runtime(
        db_url,
        xj_config(
            {"name": "hook", "url_env": "SEC_HOOK"},
            {"name": "mail", "url_env": "SEC_MAIL"},
            operators={"url_env": "SEC_OPS"},
            alerts={"max_attempts": 1},
        ),
    )
    with caplog.at_level(logging.DEBUG):
        replay_pair(rt)
        summary = dispatch_pending(rt)
        dispatch_pending(rt)  # the operators' dead-channel messages fail too
    assert summary.dead >= 2 and http_receiver.requests  # the secrets really were used
    client = TestClient(create_app(rt, API_TOKEN))
    assert client.get("/api/alerts").status_code == 401
    assert client.get("/api/alerts", headers={"Authorization": "Bearer nope"}).status_code == 401
    auth = {"Authorization": f"Bearer {API_TOKEN}"}
    pages = [client.get(p, headers=auth).text for p in ("/api/alerts", "/api/sources")]
    pages += [client.get("/metrics").text, client.get("/readyz").text]
    logged = "\n".join(r.getMessage() + json.dumps(r.__dict__, default=str) for r in caplog.records)
    for secret in (HOOK_TOKEN, SMTP_PASSWORD, API_TOKEN):
        assert secret not in logged
        for page in pages:
            assert secret not in page
    assert "dead" in pages[0]  # the outbox listing is there, without the URLs

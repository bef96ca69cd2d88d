"""Logging and its one redaction rule (watcher.secrets): secrets never reach a log line."""

from __future__ import annotations

import json
import logging
from collections.abc import Iterator

import pytest

from watcher import logs, secrets
from watcher.alerts import deliver, notify
from watcher.logs import configure_logging
from watcher.secrets import redact

SLACK_HOOK = "https://hooks.slack.com/services/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"
# (case, text, what must stay, what must go)
CASES: list[tuple[str, str, str, str]] = [
    ("slack webhook", f"POST {SLACK_HOOK} failed", "https://hooks.slack.com/services/***",
     "zxcvbnmasdfghjklqwertyui"),
    ("slack webhook ids", f"POST {SLACK_HOOK}", "hooks.slack.com", "TQWERTYUI"),
    ("slack workflow", "https://hooks.slack.com/workflows/T0/A0/abcdef/Q1", "hooks.slack.com/",
     "abcdef"),
    ("xoxb token", "invalid_auth for xoxb-1234567890-0987654321-AbCdEfGhIjKl",
     "invalid_auth for xox?-***", "AbCdEfGhIjKl"),
    ("xoxp token", "token xoxp-11-22-33-aabbccdd rejected", "rejected", "aabbccdd"),
    ("xapp token", "socket mode xapp-1-A0-99-ffee", "socket mode", "ffee"),
    ("mailto password", "mailto://alerts:hunter2pw@smtp.example.org:587?to=a@b.org",
     "smtp.example.org:587", "hunter2pw"),
    ("mailtos user", "mailtos://alerts:hunter2pw@smtp.example.org", "mailtos://***@", "alerts:"),
    ("apprise slack", "slack://TokenAAAA1/TokenBBBB2/TokenCCCC3/#alerts", "slack://",
     "TokenCCCC3"),
    ("apprise slack channel", "slack://TokenAAAA1/TokenBBBB2/TokenCCCC3/#alerts", "slack://",
     "#alerts"),
    ("json basic auth", "json://user:s3cretpass@hooks.example.org:8443/in",
     "hooks.example.org:8443", "s3cretpass"),
    ("json query token", "json://127.0.0.1:8080/hook?token=abc123secret", "127.0.0.1:8080",
     "abc123secret"),
    ("slack+https path", "slack+https://chat.example.org/hooks/T0123ABCD/SeCrEt0123456789",
     "chat.example.org/hooks/", "SeCrEt0123456789"),
    ("bearer header", "Authorization: Bearer eyJhbGciOi.xyz.sig", "Bearer ***", "eyJhbGciOi"),
    ("bearer alone", "sent bearer abc.def.ghi to the API", "to the API", "abc.def.ghi"),
    ("basic header", "Authorization: Basic dXNlcjpwYXNz", "Authorization: Basic ***",
     "dXNlcjpwYXNz"),
    ("password keyword", "login failed, password: hunter2", "password: ***", "hunter2"),
    ("api key", "GET /x?api_key=k-12345 and access_key=AKIA1234", "api_key=***", "AKIA1234"),
    ("postgres password", "postgresql://watcher:dbpass99@db:5432/watcher", "@db:5432/watcher",
     "dbpass99"),
    ("public page stays", "see https://ofac.treasury.gov/recent-actions/20211210",
     "https://ofac.treasury.gov/recent-actions/20211210", "***"),
    ("plain words stay", "the primary key: 3 has 5 tokens", "the primary key: 3 has 5 tokens",
     "***"),
]  # fmt: skip


@pytest.mark.parametrize(
    ("text", "kept", "gone"), [c[1:] for c in CASES], ids=[c[0] for c in CASES]
)
def test_redact(text: str, kept: str, gone: str) -> None:
    out = redact(text)
    assert kept in out
    assert gone not in out
    assert redact(out) == out  # masking twice changes nothing


def test_one_redaction_rule_for_logs_and_delivery() -> None:
    assert logs.redact is secrets.redact
    assert deliver.redact is secrets.redact
    assert notify.redact is secrets.redact
    url = "json://alerts:p4ssw0rd@hooks.example.org/in/TOKEN0123456789"
    error = deliver.mask_secrets(f"failed for {url}", deliver.url_secrets(url))
    assert "p4ssw0rd" not in error and "TOKEN0123456789" not in error


@pytest.fixture
def root_logging() -> Iterator[None]:
    root = logging.getLogger()
    handlers, level = root.handlers[:], root.level
    yield
    root.handlers[:] = handlers
    root.setLevel(level)


@pytest.mark.usefixtures("root_logging")
def test_json_log_line_is_redacted_end_to_end(capsys: pytest.CaptureFixture[str]) -> None:
    configure_logging(logging.INFO, json_lines=True)
    log = logging.getLogger("watcher.test")
    log.warning("delivery to %s failed", SLACK_HOOK, extra={"channel": "slack://TA1/TB2/TC3456"})
    try:
        raise RuntimeError("could not reach mailto://ops:hunter2pw@smtp.example.org")
    except RuntimeError:
        log.exception("operator alert failed")
    lines = [json.loads(line) for line in capsys.readouterr().err.splitlines()]
    assert [line["level"] for line in lines] == ["warning", "error"]
    assert lines[0]["msg"] == "delivery to https://hooks.slack.com/services/*** failed"
    assert lines[0]["channel"] == "slack://***/***/***"
    assert "smtp.example.org" in lines[1]["exc"]
    text = json.dumps(lines)
    for secret in ("zxcvbnmasdfghjklqwertyui", "TC3456", "hunter2pw"):
        assert secret not in text


@pytest.mark.usefixtures("root_logging")
def test_text_log_line_is_redacted(capsys: pytest.CaptureFixture[str]) -> None:
    configure_logging(logging.INFO, json_lines=False)
    logging.getLogger("apprise").warning("Authorization: Bearer abc.def.ghi; xoxb-1-2-secretpart")
    err = capsys.readouterr().err
    assert "Bearer ***" in err and "xox?-***" in err
    assert "abc.def.ghi" not in err and "secretpart" not in err

"""Rendering and delivery of alerts, against real local receivers (SMTP, HTTP) and real
fixture rows; nothing in apprise, smtplib or httpx is mocked."""

from __future__ import annotations

import csv
import io
import logging
import socket
from dataclasses import dataclass, replace
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING

import apprise
import feedparser
import pytest

from tests.conftest import fixture_bytes
from watcher.alerts import deliver as _deliver
from watcher.alerts.notify import (
    AlertEvent,
    OperatorEvent,
    Rendered,
    deliver,
    redact,
    render_alert,
    render_digest,
    render_operator,
    slack_payload,
)

if TYPE_CHECKING:
    from tests.receivers import HttpReceiver, SmtpReceiver

# The receivers are fixtures; listing the module here (not importing it) keeps assertion
# rewriting working. Adding the same line to tests/conftest.py makes them available everywhere.
pytest_plugins = ["tests.receivers"]

SDN_RECENT_ACTION = "https://ofac.treasury.gov/recent-actions/20211210"
TOKEN = "T0PSECRETtoken4711"
PASSWORD = "Pa55word-never-shown"


def sdn_row(relative: str, uid: str) -> list[str]:
    """One row of a real OFAC legacy CSV (cp1252, trailing 0x1A, `-0- ` = null -> "")."""
    text = fixture_bytes(relative).decode("cp1252").replace("\x1a", "")
    for row in csv.reader(io.StringIO(text)):
        if row and row[0].strip() == uid:
            return ["" if v.strip() == "-0-" else v for v in row]
    raise AssertionError(f"uid {uid} not in {relative}")


def programs(row: list[str]) -> tuple[str, ...]:
    return tuple(p.strip() for p in row[3].split("] [")) if row[3] else ()


def zakir() -> AlertEvent:
    row = sdn_row("ofac_sdn/sdn_2021-12-10.csv", "34079")
    return AlertEvent(
        id="ofac_sdn:34079:added:sub1",
        kind="added",
        source="ofac_sdn",
        list_code="SDN",
        list_name="OFAC SDN list",
        key=row[0],
        name=row[1],
        programs=programs(row),
        remarks=row[11] or None,
        matches=(
            {
                "watch": "xinjiang-security",
                "score": 0.97,
                "method": "topic-remarks",
                "matched_name": "XINJIANG PUBLIC SECURITY BUREAU",
                "reason": "Linked To the Xinjiang PSB",
            },
        ),
        source_url=SDN_RECENT_ACTION,
        effective_date="2021-12-10",
        detected_at=datetime(2021, 12, 10, 16, 5, tzinfo=UTC),
    )


def zambada() -> AlertEvent:
    before = sdn_row("ofac_sdn/sdn_2021-12-09.csv", "7226")
    after = sdn_row("ofac_sdn/sdn_2021-12-16.csv", "7226")
    added = sorted(set(programs(after)) - set(programs(before)))
    return AlertEvent(
        id="ofac_sdn:7226:modified:sub1",
        kind="modified",
        source="ofac_sdn",
        list_code="SDN",
        list_name="OFAC SDN list",
        key=after[0],
        name=after[1],
        programs=programs(after),
        field_changes=(
            {"field": "programs", "added": added, "removed": []},
            {"field": "remarks", "before": before[11], "after": after[11]},
        ),
        matches=({"watch": "cartels", "score": 100, "method": "exact", "matched_name": after[1]},),
        source_url="https://ofac.treasury.gov/recent-actions/20211215",
        effective_date="2021-12-15",
        detected_at=datetime(2021, 12, 16, 9, 0, tzinfo=UTC),
    )


def plaza_real() -> AlertEvent:
    row = sdn_row("ofac_sdn/moov_sdn_2019-01.csv", "10096")  # absent from the 2021-07 file
    return AlertEvent(
        id="ofac_sdn:10096:removed:sub1",
        kind="removed",
        source="ofac_sdn",
        list_code="SDN",
        list_name="OFAC SDN list",
        key=row[0],
        name=row[1],
        programs=programs(row),
        matches=(
            {"watch": "Plaza Real", "score": 0.91, "method": "fuzzy", "matched_name": row[1]},
        ),
        source_url="https://ofac.treasury.gov/specially-designated-nationals-and-blocked-persons-list-sdn-human-readable-lists",
        detected_at=datetime(2021, 7, 1, tzinfo=UTC),
    )


def guardian_news() -> AlertEvent:
    feed = feedparser.parse(fixture_bytes("news_rss/guardian_us_rss_2018-01-31.rss"))
    item = feed.entries[0]
    return AlertEvent(
        id=f"news:{item.link}:sub1",
        kind="news",
        source="news",
        list_code="NEWS",
        list_name=str(feed.feed.title),
        key=str(item.link),
        name=str(item.title),
        matches=({"watch": "state-of-the-union", "score": 1.0, "method": "keyword"},),
        source_url=str(item.link),
        detected_at=datetime(2018, 1, 31, 12, 0, tzinfo=UTC),
    )


def operator_event() -> OperatorEvent:
    return OperatorEvent(
        kind="snapshot_rejected",
        source="ofac_sdn",
        title="empty download rejected",
        detail="sdn_2024-05-04.csv is 0 bytes; a diff would remove all 14,965 entries",
        occurred_at=datetime(2024, 5, 4, 6, 0, tzinfo=UTC),
    )


@dataclass(frozen=True)
class Case:
    name: str
    rendered: Rendered
    title_start: str
    facts: tuple[str, ...]


def cases() -> list[Case]:
    z, m, p, n = zakir(), zambada(), plaza_real(), guardian_news()
    return [
        Case(
            "added",
            render_alert(z),
            "[watcher] ADDED to OFAC SDN list: ZAKIR, Shohrat (matches xinjiang-security)",
            (
                "ZAKIR, Shohrat",
                "GLOMAG",
                "xinjiang-security",
                "0.97",
                "topic-remarks",
                "XINJIANG PUBLIC SECURITY BUREAU",
                "2021-12-10",
                SDN_RECENT_ACTION,
                "34079",
            ),
        ),
        Case(
            "removed",
            render_alert(p),
            "[watcher] REMOVED from OFAC SDN list: PLAZA REAL LTDA. (matches Plaza Real)",
            ("PLAZA REAL LTDA.", "SDNT", "fuzzy", "0.91", p.source_url or "?"),
        ),
        Case(
            "modified",
            render_alert(m),
            "[watcher] CHANGED on OFAC SDN list: ZAMBADA GARCIA, Ismael (matches cartels)",
            (
                "ZAMBADA GARCIA, Ismael",
                "added ILLICIT-DRUGS-EO",
                "remarks",
                "DOB 1948; POB Sinaloa",
                "DOB 01 Jan 1948",
                "score 100",
                "2021-12-15",
                "recent-actions/20211215",
            ),
        ),
        Case(
            "news",
            render_alert(n),
            "[watcher] NEWS from The Guardian: Trump State of the Union address",
            (
                "Trump State of the Union address",
                "state-of-the-union",
                "keyword",
                "https://www.theguardian.com/us-news/2018/jan/31/",
            ),
        ),
        Case(
            "digest",
            render_digest([m, z, p], "2021-12-16"),
            "[watcher] Digest 2021-12-16: 3 changes (1 added, 1 modified, 1 removed)",
            (
                "ZAKIR, Shohrat",
                "ZAMBADA GARCIA, Ismael",
                "PLAZA REAL LTDA.",
                "1/3",
                "3/3",
                SDN_RECENT_ACTION,
                "added ILLICIT-DRUGS-EO",
            ),
        ),
        Case(
            "operator",
            render_operator(operator_event()),
            "[watcher][operator] snapshot_rejected ofac_sdn: empty download rejected",
            ("empty download rejected", "14,965", "2024-05-04 06:00 UTC", "ofac_sdn"),
        ),
    ]


@pytest.mark.parametrize("case", cases(), ids=lambda c: c.name)
def test_rendering_carries_the_facts_in_every_format(case: Case) -> None:
    r = case.rendered
    assert r.title.startswith(case.title_start)
    assert "\n" not in r.title
    for fact in case.facts:
        assert fact in r.text, fact
        assert fact in r.markdown, fact
        assert fact in r.html, fact


def test_digest_lists_events_oldest_first() -> None:
    text = render_digest([zambada(), zakir(), plaza_real()], "x").text
    positions = [text.index(name) for name in ("PLAZA REAL", "ZAKIR, Shohrat", "ZAMBADA")]
    assert positions == sorted(positions)


def test_empty_digest_says_so() -> None:
    r = render_digest([], "2021-12-16")
    assert r.title == "[watcher] Digest 2021-12-16: 0 changes"
    assert "Nothing matched" in r.text and "Nothing matched" in r.html


def test_markup_in_names_is_escaped_per_format() -> None:
    event = replace(zakir(), name='ACME <script>alert("x")</script> & Sons')
    r = render_alert(event)
    assert "<script>" not in r.html
    assert "&lt;script&gt;" in r.html and "&amp; Sons" in r.html
    assert "&lt;script&gt;" in r.markdown and "&amp; Sons" in r.markdown  # Slack control chars
    assert '<script>alert("x")</script> & Sons' in r.text
    assert '<script>alert("x")</script> & Sons' in r.title


def test_slack_markdown_uses_mrkdwn_bold_and_links() -> None:
    md = render_alert(zakir()).markdown
    assert "*ZAKIR, Shohrat*" in md
    assert f"<{SDN_RECENT_ACTION}|" in md
    assert "**" not in md


def test_operator_template_override_by_file_name(tmp_path: Path) -> None:
    (tmp_path / "operator.subject.j2").write_text("OPS {{ event.kind }}!")
    r = render_operator(operator_event(), templates_dir=tmp_path)
    assert r.title == "OPS snapshot_rejected!"
    assert "14,965" in r.text  # not overridden: the packaged template is used


# --- delivery --------------------------------------------------------------------------------


@pytest.fixture
def debug_logs(caplog: pytest.LogCaptureFixture) -> pytest.LogCaptureFixture:
    """Capture everything the libraries log, where a leaked secret would show up."""
    for name in ("apprise", "urllib3", "httpx", "watcher"):
        caplog.set_level(logging.DEBUG, logger=name)
    return caplog


def test_email_has_subject_both_parts_link_and_reason(smtp_receiver: SmtpReceiver) -> None:
    rendered = render_alert(zakir())
    result = deliver(smtp_receiver.url(), rendered, timeout=10)
    assert result == _deliver.DeliveryResult(ok=True, error=None)
    [mail] = smtp_receiver.messages
    assert mail.login == smtp_receiver.user  # SMTP AUTH really happened
    assert mail.rcpt_tos == ("compliance@example.org",)
    assert mail.message["Subject"] == rendered.title
    assert "watcher@example.org" in mail.message["From"]
    assert mail.message["To"] == "compliance@example.org"
    assert mail.message.get_content_type() == "multipart/alternative"
    plain, html = mail.part("text/plain"), mail.part("text/html")
    for part in (plain, html):
        assert SDN_RECENT_ACTION in part
        assert "ZAKIR, Shohrat" in part
        assert "XINJIANG PUBLIC SECURITY BUREAU" in part and "topic-remarks" in part
    assert f'href="{SDN_RECENT_ACTION}"' in html
    assert "<" not in plain  # a real plain-text part, not HTML


def test_email_auth_failure_is_reported_without_password(
    smtp_receiver: SmtpReceiver, debug_logs: pytest.LogCaptureFixture
) -> None:
    result = deliver(smtp_receiver.url(password=PASSWORD), render_alert(zakir()), timeout=10)
    assert not result.ok
    assert result.error is not None and "Authentication credentials invalid" in result.error
    assert PASSWORD not in result.error
    assert PASSWORD not in debug_logs.text
    assert smtp_receiver.messages == []


def test_json_webhook_receives_apprise_payload(http_receiver: HttpReceiver) -> None:
    rendered = render_alert(zakir())
    result = deliver(f"json://127.0.0.1:{http_receiver.port}/hooks/{TOKEN}", rendered)
    assert result.ok and result.error is None
    [request] = http_receiver.requests
    assert request.path == f"/hooks/{TOKEN}"
    body = request.json()
    assert body["title"] == rendered.title
    assert body["message"] == rendered.text.strip()
    assert body["type"] == "info"
    assert SDN_RECENT_ACTION in body["message"]


def test_json_webhook_failure_hides_token_and_password(
    http_receiver: HttpReceiver, debug_logs: pytest.LogCaptureFixture
) -> None:
    http_receiver.fail(1)
    url = f"json://alerts:{PASSWORD}@127.0.0.1:{http_receiver.port}/hooks/{TOKEN}"
    failed = deliver(url, render_alert(zakir()))
    assert not failed.ok
    assert failed.error is not None and "500" in failed.error
    for secret in (TOKEN, PASSWORD, url):
        assert secret not in failed.error
        assert secret not in debug_logs.text
    assert any(r.name == "apprise" for r in debug_logs.records)  # logs were there to check
    retried = deliver(url, render_alert(zakir()))
    assert retried.ok
    assert len(http_receiver.requests) == 2


def test_unreachable_webhook_error_masks_the_path(debug_logs: pytest.LogCaptureFixture) -> None:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]  # closed after the block: nothing listens there
    result = deliver(f"json://127.0.0.1:{port}/hooks/{TOKEN}", render_alert(zakir()), timeout=5)
    assert not result.ok
    assert result.error is not None and "Connection" in result.error
    assert TOKEN not in result.error and TOKEN not in debug_logs.text


def test_slow_channel_is_cut_off_by_the_timeout(http_receiver: HttpReceiver) -> None:
    http_receiver.set_delay(3)
    result = deliver(f"json://127.0.0.1:{http_receiver.port}/slow", render_alert(zakir()), 0.5)
    assert not result.ok
    assert result.error is not None and "TIMEOUT" in result.error
    assert "no answer within 0.5s" in result.error


@pytest.mark.parametrize(
    "url", [f"nosuchscheme://{TOKEN}@host/x", "json://", "", f"mailto://{TOKEN}"]
)
def test_invalid_url_is_refused_without_echoing_it(
    url: str, debug_logs: pytest.LogCaptureFixture
) -> None:
    result = deliver(url, render_alert(zakir()))
    assert result == _deliver.DeliveryResult(ok=False, error="invalid apprise URL")
    assert TOKEN not in debug_logs.text


def test_slack_compatible_endpoint_gets_slack_payload(http_receiver: HttpReceiver) -> None:
    rendered = render_alert(zakir())
    url = f"slack+http://127.0.0.1:{http_receiver.port}/services/{TOKEN}"
    assert deliver(url, rendered).ok
    [request] = http_receiver.requests
    assert request.path == f"/services/{TOKEN}"
    assert request.headers["Content-Type"] == "application/json"
    payload = request.json()
    assert payload == slack_payload(rendered)
    assert payload["text"] == rendered.title
    header, *sections = payload["blocks"]
    assert header == {
        "type": "header",
        "text": {"type": "plain_text", "text": rendered.title, "emoji": True},
    }
    assert sections and all(s["type"] == "section" for s in sections)
    assert all(s["text"]["type"] == "mrkdwn" for s in sections)
    joined = "\n".join(s["text"]["text"] for s in sections)
    assert "*ZAKIR, Shohrat*" in joined and f"<{SDN_RECENT_ACTION}|" in joined


def test_slack_compatible_endpoint_failure(
    http_receiver: HttpReceiver, debug_logs: pytest.LogCaptureFixture
) -> None:
    http_receiver.fail(1, status=503)
    url = f"slack+http://127.0.0.1:{http_receiver.port}/services/{TOKEN}"
    result = deliver(url, render_alert(zakir()))
    assert result == _deliver.DeliveryResult(False, "Slack webhook answered HTTP 503: failure")
    assert TOKEN not in debug_logs.text
    assert any(r.name == "httpx" for r in debug_logs.records)


def test_slack_payload_respects_block_limits() -> None:
    events = [replace(zambada(), id=f"e{i}") for i in range(40)]
    payload = slack_payload(render_digest(events, "big"))
    assert len(payload["blocks"]) <= 50
    assert all(len(b["text"]["text"]) <= 3000 for b in payload["blocks"])
    assert len(payload["blocks"][0]["text"]["text"]) <= 150


@pytest.mark.parametrize("blocks", ["no", "yes"])
def test_apprise_slack_plugin_delivers_our_mrkdwn_unchanged(
    http_receiver: HttpReceiver, blocks: str
) -> None:
    """apprise's own Slack plugin, pointed at the local receiver instead of hooks.slack.com
    (its webhook base is a plain attribute). Our mrkdwn must arrive exactly as rendered, in
    both payload modes: the default attachments mode re-escapes & < > itself, blocks mode
    does not, and a declared MARKDOWN format would turn *bold* into _italic_."""
    url = f"slack://{TOKEN}/BTOKEN0002/CTOKEN00000000000003?blocks={blocks}"
    plugin = apprise.Apprise.instantiate(url)
    assert plugin is not None
    setattr(plugin, "webhook_url", f"http://127.0.0.1:{http_receiver.port}/services")  # noqa: B010
    rendered = render_alert(replace(zakir(), name="AT&T <script>x</script> Ltd."))
    assert "*AT&amp;T &lt;script&gt;x&lt;/script&gt; Ltd.*" in rendered.markdown
    assert _deliver._notify_plugin(plugin, rendered, timeout=10).ok
    [request] = http_receiver.requests
    assert request.path == f"/services/{TOKEN}/BTOKEN0002/CTOKEN00000000000003"
    attachment = request.json()["attachments"][0]
    if blocks == "yes":
        section = next(b for b in attachment["blocks"] if b["type"] == "section")
        assert section["text"] == {"type": "mrkdwn", "text": rendered.markdown}
    else:
        assert request.json()["mrkdwn"] is True
        assert attachment["text"] == rendered.markdown


@pytest.mark.parametrize(
    ("text", "kept", "gone"),
    [
        (
            "POST https://hooks.slack.com/services/T1JJ3T3L2/A1BRTD4JD/TIiajkdnlazkcOXrIdevi7",
            "https://hooks.slack.com/services/",
            "T1JJ3T3L2",
        ),
        (
            "mailto://user:hunter2pw@smtp.example.org:587?to=a@b.org",
            "smtp.example.org:587",
            "hunter2pw",
        ),
        ("slack://TokenAAAA1/TokenBBBB2/TokenCCCC3/#alerts", "slack://", "TokenAAAA1"),
        ("json://127.0.0.1:8080/hook?token=abc123secret", "127.0.0.1:8080", "abc123secret"),
        ("see https://ofac.treasury.gov/recent-actions/20211210", "recent-actions/20211210", "***"),
        ("Authorization: Bearer eyJhbGciOi.xyz", "Bearer ***", "eyJhbGciOi"),
        ("invalid_auth for xoxb-1234-5678-abcdEFGH", "xox?-***", "abcdEFGH"),
    ],
)
def test_redact(text: str, kept: str, gone: str) -> None:
    out = redact(text)
    assert kept in out
    assert gone not in out


def test_mask_secrets_hides_every_part_of_a_channel_url() -> None:
    url = f"json://alerts:{PASSWORD}@hooks.example.org:8443/in/{TOKEN}?key=Q1w2E3r4T5y6"
    text = f"failed for {url}; retried /in/{TOKEN} with {PASSWORD!r} and key Q1w2E3r4T5y6"
    out = _deliver.mask_secrets(text, _deliver.url_secrets(url))
    for secret in (PASSWORD, TOKEN, "Q1w2E3r4T5y6"):
        assert secret not in out
    assert "hooks.example.org:8443" in out  # the server name stays: it helps and is no secret

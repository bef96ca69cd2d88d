"""Delivery of one rendered message to one channel URL.

A channel URL is a secret (it carries webhook tokens and SMTP passwords), so nothing derived
from it reaches an error string or a log record unmasked: `deliver` masks the URL's own parts
exactly while it runs, and `redact` (watcher.secrets, shared with logging) masks anything URL-
or token-shaped.
"""

from __future__ import annotations

import itertools
import logging
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from functools import lru_cache
from typing import Any

import httpx

from watcher.alerts.render import Rendered, mrkdwn_escape
from watcher.http import retry_after
from watcher.secrets import mask_secrets, redact, url_secrets

SLACK_HTTP_PREFIXES = ("slack+http://", "slack+https://")
MAX_ERROR_CHARS = 500
RETRY_AFTER_STATUSES = frozenset({429, 503})  # answers whose Retry-After we honour
__all__ = [
    "DeliveryResult",
    "deliver",
    "mask_secrets",
    "redact",
    "slack_payload",
    "url_secrets",
]

# Loggers that may print a channel URL or its path while a delivery runs.
_FILTERED_LOGGERS = ("apprise", "urllib3.connectionpool", "httpx")


@dataclass(frozen=True)
class DeliveryResult:
    """Outcome of one delivery attempt; `error` is safe to store and show (no secrets).
    `retry_after`: seconds the channel asked us to wait before the next attempt (Retry-After
    on a 429 or 503; only channels whose answer we read ourselves can say so)."""

    ok: bool
    error: str | None = None
    retry_after: float | None = None


# --- masking third-party log records during a delivery ---------------------------------


_ACTIVE_LOCK = threading.Lock()
_ACTIVE: dict[int, frozenset[str]] = {}
_COUNTER = itertools.count()
_FILTER_INSTALLED = False


class _SecretFilter(logging.Filter):
    """Masks secrets of in-flight deliveries in third-party log records, before any handler
    (pytest's caplog, apprise's own capture, the app's log file) sees them."""

    def filter(self, record: logging.LogRecord) -> bool:
        with _ACTIVE_LOCK:
            secrets = frozenset().union(*_ACTIVE.values()) if _ACTIVE else frozenset()
        if not secrets and record.name != "apprise":
            return True
        try:
            message = record.getMessage()
        except (TypeError, ValueError):
            return True
        clean = mask_secrets(message, secrets)
        if clean != message:
            record.msg, record.args = clean, None
        return True


def _install_filter() -> None:
    global _FILTER_INSTALLED
    with _ACTIVE_LOCK:
        if _FILTER_INSTALLED:
            return
        for name in _FILTERED_LOGGERS:
            logging.getLogger(name).addFilter(_SecretFilter())
        _FILTER_INSTALLED = True


@contextmanager
def _masking(secrets: frozenset[str]) -> Iterator[None]:
    _install_filter()
    with _ACTIVE_LOCK:
        token = next(_COUNTER)
        _ACTIVE[token] = secrets
    try:
        yield
    finally:
        with _ACTIVE_LOCK:
            del _ACTIVE[token]


# --- Slack payload (own Slack-compatible endpoint) ------------------------------------------


def _chunks(text: str, limit: int) -> Iterator[str]:
    """Split at line boundaries into pieces of at most `limit` characters."""
    current = ""
    for line in text.splitlines(keepends=True):
        while len(line) > limit:
            if current:
                yield current
                current = ""
            yield line[:limit]
            line = line[limit:]
        if len(current) + len(line) > limit:
            yield current
            current = ""
        current += line
    if current.strip():
        yield current


def slack_payload(rendered: Rendered) -> dict[str, Any]:
    """Slack incoming-webhook JSON: `text` (notification fallback) plus Block Kit blocks:
    a plain-text header and mrkdwn sections (Slack limits: 150 / 3000 chars, 50 blocks)."""
    header = rendered.title if len(rendered.title) <= 150 else rendered.title[:149] + "…"
    blocks: list[dict[str, Any]] = [
        {"type": "header", "text": {"type": "plain_text", "text": header, "emoji": True}}
    ]
    for chunk in _chunks(rendered.markdown.strip(), 3000):
        blocks.append({"type": "section", "text": {"type": "mrkdwn", "text": chunk.strip()}})
    if len(blocks) > 50:
        blocks = blocks[:49]
        note = "_(message truncated; see the other channels or `watcher changes`)_"
        blocks.append({"type": "section", "text": {"type": "mrkdwn", "text": note}})
    return {"text": mrkdwn_escape(rendered.title), "blocks": blocks}


@lru_cache(maxsize=1)
def _http_client() -> httpx.Client:
    """One shared client: building an SSL context per request costs ~40 ms."""
    return httpx.Client(follow_redirects=False)


def _post_slack(url: str, rendered: Rendered, timeout: float) -> DeliveryResult:
    target = url.split("+", 1)[1]
    try:
        response = _http_client().post(target, json=slack_payload(rendered), timeout=timeout)
    except httpx.HTTPError as exc:
        return DeliveryResult(False, f"Slack webhook request failed: {type(exc).__name__}: {exc}")
    if 200 <= response.status_code < 300:
        return DeliveryResult(True)
    detail = response.text[:200].strip()
    error = f"Slack webhook answered HTTP {response.status_code}: {detail}"
    wait = None
    if response.status_code in RETRY_AFTER_STATUSES:
        wait = retry_after(response.headers.get("Retry-After"), date=response.headers.get("Date"))
        if wait is not None:
            error += f"; Retry-After {wait:.0f} s"
    return DeliveryResult(False, error, retry_after=wait)


# --- apprise ---------------------------------------------------------------------------------


def _protocols(plugin: Any) -> set[str]:
    found: set[str] = set()
    for attr in ("protocol", "secure_protocol"):
        value = getattr(plugin, attr, None)
        values = (value,) if isinstance(value, str) else tuple(value or ())
        found.update(str(v).lower() for v in values)
    return found


def _mrkdwn_unescape(text: str) -> str:
    return text.replace("&lt;", "<").replace("&gt;", ">").replace("&amp;", "&")


def _body_for(plugin: Any, rendered: Rendered) -> tuple[str, str | None]:
    """Body and declared format per channel. Slack gets our mrkdwn with format None, which
    apprise passes through; declared MARKDOWN would be read as CommonMark and `*bold*`
    re-written to `_italic_`. Email gets HTML, for which apprise builds multipart/alternative
    (text/plain derived from the HTML). Everything else gets plain text."""
    import apprise

    protocols = _protocols(plugin)
    if "slack" in protocols:
        if getattr(plugin, "use_blocks", False):
            return rendered.markdown, None
        # Legacy attachments mode (apprise's default) escapes & < > itself, restoring
        # <url|label> links; hand it the unescaped text so Slack shows "&" and not "&amp;".
        return _mrkdwn_unescape(rendered.markdown), None
    if protocols & {"mailto", "mailtos"}:
        return rendered.html, apprise.NotifyFormat.HTML
    return rendered.text, apprise.NotifyFormat.TEXT


def _apprise_error(result: Any, timeout: float) -> str:
    status = getattr(getattr(result, "status", None), "name", "FAILURE")
    lines: list[str] = []
    for entry in result.logs():
        message = str(entry.message).strip()
        useful = entry.level not in ("DEBUG", "TRACE", "INFO") or message.startswith(
            ("Socket Exception", "Response Details")
        )
        if useful and message and message not in lines:
            lines.append(" ".join(message.split())[:300])
    if status == "TIMEOUT":
        lines.insert(0, f"no answer within {timeout:g}s")
    return f"apprise {status}: " + ("; ".join(lines) or "no details logged")


def _notify_apprise(url: str, rendered: Rendered, timeout: float) -> DeliveryResult:
    import apprise  # on first delivery: its plugins cost an idle daemon ~4 MB

    plugin = apprise.Apprise.instantiate(url)
    if plugin is None:
        return DeliveryResult(False, "invalid apprise URL")
    return _notify_plugin(plugin, rendered, timeout)


def _notify_plugin(plugin: Any, rendered: Rendered, timeout: float) -> DeliveryResult:
    """Send through one instantiated apprise plugin and check its result."""
    import apprise

    # notify(timeout=) bounds the whole call and reports TIMEOUT; the socket timeouts, a
    # little longer, make the worker apprise abandons at that deadline finish soon after.
    plugin.socket_connect_timeout = timeout + 1.0
    plugin.socket_read_timeout = timeout + 1.0
    body, body_format = _body_for(plugin, rendered)
    channel = apprise.Apprise()
    channel.add(plugin)
    try:
        result = channel.notify(
            body=body,
            title=rendered.title,
            body_format=body_format,
            timeout=timeout,
            log_level=logging.DEBUG,
        )
    except Exception as exc:  # third-party plugin code: a bug in it must
        # become a failed delivery with a masked message, not a traceback holding the URL.
        return DeliveryResult(False, f"apprise raised {type(exc).__name__}: {exc}")
    if result:
        return DeliveryResult(True)
    return DeliveryResult(False, _apprise_error(result, timeout))


def deliver(url: str, rendered: Rendered, timeout: float = 30) -> DeliveryResult:
    """Send one rendered message to one channel URL; never raises for channel failures and
    never puts the URL (or its tokens) into the error or the logs."""
    secrets = url_secrets(url)
    with _masking(secrets):
        if url.strip().lower().startswith(SLACK_HTTP_PREFIXES):
            result = _post_slack(url.strip(), rendered, timeout)
        else:
            result = _notify_apprise(url.strip(), rendered, timeout)
    if result.error is None:
        return result
    error = mask_secrets(result.error, secrets)
    if len(error) > MAX_ERROR_CHARS:
        error = error[: MAX_ERROR_CHARS - 1] + "…"
    return DeliveryResult(result.ok, error, result.retry_after)

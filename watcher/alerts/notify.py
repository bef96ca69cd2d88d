"""Alert messages: rendering (Jinja2 template files) and delivery (apprise) of one message.

Pure building blocks for the outbox dispatcher, which owns retries and state:

    render_alert(AlertEvent)            one matched change        -> Rendered
    render_digest([AlertEvent], label)  a subscriber's period      -> Rendered
    render_operator(OperatorEvent)      the watcher in trouble     -> Rendered
    deliver(url, Rendered, timeout)     one channel, one attempt   -> DeliveryResult(ok, error,
                                                                      retry_after)

Formats per channel: Slack (`slack://...`, `https://hooks.slack.com/...`) gets Slack mrkdwn,
email (`mailto://`, `mailtos://`) gets HTML, which apprise sends as multipart/alternative with a
text/plain part it derives from the HTML (apprise cannot take a separate plain body, so the
HTML templates show every link's URL as its text: the plain part keeps the link). Everything
else (`json://`, `form://`, ...) gets plain text.

`slack+http://host:port/path` and `slack+https://...` are watcher's own scheme for a
Slack-compatible incoming webhook that is not hooks.slack.com (a proxy, a test receiver):
apprise's Slack plugin always posts to hooks.slack.com, so this path POSTs `slack_payload()`
with httpx and succeeds on 2xx. `slack://` itself still goes through apprise.

Retry-After: only this path reads the answer's headers. A 429 or 503 from it carries
`Retry-After` (delta-seconds or an HTTP-date; read by `watcher.http.retry_after`, as for
fetches) in `DeliveryResult.retry_after`, and the dispatcher does not try that channel again
before then.
apprise channels (`json://`, `slack://`, hooks.slack.com, email, ...) report only success or
failure, never the response's headers, so a 429 there gets the normal backoff.

Templates live in `watcher/templates/` as `{alert,digest,operator}.{subject,txt,md,html}.j2`
(plus `_event.*.j2` partials). Pass `templates_dir` to override any of them by file name.

Channel URLs are secrets: `deliver` reports errors and lets apprise/urllib3/httpx log only with
the URL's parts masked; `redact()` masks URL credentials and tokens in any text.
"""

from __future__ import annotations

from watcher.alerts.deliver import DeliveryResult, deliver, slack_payload
from watcher.alerts.render import (
    AlertEvent,
    AlertKind,
    OperatorEvent,
    Rendered,
    render_alert,
    render_digest,
    render_operator,
)
from watcher.secrets import redact

__all__ = [
    "AlertEvent",
    "AlertKind",
    "DeliveryResult",
    "OperatorEvent",
    "Rendered",
    "deliver",
    "redact",
    "render_alert",
    "render_digest",
    "render_operator",
    "slack_payload",
]

"""Logging: JSON lines when not on a terminal (for collectors), readable text on a terminal.

Every record passes through a redactor, so secrets that slip into a message (apprise URLs,
tokens) never reach the log.
"""

from __future__ import annotations

import json
import logging
import re
import sys
from datetime import UTC, datetime

_SECRETS = [
    (re.compile(r"(?i)\b([a-z][a-z0-9+.-]*://)([^/\s:@]+):([^@\s/]+)@"), r"\1\2:***@"),
    (re.compile(r"hooks\.slack\.com/services/[A-Za-z0-9/]+"), "hooks.slack.com/services/***"),
    (re.compile(r"\bxox[abposr]-[A-Za-z0-9-]+"), "xox?-***"),
    (re.compile(r"(?i)(token|password|passwd|secret|apikey|api_key|key)=([^&\s]+)"), r"\1=***"),
    (
        re.compile(
            r"(?i)\b(slack|discord|msteams|tgram|pover|json|jsons|form|forms|mailto|mailtos)://[^\s]+"
        ),
        r"\1://***",
    ),
]


def redact(text: str) -> str:
    for pattern, repl in _SECRETS:
        text = pattern.sub(repl, text)
    return text


class _Redacting(logging.Filter):
    def filter(self, record: logging.LogRecord) -> bool:
        record.msg = redact(record.getMessage())
        record.args = None
        return True


class _JsonFormatter(logging.Formatter):
    _STD = set(logging.LogRecord("", 0, "", 0, "", None, None).__dict__) | {"message"}

    def format(self, record: logging.LogRecord) -> str:
        data = {
            "ts": datetime.fromtimestamp(record.created, UTC).isoformat(),
            "level": record.levelname.lower(),
            "logger": record.name,
            "msg": record.getMessage(),
        }
        data.update({k: v for k, v in record.__dict__.items() if k not in self._STD})
        if record.exc_info:
            data["exc"] = redact(self.formatException(record.exc_info))
        return json.dumps(data, default=str, ensure_ascii=False)


def configure_logging(level: int = logging.INFO, json_lines: bool | None = None) -> None:
    handler = logging.StreamHandler(sys.stderr)
    use_json = (not sys.stderr.isatty()) if json_lines is None else json_lines
    handler.setFormatter(
        _JsonFormatter()
        if use_json
        else logging.Formatter("%(asctime)s %(levelname)s %(name)s: %(message)s")
    )
    handler.addFilter(_Redacting())
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(level)
    for noisy in ("httpx", "httpcore", "apscheduler.executors", "alembic.runtime.migration"):
        logging.getLogger(noisy).setLevel(logging.WARNING)

"""Real local receivers for delivery tests: an SMTP server and an HTTP endpoint on loopback.

Both record what they receive so tests can assert on the bytes a channel really got. Use them
as pytest fixtures (`smtp_receiver`, `http_receiver`) by listing this module in
`pytest_plugins`, or directly as context managers (benchmarks, end-to-end scripts).
"""

from __future__ import annotations

import json
import socket
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from email import message_from_bytes, policy
from email.message import EmailMessage
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest
from aiosmtpd.controller import Controller
from aiosmtpd.smtp import SMTP as SMTPServer
from aiosmtpd.smtp import AuthResult, Envelope, LoginPassword, Session


@dataclass(frozen=True)
class ReceivedMail:
    """One message as the SMTP server accepted it."""

    mail_from: str
    rcpt_tos: tuple[str, ...]
    message: EmailMessage
    login: str | None

    def part(self, content_type: str) -> str:
        """The decoded body of the first MIME part of this type ("text/plain", "text/html")."""
        for sub in self.message.walk():
            if sub.get_content_type() == content_type and not sub.is_multipart():
                content = sub.get_content()
                return str(content)
        raise KeyError(content_type)


class _MailHandler:
    def __init__(self, sink: list[ReceivedMail]) -> None:
        self.sink = sink

    async def handle_DATA(self, server: SMTPServer, session: Session, envelope: Envelope) -> str:
        raw = envelope.original_content or b""
        msg = message_from_bytes(raw, policy=policy.default)
        assert isinstance(msg, EmailMessage)
        login = session.auth_data.login.decode() if session.auth_data else None
        self.sink.append(
            ReceivedMail(
                mail_from=str(envelope.mail_from),
                rcpt_tos=tuple(envelope.rcpt_tos),
                message=msg,
                login=login,
            )
        )
        return "250 Message accepted for delivery"


def free_port() -> int:
    """A currently free TCP port on 127.0.0.1 (aiosmtpd's readiness probe cannot use port 0)."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


class SmtpReceiver:
    """An aiosmtpd server on 127.0.0.1 that accepts AUTH (without TLS) for one user/password."""

    def __init__(self, user: str = "watcher", password: str = "s3cret-smtp-pass") -> None:
        self.user = user
        self.password = password
        self.messages: list[ReceivedMail] = []
        self.host = "127.0.0.1"
        self.port = free_port()
        self._controller = Controller(
            _MailHandler(self.messages),
            hostname=self.host,
            port=self.port,
            authenticator=self._authenticate,
            auth_require_tls=False,
        )

    def _authenticate(
        self, server: SMTPServer, session: Session, envelope: Envelope, mechanism: str, data: Any
    ) -> AuthResult:
        ok = (
            isinstance(data, LoginPassword)
            and data.login.decode() == self.user
            and data.password.decode() == self.password
        )
        return AuthResult(success=ok, handled=False, auth_data=data if ok else None)

    def url(self, to: str = "compliance@example.org", password: str | None = None) -> str:
        """An apprise mailto:// URL for plain SMTP (no TLS) on this server's custom port."""
        secret = self.password if password is None else password
        return (
            f"mailto://{self.user}:{secret}@{self.host}:{self.port}"
            f"?smtp={self.host}&mode=insecure&from=watcher@example.org&to={to}"
        )

    def start(self) -> SmtpReceiver:
        self._controller.start()
        return self

    def stop(self) -> None:
        self._controller.stop()

    def __enter__(self) -> SmtpReceiver:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()


@dataclass(frozen=True)
class ReceivedRequest:
    """One HTTP request as the receiver saw it."""

    method: str
    path: str
    headers: dict[str, str]
    body: bytes

    def json(self) -> Any:
        return json.loads(self.body)


@dataclass
class _Behaviour:
    """Mutable knobs shared with the handler thread (guarded by the lock)."""

    fail_remaining: int = 0
    fail_status: int = 500
    retry_after: str | None = None
    delay: float = 0.0
    lock: threading.Lock = field(default_factory=threading.Lock)


class HttpReceiver:
    """A threaded HTTP server on 127.0.0.1:0 that records requests and answers 200.

    `fail(n)` makes the next n requests answer 500 (or `status`), with a `Retry-After` header
    when `retry_after` is given (sent verbatim: seconds, an HTTP-date or garbage); `delay`
    slows every answer, to stand in for a slow channel. `answered` holds the requests whose
    answer was written (a sender killed during the delay has `requests` without `answered`: it
    never saw the 200); `on_answer`, if set, is called with each right after its answer is
    written.
    """

    def __init__(self) -> None:
        self.requests: list[ReceivedRequest] = []
        self.answered: list[ReceivedRequest] = []
        self.on_answer: Callable[[ReceivedRequest], None] | None = None
        self._behaviour = _Behaviour()
        self._server = ThreadingHTTPServer(("127.0.0.1", 0), self._handler_class())
        self._server.daemon_threads = True
        self.host = "127.0.0.1"
        self.port = int(self._server.server_address[1])
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)

    def fail(self, times: int, status: int = 500, retry_after: str | None = None) -> None:
        with self._behaviour.lock:
            self._behaviour.fail_remaining = times
            self._behaviour.fail_status = status
            self._behaviour.retry_after = retry_after

    def set_delay(self, seconds: float) -> None:
        with self._behaviour.lock:
            self._behaviour.delay = seconds

    def _next_answer(self) -> tuple[int, str | None, float]:
        """(status, Retry-After or None, delay) for the next request."""
        with self._behaviour.lock:
            delay = self._behaviour.delay
            if self._behaviour.fail_remaining > 0:
                self._behaviour.fail_remaining -= 1
                return self._behaviour.fail_status, self._behaviour.retry_after, delay
            return 200, None, delay

    def _handler_class(self) -> type[BaseHTTPRequestHandler]:
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                length = int(self.headers.get("Content-Length") or 0)
                body = self.rfile.read(length)
                request = ReceivedRequest("POST", self.path, dict(self.headers.items()), body)
                receiver.requests.append(request)
                status, retry_after, delay = receiver._next_answer()
                if delay:
                    time.sleep(delay)
                payload = b"ok" if status < 300 else b"failure"
                self.send_response(status)
                if retry_after is not None:
                    self.send_header("Retry-After", retry_after)
                self.send_header("Content-Type", "text/plain")
                self.send_header("Content-Length", str(len(payload)))
                self.end_headers()
                try:
                    self.wfile.write(payload)
                    self.wfile.flush()
                except (BrokenPipeError, ConnectionResetError):
                    return  # the sender is gone (killed, timed out): it never saw the answer
                receiver.answered.append(request)
                if receiver.on_answer is not None:
                    receiver.on_answer(request)

            do_PUT = do_POST

            def log_message(self, format: str, *args: Any) -> None:
                pass  # keep test output quiet; requests are recorded instead

        return Handler

    def start(self) -> HttpReceiver:
        self._thread.start()
        return self

    def stop(self) -> None:
        self._server.shutdown()
        self._server.server_close()

    def __enter__(self) -> HttpReceiver:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()


@pytest.fixture
def smtp_receiver() -> Iterator[SmtpReceiver]:
    """A running SMTP server on loopback; `.messages` holds what it accepted."""
    with SmtpReceiver() as receiver:
        yield receiver


@pytest.fixture
def http_receiver() -> Iterator[HttpReceiver]:
    """A running HTTP receiver on loopback; `.requests` holds what it got."""
    with HttpReceiver() as receiver:
        yield receiver

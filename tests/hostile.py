"""A loopback HTTP server that misbehaves on request: for HTTP client and reliability tests.

Each path gets a `Reply`: a status, a body (repeated to make huge streams without holding
them), headers, a pause between chunks (a dripping server) and a declared Content-Length that
may lie. Requests are counted per path so tests can assert retries.
"""

from __future__ import annotations

import threading
import time
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest


@dataclass(frozen=True)
class Reply:
    status: int = 200
    body: bytes = b""
    headers: tuple[tuple[str, str], ...] = ()
    repeat: int = 1  # the body is sent this many times (a stream far larger than memory)
    chunk: int = 64 * 1024  # bytes per write
    pause: float = 0.0  # seconds between writes (1 byte a second: chunk=1, pause=1)
    length: int | None = None  # declared Content-Length; None: the true length; -1: none


class HostileServer:
    """Serves `Reply`s by path on 127.0.0.1:0; `.hits` counts requests per path, `.served`
    lists (path, reply) as each request got its answer (which version a changing file gave)."""

    def __init__(self) -> None:
        self.replies: dict[str, Reply] = {}
        self.hits: Counter[str] = Counter()
        self.served: list[tuple[str, Reply]] = []
        self._server = ThreadingHTTPServer(("127.0.0.1", 0), self._handler())
        self._server.daemon_threads = True
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)

    @property
    def base(self) -> str:
        return f"http://127.0.0.1:{self._server.server_address[1]}"

    def serve(self, path: str, reply: Reply) -> str:
        self.replies["/" + path.lstrip("/")] = reply
        return self.url(path)

    def url(self, path: str) -> str:
        return f"{self.base}/{path.lstrip('/')}"

    def _handler(self) -> type[BaseHTTPRequestHandler]:
        server = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def do_GET(self) -> None:  # noqa: N802
                path = self.path.split("?", 1)[0]
                server.hits[path] += 1
                reply = server.replies.get(path, Reply(404, b"not found"))
                server.served.append((path, reply))
                total = len(reply.body) * reply.repeat
                self.send_response(reply.status)
                for key, value in reply.headers:
                    self.send_header(key, value)
                if reply.length != -1:
                    declared = total if reply.length is None else reply.length
                    self.send_header("Content-Length", str(declared))
                self.send_header("Connection", "close")
                self.end_headers()
                try:
                    for piece in _pieces(reply):
                        self.wfile.write(piece)
                        self.wfile.flush()
                        if reply.pause:
                            time.sleep(reply.pause)
                except (BrokenPipeError, ConnectionResetError):
                    pass  # the client gave up: what the tests want
                self.close_connection = True

            def log_message(self, format: str, *args: Any) -> None:  # noqa: A002
                pass

        return Handler

    def start(self) -> HostileServer:
        self._thread.start()
        return self

    def stop(self) -> None:
        self._server.shutdown()
        self._server.server_close()

    def __enter__(self) -> HostileServer:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()


def _pieces(reply: Reply) -> Iterator[bytes]:
    for _ in range(reply.repeat):
        for start in range(0, len(reply.body), reply.chunk):
            yield reply.body[start : start + reply.chunk]


@pytest.fixture
def hostile_server() -> Iterator[HostileServer]:
    with HostileServer() as server:
        yield server

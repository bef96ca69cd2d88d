"""The one HTTP client: timeouts, retries with backoff, redirects, conditional GET, size cap.

Sources never fetch; the pipeline calls `fetch()` for each file a source plans. Tests swap
the transport (httpx's single extension point) or point URLs at a local server.
"""

from __future__ import annotations

import random
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlparse
from urllib.request import url2pathname

import httpx

from watcher.config import FetchSettings
from watcher.errors import PermanentFetchError, TransientFetchError

RETRY_STATUSES = frozenset({408, 425, 429, 500, 502, 503, 504})


@dataclass(frozen=True)
class Validators:
    """What a server told us last time, for a conditional GET."""

    etag: str | None = None
    last_modified: str | None = None


@dataclass(frozen=True)
class Response:
    url: str
    status: int  # 200, or 304 when the server says "not modified"
    content: bytes
    etag: str | None
    last_modified: str | None
    content_type: str | None

    @property
    def not_modified(self) -> bool:
        return self.status == 304


def make_client(
    settings: FetchSettings, transport: httpx.BaseTransport | None = None
) -> httpx.Client:
    return httpx.Client(
        timeout=httpx.Timeout(settings.timeout, connect=min(settings.timeout, 20.0)),
        follow_redirects=True,
        max_redirects=10,
        headers={"User-Agent": settings.user_agent, "Accept-Encoding": "gzip, deflate"},
        transport=transport,
    )


def fetch(
    client: httpx.Client,
    url: str,
    settings: FetchSettings,
    validators: Validators | None = None,
    sleep: Callable[[float], None] = time.sleep,
) -> Response:
    """GET with retries on transient failures; raises a FetchError subclass otherwise."""
    if url.startswith("file://"):
        return _read_file(url, settings.max_bytes)
    headers: dict[str, str] = {}
    if validators and validators.etag:
        headers["If-None-Match"] = validators.etag
    if validators and validators.last_modified:
        headers["If-Modified-Since"] = validators.last_modified
    attempt = 0
    while True:
        attempt += 1
        try:
            return _get_once(client, url, headers, settings.max_bytes)
        except TransientFetchError:
            if attempt > settings.retries:
                raise
            delay = settings.backoff * (2 ** (attempt - 1))
            sleep(delay + random.uniform(0, delay / 2))


def _get_once(
    client: httpx.Client, url: str, headers: Mapping[str, str], max_bytes: int
) -> Response:
    try:
        with client.stream("GET", url, headers=dict(headers)) as resp:
            if resp.status_code == 304:
                return _response(resp, b"")
            if resp.status_code in RETRY_STATUSES:
                raise TransientFetchError(f"HTTP {resp.status_code} from {_host(url)}")
            if resp.status_code >= 400:
                raise PermanentFetchError(f"HTTP {resp.status_code} from {_host(url)}")
            declared = resp.headers.get("Content-Length")
            if declared and declared.isdigit() and int(declared) > max_bytes:
                raise PermanentFetchError(
                    f"body of {declared} bytes exceeds the {max_bytes}-byte cap"
                )
            chunks: list[bytes] = []
            size = 0
            for chunk in resp.iter_bytes():
                size += len(chunk)
                if size > max_bytes:
                    raise PermanentFetchError(f"body exceeds the {max_bytes}-byte cap")
                chunks.append(chunk)
            return _response(resp, b"".join(chunks))
    except (httpx.TimeoutException, httpx.NetworkError, httpx.RemoteProtocolError) as exc:
        raise TransientFetchError(f"{type(exc).__name__} fetching {_host(url)}: {exc}") from exc
    except httpx.TooManyRedirects as exc:
        raise PermanentFetchError(f"too many redirects fetching {_host(url)}") from exc


def _response(resp: httpx.Response, content: bytes) -> Response:
    return Response(
        url=str(resp.url),
        status=resp.status_code,
        content=content,
        etag=resp.headers.get("ETag"),
        last_modified=resp.headers.get("Last-Modified"),
        content_type=resp.headers.get("Content-Type"),
    )


def _read_file(url: str, max_bytes: int) -> Response:
    """file:// URLs let operators point a source at a mirrored or archived file."""
    path = Path(url2pathname(urlparse(url).path))
    try:
        if path.stat().st_size > max_bytes:
            raise PermanentFetchError(f"{path} exceeds the {max_bytes}-byte cap")
        content = path.read_bytes()
    except OSError as exc:
        raise PermanentFetchError(f"cannot read {path}: {exc.strerror}") from exc
    return Response(url, 200, content, None, None, None)


def _host(url: str) -> str:
    """Only the host goes into messages: query strings may carry keys."""
    parsed = urlparse(url)
    return f"{parsed.scheme}://{parsed.hostname or ''}{parsed.path}"

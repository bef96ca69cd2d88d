"""The one HTTP client: timeouts, a whole-download deadline, retries with backoff (honouring
Retry-After), redirects, conditional GET and a size cap.

Sources never fetch; the pipeline calls `fetch()` for each file a source plans. Tests swap
the transport (httpx's single extension point) or point URLs at a local server.

Memory: bodies are read chunk by chunk into a spooled temporary file and decompressed here
(never by httpx) with a bounded output per step, so a body over the cap or a gzip bomb is
refused with memory near one chunk, not near the cap. `fetch.timeout` bounds each read;
`fetch.deadline` bounds the whole download, so a server dripping one byte a second cannot
hold a poll for longer than the deadline. A host name that does not resolve is permanent.
"""

from __future__ import annotations

import random
import re
import socket
import tempfile
import time
import zlib
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from email.utils import parsedate_to_datetime
from pathlib import Path
from urllib.parse import urlparse
from urllib.request import url2pathname

import httpx

from watcher.config import FetchSettings
from watcher.errors import PermanentFetchError, TransientFetchError

RETRY_STATUSES = frozenset({408, 425, 429, 500, 502, 503, 504})
CHUNK = 64 * 1024  # bytes read (and decompressed) per step
SPOOL_IN_MEMORY = 4 * 1024 * 1024  # larger bodies go to a temporary file while downloading
_DELTA_SECONDS = re.compile(r"[0-9]+")  # Retry-After in seconds


class RetryLater(TransientFetchError):
    """A transient answer that said when to come back (Retry-After, in seconds)."""

    def __init__(self, message: str, retry_after: float | None) -> None:
        super().__init__(message)
        self.retry_after = retry_after


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
    deadline = time.monotonic() + settings.deadline
    attempt = 0
    while True:
        attempt += 1
        try:
            return _get_once(client, url, headers, settings, deadline)
        except TransientFetchError as exc:
            if attempt > settings.retries:
                raise
            delay = settings.backoff * (2 ** (attempt - 1))
            delay += random.uniform(0, delay / 2)
            if isinstance(exc, RetryLater) and exc.retry_after is not None:
                delay = max(delay, exc.retry_after)
            if time.monotonic() + delay >= deadline:
                raise TransientFetchError(
                    f"{exc}; not retried: the next try ({delay:.0f} s) would pass the "
                    f"{settings.deadline:.0f} s fetch.deadline"
                ) from exc
            sleep(delay)


def _get_once(
    client: httpx.Client,
    url: str,
    headers: Mapping[str, str],
    settings: FetchSettings,
    deadline: float,
) -> Response:
    remaining = deadline - time.monotonic()
    if remaining <= 0:
        raise TransientFetchError(f"fetch.deadline of {settings.deadline:.0f} s passed")
    per_read = min(settings.timeout, remaining)
    timeout = httpx.Timeout(per_read, connect=min(per_read, 20.0))
    try:
        with client.stream("GET", url, headers=dict(headers), timeout=timeout) as resp:
            if resp.status_code == 304:
                return _response(resp, b"")
            _check_status(resp, url)
            declared = resp.headers.get("Content-Length")
            if declared and declared.isdigit() and int(declared) > settings.max_bytes:
                raise PermanentFetchError(
                    f"body of {declared} bytes exceeds the {settings.max_bytes}-byte cap "
                    f"(fetch.max_bytes) from {_host(url)}"
                )
            content = _read_body(resp, url, settings, deadline)
            return _response(resp, content)
    except httpx.ConnectError as exc:
        if _dns_failure(exc):
            raise PermanentFetchError(f"host name does not resolve: {_host(url)}") from exc
        raise TransientFetchError(f"cannot connect to {_host(url)}: {exc}") from exc
    except (httpx.TimeoutException, httpx.NetworkError, httpx.RemoteProtocolError) as exc:
        raise TransientFetchError(f"{type(exc).__name__} fetching {_host(url)}: {exc}") from exc
    except httpx.TooManyRedirects as exc:
        raise PermanentFetchError(f"too many redirects (a loop?) fetching {_host(url)}") from exc
    except httpx.UnsupportedProtocol as exc:
        raise PermanentFetchError(
            f"redirected to a URL that is not http(s) fetching {_host(url)}"
        ) from exc
    except httpx.HTTPError as exc:
        raise PermanentFetchError(f"{type(exc).__name__} fetching {_host(url)}: {exc}") from exc


def _check_status(resp: httpx.Response, url: str) -> None:
    if resp.status_code in RETRY_STATUSES:
        raise RetryLater(
            f"HTTP {resp.status_code} from {_host(url)}",
            retry_after(resp.headers.get("Retry-After")),
        )
    if resp.status_code >= 400:
        raise PermanentFetchError(f"HTTP {resp.status_code} from {_host(url)}")


def retry_after(
    value: str | None, *, now: datetime | None = None, date: str | None = None
) -> float | None:
    """Seconds a Retry-After header asks for: delta-seconds (ASCII digits: str.isdigit takes
    "²", float() does not), or an HTTP-date counted from the answer's own Date header when it
    has a valid one (so a skewed clock on either side does not matter), else from `now`.
    None when absent, malformed, zero, negative or already past: the caller keeps its own
    backoff. Used by fetches and by alert delivery alike."""
    if value is None:
        return None
    value = value.strip()
    if _DELTA_SECONDS.fullmatch(value):
        seconds = float(value)
    else:
        when = _http_date(value)
        if when is None:
            return None
        reference = (_http_date(date) if date else None) or now or datetime.now(UTC)
        seconds = (when - reference).total_seconds()
    return seconds if seconds > 0 else None


def _http_date(value: str) -> datetime | None:
    try:
        when = parsedate_to_datetime(value)
    except (TypeError, ValueError, IndexError, OverflowError):
        return None
    # an HTTP-date is GMT by definition; the obsolete asctime form just does not say so
    return when if when.tzinfo is not None else when.replace(tzinfo=UTC)


def _read_body(resp: httpx.Response, url: str, settings: FetchSettings, deadline: float) -> bytes:
    """Count while reading into a spooled file; refuse past the cap or the deadline."""
    cap = settings.max_bytes
    with tempfile.SpooledTemporaryFile(max_size=SPOOL_IN_MEMORY) as spool:
        size = 0
        for chunk in _decoded(resp, url):
            size += len(chunk)
            if size > cap:
                raise PermanentFetchError(
                    f"body exceeds the {cap}-byte cap (fetch.max_bytes) from {_host(url)}"
                )
            if time.monotonic() > deadline:
                raise TransientFetchError(
                    f"download from {_host(url)} not finished within the "
                    f"{settings.deadline:.0f} s fetch.deadline ({size} bytes so far)"
                )
            spool.write(chunk)
        spool.seek(0)
        return spool.read()


def _decoded(resp: httpx.Response, url: str) -> Iterator[bytes]:
    """Raw chunks, decompressed here in bounded steps (a bomb never inflates at once)."""
    encoding = resp.headers.get("Content-Encoding", "identity").strip().lower()
    raw = resp.iter_raw()  # as received: a chunk size would wait for a dripping server
    if encoding in ("", "identity"):
        yield from raw
        return
    if encoding not in ("gzip", "x-gzip", "deflate"):
        raise PermanentFetchError(f"unsupported Content-Encoding {encoding!r} from {_host(url)}")
    wbits = zlib.MAX_WBITS | 32  # gzip or zlib, detected from the header
    decoder = zlib.decompressobj(wbits)
    try:
        for data in raw:
            while data:
                out = decoder.decompress(data, CHUNK)
                data = decoder.unconsumed_tail
                if decoder.eof and decoder.unused_data:  # a further gzip member
                    data = decoder.unused_data + data
                    decoder = zlib.decompressobj(wbits)
                if out:
                    yield out
        tail = decoder.flush()
        if tail:
            yield tail
    except zlib.error as exc:
        raise PermanentFetchError(
            f"body is not valid {encoding} (Content-Encoding) from {_host(url)}: {exc}"
        ) from exc


def _dns_failure(exc: BaseException) -> bool:
    """True when the cause chain holds a name-resolution error (not worth retrying)."""
    seen: BaseException | None = exc
    while seen is not None:
        if isinstance(seen, socket.gaierror):
            return True
        seen = seen.__cause__ or seen.__context__
    return False


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

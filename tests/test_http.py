"""The HTTP client against a real misbehaving loopback server: retries, backoff, Retry-After,
the size cap (memory bounded), gzip, the whole-download deadline, redirects, DNS, file://."""

from __future__ import annotations

import gzip
import socket
import time
import tracemalloc
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from email.utils import format_datetime
from pathlib import Path
from typing import Any

import pytest

from tests.hostile import HostileServer, Reply
from watcher.config import FetchSettings
from watcher.errors import PermanentFetchError, TransientFetchError
from watcher.http import Validators, fetch, make_client, retry_after

FAST = FetchSettings(timeout=5.0, retries=3, backoff=0.01, max_bytes=8 * 1024 * 1024)
MiB = 1024 * 1024


def _get(url: str, settings: FetchSettings = FAST, **kw: Any) -> Any:
    with make_client(settings) as client:
        return fetch(client, url, settings, **kw)


def test_transient_errors_are_retried_with_growing_backoff(hostile_server: HostileServer) -> None:
    url = hostile_server.serve("flaky", Reply(500, b"oops"))
    delays: list[float] = []
    with pytest.raises(TransientFetchError, match="HTTP 500"):
        _get(url, replace(FAST, backoff=0.02), sleep=delays.append)
    assert hostile_server.hits["/flaky"] == 4  # the first try + fetch.retries
    assert len(delays) == 3
    for i, delay in enumerate(delays):
        assert 0.02 * 2**i <= delay <= 0.03 * 2**i


def test_a_retry_that_succeeds_returns_the_body(hostile_server: HostileServer) -> None:
    url = hostile_server.serve("flaky", Reply(503, b"busy"))
    recover = lambda _delay: hostile_server.serve("flaky", Reply(200, b"data"))  # noqa: E731
    assert _get(url, sleep=recover).content == b"data"
    assert hostile_server.hits["/flaky"] == 2


@pytest.mark.parametrize("status", [403, 404, 410])
def test_client_errors_are_permanent_and_not_retried(
    hostile_server: HostileServer, status: int
) -> None:
    url = hostile_server.serve("gone", Reply(status, b"no"))
    with pytest.raises(PermanentFetchError, match=f"HTTP {status}"):
        _get(url, sleep=lambda _d: pytest.fail("a 4xx must not be retried"))
    assert hostile_server.hits["/gone"] == 1


def test_retry_after_seconds_is_honoured(hostile_server: HostileServer) -> None:
    url = hostile_server.serve("limited", Reply(429, b"slow down", (("Retry-After", "3"),)))
    delays: list[float] = []
    with pytest.raises(TransientFetchError, match="HTTP 429"):
        _get(url, replace(FAST, retries=1), sleep=delays.append)
    assert delays and delays[0] >= 3


def test_retry_after_beyond_the_deadline_gives_up_at_once(hostile_server: HostileServer) -> None:
    url = hostile_server.serve("limited", Reply(503, b"later", (("Retry-After", "3600"),)))
    with pytest.raises(TransientFetchError, match="fetch.deadline"):
        _get(url, replace(FAST, deadline=60), sleep=lambda _d: pytest.fail("must not wait"))
    assert hostile_server.hits["/limited"] == 1


def test_retry_after_parses_seconds_and_http_dates() -> None:
    now = datetime(2026, 1, 1, tzinfo=UTC)
    later = format_datetime(now + timedelta(seconds=120), usegmt=True)
    assert retry_after("7") == 7.0
    assert retry_after(later, now=now) == pytest.approx(120)
    assert retry_after("soon") is None and retry_after(None) is None
    # str.isdigit accepts superscripts and other scripts' digits, which float() refuses
    assert retry_after("²") is None and retry_after("٣") is None


def test_declared_length_over_the_cap_is_refused_before_reading(
    hostile_server: HostileServer,
) -> None:
    url = hostile_server.serve("big", Reply(200, b"x", length=FAST.max_bytes + 1))
    with pytest.raises(PermanentFetchError, match="cap"):
        _get(url)


def _peak(call: Any) -> tuple[int, BaseException | None]:
    tracemalloc.start()
    error: BaseException | None = None
    try:
        call()
    except Exception as exc:  # noqa: BLE001 - returned for the caller to assert on
        error = exc
    peak = tracemalloc.get_traced_memory()[1]
    tracemalloc.stop()
    return peak, error


def test_stream_over_the_cap_is_refused_with_memory_near_one_chunk(
    hostile_server: HostileServer,
) -> None:
    # 64 MiB streamed without a Content-Length against an 8 MiB cap.
    url = hostile_server.serve("stream", Reply(200, b"A" * MiB, repeat=64, length=-1))
    peak, error = _peak(lambda: _get(url))
    assert isinstance(error, PermanentFetchError) and "cap" in str(error)
    assert peak < 6 * MiB, f"peak {peak / MiB:.1f} MiB"


def test_gzip_bomb_is_refused_with_memory_near_one_chunk(hostile_server: HostileServer) -> None:
    bomb = gzip.compress(b"\0" * (256 * MiB), compresslevel=9)  # ~250 KB on the wire
    url = hostile_server.serve("bomb", Reply(200, bomb, (("Content-Encoding", "gzip"),)))
    peak, error = _peak(lambda: _get(url))
    assert isinstance(error, PermanentFetchError) and "cap" in str(error)
    assert peak < 6 * MiB, f"peak {peak / MiB:.1f} MiB"


def test_gzip_is_decoded_and_garbage_is_refused(hostile_server: HostileServer) -> None:
    body = b"1,NAME,-0-\r\n" * 5000
    gz = (("Content-Encoding", "gzip"),)
    good = hostile_server.serve("good.gz", Reply(200, gzip.compress(body) * 1, gz))
    assert _get(good).content == body
    bad = hostile_server.serve("bad.gz", Reply(200, b"\x1f\x8b this is not gzip at all", gz))
    with pytest.raises(PermanentFetchError, match="not valid gzip"):
        _get(bad)


def test_multi_member_gzip_is_read_whole(hostile_server: HostileServer) -> None:
    body = gzip.compress(b"first,") + gzip.compress(b"second")
    url = hostile_server.serve("two.gz", Reply(200, body, (("Content-Encoding", "gzip"),)))
    assert _get(url).content == b"first,second"


def test_a_dripping_server_is_cut_off_at_the_deadline(hostile_server: HostileServer) -> None:
    url = hostile_server.serve("drip", Reply(200, b"x" * 100, chunk=1, pause=0.2))
    t0 = time.monotonic()
    with pytest.raises(TransientFetchError, match="deadline"):
        _get(url, replace(FAST, timeout=5, deadline=1.5), sleep=lambda _d: None)
    assert time.monotonic() - t0 < 4  # per-read timeout 5 s never fired: the deadline did


def test_a_host_name_that_does_not_resolve_is_not_retried(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    real = socket.getaddrinfo

    def resolve(host: Any, *args: Any, **kw: Any) -> Any:
        if host == "sanctions.example.invalid":  # offline: no query leaves the machine
            raise socket.gaierror(socket.EAI_NONAME, "Name or service not known")
        return real(host, *args, **kw)

    monkeypatch.setattr(socket, "getaddrinfo", resolve)
    with pytest.raises(PermanentFetchError, match="does not resolve"):
        _get("http://sanctions.example.invalid/sdn.csv", sleep=lambda _d: pytest.fail("retried"))


def test_redirect_loop_and_non_http_redirect_are_permanent(
    hostile_server: HostileServer,
) -> None:
    loop = hostile_server.serve("loop", Reply(302, b"", (("Location", "/loop"),)))
    with pytest.raises(PermanentFetchError, match="redirects"):
        _get(loop)
    ftp = hostile_server.serve("ftp", Reply(302, b"", (("Location", "ftp://example.org/x"),)))
    with pytest.raises(PermanentFetchError, match="not http"):
        _get(ftp)


def test_content_length_longer_than_the_body_is_an_error(hostile_server: HostileServer) -> None:
    url = hostile_server.serve("short", Reply(200, b"1,A,-0-\r\n", length=5000))
    with pytest.raises(TransientFetchError):
        _get(url, sleep=lambda _d: None)
    assert hostile_server.hits["/short"] == FAST.retries + 1


def test_conditional_get_sends_validators_and_reports_304(
    hostile_server: HostileServer,
) -> None:
    url = hostile_server.serve("same", Reply(304, b""))
    resp = _get(url, validators=Validators(etag='"v1"', last_modified="Mon, 01 Jan 2024"))
    assert resp.not_modified and resp.content == b""


def test_file_urls_are_read_and_capped(tmp_path: Path) -> None:
    small = tmp_path / "sdn.csv"
    small.write_bytes(b"1,A\r\n")
    assert _get(small.as_uri()).content == b"1,A\r\n"
    with pytest.raises(PermanentFetchError, match="cap"):
        _get(small.as_uri(), replace(FAST, max_bytes=2))
    with pytest.raises(PermanentFetchError, match="cannot read"):
        _get((tmp_path / "missing.csv").as_uri())

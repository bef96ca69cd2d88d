"""The outbox dispatcher against real local receivers and both databases: a failing or hanging
channel never delays another subscriber, backoff then `dead`, operators told once, `watcher
alerts list|retry`, digests released at their (timezone-aware) boundary, and replicas sharing
one outbox never send an alert twice."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import threading
import time
from collections import Counter
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pytest
import sqlalchemy as sa
from click.testing import CliRunner

from tests.conftest import ROOT, fixture_bytes
from tests.helpers import at, make_runtime
from tests.receivers import ReceivedRequest
from watcher.alerts.dispatch import LEASE, claim_due, dispatch_pending, last_digest_boundary
from watcher.cli.main import main
from watcher.config import SubscriberSettings
from watcher.pipeline.run import replay
from watcher.runtime import Runtime
from watcher.store import alerting, outbox
from watcher.store.engine import transaction
from watcher.store.tables import ALERTS, INCIDENTS

if TYPE_CHECKING:
    from tests.receivers import HttpReceiver

SDN = "ofac_sdn/sdn_{}.csv"
XJ_NAMES = {"ZAKIR, Shohrat", "TUNIYAZ, Erken"}


class HoldingReceiver:
    """An HTTP endpoint that answers the first `answer_first` POSTs with 200 and holds every
    later one open, unanswered, until `release(status)`: a channel that hangs."""

    def __init__(self, answer_first: int = 0) -> None:
        self.requests: list[ReceivedRequest] = []
        self.answer_first = answer_first
        self._released = threading.Event()
        self._status = 500
        self._server = ThreadingHTTPServer(("127.0.0.1", 0), self._handler())
        self._server.daemon_threads = True
        self.port = int(self._server.server_address[1])
        threading.Thread(target=self._server.serve_forever, daemon=True).start()

    def url(self, path: str = "hook") -> str:
        return f"json://127.0.0.1:{self.port}/{path}"

    @property
    def held(self) -> int:
        return 0 if self._released.is_set() else max(0, len(self.requests) - self.answer_first)

    def release(self, status: int = 500) -> None:
        self._status = status
        self._released.set()

    def stop(self) -> None:
        self.release()
        self._server.shutdown()
        self._server.server_close()

    def _handler(self) -> type[BaseHTTPRequestHandler]:
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:  # noqa: N802
                body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
                receiver.requests.append(
                    ReceivedRequest("POST", self.path, dict(self.headers.items()), body)
                )
                status = 200
                if len(receiver.requests) > receiver.answer_first:
                    receiver._released.wait(timeout=120)
                    status = receiver._status
                try:
                    self.send_response(status)
                    self.send_header("Content-Length", "0")
                    self.end_headers()
                except OSError:
                    pass  # the client is gone (killed): nobody to answer

            def log_message(self, format: str, *args: Any) -> None:  # noqa: A002
                pass

        return Handler


@pytest.fixture
def holding_receiver() -> Iterator[HoldingReceiver]:
    receiver = HoldingReceiver()
    yield receiver
    receiver.stop()


def wait_for(condition: Callable[[], bool], what: str, timeout: float = 60) -> None:
    """Poll until `condition` holds (a liveness bound, not a timing assertion)."""
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what}")
        time.sleep(0.02)


def xj_config(*subscribers: dict[str, Any], **extra: Any) -> dict[str, Any]:
    return {
        "sources": {"ofac_sdn": {"companions": []}},
        "subscribers": [{"tags": ["xinjiang-security"], **s} for s in subscribers],
        **extra,
    }


def replay_pair(rt: Runtime) -> None:
    """The real 2021-12-09 -> 12-10 SDN pair: 25 added, two linked to the Xinjiang PSB."""
    for day in ("2021-12-09", "2021-12-10"):
        result = replay(rt, "ofac_sdn", at(day), [("primary", fixture_bytes(SDN.format(day)), day)])
        assert result.ok, result.error


def message(request: ReceivedRequest) -> str:
    """The text an apprise json:// notification carried (title + body)."""
    data = request.json()
    return f"{data['title']}\n{data['message']}"


def names_in(requests: list[ReceivedRequest]) -> Counter[str]:
    return Counter(n for r in requests for n in XJ_NAMES if n in message(r))


def alerts(rt: Runtime, subscriber: str | None = None) -> list[sa.Row[Any]]:
    with transaction(rt.engine) as conn:
        q = sa.select(ALERTS).order_by(ALERTS.c.id)
        if subscriber:
            q = q.where(ALERTS.c.subscriber == subscriber)
        return list(conn.execute(q))


def test_hanging_channel_never_delays_another_subscriber(
    db_url: str,
    http_receiver: HttpReceiver,
    holding_receiver: HoldingReceiver,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("GOOD_HOOK", f"json://127.0.0.1:{http_receiver.port}/good")
    monkeypatch.setenv("BAD_HOOK", holding_receiver.url("bad"))
    rt = make_runtime(
        db_url,
        xj_config({"name": "good", "url_env": "GOOD_HOOK"}, {"name": "bad", "url_env": "BAD_HOOK"}),
    )
    replay_pair(rt)
    now = rt.clock()
    results: list[Any] = []
    worker = threading.Thread(target=lambda: results.append(dispatch_pending(rt, now=now)))
    worker.start()
    # The good subscriber gets both alerts while the bad channel still holds its first one.
    wait_for(lambda: len(http_receiver.requests) == 2 and holding_receiver.held == 1, "delivery")
    assert worker.is_alive() and names_in(http_receiver.requests) == Counter(
        dict.fromkeys(XJ_NAMES, 1)
    )
    holding_receiver.release(500)
    worker.join(timeout=60)
    summary = results[0]
    assert (summary.sent, summary.failed, summary.dead) == (2, 1, 0)
    # After the first failure the channel is presumed down: the second alert is not tried
    # but waits, untouched, for the first one's retry time.
    assert len(holding_receiver.requests) == 1
    first, second = alerts(rt, "bad")
    assert first.status == "failed" and first.attempts == 1 and "500" in (first.last_error or "")
    assert timedelta(seconds=23) < first.next_attempt_at - now < timedelta(seconds=37)
    assert second.status == "pending" and second.attempts == 0
    assert second.next_attempt_at > now
    assert {a.status for a in alerts(rt, "good")} == {"sent"}


def _cli(config: Path, *args: str) -> Any:
    result = CliRunner().invoke(main, ["--config", str(config), *args])
    assert result.exit_code == 0, result.output
    return result


def _write_config(path: Path, db_url: str, operators: bool = True) -> Path:
    lines = [
        "[database]",
        f'url = "{db_url}"',
        "[alerts]",
        "max_attempts = 3",
        "[sources.ofac_sdn]",
        "companions = []",
        "[[subscribers]]",
        'name = "good"',
        'url_env = "GOOD_HOOK"',
        'tags = ["xinjiang-security"]',
        "[[subscribers]]",
        'name = "bad"',
        'url_env = "BAD_HOOK"',
        'tags = ["xinjiang-security"]',
    ]
    if operators:
        lines += ["[operators]", 'url_env = "OPS_HOOK"']
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


def test_failing_channel_backs_off_goes_dead_is_listed_and_requeued(
    db_url: str,
    http_receiver: HttpReceiver,
    monkeypatch: pytest.MonkeyPatch,
    tmp_path: Path,
) -> None:
    from tests.receivers import HttpReceiver as Receiver

    with Receiver() as bad:
        bad.fail(1000)  # every answer a 500
        monkeypatch.setenv("GOOD_HOOK", f"json://127.0.0.1:{http_receiver.port}/good")
        monkeypatch.setenv("BAD_HOOK", f"json://127.0.0.1:{bad.port}/bad")
        monkeypatch.setenv("OPS_HOOK", f"json://127.0.0.1:{http_receiver.port}/ops")
        config = _write_config(tmp_path / "config.toml", db_url)
        rt = make_runtime(
            db_url,
            xj_config(
                {"name": "good", "url_env": "GOOD_HOOK"},
                {"name": "bad", "url_env": "BAD_HOOK"},
                alerts={"max_attempts": 3},
                operators={"url_env": "OPS_HOOK"},
            ),
        )
        replay_pair(rt)
        now, passes = rt.clock(), 0
        while any(a.status != "dead" for a in alerts(rt, "bad")):
            due = min(a.next_attempt_at for a in alerts(rt, "bad") if a.status != "dead")
            # never due before its backoff: a pass just before it sends nothing to `bad`
            tried = len(bad.requests)
            if passes:
                dispatch_pending(rt, now=due - timedelta(seconds=1))
                assert len(bad.requests) == tried
            now = max(now, due)
            dispatch_pending(rt, now=now)
            passes += 1
            assert passes < 20
        # two alerts x three attempts each, one request per attempt
        assert len(bad.requests) == 6
        good = [r for r in http_receiver.requests if r.path == "/good"]
        assert names_in(good) == Counter(dict.fromkeys(XJ_NAMES, 1))
        listed = json.loads(_cli(config, "alerts", "list", "--format", "json").output)
        dead = [r for r in listed if r["subscriber"] == "bad"]
        assert [(r["status"], r["attempts"]) for r in dead] == [("dead", 3), ("dead", 3)]
        assert all("500" in r["last_error"] for r in dead)
        # operators hear about the dead channel once, though two alerts died
        ops = [a for a in alerts(rt, alerting.OPERATORS)]
        assert [a.payload["kind"] for a in ops] == ["dead_alerts"]
        dispatch_pending(rt, now=now)
        ops_msgs = [r for r in http_receiver.requests if r.path == "/ops"]
        assert len(ops_msgs) == 1 and "alerts to bad are dead" in message(ops_msgs[0])
        # re-queue; the channel works again; both arrive once; the incident closes
        assert "re-queued 2 alerts" in _cli(config, "alerts", "retry").output
        listed = json.loads(_cli(config, "alerts", "list", "--format", "json").output)
        assert {r["status"] for r in listed if r["subscriber"] == "bad"} == {"pending"}
        bad.fail(0)
        summary = dispatch_pending(rt, now=datetime.now(UTC) + timedelta(seconds=1))
        assert summary.sent == 2 and len(bad.requests) == 8
        assert names_in(bad.requests[-2:]) == Counter(dict.fromkeys(XJ_NAMES, 1))
        with transaction(rt.engine) as conn:
            incident = conn.execute(sa.select(INCIDENTS).where(INCIDENTS.c.key == "dead:bad")).one()
            assert incident.closed_at is not None


@pytest.mark.parametrize(
    ("digest_at", "now", "boundary"),
    [
        ("08:00 America/New_York", "2021-12-11T12:59:00", "2021-12-10T13:00:00"),  # EST
        ("08:00 America/New_York", "2021-12-11T13:00:00", "2021-12-11T13:00:00"),
        ("08:00 America/New_York", "2021-07-01T12:30:00", "2021-07-01T12:00:00"),  # EDT
        ("08:00 UTC", "2021-12-11T07:59:00", "2021-12-10T08:00:00"),
        ("08:00", "2021-12-11T08:00:00", "2021-12-11T08:00:00"),
        ("8 oclock UTC", "2021-12-11T09:00:00", "2021-12-11T08:00:00"),  # invalid: the default
        ("09:30 Mars/Base", "2021-12-11T09:00:00", "2021-12-11T08:00:00"),
    ],
)
def test_last_digest_boundary(digest_at: str, now: str, boundary: str) -> None:
    sub = SubscriberSettings("d", mode="digest", digest_at=digest_at)
    assert last_digest_boundary(sub, at(now)) == at(boundary)


def test_digest_holds_changes_then_sends_one_message_at_the_boundary(
    db_url: str, http_receiver: HttpReceiver, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("DIGEST_HOOK", f"json://127.0.0.1:{http_receiver.port}/digest")
    monkeypatch.setenv("NOW_HOOK", f"json://127.0.0.1:{http_receiver.port}/now")
    rt = make_runtime(
        db_url,
        xj_config(
            {
                "name": "daily",
                "url_env": "DIGEST_HOOK",
                "mode": "digest",
                "digest_at": "08:00 America/New_York",
            },
            {"name": "now", "url_env": "NOW_HOOK"},
        ),
    )
    rt.clock = lambda: at("2021-12-10T15:00:00")  # 10:00 in New York: queued after 08:00
    replay_pair(rt)
    # The same afternoon and the next morning before 08:00 New York (13:00 UTC): held.
    for when in ("2021-12-10T20:00:00", "2021-12-11T12:59:00"):
        summary = dispatch_pending(rt, now=at(when))
        assert summary.held == 2
    assert [r.path for r in http_receiver.requests] == ["/now", "/now"]  # immediate: at once
    assert {a.status for a in alerts(rt, "daily")} == {"pending"}
    summary = dispatch_pending(rt, now=at("2021-12-11T13:00:00"))
    assert (summary.sent, summary.held) == (2, 0)
    digests = [r for r in http_receiver.requests if r.path == "/digest"]
    assert len(digests) == 1
    assert names_in(digests) == Counter(dict.fromkeys(XJ_NAMES, 1))
    assert "Digest 2021-12-11 08:00 EST: 2 changes" in digests[0].json()["title"]
    assert {a.status for a in alerts(rt, "daily")} == {"sent"}
    assert dispatch_pending(rt, now=at("2021-12-12T13:00:00")).sent == 0


def test_claims_are_leased(db_url: str) -> None:
    rt = make_runtime(db_url, xj_config({"name": "xj", "url_env": "UNSET_HOOK_VAR"}))
    replay_pair(rt)
    subs = {"xj": SubscriberSettings("xj")}
    now = rt.clock()
    assert len(claim_due(rt, subs, 100, now)) == 2
    assert claim_due(rt, subs, 100, now + LEASE - timedelta(seconds=1)) == []
    assert len(claim_due(rt, subs, 100, now + LEASE)) == 2


_REPLICA = """
import sys
from tests.helpers import make_runtime
from watcher.alerts.dispatch import dispatch_pending
rt = make_runtime(sys.argv[1], {"subscribers": [{"name": "many", "url_env": "MANY_HOOK"}]})
while dispatch_pending(rt, limit=25).sent:
    pass
"""


def test_replicas_sharing_the_outbox_send_each_alert_once(
    db_url: str, http_receiver: HttpReceiver
) -> None:
    rt = make_runtime(db_url, {"subscribers": [{"name": "many", "url_env": "MANY_HOOK"}]})
    now = rt.clock()
    with transaction(rt.engine) as conn:
        for i in range(300):
            payload = {
                "id": f"change:{i}",
                "kind": "added",
                "source": "ofac_sdn",
                "list_code": "SDN",
                "list_name": "OFAC SDN list",
                "key": str(i),
                "name": f"ENTRY {i}",
                "detected_at": now.isoformat(),
            }
            outbox.queue_alert(conn, "many", f"many:change:{i}", "change", payload, now)
    env = {**os.environ, "MANY_HOOK": f"json://127.0.0.1:{http_receiver.port}/many"}
    procs = [
        subprocess.Popen([sys.executable, "-c", _REPLICA, db_url], cwd=ROOT, env=env)
        for _ in range(3)
    ]
    assert [p.wait(timeout=240) for p in procs] == [0, 0, 0]
    ids = Counter(
        r.json()["message"].split("Alert id: ")[1].split()[0] for r in http_receiver.requests
    )
    assert len(ids) == 300 and set(ids.values()) == {1}
    assert {a.status for a in alerts(rt)} == {"sent"}

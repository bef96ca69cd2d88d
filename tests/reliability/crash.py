"""Crash trials: `watcher run --once` (a real process) killed with SIGKILL at a chosen instant
while it fetches, parses, stores or dispatches the real 2021-12-09 -> 12-10 SDN pair, then run
again to completion. Counted from the database and from real receivers (a webhook and an SMTP
server): changes must be exactly the 25 real additions with no duplicate rows, and each of the
4 expected alerts (2 Xinjiang-linked additions x 2 subscribers) delivered, none twice.

Used by tests/reliability/test_crash_trials.py (a few trials) and bench/crash_trials.py (100).
"""

from __future__ import annotations

import os
import signal
import sqlite3
import subprocess
import sys
import time
from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from types import TracebackType
from typing import Self

import sqlalchemy as sa

from tests.conftest import ROOT, fixture_bytes
from tests.helpers import make_runtime
from tests.hostile import HostileServer, Reply
from tests.receivers import HttpReceiver, ReceivedMail, ReceivedRequest, SmtpReceiver
from watcher.pipeline.run import run_source
from watcher.store import outbox
from watcher.store.engine import make_engine, upgrade

NAMES = ("ZAKIR, Shohrat", "TUNIYAZ, Erken")
SDN = "ofac_sdn/sdn_{}.csv"


@dataclass(frozen=True)
class Trial:
    kill_at: float
    killed: bool  # the process was still running when the signal came
    changes: int
    distinct_changes: int
    delivered: Counter[str]  # "subscriber:name" -> deliveries
    statuses: Counter[str]
    exit_code: int  # of the recovery run
    # Read once the killed process was dead (only committed rows survive a SIGKILL):
    sent_at_kill: frozenset[str] = frozenset()  # "subscriber:name" recorded `sent`
    received_at_kill: Counter[str] = field(default_factory=Counter)  # what receivers had got

    @property
    def lost(self) -> int:
        return sum(1 for s in ("hook", "mail") for n in NAMES if self.delivered[f"{s}:{n}"] == 0)

    @property
    def duplicates(self) -> int:
        return sum(max(0, c - 1) for c in self.delivered.values())

    @property
    def resent_after_recorded(self) -> int:
        """Repeats of an alert the database had `sent` before the kill: a bug."""
        return sum(max(0, self.delivered[k] - 1) for k in self.sent_at_kill)

    @property
    def window(self) -> int:
        """Repeats of a delivery the receiver had got but the killed run had not recorded
        (in flight, or answered before the `sent` commit): the at-least-once window, by design."""
        return sum(
            max(0, c - 1)
            for k, c in self.delivered.items()
            if k not in self.sent_at_kill and self.received_at_kill[k]
        )

    @property
    def other_duplicates(self) -> int:
        """Repeats the kill cannot explain: a bug."""
        return self.duplicates - self.resent_after_recorded - self.window

    @property
    def exact(self) -> bool:
        return self.changes == self.distinct_changes == 25 and self.exit_code == 0


@dataclass(frozen=True)
class Stored:
    """What a trial's database holds at the end."""

    changes: int
    distinct_changes: int  # distinct (snapshot, key): a change stored twice counts once
    snapshots: int
    statuses: Counter[str]  # alert status -> rows


def stored_counts(db: Path) -> Stored:
    """Counted with plain SQL, independently of the store code under test."""
    engine = make_engine(f"sqlite:///{db}")
    try:
        with engine.connect() as conn:
            changes = conn.execute(sa.text("SELECT count(*) FROM changes")).scalar_one()
            distinct = conn.execute(
                sa.text("SELECT count(*) FROM (SELECT DISTINCT snapshot_id, key FROM changes)")
            ).scalar_one()
            snapshots = conn.execute(sa.text("SELECT count(*) FROM snapshots")).scalar_one()
            rows = conn.execute(sa.text("SELECT status, count(*) FROM alerts GROUP BY status"))
            statuses: Counter[str] = Counter({str(st): int(n) for st, n in rows.all()})
    finally:
        engine.dispose()
    return Stored(changes, distinct, snapshots, statuses)


def deliveries(requests: Iterable[ReceivedRequest], mails: Iterable[ReceivedMail]) -> Counter[str]:
    """Deliveries per "subscriber:name", read from what the webhook and SMTP server got."""
    delivered: Counter[str] = Counter()
    for req in requests:
        text = req.body.decode("utf-8", "replace")
        delivered.update(f"hook:{n}" for n in NAMES if n in text)
    for mail in mails:
        text = mail.message.as_string()
        delivered.update(f"mail:{n}" for n in NAMES if n in text)
    return delivered


def alert_statuses(db: Path) -> dict[str, str]:
    """Status per "subscriber:name", through the store's own listing."""
    engine = make_engine(f"sqlite:///{db}")
    try:
        with engine.connect() as conn:
            return {f"{a.subscriber}:{a.name}": a.status for a in outbox.list_alerts(conn)}
    finally:
        engine.dispose()


def copy_database(source: Path, target: Path) -> None:
    """SQLite's backup API: a plain file copy would miss what is still in the WAL file."""
    src, dst = sqlite3.connect(source), sqlite3.connect(target)
    try:
        src.backup(dst)
    finally:
        src.close()
        dst.close()


class CrashRig:
    """A served SDN pair, the two receivers and a baseline database copied for each trial."""

    def __init__(self, workdir: Path) -> None:
        self.workdir = workdir
        self.server = HostileServer().start()
        self.hook = HttpReceiver().start()
        self.smtp = SmtpReceiver().start()
        self.url = self.server.serve("sdn.csv", Reply(200, fixture_bytes(SDN.format("2021-12-09"))))
        self.template = workdir / "baseline.db"
        url = f"sqlite:///{self.template}"
        upgrade(make_engine(url))
        rt = make_runtime(url, self._config_dict(url))
        assert run_source(rt, "ofac_sdn").outcome == "baseline"
        self.server.serve("sdn.csv", Reply(200, fixture_bytes(SDN.format("2021-12-10"))))

    def _config_dict(self, db_url: str) -> dict[str, object]:
        tags = ["xinjiang-security"]
        return {
            "fetch": {"retries": 0},
            "sources": {"ofac_sdn": {"url": self.url, "companions": []}},
            "subscribers": [
                {"name": "hook", "url_env": "CRASH_HOOK", "tags": tags},
                {"name": "mail", "url_env": "CRASH_MAIL", "tags": tags},
            ],
        }

    def config_file(self, db: Path, source_options: str = "") -> Path:
        """The TOML a trial's processes read; `source_options`: extra lines for the source."""
        path = db.with_suffix(".toml")
        path.write_text(
            f'[database]\nurl = "sqlite:///{db}"\n[fetch]\nretries = 0\n'
            f'[sources.ofac_sdn]\nurl = "{self.url}"\ncompanions = []\n{source_options}'
            + "".join(
                f'[[subscribers]]\nname = "{n}"\nurl_env = "{e}"\ntags = ["xinjiang-security"]\n'
                for n, e in (("hook", "CRASH_HOOK"), ("mail", "CRASH_MAIL"))
            ),
            encoding="utf-8",
        )
        return path

    def start(
        self, config: Path, command: tuple[str, ...] = ("run", "--once"), log: Path | None = None
    ) -> subprocess.Popen[bytes]:
        """A `watcher` process on this rig's source and receivers (stderr to `log`, if given)."""
        env = {
            **os.environ,
            "CRASH_HOOK": f"json://127.0.0.1:{self.hook.port}/hook",
            "CRASH_MAIL": self.smtp.url(),
        }
        args = [sys.executable, "-m", "watcher", "--config", str(config), *command]
        if log is None:
            return subprocess.Popen(
                args, cwd=ROOT, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
            )
        with log.open("ab") as err:  # the child holds its own copy of the descriptor
            return subprocess.Popen(args, cwd=ROOT, env=env, stdout=subprocess.DEVNULL, stderr=err)

    def delivered(self) -> Counter[str]:
        """Deliveries so far, as "subscriber:name" -> how many the receivers got."""
        return deliveries(self.hook.requests, self.smtp.messages)

    def trial(self, number: int, kill_at: float) -> Trial:
        """Kill a run `kill_at` seconds after its start, run again, count what happened."""
        self.hook.requests.clear()
        self.smtp.messages.clear()
        db = self.workdir / f"trial-{number}.db"
        copy_database(self.template, db)
        config = self.config_file(db)
        proc = self.start(config)
        time.sleep(kill_at)
        killed = proc.poll() is None
        if killed:
            proc.send_signal(signal.SIGKILL)
        proc.wait(timeout=120)
        status = alert_statuses(db)
        sent_at_kill = frozenset(k for k, v in status.items() if v == "sent")
        received_at_kill = self.delivered()
        again = self.start(config)
        exit_code = again.wait(timeout=300)
        delivered = self.delivered()
        stored = stored_counts(db)
        db.unlink()
        return Trial(
            kill_at, killed, stored.changes, stored.distinct_changes, delivered, stored.statuses,
            exit_code, sent_at_kill, received_at_kill,
        )  # fmt: skip

    def close(self) -> None:
        self.server.stop()
        self.hook.stop()
        self.smtp.stop()

    def __enter__(self) -> Self:
        return self

    def __exit__(
        self, kind: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.close()

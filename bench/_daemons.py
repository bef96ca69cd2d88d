"""Shared by bench/soak.py and bench/replica_load.py: a source file that changes on a timer,
`watcher serve` processes, /proc sampling (RSS, open descriptors, sockets), and the end of a
run: stop changing the file, let the daemons drain the outbox, then reconcile what the source
served against what the database stored and queued and what the receiver got, per change."""

from __future__ import annotations

import hashlib
import io
import os
import re
import statistics
import subprocess
import sys
import threading
import time
import zipfile
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import sqlalchemy as sa

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from tests.conftest import fixture_bytes  # noqa: E402
from tests.hostile import HostileServer, Reply  # noqa: E402
from tests.receivers import ReceivedRequest  # noqa: E402
from watcher.store import outbox  # noqa: E402
from watcher.store.engine import make_engine  # noqa: E402

CONS = "ofac_consolidated/cons_prim_2018-04-06.csv"
WATCHED = "BANK MARKAZI JOMHOURI ISLAMI IRAN"  # uid 4632, a real entry of the fixture
PATH = "/cons.csv"


def variants(count: int) -> list[bytes]:
    """The real consolidated list, and copies whose entry 4632 has a different remark: each
    switch between them is one `modified` change of a watched entity (one alert)."""
    body = fixture_bytes(CONS)
    marker = b'"Additional Sanctions Information'
    return [body] + [
        body.replace(marker, f'"Rev {i}. Additional Sanctions Information'.encode(), 1)
        for i in range(1, count)
    ]


class ChangingSource:
    """Serves the next variant every `every` seconds (a list that changes all day) until
    `stop_changing`; remembers which version each request got."""

    def __init__(self, every: float) -> None:
        self.server = HostileServer().start()
        self.bodies = variants(50)
        self._digests = [hashlib.sha256(b).digest() for b in self.bodies]
        self.flips = 0
        self._published: list[Reply] = [Reply(200, self.bodies[0])]  # index = flip number
        self.url = self.server.serve(PATH, self._published[0])
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, args=(every,), daemon=True)
        self._thread.start()

    def _run(self, every: float) -> None:
        while not self._stop.wait(every):
            reply = Reply(200, self.bodies[(self.flips + 1) % len(self.bodies)])
            self._published.append(reply)
            self.server.serve(PATH, reply)
            self.flips += 1

    def served(self) -> list[int]:
        """Body index of each version served, in the order served (fetches are serialized
        by the source lock, so this is the order the daemons saw them)."""
        flip = {id(r): n for n, r in enumerate(self._published)}
        return [flip[id(r)] % len(self.bodies) for p, r in self.server.served if p == PATH]

    def body_of(self, raw: bytes) -> int:
        """Which body a stored snapshot's `raw` (the zip of the files it fetched) holds; -1:
        none of them."""
        try:
            with zipfile.ZipFile(io.BytesIO(raw)) as zf:
                content = zf.read(zf.namelist()[0])
        except (zipfile.BadZipFile, IndexError):
            return -1
        digest = hashlib.sha256(content).digest()
        return next((i for i, d in enumerate(self._digests) if d == digest), -1)

    def stop_changing(self) -> None:
        """The file keeps its last version; the server keeps serving it."""
        self._stop.set()
        self._thread.join()

    def stop(self) -> None:
        self.stop_changing()
        self.server.stop()


def write_config(path: Path, db_url: str, url: str, hook_env: str, interval: str) -> Path:
    path.write_text(
        f'include_default_watchlist = false\n[database]\nurl = "{db_url}"\n'
        f'[fetch]\nretries = 0\n[sources.ofac_consolidated]\nurl = "{url}"\ncompanions = []\n'
        f'interval = "{interval}"\nmin_records = 100\n'
        f'[[watchlist]]\nname = "{WATCHED}"\n'
        f'[[subscribers]]\nname = "hook"\nurl_env = "{hook_env}"\n',
        encoding="utf-8",
    )
    return path


def start_serve(config: Path, port: int, env: dict[str, str], log: Path) -> subprocess.Popen[bytes]:
    args = [sys.executable, "-m", "watcher", "--config", str(config), "serve", "--port", str(port)]
    with log.open("wb") as err:  # the child has its own copy; ours is closed at once
        return subprocess.Popen(
            args,
            cwd=ROOT,
            env={**os.environ, **env},
            stdout=subprocess.DEVNULL,
            stderr=err,
        )


def sample(pid: int) -> tuple[float, int, int]:
    """RSS in MiB, open file descriptors, of which sockets."""
    rss = 0.0
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            rss = int(line.split()[1]) / 1024
    fds = list(Path(f"/proc/{pid}/fd").iterdir())
    sockets = 0
    for fd in fds:
        try:
            sockets += os.readlink(fd).startswith("socket:")
        except OSError:
            pass
    return rss, len(fds), sockets


def slope(points: list[tuple[float, float]]) -> float:
    """Least-squares slope (units per minute) of (seconds, value) points."""
    n = len(points)
    if n < 2:
        return 0.0
    mx = sum(t for t, _ in points) / n
    my = sum(v for _, v in points) / n
    den = sum((t - mx) ** 2 for t, _ in points) or 1.0
    return 60 * sum((t - mx) * (v - my) for t, v in points) / den


def drain(
    db: str, source: ChangingSource, procs: Sequence[subprocess.Popen[bytes]], timeout: float
) -> float | None:
    """Stop changing the file, then wait until a poll has read its last version, every poll
    served is recorded and every alert is `sent` or `dead`; seconds taken (None: timeout)."""
    source.stop_changing()
    fetched = len(source.served())
    engine = make_engine(db)
    t0 = time.monotonic()
    try:
        while (elapsed := time.monotonic() - t0) < timeout:
            if any(p.poll() is not None for p in procs):
                return None
            served = len(source.served())
            with engine.connect() as conn:
                checks = conn.execute(sa.text("SELECT count(*) FROM checks")).scalar_one()
                open_ = conn.execute(
                    sa.text("SELECT count(*) FROM alerts WHERE status IN ('pending', 'failed')")
                ).scalar_one()
            if served > fetched and checks >= served and open_ == 0:
                return elapsed
            time.sleep(0.5)
    finally:
        engine.dispose()
    return None


@dataclass(frozen=True)
class Reconciled:
    """Served versions -> snapshots -> changes -> alerts -> deliveries, per change id."""

    fetches: int
    versions_served: int  # distinct flips actually served
    expected_changes: int  # switches between consecutive served versions
    snapshots: int
    snapshots_twice: int  # same body as the snapshot before it
    snapshot_order_ok: bool  # the stored sequence is the served one, repeats collapsed
    checks: int
    changes: int
    duplicate_changes: int  # same (snapshot, key) twice
    alerts: int
    status: Counter[str]
    changes_without_alert: list[int]
    received: int
    duplicate_ids: dict[int, int]  # change id -> deliveries, where more than one
    missing_ids: list[int]  # alerted changes the receiver never got
    unknown_ids: list[int]  # received, not an alert in the database
    latencies: list[float]  # seconds from queued to sent
    error_lines: int

    @property
    def exact(self) -> bool:
        return (
            self.snapshots == self.expected_changes + 1
            and self.changes == self.alerts == self.expected_changes == self.status["sent"]
            and self.snapshots_twice == self.duplicate_changes == self.error_lines == 0
            and self.snapshot_order_ok
            and not (self.changes_without_alert or self.duplicate_ids or self.missing_ids)
            and not self.unknown_ids
            and self.received == self.alerts
        )

    def lines(self) -> list[str]:
        lat = sorted(self.latencies) or [0.0]
        p95 = lat[min(len(lat) - 1, round(0.95 * (len(lat) - 1)))]
        return [
            f"source: {self.fetches} fetches, {self.versions_served} versions served, "
            f"{self.expected_changes} switches between consecutive served versions",
            f"database: {self.checks} polls recorded, {self.snapshots} snapshots (expected "
            f"{self.expected_changes + 1}; {self.snapshots_twice} stored twice; order as served: "
            f"{self.snapshot_order_ok}), {self.changes} changes ({self.duplicate_changes} "
            f"duplicate rows), {self.alerts} alerts queued {dict(self.status)}, changes "
            f"without an alert {self.changes_without_alert}",
            f"receiver: {self.received} deliveries; duplicate ids {self.duplicate_ids}, "
            f"missing ids {self.missing_ids}, unknown ids {self.unknown_ids}",
            f"queued -> sent: median {statistics.median(lat):.2f} s, p95 {p95:.2f} s, "
            f"max {lat[-1]:.2f} s; error lines in the logs {self.error_lines}",
            f"reconciled exactly: {self.exact}",
        ]


def reconcile(
    db: str, source: ChangingSource, requests: Sequence[ReceivedRequest], logs: Sequence[Path]
) -> Reconciled:
    """Count each stage from its own records (the source's, the database's, the receiver's)."""
    served = source.served()
    switches = sum(1 for a, b in zip(served, served[1:], strict=False) if a != b)
    flips = {id(r) for p, r in source.server.served if p == PATH}
    collapsed = [b for i, b in enumerate(served) if i == 0 or b != served[i - 1]]
    engine = make_engine(db)
    try:
        with engine.connect() as conn:
            q = conn.execute
            checks = q(sa.text("SELECT count(*) FROM checks")).scalar_one()
            snaps = q(sa.text("SELECT sha256, raw FROM snapshots ORDER BY id")).all()
            changes = q(sa.text("SELECT id, snapshot_id, key FROM changes")).all()
            alerts = outbox.list_alerts(conn, limit=1_000_000)
    finally:
        engine.dispose()
    shas = [s.sha256 for s in snaps]
    stored = [source.body_of(s.raw) for s in snaps]
    got = Counter(int(m) for r in requests for m in re.findall(rb"change:(\d+)", r.body)[:1])
    alerted = {a.change_id for a in alerts if a.change_id is not None}
    return Reconciled(
        fetches=len(served),
        versions_served=len(flips),
        expected_changes=switches,
        snapshots=len(shas),
        snapshots_twice=sum(1 for a, b in zip(shas, shas[1:], strict=False) if a == b),
        snapshot_order_ok=stored == collapsed,
        checks=checks,
        changes=len(changes),
        duplicate_changes=len(changes) - len({(c.snapshot_id, c.key) for c in changes}),
        alerts=len(alerts),
        status=Counter(a.status for a in alerts),
        changes_without_alert=sorted(c.id for c in changes if c.id not in alerted),
        received=len(requests),
        duplicate_ids={i: n for i, n in sorted(got.items()) if n > 1},
        missing_ids=sorted(alerted - set(got)),
        unknown_ids=sorted(set(got) - alerted),
        latencies=[(a.sent_at - a.created_at).total_seconds() for a in alerts if a.sent_at],
        error_lines=sum(
            '"level": "error"' in line or "Traceback" in line or "deadlock" in line.lower()
            for log in logs
            for line in log.read_text(errors="replace").splitlines()
        ),
    )

"""Shared by bench/soak.py and bench/replica_load.py: a source file that changes on a timer,
`watcher serve` processes, and /proc sampling (RSS, open descriptors, sockets)."""

from __future__ import annotations

import os
import subprocess
import sys
import threading
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from tests.conftest import fixture_bytes  # noqa: E402
from tests.hostile import HostileServer, Reply  # noqa: E402

CONS = "ofac_consolidated/cons_prim_2018-04-06.csv"
WATCHED = "BANK MARKAZI JOMHOURI ISLAMI IRAN"  # uid 4632, a real entry of the fixture


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
    """Serves the next variant every `every` seconds (a list that changes all day)."""

    def __init__(self, every: float) -> None:
        self.server = HostileServer().start()
        self.bodies = variants(50)
        self.flips = 0
        self.url = self.server.serve("cons.csv", Reply(200, self.bodies[0]))
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, args=(every,), daemon=True)
        self._thread.start()

    def _run(self, every: float) -> None:
        while not self._stop.wait(every):
            self.flips += 1
            self.server.serve("cons.csv", Reply(200, self.bodies[self.flips % len(self.bodies)]))

    def stop(self) -> None:
        self._stop.set()
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
    return subprocess.Popen(
        [sys.executable, "-m", "watcher", "--config", str(config), "serve", "--port", str(port)],
        cwd=ROOT,
        env={**os.environ, **env},
        stdout=subprocess.DEVNULL,
        stderr=log.open("wb"),
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

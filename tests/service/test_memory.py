"""An idle daemon gives the memory of a finished poll back to the operating system, and never
loads what it does not use: alembic (migrations run in a child), apprise (until a delivery)."""

from __future__ import annotations

import os
import platform
import subprocess
import sys
from pathlib import Path

import pytest

from tests.conftest import LocalServer
from watcher.errors import WatcherError
from watcher.service.app import migrate_apart
from watcher.service.memory import release_memory


def _rss_mb() -> float:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    raise AssertionError("no VmRSS")


@pytest.mark.skipif(platform.libc_ver()[0] != "glibc", reason="malloc_trim is glibc's")
def test_freed_small_objects_leave_the_resident_set() -> None:
    release_memory()
    # Remarks-sized strings come from malloc; a few survivors pin the heap top, so freeing
    # the rest does not lower RSS until the heap is trimmed.
    garbage = [("x" * 600) + str(i) for i in range(300_000)]
    survivors = garbage[::1000]
    del garbage
    before = _rss_mb()
    assert release_memory()
    assert _rss_mb() < before - 100
    assert len(survivors) == 300


def _fresh_python(code: str) -> str:
    """Run `code` in a new interpreter (a clean sys.modules) and return what it prints."""
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert done.returncode == 0, done.stderr
    return done.stdout.strip()


@pytest.mark.skipif(not hasattr(os, "fork"), reason="migrate_apart migrates in process there")
def test_the_daemon_migrates_in_a_child_and_never_loads_alembic(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'w.db'}"
    out = _fresh_python(
        "import sys\n"
        "from watcher.service.app import migrate_apart\n"
        "from watcher.store.engine import at_head, make_engine\n"
        f"migrate_apart({url!r})\n"
        f"print(at_head(make_engine({url!r})), 'alembic' in sys.modules)\n"
    )
    assert out == "True False"


def test_a_failed_migration_fails_the_start(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'missing-directory' / 'w.db'}"  # SQLite cannot create it
    with pytest.raises(WatcherError, match="migration failed"):
        migrate_apart(url)


def test_an_idle_daemon_without_deliveries_does_not_load_apprise() -> None:
    """apprise and its plugins load on the first delivery, not with the dispatcher."""
    out = _fresh_python(
        "import sys\n"
        "import watcher.service.app, watcher.alerts.dispatch\n"
        "print('apprise' in sys.modules)\n"
        "from watcher.alerts.deliver import deliver\n"
        "from watcher.alerts.render import Rendered\n"
        "print(deliver('json://127.0.0.1:9/', Rendered('t', 't', 't', 't'), 1.0).ok)\n"
        "print('apprise' in sys.modules)\n"
    )
    assert out.splitlines() == ["False", "False", "True"]


def test_the_daemon_skips_imports_it_never_uses_and_http_still_works(
    http_server: LocalServer,
) -> None:
    """After lean_process, the service and its HTTP client load without httpx's command line
    (rich, pygments) or trio, and a real fetch through the runtime's client still works."""
    http_server.serve("ping.txt", b"pong")
    out = _fresh_python(
        "import sys\n"
        "from watcher.service.memory import lean_process\n"
        "lean_process()\n"
        "import watcher.service.app\n"
        "from watcher.config import settings_from_dict\n"
        "from watcher.http import make_client\n"
        "client = make_client(settings_from_dict({}, {}).fetch)\n"
        f"print(client.get({http_server.url('ping.txt')!r}).text)\n"
        "print(sorted(m for m in ('rich', 'pygments', 'trio') if sys.modules.get(m)))\n"
    )
    assert out.splitlines() == ["pong", "[]"]

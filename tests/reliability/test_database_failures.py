"""Database failure trials (issue 13) through the real pipeline on the real 2021-12-09 -> 12-10
SDN pair: SQLite locked by another writer, PostgreSQL killed mid-run or unreachable, disk full.
Each must give one clear error naming the source (never a traceback out of run_source), leave
no snapshot, version or change half-written, and let the next run diff exactly (the 25 real
additions) against the last good snapshot."""

from __future__ import annotations

import errno
import os
import sqlite3
import subprocess
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa
from sqlalchemy import event

from tests.conftest import LocalServer, fixture_bytes
from tests.helpers import make_runtime
from watcher.pipeline import run as pipeline
from watcher.pipeline.run import RunResult, run_source
from watcher.runtime import Runtime
from watcher.store.engine import make_engine, upgrade

SDN = "ofac_sdn/sdn_{}.csv"
TABLES = ("snapshots", "entry_versions", "changes")


def _config(url: str) -> dict[str, Any]:
    return {"fetch": {"retries": 0}, "sources": {"ofac_sdn": {"url": url, "companions": []}}}


def _counts(db_url: str) -> dict[str, int]:
    engine = make_engine(db_url)
    with engine.connect() as conn:
        counts = {
            t: conn.execute(sa.text(f"SELECT count(*) FROM {t}")).scalar_one() for t in TABLES
        }
    engine.dispose()
    return counts


def _baseline(db_url: str, server: LocalServer) -> Runtime:
    """A runtime whose last good snapshot is 2021-12-09, with 2021-12-10 now being served."""
    url = server.serve("sdn.csv", fixture_bytes(SDN.format("2021-12-09")))
    rt = make_runtime(db_url, _config(url))
    assert run_source(rt, "ofac_sdn").outcome == "baseline"
    server.serve("sdn.csv", fixture_bytes(SDN.format("2021-12-10")))
    return rt


def _assert_clear_failure(result: RunResult, before: dict[str, int], db_url: str) -> None:
    assert result.source == "ofac_sdn" and result.outcome == "error", result
    assert result.error and "\n" not in result.error, result
    assert "ofac_sdn" in result.summary()
    assert _counts(db_url) == before  # nothing half-written


def _assert_recovers_exactly(rt: Runtime, before: dict[str, int], db_url: str) -> None:
    result = run_source(rt, "ofac_sdn")
    assert result.outcome == "new_snapshot", result
    assert (result.added, result.removed, result.modified) == (25, 0, 0), result
    after = _counts(db_url)
    assert after["snapshots"] == before["snapshots"] + 1
    assert after["changes"] == before["changes"] + 25


# --- 1. SQLite locked by another writer ------------------------------------------------------


def _short_busy_timeout(db_url: str, server: LocalServer, ms: int) -> Runtime:
    """The real runtime, but waiting `ms` rather than 30 s for a locked database."""
    rt = _baseline(db_url, server)
    engine = rt.engine

    @event.listens_for(engine, "connect")
    def _busy(dbapi_conn: Any, _record: Any) -> None:
        dbapi_conn.execute(f"PRAGMA busy_timeout={ms}")

    engine.dispose()  # reconnect with the short timeout
    return rt


@pytest.mark.parametrize("when", ["whole_run", "after_fetch"])
def test_sqlite_locked_by_another_writer(
    tmp_path: Path, http_server: LocalServer, monkeypatch: pytest.MonkeyPatch, when: str
) -> None:
    """The lock is held from before the run (its lease cannot be taken) or taken once the
    files are fetched (the snapshot cannot be written)."""
    db = tmp_path / "watcher.db"
    db_url = f"sqlite:///{db}"
    upgrade(make_engine(db_url))
    rt = _short_busy_timeout(db_url, http_server, 300)
    before = _counts(db_url)
    other = sqlite3.connect(db, isolation_level=None)
    fetch = pipeline.fetch_files

    def fetch_then_lock(*args: Any, **kwargs: Any) -> Any:
        fetched = fetch(*args, **kwargs)
        other.execute("BEGIN EXCLUSIVE")
        return fetched

    if when == "whole_run":
        other.execute("BEGIN EXCLUSIVE")
    else:
        monkeypatch.setattr(pipeline, "fetch_files", fetch_then_lock)
    try:
        result = run_source(rt, "ofac_sdn")
    finally:
        other.execute("ROLLBACK")
        other.close()
        monkeypatch.setattr(pipeline, "fetch_files", fetch)
    _assert_clear_failure(result, before, db_url)
    assert "locked" in (result.error or ""), result
    _assert_recovers_exactly(rt, before, db_url)


# --- 2. PostgreSQL killed mid-run, or unreachable ----------------------------------------------


@pytest.fixture
def pg_url(db_url: str) -> str:
    if not db_url.startswith("postgresql"):
        pytest.skip("PostgreSQL trial")
    return db_url


@pytest.mark.parametrize("db_url", ["postgresql"], indirect=True)
def test_postgres_backend_killed_mid_run(
    pg_url: str, http_server: LocalServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    rt = _baseline(pg_url, http_server)
    before = _counts(pg_url)
    killed: list[int] = []
    apply = pipeline._apply
    admin = make_engine(pg_url)

    def kill_then_apply(rt: Runtime, conn: Any, *args: Any, **kwargs: Any) -> Any:
        """After the snapshot row is flushed, before versions and changes are written."""
        pid = conn.execute(sa.text("SELECT pg_backend_pid()")).scalar_one()
        with admin.begin() as conn:
            conn.execute(sa.text("SELECT pg_terminate_backend(:p)"), {"p": pid})
        killed.append(pid)
        return apply(rt, conn, *args, **kwargs)

    monkeypatch.setattr(pipeline, "_apply", kill_then_apply)
    result = run_source(rt, "ofac_sdn")
    monkeypatch.setattr(pipeline, "_apply", apply)
    admin.dispose()
    assert killed, "the hook never ran"
    _assert_clear_failure(result, before, pg_url)
    engine = make_engine(pg_url)  # the failure itself is recorded, on a fresh connection
    with engine.connect() as conn:
        errors = conn.execute(sa.text("SELECT error FROM checks WHERE outcome = 'error'"))
        assert [e for (e,) in errors] == [result.error]
    engine.dispose()
    _assert_recovers_exactly(rt, before, pg_url)


@pytest.mark.parametrize("db_url", ["postgresql"], indirect=True)
def test_postgres_unreachable_for_one_run(pg_url: str, http_server: LocalServer) -> None:
    rt = _baseline(pg_url, http_server)
    before = _counts(pg_url)
    closed = "postgresql://postgres@127.0.0.1:1/nowhere"
    down = Runtime(rt.settings, make_engine(closed), clock=rt.clock)
    result = run_source(down, "ofac_sdn")
    _assert_clear_failure(result, before, pg_url)
    _assert_recovers_exactly(rt, before, pg_url)


# --- 3. Disk full ------------------------------------------------------------------------------


@pytest.fixture
def small_disk(tmp_path: Path) -> Iterator[Path]:
    """A 160 MB tmpfs mounted for this test only; skip where mounting is not allowed."""
    mount = tmp_path / "disk"
    mount.mkdir()
    if os.geteuid() != 0:
        pytest.skip("mounting a tmpfs needs root")
    done = subprocess.run(
        ["mount", "-t", "tmpfs", "-o", "size=160m", "tmpfs", str(mount)],
        capture_output=True,
        check=False,
    )
    if done.returncode != 0:
        pytest.skip(f"cannot mount a tmpfs: {done.stderr.decode(errors='replace').strip()}")
    try:
        yield mount
    finally:
        subprocess.run(["umount", "-l", str(mount)], check=False)


def _fill(path: Path) -> int:
    """Write zeros until the file system refuses; return the bytes written."""
    written = 0
    chunk = b"\0" * (1 << 16)
    with path.open("wb", buffering=0) as out:
        while True:
            try:
                written += out.write(chunk) or 0
            except OSError as exc:
                assert exc.errno == errno.ENOSPC
                break
    return written


@pytest.mark.parametrize("slack", [0, 256 * 1024])
def test_disk_full(small_disk: Path, http_server: LocalServer, slack: int) -> None:
    """No room at all (the run's lease cannot be written), or `slack` bytes: room for the lease
    and the bookkeeping but not for the 2 MB snapshot."""
    db_url = f"sqlite:///{small_disk / 'watcher.db'}"
    upgrade(make_engine(db_url))
    rt = _baseline(db_url, http_server)
    before = _counts(db_url)
    # An emptied WAL file: otherwise the run writes into the space the baseline's WAL still holds
    conn = sqlite3.connect(small_disk / "watcher.db")
    conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    conn.close()
    filler = small_disk / "filler"
    written = _fill(filler)
    assert written > slack
    os.truncate(filler, written - slack)
    result = run_source(rt, "ofac_sdn")
    _assert_clear_failure(result, before, db_url)
    assert "full" in (result.error or ""), result
    filler.unlink()
    assert _counts(db_url) == before  # history intact once space is back
    _assert_recovers_exactly(rt, before, db_url)

"""Per-source mutual exclusion, so replicas sharing a database never poll a source twice at once.

PostgreSQL: a session-level advisory lock held on a dedicated connection for the whole run.
SQLite (one host): an expiring lease row, so a crashed holder cannot block forever; a holder
("host:pid") whose process no longer exists on this host is taken over at once.
"""

from __future__ import annotations

import hashlib
import logging
import os
import socket
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import datetime, timedelta

from sqlalchemy import Engine, delete, insert, select, text
from sqlalchemy.exc import IntegrityError, SQLAlchemyError

from watcher.store.tables import LOCKS

LEASE = timedelta(hours=1)
log = logging.getLogger(__name__)


def lock_key(name: str) -> int:
    """A stable signed 64-bit key for pg_advisory_lock."""
    return int.from_bytes(
        hashlib.sha256(f"watcher:{name}".encode()).digest()[:8], "big", signed=True
    )


@contextmanager
def source_lock(engine: Engine, name: str, holder: str, now: datetime) -> Iterator[bool]:
    if engine.dialect.name == "postgresql":
        with engine.connect() as conn:
            key = lock_key(name)
            got = bool(conn.execute(text("SELECT pg_try_advisory_lock(:k)"), {"k": key}).scalar())
            conn.commit()
            try:
                yield got
            finally:
                if got:
                    with _release_quietly(name):  # a dead connection released it already
                        conn.execute(text("SELECT pg_advisory_unlock(:k)"), {"k": key})
                        conn.commit()
        return
    got = _take_lease(engine, f"source:{name}", holder, now)
    try:
        yield got
    finally:
        if got:
            with _release_quietly(name), engine.connect() as conn:
                conn.execute(
                    delete(LOCKS).where(LOCKS.c.name == f"source:{name}", LOCKS.c.holder == holder)
                )
                conn.commit()


@contextmanager
def _release_quietly(name: str) -> Iterator[None]:
    """Releasing runs after the run's outcome is decided; a locked, full or lost database must
    not turn that outcome into a traceback. A lease left behind expires or is retaken by us."""
    try:
        yield
    except SQLAlchemyError as exc:
        log.warning("could not release the lock of %s: %s", name, type(exc).__name__)


def _take_lease(engine: Engine, lock: str, holder: str, now: datetime) -> bool:
    with engine.connect() as conn:
        row = conn.execute(select(LOCKS).where(LOCKS.c.name == lock)).first()
        if (
            row is not None
            and row.expires_at > now
            and row.holder != holder
            and not holder_gone(row.holder)
        ):
            return False
        try:
            if row is not None:  # only the lease read above: a racer's new lease stays
                conn.execute(
                    delete(LOCKS).where(LOCKS.c.name == lock, LOCKS.c.holder == row.holder)
                )
            conn.execute(insert(LOCKS).values(name=lock, holder=holder, expires_at=now + LEASE))
            conn.commit()
        except IntegrityError:
            conn.rollback()
            return False
    return True


# SQLite has one writer; a transaction that read before another thread committed cannot start
# writing (SQLITE_BUSY, no waiting), so threads polling one SQLite file take turns at the
# database while their downloads still overlap.
_SQLITE_TURN = threading.RLock()


@contextmanager
def sqlite_turn(engine: Engine) -> Iterator[None]:
    """Exclusive use of the database for one thread when it is SQLite; free otherwise."""
    if engine.dialect.name != "sqlite":
        yield
        return
    with _SQLITE_TURN:
        yield


def process_alive(pid: int) -> bool:
    """Is a process with this id running on this host? (signal 0 only checks)"""
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True  # exists, owned by someone else
    return True


def holder_gone(holder: str) -> bool:
    """True for a "host:pid" holder of this host whose process has exited (killed, crashed)."""
    host, _, pid = holder.rpartition(":")
    return host == socket.gethostname() and pid.isdigit() and not process_alive(int(pid))

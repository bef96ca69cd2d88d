"""Engine, connections and migrations. One transaction per pipeline run.

The store speaks SQLAlchemy Core on a `Connection` (no ORM: see `tables.py`)."""

from __future__ import annotations

import logging
import re
import time
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from importlib import resources
from typing import Any, TypeVar

from sqlalchemy import Connection, Engine, create_engine, event, text
from sqlalchemy.exc import DBAPIError, OperationalError

T = TypeVar("T")
log = logging.getLogger(__name__)


def make_engine(url: str) -> Engine:
    """SQLite gets WAL, a busy timeout and foreign keys; PostgreSQL a pre-pinged pool."""
    if url.startswith("sqlite"):
        engine = create_engine(url, connect_args={"timeout": 30})

        @event.listens_for(engine, "connect")
        def _sqlite_pragmas(dbapi_conn: Any, _record: Any) -> None:
            cur = dbapi_conn.cursor()
            cur.execute("PRAGMA foreign_keys=ON")
            cur.execute("PRAGMA journal_mode=WAL")
            cur.execute("PRAGMA busy_timeout=30000")
            cur.close()

        return engine
    if url.startswith("postgresql://"):
        url = "postgresql+psycopg://" + url.removeprefix("postgresql://")
    return create_engine(url, pool_pre_ping=True)


@contextmanager
def transaction(engine: Engine) -> Iterator[Connection]:
    """One connection and its transaction: commit on success, roll back on any error, so
    nothing is half-written. (The engine is the connection factory a `Runtime` holds.)"""
    conn = engine.connect()
    try:
        yield conn
        conn.commit()
    except BaseException:
        conn.rollback()
        raise
    finally:
        conn.close()


def retry_transient(action: Callable[[], T], waits: Sequence[float], what: str) -> T:
    """Run `action` (a whole transaction), again after each of `waits` seconds while it fails
    with an OperationalError (SQLite locked or busy, a lost PostgreSQL connection); the last
    failure is raised. For writes whose loss costs more than a wait (a sent alert not
    recorded is sent again)."""
    for wait in waits:
        try:
            return action()
        except OperationalError as exc:
            log.warning(
                "%s failed (%s); retrying in %.1f s",
                what,
                str(exc.orig).splitlines()[0] if exc.orig else type(exc).__name__,
                wait,
            )
        time.sleep(wait)
    return action()


def ping(conn: Connection) -> None:
    """Raise unless the database answers (readiness)."""
    conn.execute(text("SELECT 1"))


def alembic_config(engine: Engine) -> Any:
    from alembic.config import Config

    cfg = Config()
    cfg.set_main_option("script_location", str(resources.files("watcher_migrations")))
    cfg.attributes["engine"] = engine
    return cfg


def upgrade(engine: Engine, revision: str = "head") -> None:
    """Apply migrations (idempotent); `serve` and `run` call this at start."""
    import logging

    from alembic import command

    # alembic announces each of its plugins at INFO on every start: noise in the daemon's log
    logging.getLogger("alembic.runtime.plugins").setLevel(logging.WARNING)
    command.upgrade(alembic_config(engine), revision)


_REVISION = re.compile(r"^(down_revision|revision)\s*(?::[^=]*)?=\s*['\"]?([\w]+)", re.M)


def head_revision() -> str | None:
    """The newest migration, read from the version files' text: importing alembic to ask it
    costs most of a listing command's start-up."""
    revisions: set[str] = set()
    parents: set[str] = set()
    for path in resources.files("watcher_migrations").joinpath("versions").iterdir():
        if not path.name.endswith(".py"):
            continue
        for kind, value in _REVISION.findall(path.read_text("utf-8")):
            (revisions if kind == "revision" else parents).add(value)
    heads = revisions - parents
    return heads.pop() if len(heads) == 1 else None


def at_head(engine: Engine) -> bool:
    """Is the database already at the newest migration (then `upgrade` has nothing to do)?"""
    head = head_revision()
    if head is None:
        return False
    try:
        with engine.connect() as conn:
            current = conn.execute(text("SELECT version_num FROM alembic_version")).scalars()
            return list(current) == [head]
    except DBAPIError:
        return False


def ensure_schema(engine: Engine) -> None:
    """Migrate only when needed, so read-only commands start fast."""
    if not at_head(engine):
        upgrade(engine)

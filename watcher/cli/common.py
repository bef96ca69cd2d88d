"""What every command shares: the App (settings + database, opened once), errors, dates.

Imports here stay light (click): config and the database layer are imported when a
command first needs them, so `--version` and `--help` pay for neither.
"""

from __future__ import annotations

import sys
from collections.abc import Callable
from datetime import datetime
from functools import wraps
from typing import TYPE_CHECKING, Any, TypeVar

import click

from watcher.dates import parse_instant
from watcher.errors import WatcherError

if TYPE_CHECKING:
    from sqlalchemy import Engine

    from watcher.config import Settings
    from watcher.runtime import Runtime

F = TypeVar("F", bound=Callable[..., Any])


def fail(message: str) -> None:
    """A one-line reason and a non-zero exit, never a traceback."""
    click.echo(f"error: {message}", err=True)
    sys.exit(1)


def handled(func: F) -> F:
    @wraps(func)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        try:
            return func(*args, **kwargs)
        except BrokenPipeError:
            raise  # the reader left (`| head`): the group exits quietly
        except (WatcherError, OSError) as exc:
            fail(str(exc))

    return wrapper  # type: ignore[return-value]


class App:
    """Settings and database opened once per command."""

    def __init__(self, config: str | None, tz: str | None = None, verbose: bool = False) -> None:
        self.config_arg = config
        self.tz = tz
        self.verbose = verbose
        self._settings: Settings | None = None
        self._runtime: Runtime | None = None

    @property
    def settings(self) -> Settings:
        if self._settings is None:
            from watcher.config import load_settings

            self._settings = load_settings(self.config_arg)
        return self._settings

    def runtime(self, migrate: bool = True, sync: bool = True) -> Runtime:
        """The database, migrated if needed; `sync=False` for commands that read only the
        lists (the watchlist and subscribers are copied from the config by the others)."""
        if self._runtime is None:
            from watcher.runtime import Runtime
            from watcher.store.engine import ensure_schema, make_engine

            engine = make_engine(self.settings.database_url)
            if migrate:
                ensure_schema(engine)
            self._runtime = Runtime(self.settings, engine)
            if sync:
                sync_config(self._runtime)
        return self._runtime

    def engine(self) -> Engine:
        """The database (a connection factory) for read-only listings (no config sync)."""
        return self.runtime(sync=False).engine


def sync_config(rt: Runtime, attempts: int = 3) -> None:
    """Config watchlist and subscribers into the database; replicas starting together may race
    on the same rows, so a unique-key conflict is simply retried (the other one won)."""
    from sqlalchemy.exc import IntegrityError

    from watcher.store import subscribers, watchlist
    from watcher.store.engine import transaction

    for attempt in range(attempts):
        try:
            with transaction(rt.engine) as conn:
                watchlist.sync_watchlist(conn, rt.settings)
                subscribers.sync_subscribers(conn, rt.settings)
            return
        except IntegrityError:
            if attempt == attempts - 1:
                raise


pass_app = click.make_pass_decorator(App)


def parse_date(value: str, option: str, *, whole_day: bool = False) -> datetime:
    """`watcher.dates.parse_instant`, failing as a click usage error naming the option."""
    try:
        return parse_instant(value, whole_day=whole_day)
    except ValueError as exc:
        raise click.BadParameter(str(exc), param_hint=option) from exc


def end_of(value: str, option: str) -> datetime:
    """A bare date means the whole day: 'as of 2024-05-04' includes that day's snapshot."""
    return parse_date(value, option, whole_day=True)

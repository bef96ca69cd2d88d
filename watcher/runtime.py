"""The context a run needs (settings, database connections, HTTP client, clock), passed explicitly.

It lives apart from the pipeline so that shells and the dispatcher can hold one without
importing the pipeline.
"""

from __future__ import annotations

import os
import socket
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import TYPE_CHECKING

from watcher.config import Settings

if TYPE_CHECKING:  # the HTTP client is imported when a command first fetches
    import httpx
    from sqlalchemy import Engine


@dataclass
class Runtime:
    """What a run needs, passed explicitly (never read from globals)."""

    settings: Settings
    engine: Engine  # the store's connection factory: `with transaction(rt.engine) as conn`
    client: httpx.Client | None = None
    clock: Callable[[], datetime] = field(default=lambda: datetime.now(UTC))
    # "host:pid": who holds a source lock or an alert lease (dead holders' leases are released)
    holder: str = field(default_factory=lambda: f"{socket.gethostname()}:{os.getpid()}")

    def http(self) -> httpx.Client:
        if self.client is None:
            from watcher.http import make_client

            self.client = make_client(self.settings.fetch)
        return self.client

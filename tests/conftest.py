"""Shared test plumbing: the real fixtures (read in place), databases, a local HTTP server."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import pytest

pytest_plugins = ["tests.receivers", "tests.hostile"]

ROOT = Path(__file__).resolve().parent.parent
FIXTURES = Path(os.environ.get("WATCHER_FIXTURES", ROOT.parent / "shared" / "fixtures"))


@pytest.fixture(autouse=True, scope="session")
def _user_cache_dir(tmp_path_factory: pytest.TempPathFactory) -> Iterator[None]:
    """Caches the code keeps in the user's cache directory (the screen cache of a PostgreSQL
    database) go to a temporary one: tests leave nothing in the home directory."""
    before = os.environ.get("XDG_CACHE_HOME")
    os.environ["XDG_CACHE_HOME"] = str(tmp_path_factory.mktemp("xdg_cache"))
    yield
    if before is None:
        os.environ.pop("XDG_CACHE_HOME", None)
    else:
        os.environ["XDG_CACHE_HOME"] = before


def fixture_path(relative: str) -> Path:
    """Path of a real fixture; missing means skip locally, fail under CI=true."""
    path = FIXTURES / relative
    if not path.exists():
        message = f"fixture missing: {path}"
        if os.environ.get("CI", "").lower() == "true":
            pytest.fail(message)
        pytest.skip(message)
    return path


def fixture_bytes(relative: str) -> bytes:
    return fixture_path(relative).read_bytes()


# --- databases: every store test runs on SQLite and on PostgreSQL -------------------------

import threading  # noqa: E402
import uuid  # noqa: E402
from functools import partial  # noqa: E402
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer  # noqa: E402

PG_URL = os.environ.get(
    "WATCHER_TEST_POSTGRES_URL", "postgresql://postgres@127.0.0.1:5432/postgres"
)
_pg_state: dict[str, str | None] = {}


def _pg_database() -> str | None:
    """One throw-away database per test session; None (skip) only if no server answers."""
    if "url" in _pg_state:
        return _pg_state["url"]
    import sqlalchemy as sa

    from watcher.store.engine import make_engine, upgrade

    try:
        admin = make_engine(PG_URL).execution_options(isolation_level="AUTOCOMMIT")
        name = f"watcher_test_{uuid.uuid4().hex[:10]}"
        with admin.connect() as conn:
            conn.execute(sa.text(f'CREATE DATABASE "{name}"'))
        admin.dispose()
    except Exception as exc:  # noqa: BLE001
        _pg_state["url"] = None
        _pg_state["reason"] = f"PostgreSQL not reachable at {PG_URL}: {type(exc).__name__}"
        return None
    url = PG_URL.rsplit("/", 1)[0] + f"/{name}"
    upgrade(make_engine(url))
    _pg_state["url"] = url
    _pg_state["name"] = name
    return url


def _truncate_pg(url: str) -> None:
    import sqlalchemy as sa

    from watcher.store.engine import make_engine
    from watcher.store.tables import metadata

    engine = make_engine(url)
    names = ", ".join(t.name for t in metadata.sorted_tables)
    with engine.begin() as conn:
        conn.execute(sa.text(f"TRUNCATE {names} RESTART IDENTITY CASCADE"))
    engine.dispose()


def pytest_sessionfinish(session: pytest.Session, exitstatus: int) -> None:
    name = _pg_state.get("name")
    if not name:
        return
    import sqlalchemy as sa

    from watcher.store.engine import make_engine

    admin = make_engine(PG_URL).execution_options(isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(sa.text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
    admin.dispose()


@pytest.fixture(params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)])
def db_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    """A migrated, empty database: a temporary SQLite file, or the PostgreSQL test database."""
    from watcher.store.engine import make_engine, upgrade

    if request.param == "sqlite":
        url = f"sqlite:///{tmp_path / 'watcher.db'}"
        upgrade(make_engine(url))
        return url
    pg = _pg_database()
    if pg is None:
        pytest.skip(str(_pg_state.get("reason")))
    _truncate_pg(pg)
    return pg


# --- a real local HTTP server for the fixtures and for files a test derives ---------------


class _Handler(SimpleHTTPRequestHandler):
    overrides: dict[str, tuple[int, bytes, dict[str, str]]] = {}
    log: list[tuple[str, dict[str, str]]] = []

    def do_GET(self) -> None:  # noqa: N802
        self.log.append((self.path, dict(self.headers)))
        path = self.path.split("?", 1)[0]
        if path in self.overrides:
            status, body, headers = self.overrides[path]
            etag = headers.get("ETag")
            if etag and self.headers.get("If-None-Match") == etag:
                self.send_response(304)
                self.end_headers()
                return
            self.send_response(status)
            self.send_header("Content-Length", str(len(body)))
            for k, v in headers.items():
                self.send_header(k, v)
            self.end_headers()
            self.wfile.write(body)
            return
        super().do_GET()

    def log_message(self, format: str, *args: object) -> None:  # noqa: A002
        pass


class LocalServer:
    """Serves ../shared/fixtures read-only; `serve()` puts derived bytes at a path."""

    def __init__(self) -> None:
        handler = type("H", (_Handler,), {"overrides": {}, "log": []})
        self.handler = handler
        self.httpd = ThreadingHTTPServer(
            ("127.0.0.1", 0), partial(handler, directory=str(FIXTURES))
        )
        self.thread = threading.Thread(target=self.httpd.serve_forever, daemon=True)
        self.thread.start()

    @property
    def base(self) -> str:
        return f"http://127.0.0.1:{self.httpd.server_address[1]}"

    def url(self, path: str) -> str:
        return f"{self.base}/{path.lstrip('/')}"

    def serve(
        self, path: str, body: bytes, status: int = 200, headers: dict[str, str] | None = None
    ) -> str:
        self.handler.overrides["/" + path.lstrip("/")] = (status, body, headers or {})
        return self.url(path)

    @property
    def requests(self) -> list[tuple[str, dict[str, str]]]:
        return self.handler.log

    def close(self) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()


@pytest.fixture
def http_server() -> Iterator[LocalServer]:
    server = LocalServer()
    yield server
    server.close()

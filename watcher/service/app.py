"""`watcher serve`: the scheduler and the HTTP server in one process, with a clean shutdown.

Start: refuse a non-loopback bind without an API token, start uvicorn (in a thread, so the
main thread owns the signals), then the scheduler (first polls run at once).
SIGTERM / SIGINT: pause the scheduler (no new work), stop uvicorn, then wait for a running
poll or dispatch to finish, up to `grace` seconds. A poll still running after that is
abandoned with the process: its transaction never commits, so nothing is half-written.
"""

from __future__ import annotations

import ipaddress
import logging
import os
import signal
import socket
import threading
import time
from dataclasses import replace
from types import FrameType
from typing import Any

import uvicorn
from apscheduler.schedulers.background import BackgroundScheduler

from watcher.config import Settings, resolve_secret
from watcher.errors import ConfigError, WatcherError
from watcher.runtime import Runtime
from watcher.service.api import create_app
from watcher.service.scheduler import build_scheduler

log = logging.getLogger(__name__)
GRACE = 25.0  # below Docker's and Kubernetes' kill timeouts once raised as documented
STARTUP_TIMEOUT = 30.0


def is_loopback(host: str) -> bool:
    """127.0.0.0/8, ::1 and 'localhost'; anything else is reachable from elsewhere."""
    if host.strip().lower() == "localhost":
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False


def api_token(settings: Settings) -> str | None:
    """The bearer token from `http.token_env` or `http.token_file` (read now, never logged)."""
    return resolve_secret(settings.http.token_env, settings.http.token_file)


def check_bind(settings: Settings, host: str) -> str | None:
    """The token to enforce; a clear error when binding beyond loopback without one."""
    token = api_token(settings)
    if not token and not is_loopback(host):
        where = f"${settings.http.token_env}" if settings.http.token_env else "http.token_env"
        raise ConfigError(
            f"refusing to serve the API on {host}: it would be reachable from other hosts "
            f"without a token. Set {where} or http.token_file, or bind 127.0.0.1."
        )
    return token


def serve(rt: Runtime, host: str, port: int, grace: float = GRACE) -> None:
    """Run the daemon until SIGTERM/SIGINT; returns normally (exit status 0) after a clean stop."""
    token = check_bind(rt.settings, host)
    rt = replace(rt, holder=f"{socket.gethostname()}:{os.getpid()}")
    rt.http()  # one shared client, created before the job threads race to create it
    server = uvicorn.Server(
        uvicorn.Config(
            create_app(rt, token), host=host, port=port, log_config=None, access_log=False,
            timeout_graceful_shutdown=5, lifespan="off",
        )
    )  # fmt: skip
    stop = threading.Event()
    previous = _install_signals(stop)
    web = threading.Thread(target=server.run, name="uvicorn", daemon=True)
    web.start()
    scheduler: BackgroundScheduler | None = None
    try:
        _wait_started(server, web)
        scheduler = build_scheduler(rt)
        scheduler.start()
        log.info(
            "serving",
            extra={
                "host": host,
                "port": port,
                "jobs": [j.id for j in scheduler.get_jobs()],
                "auth": bool(token),
            },
        )
        while not stop.wait(0.5):
            if not web.is_alive():
                raise WatcherError("the HTTP server stopped unexpectedly")
        log.info("shutting down: no new polls; waiting for running work", extra={"grace_s": grace})
        scheduler.pause()
        server.should_exit = True
        web.join(timeout=10)
        _shutdown_scheduler(scheduler, grace)
    finally:
        server.should_exit = True
        if scheduler is not None and scheduler.running:
            scheduler.shutdown(wait=False)
        for sig, handler in previous.items():
            signal.signal(sig, handler)
        if rt.client is not None:
            rt.client.close()
    log.info("stopped")


def migrate_apart(url: str) -> None:
    """Bring the schema to the newest migration in a forked child, so the long-lived daemon
    never holds alembic and its migration modules (~11 MB of its idle RSS, measured). Where
    there is no fork, or nothing to migrate, this is `ensure_schema` in process."""
    from watcher.store.engine import at_head, ensure_schema, make_engine

    engine = make_engine(url)
    try:
        if at_head(engine) or not hasattr(os, "fork"):
            ensure_schema(engine)
            return
    finally:
        engine.dispose()
    pid = os.fork()
    if pid == 0:  # pragma: no cover - the child's coverage is not collected
        code = 1
        try:
            ensure_schema(make_engine(url))
            code = 0
        except BaseException as exc:  # noqa: BLE001 - reported here, then the parent fails
            log.error("migration failed", extra={"error": f"{type(exc).__name__}: {exc}"})
        finally:
            logging.shutdown()
            os._exit(code)
    _, status = os.waitpid(pid, 0)
    if os.waitstatus_to_exitcode(status) != 0:
        raise WatcherError("the database migration failed (see the log above)")


def _install_signals(stop: threading.Event) -> dict[signal.Signals, Any]:
    def handle(sig: int, _frame: FrameType | None) -> None:
        if stop.is_set():
            log.warning("second signal: exiting now", extra={"signal": sig})
            os._exit(0)
        stop.set()

    return {sig: signal.signal(sig, handle) for sig in (signal.SIGTERM, signal.SIGINT)}


def _wait_started(server: uvicorn.Server, web: threading.Thread) -> None:
    deadline = time.monotonic() + STARTUP_TIMEOUT
    while not server.started:
        if not web.is_alive():
            raise ConfigError(
                f"could not start the HTTP server on {server.config.host}:{server.config.port} "
                "(address in use or not permitted?)"
            )
        if time.monotonic() > deadline:
            raise WatcherError("the HTTP server did not start in time")
        time.sleep(0.05)


def _shutdown_scheduler(scheduler: BackgroundScheduler, grace: float) -> None:
    """Wait for running jobs up to `grace`; past it, leave and let the process exit."""
    done = threading.Event()

    def wait() -> None:
        scheduler.shutdown(wait=True)
        done.set()

    threading.Thread(target=wait, name="scheduler-shutdown", daemon=True).start()
    if not done.wait(grace):
        log.warning("a job is still running after the grace period; abandoning it (rolled back)")
        logging.shutdown()
        os._exit(0)  # job threads are not daemons: a plain return would wait for them

"""The HTTP face of the daemon: health, readiness, Prometheus metrics and a read-only JSON API.

Routes are thin shells over `watcher.store` (the same queries as the CLI listings, the same
JSON objects as `--format json`). `/api/*` needs `Authorization: Bearer <token>` whenever a
token is given to `create_app` (always when bound beyond loopback); `/healthz`, `/readyz` and
`/metrics` stay open for probes and scrapers.
"""

from __future__ import annotations

import secrets
from datetime import datetime
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Depends, FastAPI, HTTPException, Query, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse, Response
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer
from prometheus_client import CONTENT_TYPE_LATEST, generate_latest

from watcher.dates import parse_instant
from watcher.health import enabled_sources, staleness
from watcher.runtime import Runtime
from watcher.service.metrics import make_registry
from watcher.service.web import mount_web
from watcher.sources.registry import SOURCES
from watcher.store import documents, outbox, queries
from watcher.store import snapshots as store
from watcher.store.engine import ping, transaction
from watcher.store.entries import entry_rows
from watcher.store.records import SnapshotInfo

Kind = Literal["added", "removed", "modified"]
AlertStatus = Literal["pending", "sent", "failed", "dead"]
# Every parameter is bounded: a 100 KB search string is a client error (400), never a 500.
MAX_TEXT = 200
Text = Annotated[str | None, Query(max_length=MAX_TEXT)]
DateText = Annotated[str | None, Query(max_length=40)]
SourceName = Annotated[str | None, Query(max_length=64)]
_bearer = HTTPBearer(auto_error=False, description="The API token (http.token_env / token_file)")


def create_app(rt: Runtime, token: str | None) -> FastAPI:
    """The app; `token` None leaves /api/* open (loopback only, enforced by `serve`)."""
    app = FastAPI(
        title="watcher",
        version="0.1.0",
        description="Read-only view of US sanctions and export-control list changes.",
        # Swagger UI and ReDoc load their scripts from a CDN: blank on an air-gapped host.
        # The schema stays at /openapi.json for any viewer the operator has.
        docs_url=None,
        redoc_url=None,
    )
    registry = make_registry(rt)

    @app.get("/healthz", tags=["health"])
    def healthz() -> dict[str, str]:
        """Liveness: the process answers."""
        return {"status": "ok"}

    @app.get("/readyz", tags=["health"])
    def readyz() -> JSONResponse:
        """Readiness: database reachable and no enabled source stale beyond its limit."""
        reasons = readiness_problems(rt)
        status = 200 if not reasons else 503
        body = {"ready": not reasons, "reasons": reasons, "failing": failing_sources(rt)}
        return JSONResponse(body, status_code=status)

    @app.get("/metrics", tags=["health"], response_class=Response)
    def metrics() -> Response:
        """Prometheus text format, computed from the database at scrape time."""
        return Response(generate_latest(registry), media_type=CONTENT_TYPE_LATEST)

    @app.exception_handler(RequestValidationError)
    def bad_request(request: Request, exc: RequestValidationError) -> JSONResponse:
        return JSONResponse({"detail": validation_message(exc)}, status_code=400)

    app.include_router(_api_router(rt), dependencies=[Depends(_auth_dependency(token))])
    mount_web(app, rt, token)
    return app


def validation_message(exc: RequestValidationError) -> str:
    """One readable line per bad parameter; the offending value is never echoed (size, secrets)."""
    parts = []
    for error in exc.errors():
        where = ".".join(str(p) for p in error.get("loc", ())[1:]) or "request"
        parts.append(f"{where}: {error.get('msg', 'invalid')}")
    return "; ".join(parts)


def readiness_problems(rt: Runtime) -> list[str]:
    """Reasons the daemon is not ready (empty when it is)."""
    try:
        with transaction(rt.engine) as conn:
            ping(conn)
            states = {s.source: s for s in store.all_states(conn)}
    except Exception as exc:  # noqa: BLE001 - any failure means "not ready", with the reason
        return [f"database unreachable: {type(exc).__name__}"]
    now = rt.clock()
    reasons = []
    for name in enabled_sources(rt.settings):
        state = states.get(name)
        why = staleness(rt.settings, name, state.last_success_at if state else None, now)
        if why:
            error = f" (last error: {state.last_error})" if state and state.last_error else ""
            reasons.append(f"{name}: stale: {why}{error}")
    return reasons


def failing_sources(rt: Runtime) -> list[str]:
    """Sources whose last poll failed (a 404 shows at once; staleness alone decides 503)."""
    try:
        with transaction(rt.engine) as conn:
            states = store.all_states(conn)
    except Exception:  # noqa: BLE001 - readiness_problems already reports the database
        return []
    enabled = set(enabled_sources(rt.settings))
    return [
        f"{s.source}: {s.consecutive_failures} failed poll(s) in a row: {s.last_error}"
        for s in states
        if s.source in enabled and s.consecutive_failures and s.last_error
    ]


def _auth_dependency(token: str | None) -> Any:
    expected = token.encode() if token else None

    def check(
        request: Request,
        credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(_bearer)],
    ) -> None:
        if expected is None:
            return
        given = credentials.credentials.encode() if credentials else b""
        if not (
            credentials and credentials.scheme.lower() == "bearer"
        ) or not secrets.compare_digest(given, expected):
            raise HTTPException(
                status_code=401,
                detail="missing or wrong bearer token",
                headers={"WWW-Authenticate": "Bearer"},
            )

    return check


def _parse_date(value: str | None, name: str, *, end: bool = False) -> datetime | None:
    """`watcher.dates.parse_instant` (a bare `until`/`as_of` is the whole day, as in the CLI),
    failing as a 400 naming the parameter."""
    if value is None:
        return None
    try:
        return parse_instant(value, whole_day=end)
    except (ValueError, OverflowError) as exc:
        raise HTTPException(400, f"{name}: {exc}"[:200]) from None


def _check_source(source: str | None) -> None:
    if source is not None and source not in SOURCES:
        raise HTTPException(400, f"source: unknown source {source!r} (known: {', '.join(SOURCES)})")


def _api_router(rt: Runtime) -> APIRouter:
    router = APIRouter(prefix="/api", tags=["api"])

    @router.get("/sources")
    def sources() -> list[dict[str, Any]]:
        """Each source: enabled, state, last success, last error, staleness, current entries."""
        return source_rows(rt)

    @router.get("/snapshots")
    def snapshots(
        source: SourceName = None, limit: Annotated[int, Query(ge=1, le=10000)] = 100
    ) -> list[dict[str, Any]]:
        """Snapshot history, newest first (status ok / rejected / quarantined, with the reason)."""
        _check_source(source)
        with transaction(rt.engine) as conn:
            return [snapshot_row(s) for s in store.list_snapshots(conn, source, limit)]

    @router.get("/changes")
    def changes(
        source: SourceName = None,
        since: DateText = None,
        until: DateText = None,
        entity: Text = None,
        kind: Kind | None = None,
        list_code: Annotated[str | None, Query(max_length=16)] = None,
        limit: Annotated[int, Query(ge=1, le=100000)] = 1000,
    ) -> list[dict[str, Any]]:
        """Changes newest first: the `watcher changes --format json` objects."""
        _check_source(source)
        start, stop = _parse_date(since, "since"), _parse_date(until, "until", end=True)
        with transaction(rt.engine) as conn:
            found = queries.list_changes(
                conn, source=source, since=start, until=stop, entity=entity, kind=kind,
                list_code=list_code, limit=limit,
            )  # fmt: skip
        return [c.to_dict() for c in found]

    @router.get("/entries")
    def entries(
        source: Annotated[str, Query(max_length=64)],
        as_of: DateText = None,
        q: Text = None,
        limit: Annotated[int | None, Query(ge=1, le=1_000_000)] = None,
    ) -> list[dict[str, Any]]:
        """A list as it stood at the end of `as_of` (default: now); `q` searches any field."""
        _check_source(source)
        when = _parse_date(as_of, "as_of", end=True)
        with transaction(rt.engine) as conn:
            return entry_rows(conn, source, when, q, limit)

    @router.get("/alerts")
    def alerts(
        status: AlertStatus | None = None, limit: Annotated[int, Query(ge=1, le=10000)] = 200
    ) -> list[dict[str, Any]]:
        """The outbox, newest first: the `watcher alerts list --format json` objects."""
        with transaction(rt.engine) as conn:
            return [a.to_dict() for a in outbox.list_alerts(conn, status, limit)]

    @router.get("/history")
    def history(
        name: Annotated[str, Query(min_length=1, max_length=MAX_TEXT)],
    ) -> list[dict[str, Any]]:
        """One entity's timeline across every list."""
        with transaction(rt.engine) as conn:
            return queries.history(conn, name)

    return router


def source_rows(rt: Runtime) -> list[dict[str, Any]]:
    """The `watcher sources` rows."""
    with transaction(rt.engine) as conn:
        found = queries.source_statuses(conn, rt.settings, list(SOURCES), rt.clock())
        leads = documents.lead_times(conn)
    rows = [s.to_dict() for s in found]
    for row in rows:
        if row["source"] == documents.FR_SOURCE:
            row["lead_times"] = leads  # public inspection seen -> published, per document
    return rows


def snapshot_row(s: SnapshotInfo) -> dict[str, Any]:
    """The `watcher snapshots --format json` object."""
    return {
        "id": s.id, "source": s.source, "effective_at": s.effective_at.isoformat(),
        "fetched_at": s.fetched_at.isoformat(),
        "published_at": s.published_at.isoformat() if s.published_at else None,
        "status": s.status, "reason": s.reason, "records": s.record_count, "bytes": s.raw_size,
        "sha256": s.sha256, "origin": s.origin, "warnings": list(s.warnings),
    }  # fmt: skip

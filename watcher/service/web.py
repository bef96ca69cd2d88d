"""The read-only web pages: timeline, entity, screen, sources, watchlist, and an Atom feed.

Server-rendered Jinja2 (autoescaped: names come from outside), one small CSS file, no
JavaScript. Pages read the store through `watcher.store` functions only. Authentication is the
API's token: a bearer header, or, for a browser, a cookie set by the login form (or by opening
any page with `?token=`, which then redirects to the same address without it, so the token does
not stay in the address bar or history). The cookie holds a hash of the token, is HttpOnly and
SameSite=Strict; the feed also takes `?token=` directly, as feed readers keep no cookies.
"""

from __future__ import annotations

import hashlib
import secrets
import threading
from collections.abc import Callable
from importlib import resources
from typing import Any
from urllib.parse import parse_qs, urlencode

from fastapi import APIRouter, FastAPI, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from fastapi.staticfiles import StaticFiles
from jinja2 import Environment, PackageLoader, select_autoescape
from sqlalchemy import Connection

from watcher.matching.screening import ScreenIndex
from watcher.pipeline.screen import current_index, screen_name
from watcher.runtime import Runtime
from watcher.service import pages
from watcher.service.chart import build_chart
from watcher.sources.registry import SOURCES
from watcher.store import links, queries, views
from watcher.store import snapshots as store
from watcher.store import subscribers as subscriber_store
from watcher.store import watchlist as watchlist_store
from watcher.store.engine import transaction

COOKIE = "watcher_session"
PAGE_SIZE = 50
_env = Environment(
    loader=PackageLoader("watcher.service", "templates"),
    autoescape=select_autoescape(["html", "atom"]),
    extensions=["jinja2.ext.do"],
    trim_blocks=True,
    lstrip_blocks=True,
)
_env.filters["when"] = pages.when
_env.filters["day"] = pages.day
_env.globals["age"] = pages.age


def session_value(token: str) -> str:
    """What the cookie holds: a hash of the token (the token itself never leaves the server)."""
    return hashlib.sha256(b"watcher-web:" + token.encode()).hexdigest()


def authorized(request: Request, token: str | None, *, allow_query: bool = False) -> bool:
    """Bearer header, session cookie, or (feed only) `?token=`."""
    if token is None:
        return True
    header = request.headers.get("authorization", "")
    scheme, _, given = header.partition(" ")
    if scheme.lower() == "bearer" and secrets.compare_digest(given.encode(), token.encode()):
        return True
    cookie = request.cookies.get(COOKIE, "")
    if secrets.compare_digest(cookie.encode(), session_value(token).encode()):
        return True
    query = request.query_params.get("token", "")
    return allow_query and secrets.compare_digest(query.encode(), token.encode())


def render(name: str, status: int = 200, **context: Any) -> HTMLResponse:
    return HTMLResponse(_env.get_template(name).render(**context), status_code=status)


def mount_web(app: FastAPI, rt: Runtime, token: str | None) -> None:
    """Add the pages, the feed, the login form and /static to `app`."""
    static = resources.files("watcher.service") / "static"
    app.mount("/static", StaticFiles(directory=str(static)), name="static")
    app.include_router(_router(rt, token))


def _guard(token: str | None, handler: Callable[[Request], Response]) -> Any:
    """Wrap a page: `?token=` sets the cookie and redirects; no credentials shows the form."""

    def page(request: Request) -> Response:
        given = request.query_params.get("token")
        if token is not None and given is not None:
            if not secrets.compare_digest(given.encode(), token.encode()):
                return _login(request, "wrong token", 401)
            rest = [(k, v) for k, v in request.query_params.multi_items() if k != "token"]
            target = request.url.path + ("?" + urlencode(rest) if rest else "")
            return _with_cookie(RedirectResponse(target, status_code=303), token, request)
        if not authorized(request, token):
            return _login(request, None, 401)
        return handler(request)

    page.__doc__ = handler.__doc__
    return page


def _login(request: Request, error: str | None, status: int) -> HTMLResponse:
    target = request.url.path + (f"?{request.url.query}" if request.url.query else "")
    return render("login.html", status, error=error, next=target, title="Sign in")


def _with_cookie(response: Response, token: str, request: Request) -> Response:
    response.set_cookie(
        COOKIE, session_value(token), httponly=True, samesite="strict", path="/",
        secure=request.url.scheme == "https",
    )  # fmt: skip
    return response


def _safe_next(target: str) -> str:
    """Only paths on this site: never `//host` or `https://...` (no open redirect)."""
    return target if target.startswith("/") and not target.startswith("//") else "/"


class _ScreenCache:
    """The daemon's screening index, rebuilt only when a list changed (new snapshot or version):
    a query then costs milliseconds instead of a pass over every stored entry."""

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.stamp: tuple[int, int] | None = None
        self.index: ScreenIndex | None = None

    def get(self, conn: Connection) -> ScreenIndex:
        with self.lock:
            stamp = views.lists_stamp(conn)
            if self.index is None or stamp != self.stamp:
                self.index, self.stamp = current_index(conn), stamp
            return self.index


def _router(rt: Runtime, token: str | None) -> APIRouter:
    router = APIRouter(include_in_schema=False)
    screen_cache = _ScreenCache()

    def timeline(request: Request) -> Response:
        """Changes newest first, grouped by day and source, with filters and a chart."""
        form, problems = pages.parse_filters(request.query_params)
        if problems:
            return render("timeline.html", 400, title="Timeline", form=form, errors=problems,
                          choices=_choices(rt), groups=[], chart=None, next_url=None)  # fmt: skip
        cursor = pages.parse_cursor(request.query_params.get("before"))
        with transaction(rt.engine) as conn:
            changes = queries.list_changes(
                conn, where=form.where, before=cursor, limit=PAGE_SIZE + 1
            )
            counts = queries.count_changes(conn, form.where)
            docs = pages.documents_for(conn, changes[:PAGE_SIZE])
        more = len(changes) > PAGE_SIZE
        changes = changes[:PAGE_SIZE]
        next_url = pages.next_url(form, changes[-1]) if more and changes else None
        return render(
            "timeline.html", title="Timeline", form=form, errors=[], choices=_choices(rt),
            groups=pages.group_changes(changes, counts, docs), chart=build_chart(counts),
            next_url=next_url, first_page=cursor is None, feed_url=pages.feed_url(form),
        )  # fmt: skip

    def entity(request: Request) -> Response:
        """One party: every version side by side, its changes, FR documents, other lists."""
        source = request.path_params["source"]
        key = request.path_params["key"]
        with transaction(rt.engine) as conn:
            versions = views.versions_of(conn, source, key)
            if not versions:
                return render("missing.html", 404, title="Not found", what=f"{source} {key}")
            where = queries.ChangeFilter(source=source, key=key)
            changes = queries.list_changes(conn, where=where, limit=500)
            found_links = links.links_for(conn, source, key)
            since = queries.first_listed(conn, source, key)
            name = versions[-1].entry.name
            others = [
                h for h in queries.history(conn, name, limit=100)
                if (h["source"], h["key"]) != (source, key)
            ]  # fmt: skip
        return render(
            "entity.html", title=name, versions=versions, rows=pages.version_rows(versions),
            changes=changes, links=found_links, since=since, others=pages.other_lists(others),
            current=versions[-1].valid_to is None, source=source, key=key,
        )  # fmt: skip

    def screen(request: Request) -> Response:
        """A name against every current list: score, method, the text that matched, since."""
        q = (request.query_params.get("q") or "").strip()
        threshold = rt.settings.match.threshold
        results = []
        if q:
            with transaction(rt.engine) as conn:
                index = screen_cache.get(conn)
                results = screen_name(conn, q[:300], threshold, index)[:200]
        return render("screen.html", title="Screen", q=q, results=results, threshold=threshold)

    def sources(request: Request) -> Response:
        """Each source's freshness and errors, its last snapshots, and the alert outbox."""
        with transaction(rt.engine) as conn:
            rows = queries.source_statuses(conn, rt.settings, list(SOURCES), rt.clock())
            snaps = {r.source: store.list_snapshots(conn, r.source, 5) for r in rows}
            outbox = views.outbox_counts(conn)
        return render("sources.html", title="Sources", rows=rows, snapshots=snaps,
                      outbox=pages.outbox_table(outbox), now=rt.clock())  # fmt: skip

    def watchlist(request: Request) -> Response:
        """What is tracked and who hears about what (read-only)."""
        with transaction(rt.engine) as conn:
            watched = watchlist_store.list_watch(conn)
            subscribers = subscriber_store.subscribers(conn)
        return render("watchlist.html", title="Watchlist", watched=watched,
                      subscribers=subscribers)  # fmt: skip

    for path, handler in (
        ("/", timeline), ("/entity/{source}/{key:path}", entity), ("/screen", screen),
        ("/sources", sources), ("/watchlist", watchlist),
    ):  # fmt: skip
        router.add_api_route(path, _guard(token, handler), methods=["GET"])

    @router.get("/feed.atom")
    def feed(request: Request) -> Response:
        """The timeline for any filter as Atom (newest 50)."""
        if not authorized(request, token, allow_query=True):
            return Response("missing or wrong token\n", 401, media_type="text/plain")
        form, problems = pages.parse_filters(request.query_params)
        if problems:
            return Response("; ".join(problems) + "\n", 400, media_type="text/plain")
        with transaction(rt.engine) as conn:
            changes = queries.list_changes(conn, where=form.where, limit=PAGE_SIZE)
        body = _env.get_template("feed.atom").render(
            changes=changes, base=str(request.base_url).rstrip("/"), form=form,
            self_url=str(request.url), updated=changes[0].detected_at if changes else rt.clock(),
        )  # fmt: skip
        return Response(body, media_type="application/atom+xml; charset=utf-8")

    @router.post("/login")
    async def login(request: Request) -> Response:
        """The sign-in form posts here (urlencoded: no multipart dependency needed)."""
        fields = parse_qs((await request.body()).decode("utf-8", "replace"))
        given = (fields.get("token") or [""])[0]
        target = _safe_next((fields.get("next") or ["/"])[0])
        if token is None or secrets.compare_digest(given.encode(), token.encode()):
            response = RedirectResponse(target, status_code=303)
            return _with_cookie(response, token, request) if token else response
        return render("login.html", 401, error="wrong token", next=target, title="Sign in")

    return router


def _choices(rt: Runtime) -> dict[str, Any]:
    with transaction(rt.engine) as conn:
        watched = watchlist_store.list_watch(conn)
    return pages.filter_choices(watched)

"""The web pages through the ASGI client, over real SDN files replayed into a database.

Derived inside the tests: a fifth SDN day (2021-12-17) made from the real 2021-12-16 file with
one entry renamed and one hostile entry appended (`<script>alert(1)</script>`), a watch entity
with a hostile name, and a public-inspection record of FR 2026-17231 (as in the FR pipeline
tests). Everything else is real fixture bytes.
"""

from __future__ import annotations

import html
import re
import xml.etree.ElementTree as ET
from dataclasses import replace
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient

from tests.conftest import LocalServer, fixture_bytes
from tests.helpers import at, make_runtime
from tests.pipeline.test_fr_pipeline import EMPTY, PAGE2, _pi_record, _poll
from tests.pipeline.test_fr_pipeline import _runtime as fr_runtime
from watcher.pipeline.run import replay
from watcher.runtime import Runtime
from watcher.service.api import create_app
from watcher.service.pages import parse_filters
from watcher.store import queries
from watcher.store.engine import make_engine, transaction, upgrade

HOSTILE = "<script>alert(1)</script>"
HOSTILE_WATCH = "<img src=x onerror=alert(2)>"
TOKEN = "web-t0ken-0123456789"
SDN = "ofac_sdn/sdn_{}.csv"
CONFIG: dict[str, Any] = {
    "sources": {"ofac_sdn": {"companions": []}},
    "include_default_watchlist": False,
    "watchlist": [
        {"name": "ZAKIR Shohrat", "tags": ["xinjiang"]},
        {"name": HOSTILE_WATCH, "tags": ["hostile"]},
    ],
    "subscribers": [{"name": "hook", "url_env": "TEST_WEB_HOOK_URL", "tags": ["xinjiang"]}],
}


def derived_day() -> bytes:
    """2021-12-16 with AEROCARIBBEAN renamed and a hostile entry added (derived, see above)."""
    data = fixture_bytes(SDN.format("2021-12-16")).rstrip(b"\x1a")
    data = data.replace(b'"AEROCARIBBEAN AIRLINES"', b'"AEROCARIBBEAN AIRLINES S.A."')
    line = f'99999901,"{HOSTILE}",-0- ,"SDGT"' + ",-0- " * 7 + ',"Linked To: <b>X</b>."'
    return data + line.encode() + b"\r\n\x1a"


def fill(rt: Runtime) -> None:
    for day in ("2021-12-09", "2021-12-10", "2021-12-16"):
        files = [("primary", fixture_bytes(SDN.format(day)), day)]
        assert replay(rt, "ofac_sdn", at(day), files).ok
    assert replay(rt, "ofac_sdn", at("2021-12-17"), [("primary", derived_day(), "derived")]).ok
    empty = replay(rt, "ofac_sdn", at("2024-05-04"), [("primary", b"", "2024-05-04")])
    assert empty.outcome == "rejected"


@pytest.fixture(scope="module")
def site(tmp_path_factory: pytest.TempPathFactory) -> tuple[Runtime, TestClient]:
    url = f"sqlite:///{tmp_path_factory.mktemp('web') / 'web.db'}"
    upgrade(make_engine(url))
    rt = make_runtime(url, CONFIG)
    fill(rt)
    return rt, TestClient(create_app(rt, None))


def names_on(page: str) -> list[str]:
    """The change names listed on a timeline page, in order."""
    return [html.unescape(m) for m in re.findall(r'<a class="name" href="[^"]*">([^<]*)</a>', page)]


def test_hostile_names_render_as_text_on_every_page(site: tuple[Runtime, TestClient]) -> None:
    _rt, client = site
    escaped = "&lt;script&gt;alert(1)&lt;/script&gt;"
    for path in ("/", "/?q=alert", "/entity/ofac_sdn/99999901", f"/screen?q={HOSTILE}"):
        page = client.get(path)
        assert page.status_code == 200, path
        assert HOSTILE not in page.text and escaped in page.text, path
        assert "<b>X</b>" not in page.text
    watchlist = client.get("/watchlist").text
    assert HOSTILE_WATCH not in watchlist and "&lt;img src=x onerror=alert(2)&gt;" in watchlist
    feed = client.get("/feed.atom")
    assert feed.headers["content-type"].startswith("application/atom+xml")
    titles = [e.text for e in ET.fromstring(feed.text).iter("{http://www.w3.org/2005/Atom}title")]
    assert f"added: {HOSTILE} (SDN)" in titles  # parsed as text: the XML was escaped


FILTERS = [
    "source=ofac_sdn",
    "kind=modified",
    "kind=added&list=SDN",
    "list=sdn",
    "tag=xinjiang",
    "watch=ZAKIR+Shohrat",
    "since=2021-12-10&until=2021-12-10",
    "since=2021-12-16",
    "until=2021-12-10",
    "q=TUNIYAZ",
    "q=glomag&kind=added",
    "source=trade_csl",
]


@pytest.mark.parametrize("query", FILTERS)
def test_each_filter_shows_what_the_store_query_returns(
    site: tuple[Runtime, TestClient], query: str
) -> None:
    rt, client = site
    page = client.get(f"/?{query}")
    assert page.status_code == 200
    form, problems = parse_filters(_params(query))
    assert not problems
    with transaction(rt.engine) as conn:
        expected = queries.list_changes(conn, where=form.where, limit=50)
    assert names_on(page.text) == [c.name for c in expected]
    if not expected:
        assert "No changes match this filter." in page.text
    # the filter state survives in the form and the feed link (a shareable URL)
    for key, value in _params(query).items():
        shown = value.upper() if key == "list" else value
        assert f'value="{shown}"' in page.text or f"<option selected>{shown}</option>" in page.text
    assert "/feed.atom?" in page.text


def _params(query: str) -> dict[str, str]:
    return {k: v.replace("+", " ") for k, v in (p.split("=", 1) for p in query.split("&"))}


def test_filters_select_the_right_changes(site: tuple[Runtime, TestClient]) -> None:
    _rt, client = site
    assert names_on(client.get("/?tag=xinjiang").text) == ["ZAKIR, Shohrat"]
    day = client.get("/?since=2021-12-10&until=2021-12-10").text
    assert len(names_on(day)) == 25 and "25 changes" in day
    modified = client.get("/?kind=modified").text
    assert "AEROCARIBBEAN AIRLINES S.A." in modified and "renamed:" in modified
    assert "ILLICIT-DRUGS-EO" in modified  # programs added, the field-level diff
    assert names_on(client.get("/?source=trade_csl").text) == []


@pytest.mark.parametrize(
    "query, message",
    [
        ("kind=bogus", "kind must be one of"),
        ("since=yesterday", "since: expected a date"),
        ("source=nope", "unknown source"),
        ("list=%3Cx%3E", "list: letters and digits only"),
    ],
)
def test_bad_filters_are_shown_not_raised(
    site: tuple[Runtime, TestClient], query: str, message: str
) -> None:
    page = site[1].get(f"/?{query}")
    assert page.status_code == 400 and message in page.text
    assert site[1].get(f"/feed.atom?{query}").status_code == 400


def test_cursor_pages_cover_every_change_once_newest_first(
    site: tuple[Runtime, TestClient],
) -> None:
    rt, client = site
    seen: list[str] = []
    url = "/?source=ofac_sdn"
    pages = 0
    while url:
        page = client.get(url).text
        seen += names_on(page)
        pages += 1
        found = re.search(r'rel="next" href="([^"]+)"', page)
        url = html.unescape(found.group(1)) if found else ""
        assert not found or "source=ofac_sdn" in url  # the filter stays on every page
    with transaction(rt.engine) as conn:
        every = queries.list_changes(conn, source="ofac_sdn", limit=None)
    assert pages == 2 and len(every) > 50
    assert seen == [c.name for c in every]


def test_entity_page_shows_versions_side_by_side(site: tuple[Runtime, TestClient]) -> None:
    _rt, client = site
    page = client.get("/entity/ofac_sdn/36").text
    assert "AEROCARIBBEAN AIRLINES S.A." in page and "2 versions" in page
    assert re.search(r'<td class="changed">AEROCARIBBEAN AIRLINES S.A.</td>', page)
    assert "listed since 2021-12-09" in page
    zakir = client.get("/entity/ofac_sdn/34079").text
    assert "listed since 2021-12-10" in zakir and "GLOMAG" in zakir and "added" in zakir
    assert client.get("/entity/ofac_sdn/does-not-exist").status_code == 404


def test_screen_page_shows_score_method_text_and_since(site: tuple[Runtime, TestClient]) -> None:
    page = site[1].get("/screen?q=Shohrat+Zakir").text
    assert "1 result on the current lists" in page
    row = page.split("<tbody>", 1)[1]
    assert "100.0" in row and "ZAKIR, Shohrat" in row and "2021-12-10" in row
    assert "/entity/ofac_sdn/34079" in row
    assert "0 results" in site[1].get("/screen?q=新疆公安厅").text
    assert "result" not in site[1].get("/screen").text.split("<main", 1)[1].split("</form>")[1]


def test_screen_page_says_the_path_and_follows_list_changes(db_url: str) -> None:
    """The daemon's index is rebuilt when a list changes: a name screened before the
    consolidated list arrives is found after it, through the watchlist, as the CLI says."""
    upgrade(make_engine(db_url))
    rt = make_runtime(db_url, {"sources": {"ofac_consolidated": {"companions": []}}})
    client = TestClient(create_app(rt, None))
    assert "0 results" in client.get("/screen?q=海康威视").text
    day = "2025-04-21"
    files = [("primary", fixture_bytes(f"ofac_consolidated/cons_prim_{day}.csv"), day)]
    assert replay(rt, "ofac_consolidated", at(day), files).ok
    row = client.get("/screen?q=海康威视").text.split("<tbody>", 1)[1]
    assert "HANGZHOU HIKVISION DIGITAL TECHNOLOGY CO., LTD." in row and "via watchlist" in row
    assert "query named Hangzhou Hikvision Digital Technology Co., Ltd. (its alias" in row
    assert "/entity/ofac_consolidated/30946" in row and "2025-04-21" in row


def test_sources_page_shows_rejected_snapshot_and_outbox(site: tuple[Runtime, TestClient]) -> None:
    page = site[1].get("/sources").text
    assert '<span class="badge rejected">rejected</span>' in page
    assert "empty" in page.lower()  # the rejection reason
    assert re.search(r'<th scope="row">hook</th>\s*<td>1</td>', page)  # ZAKIR alert pending
    assert '<span class="badge ok">ok</span>' in page and "badge stale" not in page
    rt = site[0]
    later = rt.clock() + timedelta(days=2)  # past the staleness limit: visible at a glance
    stale = TestClient(create_app(replace(rt, clock=lambda: later), None)).get("/sources").text
    assert '<tr class="status-stale"><th scope="row">ofac_sdn</th>' in stale
    assert "2 d ago" in stale


def test_watchlist_page_shows_references_never_secrets(site: tuple[Runtime, TestClient]) -> None:
    page = site[1].get("/watchlist").text
    assert "ZAKIR Shohrat" in page and "$TEST_WEB_HOOK_URL" in page
    assert "tags: xinjiang" in page


def test_chart_is_inline_svg_with_labels(site: tuple[Runtime, TestClient]) -> None:
    page = site[1].get("/").text
    svg = page.split("<svg", 1)[1].split("</svg>", 1)[0]
    assert "<rect" in svg and "2021-12-10 SDN: 25" in svg
    assert "<script" not in page.lower()  # no JavaScript, and nothing loaded from elsewhere
    assert not re.search(r'(src|href)="(https?:)?//[^"]*\.(css|js)', page)
    assert '<link rel="stylesheet" href="/static/watcher.css">' in page


def test_static_css_is_served_from_the_package() -> None:
    path = Path(__file__).resolve().parents[2] / "watcher" / "service" / "static" / "watcher.css"
    assert path.exists()


def test_token_by_header_cookie_login_form_or_feed_query(db_url: str) -> None:
    rt = make_runtime(db_url, CONFIG)
    client = TestClient(create_app(rt, TOKEN), follow_redirects=False)
    assert client.get("/static/watcher.css").status_code == 200
    login = client.get("/?kind=added")
    assert login.status_code == 401 and 'name="token"' in login.text
    assert 'value="/?kind=added"' in login.text
    assert client.get("/?token=wrong").status_code == 401
    redirect = client.get(f"/?token={TOKEN}&kind=added")
    assert redirect.status_code == 303 and redirect.headers["location"] == "/?kind=added"
    cookie = redirect.headers["set-cookie"]
    assert "HttpOnly" in cookie and "samesite=strict" in cookie.lower() and TOKEN not in cookie
    assert client.get("/sources").status_code == 200  # the client now holds the cookie
    assert client.get("/api/sources").status_code == 401  # the API stays bearer-only
    fresh = TestClient(create_app(rt, TOKEN), follow_redirects=False)
    assert fresh.get("/watchlist", headers={"Authorization": f"Bearer {TOKEN}"}).status_code == 200
    posted = fresh.post("/login", data={"token": TOKEN, "next": "/screen?q=x"})
    assert posted.status_code == 303 and posted.headers["location"] == "/screen?q=x"
    evil = fresh.post("/login", data={"token": TOKEN, "next": "//evil.example/"})
    assert evil.headers["location"] == "/"
    assert fresh.post("/login", data={"token": "nope", "next": "/"}).status_code == 401
    feeds = TestClient(create_app(rt, TOKEN))
    assert feeds.get("/feed.atom").status_code == 401
    assert feeds.get(f"/feed.atom?token={TOKEN}").status_code == 200


def test_timeline_on_both_databases(db_url: str) -> None:
    rt = make_runtime(db_url, CONFIG)
    for day in ("2021-12-09", "2021-12-10"):
        assert replay(
            rt, "ofac_sdn", at(day), [("primary", fixture_bytes(SDN.format(day)), day)]
        ).ok
    client = TestClient(create_app(rt, None))
    page = client.get("/?since=2021-12-10&until=2021-12-10&list=SDN").text
    assert "25 changes" in page and len(names_on(page)) == 25
    assert "2021-12-10 SDN: 25" in page
    assert names_on(client.get("/?tag=xinjiang").text) == ["ZAKIR, Shohrat"]
    assert "listed since 2021-12-10" in client.get("/entity/ofac_sdn/34079").text


def test_public_inspection_is_marked_with_its_publication_date(
    db_url: str, http_server: LocalServer
) -> None:
    rt = fr_runtime(db_url, http_server, fetch_full_text=False)
    http_server.serve(PAGE2, fixture_bytes(EMPTY))
    assert _poll(rt, http_server, fixture_bytes(EMPTY)).outcome == "baseline"
    assert _poll(rt, http_server, fixture_bytes(EMPTY), _pi_record()).added == 1
    page = TestClient(create_app(rt, None)).get("/?source=federal_register").text
    assert "public inspection · publishes 2026-08-24" in page
    assert "https://www.federalregister.gov/public-inspection/2026-17231/revisions" in page

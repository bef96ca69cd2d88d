"""news on real captured feeds; broken variants (HTML, truncated, no guid) derived in tests."""

from __future__ import annotations

import re

import pytest

from tests.conftest import fixture_bytes
from watcher.errors import ParseError
from watcher.models import Entry, ParseResult
from watcher.sources.news import News, parse_feed, plain_text

GUARDIAN = "news_rss/guardian_us_rss_2018-01-31.rss"
HEISE = "news_rss/heise_developer_atom_2016-02-01.atom"
FR_RSS = "federal_register/fr_documents_rss_all-agencies_2025-08-01_to_2025-08-04.rss"
HTML_PAGE = b"<!DOCTYPE html>\n<html><head><title>Not found</title></head><body>404</body></html>"


def parse(**files: bytes) -> ParseResult:
    return News({"feeds": ["http://127.0.0.1/a"]}).parse(
        {name.replace("_", ":"): data for name, data in files.items()}
    )


def by_key(result: ParseResult) -> dict[str, Entry]:
    return {e.key: e for e in result.entries}


def test_guardian_rss() -> None:
    result = parse(feed_0=fixture_bytes(GUARDIAN))
    assert len(result.entries) == 55
    assert len(by_key(result)) == 55
    first = result.entries[0]
    assert first.key == (
        "https://www.theguardian.com/us-news/2018/jan/31/"
        "donald-trump-state-of-the-union-address-unity-discord"
    )
    assert first.source == "news"
    assert first.list_code == "NEWS"
    assert first.entity_type == "article"
    assert first.name == "Trump State of the Union address promised unity but emphasized discord"
    assert first.dates == {"published": "2018-01-31T07:26:05+00:00"}
    assert first.raw["feed_title"] == "The Guardian"
    assert first.raw["authors"] == ["David Smith in Washington"]
    assert (first.remarks or "").startswith("The president’s ‘new American moment’ speech")
    assert not [e for e in result.entries if "<" in (e.remarks or "")]
    assert result.warnings == ()


def test_heise_atom() -> None:
    result = parse(feed_0=fixture_bytes(HEISE))
    assert len(result.entries) == 15
    assert len(by_key(result)) == 15
    first = result.entries[0]
    assert first.key == "http://heise.de/-3088438"
    assert first.name == "Java-Anwendungsserver: Red Hat gibt WildFly 10 frei"
    assert first.dates["published"] == "2016-02-01T16:22:00+00:00"
    assert first.raw["feed_url"] == "http://www.heise.de/developer/rss/news-atom.xml"
    assert first.raw["link"].startswith("http://www.heise.de/developer/meldung/Java-Anwendungs")


def test_federal_register_rss_double_escaped_descriptions() -> None:
    result = parse(feed_0=fixture_bytes(FR_RSS))
    assert len(result.entries) == 200
    remarks = [e.remarks or "" for e in result.entries]
    assert not [r for r in remarks if "&amp;" in r or "&lt;" in r or "&#39;" in r]
    assert [r for r in remarks if "People's Republic of China" in r]
    assert [r for r in remarks if '"Final Results of Sunset Review"' in r]
    assert [e.name for e in result.entries].count("Notice of OFAC Sanctions Actions") == 2


def test_keys_unique_and_stable_across_parses() -> None:
    for path in (GUARDIAN, HEISE, FR_RSS):
        once = by_key(parse(feed_0=fixture_bytes(path)))
        again = by_key(parse(feed_0=fixture_bytes(path)))
        assert once == again
        assert len(once) == len(parse(feed_0=fixture_bytes(path)).entries)


def test_key_falls_back_to_link_then_hash() -> None:
    data = fixture_bytes(FR_RSS)
    no_guid = re.sub(rb"<guid>.*?</guid>", b"", data)
    entries = parse_feed(no_guid).entries
    assert all(e.key == e.raw["link"] for e in entries)
    no_link = re.sub(rb"<link>.*?</link>", b"", no_guid)
    hashed = parse_feed(no_link).entries
    assert len(hashed) == 200
    assert all(e.key.startswith("sha256:") for e in hashed)
    # Title + day alone collide ("Sunshine Act Meetings"); the summary keeps them apart.
    assert len({e.key for e in hashed}) == 200 - _exact_duplicates(hashed)


def _exact_duplicates(entries: tuple[Entry, ...]) -> int:
    seen = {(e.name, e.dates.get("published"), e.remarks) for e in entries}
    return len(entries) - len(seen)


def test_several_feeds_and_a_broken_one() -> None:
    result = parse(feed_0=fixture_bytes(GUARDIAN), feed_1=HTML_PAGE, feed_2=fixture_bytes(HEISE))
    assert len(result.entries) == 55 + 15
    assert [w for w in result.warnings if "feed:1" in w and "HTML" in w]


@pytest.mark.parametrize(
    "data",
    [
        HTML_PAGE,
        b"",
        b"this is not a feed at all",
        b"<?xml version='1.0'?><notafeed><x>1</x></notafeed>",
        b'<?xml version="1.0"?><!DOCTYPE rss [<!ENTITY x "boom">]>'
        b"<rss><channel>&x;</channel></rss>",
    ],
)
def test_not_a_feed_is_parse_error_naming_the_feed(data: bytes) -> None:
    with pytest.raises(ParseError, match="feed:0"):
        parse(feed_0=data)


def test_truncated_feed_keeps_items_with_warning() -> None:
    data = fixture_bytes(GUARDIAN)
    cut = data[: data.index(b"</item>", len(data) // 2) + len(b"</item>") + 40]
    result = parse(feed_0=cut)
    assert 0 < len(result.entries) < 55
    assert [w for w in result.warnings if "malformed feed" in w]


def test_plan_fetches_url_and_every_feed_once() -> None:
    source = News({"feeds": ["http://127.0.0.1:1/a.rss", "http://127.0.0.1:1/b.atom"]})
    plan = source.plan("http://127.0.0.1:1/a.rss", ())
    assert plan.files == (
        ("feed:0", "http://127.0.0.1:1/a.rss"),
        ("feed:1", "http://127.0.0.1:1/b.atom"),
    )
    result = source.parse({"feed:0": fixture_bytes(GUARDIAN), "feed:1": fixture_bytes(HEISE)})
    assert {e.raw["feed_url"] for e in result.entries} == {
        "http://127.0.0.1:1/a.rss",
        "http://127.0.0.1:1/b.atom",
    }
    assert News({"feeds": ["http://127.0.0.1:1/x"]}).plan("", ()).files == (
        ("feed:0", "http://127.0.0.1:1/x"),
    )


def test_no_feeds_is_parse_error() -> None:
    with pytest.raises(ParseError, match="no feeds"):
        News().parse({})


@pytest.mark.parametrize(
    ("markup", "text"),
    [
        ("&lt;p&gt;Tom &amp;amp; Jerry&lt;/p&gt;", "Tom & Jerry"),
        ("<p>One</p><p>Two<script>alert(1)</script></p>", "One Two"),
        ("Commission&#39;s view", "Commission's view"),
        ("plain", "plain"),
    ],
)
def test_plain_text(markup: str, text: str) -> None:
    assert plain_text(markup) == text


def test_malformed_mid_feed_keeps_the_items_before_the_error() -> None:
    """Derived: the 8th entry's </summary> misspelt. feedparser's loose parse garbles what
    follows (found by the hostile corpus: articles showed as modified)."""
    data = fixture_bytes(HEISE)
    at = [m.start() for m in re.finditer(b"</summary>", data)][7]
    broken = data[:at] + b"</summry>" + data[at + len(b"</summary>") :]
    good = {e.key: e.content_hash() for e in parse_feed(data).entries}
    items = parse_feed(broken)
    assert [e.key for e in items.entries] == list(good)[:7]
    assert all(good[e.key] == e.content_hash() for e in items.entries)
    assert "from item 8, left for the next poll" in items.warnings[0]
    with pytest.raises(ParseError, match="malformed before its first whole item"):
        parse_feed(data.replace(b"</title>", b"</titel>", 1))

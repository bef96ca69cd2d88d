"""RSS and Atom news feeds (feedparser): each item becomes an `article` entry.

Feeds are a window on the newest items, so the source is incremental: an item that drops out
of a feed is never "removed". Keys are the item guid, else its link, else a hash of title and
publication time. Several feeds are fetched in one poll (`feed:0`, `feed:1`, ...); a broken
feed is a warning as long as another feed parsed, so one bad URL never silences the others.
"""

from __future__ import annotations

import calendar
import hashlib
import html
import io
import re
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from html.parser import HTMLParser
from typing import Any, ClassVar
from xml.sax import SAXException, SAXParseException

import feedparser

from watcher.errors import ParseError
from watcher.models import Entry, ParseResult, make_entry
from watcher.sources._xml import check_xml_bytes
from watcher.sources.base import FetchPlan, Source
from watcher.sources.options import OPTION_KEYS

SOURCE = "news"
LIST_CODE = "NEWS"
_ITEM_END = re.compile(r"</(?:[\w-]+:)?(?:item|entry)\s*>")
_UNESCAPE_ROUNDS = 3  # descriptions escaped twice (Federal Register RSS) need two


class News(Source):
    """The feeds named by `[sources.news] feeds = [...]` (plus `url`, if set)."""

    name = "news"
    default_url = ""
    mode = "incremental"
    default_min_records = 0
    text_lists = frozenset({LIST_CODE})
    option_keys: ClassVar[Mapping[str, object]] = OPTION_KEYS["news"]

    def __init__(self, options: Mapping[str, Any] | None = None) -> None:
        super().__init__(options)
        self._urls: dict[str, str] = {}

    def feed_urls(self, url: str) -> list[str]:
        """The configured `url` (if any) then `feeds`, without repeats."""
        feeds = [str(u) for u in self.options.get("feeds", ()) if str(u).strip()]
        return list(dict.fromkeys(([url] if url else []) + feeds))

    def plan(self, url: str, companions: Sequence[str]) -> FetchPlan:
        """One file per feed: `feed:0`, `feed:1`, ... (companions do not apply)."""
        files = tuple((f"feed:{i}", u) for i, u in enumerate(self.feed_urls(url)))
        self._urls = dict(files)
        return FetchPlan(files)

    def parse(self, files: Mapping[str, bytes]) -> ParseResult:
        """Every item of every feed; `ParseError` only when no feed could be read."""
        if not files:
            raise ParseError("news: no feeds configured (set [sources.news] feeds)")
        entries: dict[str, Entry] = {}
        errors: list[str] = []
        warnings: list[str] = []
        for name in sorted(files, key=_feed_order):
            url = self._urls.get(name, "")
            try:
                items = parse_feed(files[name], name=name, url=url)
            except ParseError as exc:
                errors.append(str(exc))
                continue
            warnings += items.warnings
            for entry in items.entries:
                entries.setdefault(entry.key, entry)  # same guid in two feeds: one article
        if len(errors) == len(files):
            raise ParseError("; ".join(errors))
        return ParseResult(tuple(entries.values()), warnings=tuple(errors + warnings))


@dataclass(frozen=True)
class FeedItems:
    """What one feed yielded."""

    entries: tuple[Entry, ...]
    warnings: tuple[str, ...] = ()


def _feed_order(name: str) -> tuple[int, str]:
    number = name.rsplit(":", 1)[-1]
    return (int(number), name) if number.isdigit() else (-1, name)


def parse_feed(data: bytes, *, name: str = "primary", url: str = "") -> FeedItems:
    """One feed's items; `ParseError` naming the feed if it is not a feed. A malformed feed
    that still yields items (truncated download) is kept, with a warning."""
    label = f"feed {name}" + (f" ({url})" if url else "")
    try:
        check_xml_bytes(data)
    except ParseError as exc:
        raise ParseError(f"{label}: {exc}") from None
    parsed = feedparser.parse(io.BytesIO(data))  # a stream: never read as a URL or path
    version = parsed.get("version", "")
    if not parsed.entries and (parsed.bozo or not version):
        reason = parsed.get("bozo_exception", "no RSS/Atom channel found")
        raise ParseError(f"{label}: not an RSS/Atom feed: {reason}")
    feed = parsed.feed
    feed_url = url or _self_link(feed)
    title = str(feed.get("title", ""))
    items = list(parsed.entries)
    cut = ""
    error = parsed.get("bozo_exception")
    if isinstance(error, SAXException) and items:
        # Not well-formed (most often a cut download): feedparser's loose parse garbles what
        # follows the error (titles lost, items merged), which would show as modified
        # articles, so only the items that closed before the error are kept; the rest wait
        # for a whole copy of the feed.
        kept = min(_items_closed_before(data, error, parsed.get("encoding")), len(items))
        if not kept:
            raise ParseError(f"{label}: malformed before its first whole item: {error}")
        items = items[:kept]
        cut = f" (items after the error, from item {kept + 1}, left for the next poll)"
    entries = tuple(_item_entry(item, title, feed_url) for item in items)
    warnings: tuple[str, ...] = ()
    if parsed.bozo:
        reason = parsed.get("bozo_exception", "malformed")
        warnings = (f"{label}: malformed feed, {len(entries)} items read{cut}: {reason}",)
    return FeedItems(entries, warnings)


def _items_closed_before(data: bytes, error: SAXException, encoding: str | None) -> int:
    """How many </item> or </entry> tags end before the parse error's line and column."""
    try:
        lines = data.decode(encoding or "utf-8", "replace").split("\n")
    except LookupError:
        lines = data.decode("utf-8", "replace").split("\n")
    line = error.getLineNumber() if isinstance(error, SAXParseException) else None
    column = error.getColumnNumber() if isinstance(error, SAXParseException) else None
    if line is not None and column is not None and 0 < line <= len(lines):
        lines = lines[:line]
        lines[-1] = lines[-1][: max(column, 0)]
    return len(_ITEM_END.findall("\n".join(lines)))


def _self_link(feed: Any) -> str:
    for link in feed.get("links", ()):
        if link.get("rel") == "self" and link.get("href"):
            return str(link["href"])
    return ""


def _item_entry(item: Any, feed_title: str, feed_url: str) -> Entry:
    title = plain_text(str(item.get("title", "")))
    published = _iso(item.get("published_parsed") or item.get("updated_parsed"))
    link = str(item.get("link", "")).strip()
    summary = plain_text(str(item.get("summary", "")))
    authors = [str(a.get("name", "")) for a in item.get("authors", ()) if a.get("name")]
    return make_entry(
        source=SOURCE,
        key=item_key(item, title, published, summary),
        list_code=LIST_CODE,
        name=title,
        entity_type="article",
        remarks=summary or None,
        dates={"published": published} if published else {},
        raw={
            "link": link,
            "feed_title": feed_title,
            "feed_url": feed_url,
            "published": published,
            "authors": authors,
        },
    )


def item_key(item: Any, title: str, published: str, summary: str) -> str:
    """guid, else link, else a hash of title, publication time and summary (title and day
    alone collide: the Federal Register publishes several "Sunshine Act Meetings" a day)."""
    for field in ("id", "link"):
        value = str(item.get(field, "")).strip()
        if value:
            return value
    digest = hashlib.sha256(f"{title}\0{published}\0{summary}".encode()).hexdigest()
    return f"sha256:{digest[:32]}"


def _iso(parsed: time.struct_time | None) -> str:
    if not parsed:
        return ""
    return datetime.fromtimestamp(calendar.timegm(parsed), tz=UTC).isoformat()


def plain_text(markup: str) -> str:
    """Tags stripped and entities decoded, repeatedly: some feeds escape HTML twice."""
    text = markup
    for _ in range(_UNESCAPE_ROUNDS):
        stripped = _strip_tags(text)
        unescaped = html.unescape(stripped)
        if unescaped == text:
            break
        text = unescaped
    return " ".join(text.split())


def _strip_tags(markup: str) -> str:
    if "<" not in markup and "&" not in markup:
        return markup
    collector = _TextCollector()
    collector.feed(markup)
    collector.close()
    return "".join(collector.parts)


class _TextCollector(HTMLParser):
    """Text content of an HTML fragment; script/style bodies dropped."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=False)
        self.parts: list[str] = []
        self._skip = 0

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag in ("script", "style"):
            self._skip += 1
        elif tag in ("p", "br", "div", "li"):
            self.parts.append(" ")

    def handle_endtag(self, tag: str) -> None:
        if tag in ("script", "style") and self._skip:
            self._skip -= 1

    def handle_data(self, data: str) -> None:
        if not self._skip:
            self.parts.append(data)

    def handle_entityref(self, name: str) -> None:
        self.handle_data(f"&{name};")  # kept escaped: decoded once, by html.unescape

    def handle_charref(self, name: str) -> None:
        self.handle_data(f"&#{name};")

"""The Atom family of the hostile-input corpus: the real heise developer Atom 1.0 feed
(15 entries) read by the news source (the RSS 2.0 family is in corpus.py).

A feed is a window (mode "incremental"): entries that leave it are never removed, so dropped
entries are plausible and change nothing, and a cut download keeps its whole entries. The next
good day is the feed with one more entry (derived: the first one under a new id). Cases that do
not apply: a JSON error body is not a feed (it is refused like any non-XML body, one case).
"""

from __future__ import annotations

import codecs
import re

from tests.conftest import fixture_bytes
from tests.reliability.corpus_base import (
    GZIP_GARBAGE,
    HTML,
    Case,
    Family,
    cut,
    ok,
    statuses,
)
from tests.reliability.variants import LAUGHS, Ctx, doctype_fetch, xxe_into

ERROR_400 = "federal_register/fr_error_400_invalid_cursor_captured-2026-09-24.json"
WRONG = "ecfr/ecfr_versioner_full_title-3_part-101_2024-05-17.xml"
_ENTRY = re.compile(rb"<entry>.*?</entry>", re.S)


def entries(data: bytes) -> list[bytes]:
    return _ENTRY.findall(data)


def with_entries(data: bytes, items: list[bytes]) -> bytes:
    """The real feed head and tail around `items`."""
    first = data.index(b"<entry>")
    last = data.rindex(b"</entry>") + len(b"</entry>")
    return data[:first] + b"\n".join(items) + data[last:]


def replace_nth(data: bytes, old: bytes, new: bytes, n: int) -> bytes:
    """`old` replaced by `new` at its nth (0-based) occurrence only."""
    at = -1
    for _ in range(n + 1):
        at = data.index(old, at + 1)
    return data[:at] + new + data[at + len(old) :]


def drop_entries(data: bytes, nth: int) -> bytes:
    return with_entries(data, [e for i, e in enumerate(entries(data)) if i % nth != 1])


def new_entry(data: bytes, _ctx: Ctx) -> bytes:
    first = entries(data)[0]
    extra = first.replace(b"</id>", b"-next-day</id>", 1)
    return with_entries(data, [extra, *entries(data)])


def many_entries(data: bytes, n: int) -> bytes:
    """The real feed with n small entries (about 9 MB for 100,000)."""
    items = [
        b"<entry><title>t%d</title><id>https://example.org/%d</id>"
        b"<updated>2016-02-01T17:54:50+01:00</updated></entry>" % (i, i)
        for i in range(n)
    ]
    return with_entries(data, items)


FAMILIES = {
    "atom": Family(
        "news",
        "news_rss/heise_developer_atom_2016-02-01.atom",
        {"max_records": 10_000},
        new_entry,
        (1, 0, 0),
    ),
}

TITLE = b"Java-Anwendungsserver"  # in the first entry's title
CASES: list[Case] = [
    Case("atom-empty-body", "atom", lambda b, s: ok(b""), "rejected", "empty"),
    Case("atom-truncated-1pct", "atom", cut(0.01), "rejected", "not an RSS/Atom feed"),
    # Cut later: the whole entries are kept, the cut one waits for the next poll.
    Case("atom-truncated-50pct", "atom", cut(0.50), "ok", warning="malformed feed"),
    Case("atom-truncated-99pct", "atom", cut(0.99), "ok", warning="malformed feed"),
    Case(
        "atom-truncated-mid-entry",
        "atom",
        lambda b, s: ok(b[: b.index(b"<summary", b.index(b"<entry>", 4000))]),
        "ok",
        warning="left for the next poll",
    ),
    Case("atom-html-200", "atom", lambda b, s: ok(HTML), "rejected", "HTML"),
    Case(
        "atom-json-error-body-200",
        "atom",
        lambda b, s: ok(fixture_bytes(ERROR_400)),
        "rejected",
        "not XML",
    ),
    Case("atom-gzip-garbage", "atom", lambda b, s: GZIP_GARBAGE, "error", "gzip"),
    Case(
        "atom-utf16",
        "atom",
        lambda b, s: ok(b.decode().replace('"utf-8"', '"utf-16"', 1).encode("utf-16")),
        "ok",
    ),
    Case("atom-utf8-bom", "atom", lambda b, s: ok(codecs.BOM_UTF8 + b), "ok"),
    Case(
        "atom-nul-bytes",  # mid-feed: not well-formed there, the entries before it kept
        "atom",
        lambda b, s: ok(b[: len(b) // 2] + b"\0" + b[len(b) // 2 :]),
        "ok",
        warning="left for the next poll",
    ),
    Case("atom-half-entries-dropped", "atom", lambda b, s: ok(drop_entries(b, 2)), "ok"),
    Case("atom-5pct-entries-dropped", "atom", lambda b, s: ok(drop_entries(b, 15)), "ok"),
    Case(
        "atom-wrong-schema",  # real XML (eCFR), not a feed
        "atom",
        lambda b, s: ok(fixture_bytes(WRONG)),
        "rejected",
        "not an RSS/Atom feed",
    ),
    # Malformed mid-feed: feedparser's loose parse garbles what follows (titles lost), so only
    # the entries closed before the error are kept; malformed before any: refused.
    Case(
        "atom-malformed",
        "atom",
        lambda b, s: ok(replace_nth(b, b"</summary>", b"</summry>", 7)),
        "ok",
        warning="from item 8, left for the next poll",
    ),
    Case(
        "atom-malformed-head",
        "atom",
        lambda b, s: ok(b.replace(b"</title>", b"</titel>", 3)),
        "rejected",
        "malformed before its first whole item",
    ),
    Case(
        "atom-external-entity",
        "atom",
        lambda b, s: ok(xxe_into(b, s, TITLE)),
        "rejected",
        "entities",
    ),
    Case(
        "atom-external-entity-utf16",
        "atom",
        lambda b, s: ok(
            xxe_into(b, s, TITLE).decode().replace('"utf-8"', '"utf-16"', 1).encode("utf-16")
        ),  # fmt: skip
        "rejected",
        "entities",
    ),
    Case("atom-billion-laughs", "atom", lambda b, s: ok(LAUGHS), "rejected", "entities"),
    Case("atom-dtd-fetch", "atom", lambda b, s: ok(doctype_fetch(b, s)), "ok"),
    Case(
        "atom-100000-entries",
        "atom",
        lambda b, s: ok(many_entries(b, 100_000)),
        "rejected",
        "max_records",
    ),
    *statuses("atom", "atom"),
]

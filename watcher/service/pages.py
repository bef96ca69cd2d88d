"""What the page templates show, shaped from store dataclasses: filters from the address,
the cursor, day/source groups, versions side by side. Pure except `documents_for`."""

from __future__ import annotations

import re
from collections import defaultdict
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from typing import Any
from urllib.parse import urlencode

from sqlalchemy import Connection

from watcher.dates import parse_instant
from watcher.sources.registry import SOURCES
from watcher.store import documents
from watcher.store.queries import ChangeFilter
from watcher.store.records import ChangeInfo, EntryRecord
from watcher.store.views import OutboxCount
from watcher.store.watchlist import WatchRecord

KINDS = ("added", "removed", "modified")
LIST_CODES = ("SDN", "CMIC", "SSI", "FSE", "PLC", "MBS", "CAP", "CONS", "EL", "MEU", "UVL",
              "DPL", "ISN", "DTC", "FR", "NEWS")  # fmt: skip
TOPICS = ("xinjiang-region", "xinjiang-security")
_CODE = re.compile(r"^[A-Za-z0-9_-]{1,16}$")
_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
FIELDS = ("name", "entity_type", "list_code", "aliases", "programs", "addresses", "ids",
          "remarks", "citations", "dates")  # fmt: skip


@dataclass(frozen=True)
class FilterForm:
    """The timeline filters as typed in the address (a filter state is a shareable URL)."""

    values: dict[str, str] = field(default_factory=dict)
    where: ChangeFilter = ChangeFilter()

    def params(self) -> list[tuple[str, str]]:
        return [(k, v) for k, v in self.values.items() if v]


@dataclass(frozen=True)
class ChangeView:
    change: ChangeInfo
    stage: str | None  # "public_inspection" / "published" for Federal Register items
    publication_date: str | None
    document_url: str | None


@dataclass(frozen=True)
class Group:
    day: str
    source: str
    total: int  # changes that day from that source under the filter, not just on this page
    changes: tuple[ChangeView, ...]


def parse_filters(params: Mapping[str, str]) -> tuple[FilterForm, list[str]]:
    """Read and check the filter parameters; problems are shown, never raised."""
    names = ("source", "list", "kind", "tag", "watch", "since", "until", "q")
    values = {n: (params.get(n) or "").strip()[:200] for n in names}
    problems = []
    if values["source"] and values["source"] not in SOURCES:
        problems.append(f"unknown source {values['source']!r}")
    if values["kind"] and values["kind"] not in KINDS:
        problems.append(f"kind must be one of {', '.join(KINDS)}")
    if values["list"] and not _CODE.match(values["list"]):
        problems.append("list: letters and digits only")
    bounds: dict[str, datetime | None] = {}
    for n in ("since", "until"):
        bounds[n] = None
        if not values[n]:
            continue
        try:
            date.fromisoformat(values[n])  # pages take dates only, not times
        except ValueError:
            problems.append(f"{n}: expected a date like 2024-05-03")
            continue
        bounds[n] = parse_instant(values[n], whole_day=n == "until")  # until: the whole day
    where = ChangeFilter(
        source=values["source"] or None,
        since=bounds["since"],
        until=bounds["until"],
        entity=values["q"] or None,
        kind=values["kind"] or None,
        list_code=values["list"].upper() or None,
        tag=values["tag"] or None,
        watch=values["watch"] or None,
    )
    return FilterForm(values, where), problems


def cursor_of(change: ChangeInfo) -> str:
    micros = (change.effective_at - _EPOCH) // timedelta(microseconds=1)
    return f"{micros}.{change.id}"


def parse_cursor(value: str | None) -> tuple[datetime, int] | None:
    """`<microseconds since 1970>.<change id>`: the last change of the previous page."""
    if not value:
        return None
    micros, _, ident = value.partition(".")
    if not (micros.lstrip("-").isdigit() and ident.isdigit()):
        return None
    return _EPOCH + timedelta(microseconds=int(micros)), int(ident)


def next_url(form: FilterForm, last: ChangeInfo) -> str:
    return "/?" + urlencode([*form.params(), ("before", cursor_of(last))])


def feed_url(form: FilterForm) -> str:
    params = form.params()
    return "/feed.atom" + ("?" + urlencode(params) if params else "")


def documents_for(conn: Connection, changes: Sequence[ChangeInfo]) -> dict[int, ChangeView]:
    """Federal Register items: the document's stage and scheduled publication date."""
    out = {}
    for c in changes:
        if c.source != "federal_register":
            out[c.id] = ChangeView(c, None, None, c.source_url)
            continue
        raw = c.entry.raw if isinstance(c.entry.raw, Mapping) else {}
        number = c.key.split(":", 1)[0]
        doc = documents.get_document(conn, number)
        stage = raw.get("stage") or ("public_inspection" if raw.get("public_inspection") else None)
        if stage is None and doc is not None:
            pending = doc.public_inspection_seen and not doc.published_seen
            stage = "public_inspection" if pending else "published"
        published = c.entry.dates.get("publication_date") or (
            doc.publication_date.isoformat() if doc and doc.publication_date else None
        )
        url = raw.get("html_url") or (doc.html_url if doc else None) or c.source_url
        out[c.id] = ChangeView(c, stage, published or None, url)
    return out


def group_changes(
    changes: Sequence[ChangeInfo],
    counts: Iterable[tuple[str, str, str, int]],
    views: Mapping[int, ChangeView],
) -> list[Group]:
    """Consecutive changes of one day and source form a group, with that day's full count."""
    totals: dict[tuple[str, str], int] = defaultdict(int)
    for d, source, _code, n in counts:
        totals[(d, source)] += n
    groups: list[Group] = []
    for c in changes:
        d = c.effective_at.astimezone(UTC).date().isoformat()
        view = views.get(c.id) or ChangeView(c, None, None, c.source_url)
        if groups and (groups[-1].day, groups[-1].source) == (d, c.source):
            last = groups[-1]
            groups[-1] = Group(last.day, last.source, last.total, (*last.changes, view))
        else:
            groups.append(Group(d, c.source, totals.get((d, c.source), 0), (view,)))
    return groups


def _show(value: Any) -> str:
    if value is None or value == "" or value == [] or value == {}:
        return ""
    if isinstance(value, Mapping):
        return "\n".join(f"{k}: {_show(v)}" for k, v in value.items() if _show(v))
    if isinstance(value, list | tuple):
        return "\n".join(_show(v) for v in value)
    return str(value)


def version_rows(versions: Sequence[EntryRecord]) -> list[tuple[str, list[tuple[str, bool]]]]:
    """One row per field: each version's value and whether it differs from the one before."""
    dicts = [v.entry.to_dict() for v in versions]
    rows = []
    for name in FIELDS:
        shown = [_show(d.get(name)) for d in dicts]
        if not any(shown):
            continue
        cells = [(s, i > 0 and s != shown[i - 1]) for i, s in enumerate(shown)]
        rows.append((name, cells))
    return rows


def other_lists(history: Iterable[Mapping[str, Any]]) -> list[dict[str, Any]]:
    """The same party elsewhere: one line per (source, key), its latest version."""
    latest: dict[tuple[str, str], Mapping[str, Any]] = {}
    for h in history:
        latest[(h["source"], h["key"])] = h
    return [dict(v) for _k, v in sorted(latest.items())]


def outbox_table(counts: Iterable[OutboxCount]) -> dict[str, dict[str, OutboxCount]]:
    table: dict[str, dict[str, OutboxCount]] = defaultdict(dict)
    for c in counts:
        table[c.subscriber][c.status] = c
    return dict(table)


def filter_choices(watched: Sequence[WatchRecord]) -> dict[str, Any]:
    tags = sorted({t for w in watched for t in w.entity.tags} | set(TOPICS))
    return {
        "sources": list(SOURCES),
        "lists": LIST_CODES,
        "kinds": KINDS,
        "tags": tags,
        "watches": [w.entity.name for w in watched] + list(TOPICS),
    }


def when(value: datetime | None) -> str:
    return value.astimezone(UTC).strftime("%Y-%m-%d %H:%M UTC") if value else "never"


def day(value: datetime | None) -> str:
    return value.astimezone(UTC).date().isoformat() if value else ""


def age(now: datetime, value: datetime | str | None) -> str:
    """'3 h ago' style freshness (of a datetime or an ISO string)."""
    if not value:
        return "never"
    if isinstance(value, str):
        value = datetime.fromisoformat(value)
    seconds = int((now - value).total_seconds())
    for unit, size in (("d", 86400), ("h", 3600), ("min", 60)):
        if seconds >= size:
            return f"{seconds // size} {unit} ago"
    return f"{max(seconds, 0)} s ago"

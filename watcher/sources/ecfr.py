"""eCFR: the Entity List as 15 CFR 744 Supplement No. 4 states it on a given date.

The versioner API serves part 744 as of any date (`full/{date}/title-15.xml?part=744`) and
says on which dates the part changed (`versions/title-15.json?part=744`), which is what makes
a dated history (backfill) possible. The appendix is `DIV9 N="Supplement No. 4 to Part 744"`
holding the five-column table shared with Federal Register rules (`watcher.entity_list.actions`).

No real capture of the appendix exists, so the parser is strict: anything it does not
recognise (no appendix, no table, wrong columns, no rows) is a ParseError, which rejects the
snapshot; it never returns an empty or partial list.
"""

from __future__ import annotations

import html
import json
import re
from collections.abc import Mapping, Sequence
from datetime import UTC, date, datetime
from typing import Any

from lxml import etree

from watcher.entity_list.actions import EntityAction, parse_entity_list_table
from watcher.entity_list.gpo_xml import element_text, load_xml
from watcher.errors import ParseError
from watcher.keys import name_key
from watcher.models import Address, Entry, ParseResult, make_entry
from watcher.sources.base import FetchPlan, Source

API = "https://www.ecfr.gov/api/versioner/v1"
APPENDIX = "supplement no. 4 to part 744"
_DIV = re.compile(r"^DIV\d$")
_ISO_DATE = re.compile(r"\d{4}-\d{2}-\d{2}")


def url_for(day: date | str) -> str:
    """The versioner URL of part 744 as of `day`."""
    text = day.isoformat() if isinstance(day, date) else str(day)
    return EcfrEntityList.default_url.replace("{date}", text)


def versions_url() -> str:
    """Where the versioner lists the dates on which part 744 changed."""
    return f"{API}/versions/title-15.json?part=744"


def versions_url_for(full_url: str) -> str:
    """The versions endpoint beside a configured `.../full/{date}/title-15.xml` URL."""
    base = full_url.split("/full/", 1)[0]
    return f"{base}/versions/title-15.json?part=744"


def parse_versions(content: bytes, *, part: str = "744") -> list[date]:
    """Sorted distinct dates of the `content_versions` of `part` (the dates to backfill)."""
    try:
        data = json.loads(content)
    except (ValueError, UnicodeDecodeError) as exc:
        raise ParseError(f"eCFR versions: not JSON: {exc}") from exc
    versions = data.get("content_versions") if isinstance(data, dict) else None
    if not isinstance(versions, list):
        raise ParseError("eCFR versions: no `content_versions` list")
    found: set[date] = set()
    for v in versions:
        if not isinstance(v, dict) or (v.get("part") and str(v.get("part")) != part):
            continue
        text = str(v.get("date") or v.get("amendment_date") or "")
        if _ISO_DATE.fullmatch(text):
            found.add(date.fromisoformat(text))
    return sorted(found)


class EcfrEntityList(Source):
    name = "ecfr_entity_list"
    default_url = f"{API}/full/{{date}}/title-15.xml?part=744"
    mode = "full"
    default_min_records = 500
    default_interval = 6 * 3600.0

    def plan(self, url: str, companions: Sequence[str]) -> FetchPlan:
        """A `{date}` URL first asks the versions endpoint which date is the latest.

        eCFR lags the Federal Register by a day or two and has no version for "today", so the
        newest date on which part 744 changed is the one to fetch.
        """
        if "{date}" not in url:
            return FetchPlan((("primary", url),))
        return FetchPlan((("versions", versions_url_for(url)),))

    def follow(
        self, name: str, url: str, content: bytes, known_keys: frozenset[str]
    ) -> list[tuple[str, str]]:
        if name != "versions":
            return []
        dates = parse_versions(content)
        if not dates:
            raise ParseError("eCFR versions: part 744 has no versions")
        template = url.split("/versions/", 1)[0] + "/full/{date}/title-15.xml?part=744"
        return [("primary", template.replace("{date}", dates[-1].isoformat()))]

    def digest(self, files: Mapping[str, bytes]) -> str:
        """Only the appendix text counts; the versions listing is a means to find it."""
        return super().digest({k: v for k, v in files.items() if k == "primary"})

    def parse(self, files: Mapping[str, bytes]) -> ParseResult:
        """Supplement No. 4's table rows as entries keyed country + normalized name."""
        if "primary" not in files:
            raise ParseError("eCFR: no part 744 text was fetched")
        root = load_xml(files["primary"], "eCFR part 744")
        appendix = find_appendix(root)
        tables = [t for t in appendix.iter("GPOTABLE", "TABLE")]
        if not tables:
            raise ParseError("eCFR: Supplement No. 4 to Part 744 holds no table")
        actions: list[EntityAction] = []
        for table in tables:
            _check_columns(table)
            actions.extend(parse_entity_list_table(table, strict=True))
        if not actions:
            raise ParseError("eCFR: the Entity List table has no entries")
        warnings: list[str] = []
        entries = _entries(actions, warnings)
        return ParseResult(
            entries=tuple(entries), published_at=_published(root), warnings=tuple(warnings)
        )


def find_appendix(root: etree._Element) -> etree._Element:
    """The DIV of Supplement No. 4 to Part 744 (by its N attribute or its HEAD)."""
    for el in root.iter():
        if not isinstance(el.tag, str) or not _DIV.match(el.tag):
            continue
        if " ".join((el.get("N") or "").split()).casefold() == APPENDIX:
            return el
        head = el.find("HEAD")
        if head is not None and element_text(head).casefold().startswith(APPENDIX):
            return el
    raise ParseError(
        f"eCFR: no Supplement No. 4 to Part 744 in this document (root <{root.tag} "
        f"N={root.get('N')!r}>): not the Entity List"
    )


def _check_columns(table: etree._Element) -> None:
    cols = table.get("COLS")
    heads = [h for h in table.iter("CHED", "TH")]
    count = int(cols) if cols and cols.isdigit() else len(heads)
    if count and count != 5:
        raise ParseError(f"eCFR: Entity List table has {count} columns, expected 5")


def _entries(actions: list[EntityAction], warnings: list[str]) -> list[Entry]:
    seen: dict[str, int] = {}
    out = []
    for a in actions:
        if not a.name:
            warnings.append(f"row without a name under {a.country}; skipped")
            continue
        key = f"{name_key(a.country)}:{name_key(a.name)}"
        seen[key] = seen.get(key, 0) + 1
        if seen[key] > 1:
            warnings.append(f"{a.name!r} listed {seen[key]} times under {a.country}")
            key = f"{key}#{seen[key]}"
        out.append(_entry(key, a))
    return out


def _entry(key: str, a: EntityAction) -> Entry:
    addresses = [Address(address=x, country=a.country) for x in a.addresses]
    return make_entry(
        source=EcfrEntityList.name,
        key=key,
        list_code="EL",
        name=a.name,
        aliases=a.aliases,
        addresses=addresses or [Address(country=a.country)],
        citations=a.citations,
        raw={
            "country": a.country,
            "license_requirement": a.license_requirement,
            "license_policy": a.license_policy,
        },
    )


def _published(root: etree._Element) -> datetime | None:
    """The date in `hierarchy_metadata` ("/on/2024-05-17/title-15/..."), when it holds one."""
    meta = _metadata(root.get("hierarchy_metadata"))
    m = _ISO_DATE.search(str(meta.get("path") or ""))
    return datetime.fromisoformat(m.group(0)).replace(tzinfo=UTC) if m else None


def _metadata(value: str | None) -> dict[str, Any]:
    """The attribute's JSON; on DIV5 it is escaped twice (`&quot;` inside the value)."""
    if not value:
        return {}
    for text in (value, html.unescape(value)):
        try:
            data = json.loads(text)
        except ValueError:
            continue
        return data if isinstance(data, dict) else {}
    return {}

"""The Federal Register API's JSON: query URLs, result pages, pagination, canonical form.

Pure helpers for `watcher.sources.federal_register`; no I/O.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable, Mapping, Sequence
from datetime import UTC, datetime
from typing import Any
from urllib.parse import urlencode

from watcher.entity_list.actions import normalize_document_number
from watcher.errors import ParseError

DOCUMENT_FIELDS = (
    "document_number",
    "title",
    "type",
    "abstract",
    "action",
    "dates",
    "publication_date",
    "effective_on",
    "html_url",
    "pdf_url",
    "public_inspection_pdf_url",
    "full_text_xml_url",
    "citation",
    "agencies",
    "cfr_references",
    "correction_of",
)
# Keys that change without the document changing (view counters, search highlighting).
VOLATILE_KEYS = frozenset({"page_views", "excerpts"})
_CACHE_BUSTER = re.compile(r"^(https?://\S+?)\?\d+$")
_ENTITY_LIST = re.compile(r"\bentity\s+list\b", re.I)
BIS_SLUG = "industry-and-security-bureau"


def api_base(url: str) -> str:
    """`https://host/api/v1/documents.json?...` -> `https://host/api/v1/`."""
    if "/api/v1/" in url:
        return url.split("/api/v1/", 1)[0] + "/api/v1/"
    return url.rsplit("/", 1)[0] + "/"


def documents_url(
    url: str, agencies: Sequence[str], per_page: int, fields: Sequence[str] = DOCUMENT_FIELDS
) -> str:
    """The documents.json query: agencies, newest first, the fields the parser reads."""
    base = url.split("?", 1)[0]
    params: list[tuple[str, str]] = [("conditions[agencies][]", a) for a in agencies]
    params += [("fields[]", f) for f in fields]
    params += [("order", "newest"), ("per_page", str(per_page))]
    existing = url.split("?", 1)[1] if "?" in url else ""
    query = urlencode(params)
    return f"{base}?{existing}&{query}" if existing else f"{base}?{query}"


def public_inspection_url(url: str) -> str:
    return api_base(url) + "public-inspection-documents/current.json"


def load_page(content: bytes, what: str) -> dict[str, Any]:
    """One API response as a dict; ParseError for empty, HTML, error bodies and non-JSON."""
    text = content.strip()
    if not text:
        raise ParseError(f"{what}: empty response")
    if text[:1] == b"<":
        raise ParseError(f"{what}: got HTML/XML where the API returns JSON")
    try:
        data = json.loads(text.decode("utf-8-sig"))
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise ParseError(f"{what}: not JSON: {exc}") from exc
    if not isinstance(data, dict):
        raise ParseError(f"{what}: expected a JSON object, got {type(data).__name__}")
    status = data.get("status")
    if isinstance(status, int) and status >= 400 or "errors" in data:
        message = data.get("message") or data.get("errors")
        raise ParseError(f"{what}: Federal Register API error {status}: {message}")
    return data


def page_records(data: Mapping[str, Any], what: str) -> list[dict[str, Any]]:
    """Documents of a page (a missing `results` is an empty page) or a single document."""
    if "document_number" in data:
        return [dict(data)]
    if "results" in data:
        results = data["results"]
        if not isinstance(results, list):
            raise ParseError(f"{what}: `results` is not a list")
        records = [r for r in results if isinstance(r, dict) and r.get("document_number")]
        if len(records) < len(results):
            # Valid JSON of another shape (another API, an error list): not an empty page.
            raise ParseError(
                f"{what}: {len(results) - len(records)} of {len(results)} results have no "
                "document_number: not Federal Register documents"
            )
        return records
    if "count" in data or "description" in data:
        return []
    raise ParseError(f"{what}: not a Federal Register API response (keys: {sorted(data)[:8]})")


def doc_key(record: Mapping[str, Any]) -> str:
    return normalize_document_number(str(record.get("document_number") or ""))


def is_public_inspection(record: Mapping[str, Any]) -> bool:
    """PI records have filing facts and a /public-inspection/ page; published ones don't."""
    html = str(record.get("html_url") or "")
    return "filed_at" in record or "filing_type" in record or "/public-inspection/" in html


def agency_slugs(record: Mapping[str, Any]) -> list[str]:
    agencies = record.get("agencies") or []
    return sorted({str(a.get("slug") or a.get("name")) for a in agencies if isinstance(a, dict)})


def is_entity_list_rule(record: Mapping[str, Any]) -> bool:
    """A BIS document whose title or action names the Entity List."""
    slugs = agency_slugs(record)
    if slugs and BIS_SLUG not in slugs:
        return False
    text = f"{record.get('title') or ''} {record.get('action') or ''}"
    return bool(_ENTITY_LIST.search(text))


def concerns_lists(record: Mapping[str, Any], agencies: Sequence[str]) -> bool:
    """A BIS or OFAC document (of the watched agencies) whose title or abstract names the
    Entity List: the documents whose public-inspection PDF is worth reading."""
    slugs = set(agency_slugs(record))
    if slugs and not slugs & set(agencies):
        return False
    text = " ".join(str(record.get(k) or "") for k in ("title", "abstract", "action"))
    return bool(_ENTITY_LIST.search(text))


def full_text_url(record: Mapping[str, Any]) -> str | None:
    """The record's full_text_xml_url, else the documented pattern from date and number."""
    url = record.get("full_text_xml_url")
    if isinstance(url, str) and url:
        return url
    date = str(record.get("publication_date") or "")
    number = doc_key(record)
    if not re.fullmatch(r"\d{4}-\d{2}-\d{2}", date) or not number:
        return None
    y, m, d = date.split("-")
    return f"https://www.federalregister.gov/documents/full_text/xml/{y}/{m}/{d}/{number}.xml"


def reached_known(records: Sequence[Mapping[str, Any]], known: frozenset[str]) -> bool:
    """True when paging further can only bring documents already stored.

    Results are newest first: once a page holds a known document and nothing after it is newer,
    later pages hold older documents, which the previous polls already saw. New documents push
    old ones onto page 2, so "every document known" would be the wrong test.
    """
    keys = [doc_key(r) for r in records]
    first = next((i for i, k in enumerate(keys) if k in known), None)
    if first is None:
        return False
    ref = str(records[first].get("publication_date") or "")
    later = (str(r.get("publication_date") or "") for r in records[first:])
    return all(not d or not ref or d <= ref for d in later)


def new_documents(content: bytes, known: frozenset[str]) -> list[str]:
    """Document numbers of a result page that are not yet stored, in page order."""
    data = load_page(content, "Federal Register page")
    return [k for k in (doc_key(r) for r in page_records(data, "page")) if k not in known]


def strip_cache_buster(url: str) -> str:
    """`https://.../2024-03129.pdf?1707918328` -> `https://.../2024-03129.pdf`."""
    m = _CACHE_BUSTER.match(url.strip())
    return m.group(1) if m else url.strip()


def canonical(value: Any) -> Any:
    """JSON with volatile parts removed: trimmed strings, no cache-busters, no view counters."""
    if isinstance(value, dict):
        return {k: canonical(v) for k, v in value.items() if k not in VOLATILE_KEYS}
    if isinstance(value, list):
        return [canonical(v) for v in value]
    if isinstance(value, str):
        return strip_cache_buster(value) if value.startswith("http") else value.strip()
    return value


def utc_timestamp(value: Any) -> str | None:
    """`2026-09-28T11:15:00.000-04:00` and `...15:15:00Z` both -> `2026-09-28T15:15:00Z`."""
    if not isinstance(value, str) or not value.strip():
        return None
    try:
        when = datetime.fromisoformat(value.strip().replace("Z", "+00:00"))
    except ValueError:
        return value.strip()
    if when.tzinfo is None:
        return when.isoformat()
    return when.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def texts(values: Iterable[Any]) -> list[str]:
    return [str(v).strip() for v in values if v is not None and str(v).strip()]

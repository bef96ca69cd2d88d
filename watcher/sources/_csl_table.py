"""Reading the Consolidated Screening List download into rows, and auditing its header.

trade.gov serves the same records as CSV (header row, `; `-joined multi-values) or JSON
(`{"results": [...]}` or a bare list, list-valued fields). Both become `Table`: the header as
published plus one dict per record. Which one we got is sniffed from the bytes, not trusted
from a URL suffix or a Content-Type header.
"""

from __future__ import annotations

import csv
import io
import json
import re
from dataclasses import dataclass
from typing import Any

from watcher.errors import ParseError

# The live header, captured 2026-09-25 (fixtures/trade_gov_csl/..._HEADER_ONLY_...txt).
LIVE_HEADER: tuple[str, ...] = (
    "_id",
    "source",
    "entity_number",
    "type",
    "programs",
    "name",
    "title",
    "addresses",
    "federal_register_notice",
    "start_date",
    "end_date",
    "standard_order",
    "license_requirement",
    "license_policy",
    "call_sign",
    "vessel_type",
    "gross_tonnage",
    "gross_registered_tonnage",
    "vessel_flag",
    "vessel_owner",
    "remarks",
    "source_list_url",
    "alt_names",
    "citizenships",
    "dates_of_birth",
    "nationalities",
    "places_of_birth",
    "source_information_url",
    "ids",
)

# Without these the keys cannot be built (list code, name, OFAC id, country): a snapshot
# missing any of them would re-key the whole list, so it is rejected instead.
REQUIRED_COLUMNS: tuple[str, ...] = ("source", "name", "entity_number", "addresses")

# The JSON API spells the record id without the underscore.
_JSON_RENAMES = {"id": "_id"}


@dataclass(frozen=True)
class Table:
    """Records as published: CSV values are strings, JSON values may be lists or dicts."""

    header: tuple[str, ...]
    rows: tuple[dict[str, Any], ...]
    format: str  # "csv" or "json"
    warnings: tuple[str, ...] = ()


def read_table(data: bytes) -> Table:
    """Sniff CSV or JSON from the bytes and read every record; `ParseError` if neither."""
    if b"\0" in data[:65536]:
        raise ParseError("binary data (NUL bytes; UTF-16?), not the CSL's UTF-8 CSV or JSON")
    text, warnings = _decode(data)
    head = text.lstrip()[:64].lower()
    if not head:
        raise ParseError("empty document")
    if head.startswith(("<!doctype html", "<html")):
        raise ParseError("got an HTML page, not the Consolidated Screening List")
    if head.startswith("<"):
        raise ParseError("got XML/HTML markup, not the Consolidated Screening List CSV or JSON")
    if head.startswith(("{", "[")):
        table = _read_json(text)
    else:
        table = _read_csv(text)
    return Table(table.header, table.rows, table.format, tuple(warnings) + table.warnings)


def _decode(data: bytes) -> tuple[str, list[str]]:
    try:
        return data.decode("utf-8-sig"), []
    except UnicodeDecodeError as exc:
        # One bad byte should not hide 50,000 good records; say so instead.
        text = data.decode("utf-8-sig", errors="replace")
        return text, [f"invalid UTF-8 at byte {exc.start}: replaced undecodable bytes"]


def _read_csv(text: str) -> Table:
    reader = csv.reader(io.StringIO(text, newline=""))
    header_row = next(reader, None)
    if not header_row:
        raise ParseError("CSV has no header row")
    header = tuple(h.strip() for h in header_row)
    width = len(header)
    rows: list[dict[str, Any]] = []
    ragged: list[int] = []
    for number, row in enumerate(reader, 2):
        cells = [c.strip() for c in row]
        if tuple(cells) == header or not any(cells):
            continue  # the repeated header line (2023 sample) and blank lines
        if len(cells) != width:
            ragged.append(number)
            cells = (cells + [""] * width)[:width]
        rows.append(dict(zip(header, cells, strict=True)))
    warnings: tuple[str, ...] = ()
    if ragged:
        # Kept (padded): a partial row still names the party; dropping it would "remove" it.
        warnings = (
            f"{len(ragged)} CSV records have a field count other than {width} (first: "
            f"record {ragged[0]}); the download may be truncated",
        )
    return Table(header, tuple(rows), "csv", warnings)


def _read_json(text: str) -> Table:
    try:
        doc = json.loads(text)
    except json.JSONDecodeError as exc:
        raise ParseError(f"malformed JSON: {exc}") from None
    records = doc.get("results") if isinstance(doc, dict) else doc
    if not isinstance(records, list):
        raise ParseError("JSON has neither a 'results' list nor a top-level list")
    header: dict[str, None] = {}
    rows: list[dict[str, Any]] = []
    for record in records:
        if not isinstance(record, dict):
            raise ParseError(f"JSON record is not an object: {str(record)[:80]!r}")
        row = {_JSON_RENAMES.get(str(k), str(k)): v for k, v in record.items()}
        header.update(dict.fromkeys(row))
        rows.append(row)
    return Table(tuple(header), tuple(rows), "json")


def audit_header(header: tuple[str, ...]) -> list[str]:
    """Warnings for columns added or removed vs. the live header; `ParseError` if a
    required column is gone (a rename shows as one removed plus one added column)."""
    missing_required = [c for c in REQUIRED_COLUMNS if c not in header]
    if missing_required:
        raise ParseError(f"CSL header lacks required columns {missing_required}: snapshot refused")
    known = set(LIVE_HEADER)
    added = [c for c in header if c not in known]
    removed = [c for c in LIVE_HEADER if c not in set(header)]
    warnings = []
    if added:
        warnings.append(f"header drift: columns not in the live header (ignored): {added}")
    if removed:
        warnings.append(f"header drift: live-header columns missing: {removed}")
    return warnings


_LIST_NAME = re.compile(r"\([A-Z][A-Za-z -]+\)")  # "(EL)", "(NS-MBS List)"
CSL_TYPES = frozenset({"", "individual", "entity", "vessel", "aircraft"})
MAX_BAD_SHARE = 0.10


def check_cells(rows: tuple[dict[str, Any], ...]) -> list[str]:
    """Columns must hold what their header says (a list name in `source`, a number or nothing
    in `entity_number`, a known `type`); a file whose values moved is refused before any diff."""
    problems = {
        "source is not a list name like 'Entity List (EL) - ...'": sum(
            1 for r in rows if not _LIST_NAME.search(_text(r.get("source")))
        ),
        "entity_number is not a number": sum(
            1
            for r in rows
            if _text(r.get("entity_number")) not in ("",)
            and not _text(r.get("entity_number")).isdigit()
        ),
        f"type is not one of {sorted(CSL_TYPES - {''})}": sum(
            1 for r in rows if _text(r.get("type")).lower() not in CSL_TYPES
        ),
    }
    warnings = []
    for problem, count in problems.items():
        if count > MAX_BAD_SHARE * max(len(rows), 1):
            raise ParseError(f"{count} of {len(rows)} CSL records: {problem}; columns moved?")
        if count:
            warnings.append(f"{count} CSL records: {problem}")
    return warnings


def _text(value: Any) -> str:
    return "" if value is None else str(value).strip()

"""The trade.gov Consolidated Screening List: every US screening list in one download.

Keys (contract):
- Rows of OFAC-published lists (CMIC, SDN, SSI, FSE, PLC, CAP, MBS) whose `entity_number` is
  numeric are keyed by OFAC's id: `f"{list_code}:{entity_number}"`.
- Every other row (BIS EL/MEU/UVL/DPL, State ISN/DTC: `_id` is a hash of the row's content, so
  it changes with any edit, and `entity_number` is empty) gets a derived key:
  `f"{list_code}:{country}:{normalized name}"`. `normalized` is NFKC, casefold, each run of
  punctuation/whitespace one space; `country` is the alphabetically first country of the row's
  addresses (independent of address order), `""` when it has none.
- Rows that still collide are numbered by sorted content: the first keeps the key, the next get
  `:2`, `:3` ... and a warning says so.
- A derived key changes when the name does. `match_renames` (the `pair_renames` hook the diff
  calls) pairs such a removed and added row when the rest of the row identifies the party, so a
  rename is reported as `modified` (name field), not as remove + add.

Header drift (columns added or removed vs. the live header) is a warning; a snapshot without a
required column (`REQUIRED_COLUMNS`) is refused with `ParseError`.
"""

from __future__ import annotations

import dataclasses
from collections import defaultdict
from collections.abc import Mapping, Sequence
from typing import Any

from watcher.errors import ParseError
from watcher.keys import csl_name_key
from watcher.models import Entry, ParseResult, make_entry
from watcher.sources._csl_fields import (
    OFAC_CODES,
    list_code,
    parse_addresses,
    parse_ids,
    split_multi,
    text,
)
from watcher.sources._csl_renames import match_renames
from watcher.sources._csl_table import (
    LIVE_HEADER,
    REQUIRED_COLUMNS,
    audit_header,
    check_cells,
    read_table,
)
from watcher.sources.base import Source

__all__ = ["LIVE_HEADER", "REQUIRED_COLUMNS", "TradeCsl", "derive_key", "match_renames"]

SOURCE = "trade_csl"
# Columns kept verbatim under `raw` (name in raw -> column).
_RAW_COLUMNS = {
    "csl_id": "_id",
    "entity_number": "entity_number",
    "title": "title",
    "standard_order": "standard_order",
    "license_requirement": "license_requirement",
    "license_policy": "license_policy",
    "source_list_url": "source_list_url",
    "source_information_url": "source_information_url",
    "call_sign": "call_sign",
    "vessel_type": "vessel_type",
    "gross_tonnage": "gross_tonnage",
    "gross_registered_tonnage": "gross_registered_tonnage",
    "vessel_flag": "vessel_flag",
    "vessel_owner": "vessel_owner",
    "citizenships": "citizenships",
    "nationalities": "nationalities",
    "places_of_birth": "places_of_birth",
    "dates_of_birth": "dates_of_birth",
}
_MAX_LISTED_WARNINGS = 20


class TradeCsl(Source):
    """consolidated.csv (or .json) from data.trade.gov; one entry per row."""

    name = "trade_csl"
    default_url = (
        "https://data.trade.gov/downloadable_consolidated_screening_list/v1/consolidated.csv"
    )
    mode = "full"
    default_min_records = 1000

    def parse(self, files: Mapping[str, bytes]) -> ParseResult:
        """The primary file's rows as entries; see the module docstring for keys."""
        if "primary" not in files:
            raise ParseError("trade_csl: no primary file")
        return parse_csl(files["primary"])

    def pair_renames(self, removed: list[Entry], added: list[Entry]) -> list[tuple[Entry, Entry]]:
        """Hook for the diff: removed/added pairs that are one party renamed."""
        return match_renames(removed, added)


def parse_csl(data: bytes) -> ParseResult:
    """CSV or JSON bytes to entries with unique keys, plus header-drift warnings."""
    table = read_table(data)
    warnings = list(table.warnings) + audit_header(table.header) + check_cells(table.rows)
    country_first_ids = table.format == "csv" and "_id" not in table.header
    entries: list[Entry] = []
    unknown: dict[str, str] = {}
    nameless = 0
    for row in table.rows:
        source_name = text(row.get("source"))
        code, known = list_code(source_name)
        if not known:
            unknown.setdefault(source_name, code)
        if not text(row.get("name")):
            nameless += 1
            continue
        entries.append(row_entry(row, code, country_first_ids=country_first_ids))
    for source_name, code in sorted(unknown.items()):
        warnings.append(f"unknown CSL source {source_name!r}: list code {code!r}")
    if nameless:
        warnings.append(f"{nameless} rows without a name skipped")
    unique, collisions = disambiguate(entries)
    return ParseResult(tuple(unique), warnings=tuple(warnings + collisions))


def row_entry(row: Mapping[str, Any], code: str, *, country_first_ids: bool) -> Entry:
    """One CSL record as an Entry keyed by `derive_key`."""
    addresses = parse_addresses(row.get("addresses"))
    countries = sorted({a.country for a in addresses if a.country})
    entity_number = text(row.get("entity_number"))
    name = text(row.get("name"))
    raw = {k: text(row.get(col)) for k, col in _RAW_COLUMNS.items()}
    return make_entry(
        source=SOURCE,
        key=derive_key(code, entity_number, name, countries[0] if countries else ""),
        list_code=code,
        name=name,
        entity_type=text(row.get("type")) or None,
        aliases=split_multi(row.get("alt_names")),
        addresses=addresses,
        programs=split_multi(row.get("programs")),
        ids=parse_ids(row.get("ids"), country_first=country_first_ids),
        remarks=text(row.get("remarks")) or None,
        citations=split_multi(row.get("federal_register_notice")),
        dates={k: text(row.get(k)) for k in ("start_date", "end_date")},
        raw=raw,
    )


def derive_key(code: str, entity_number: str, name: str, country: str) -> str:
    """The contract key rule (module docstring), before collision numbering."""
    if code in OFAC_CODES and entity_number.isdigit():
        return f"{code}:{entity_number}"
    return f"{code}:{csl_name_key(country)}:{csl_name_key(name)}"


def disambiguate(entries: Sequence[Entry]) -> tuple[list[Entry], list[str]]:
    """Number colliding keys by sorted content, so shuffled input gives the same keys."""
    groups: dict[str, list[Entry]] = defaultdict(list)
    for entry in entries:
        groups[entry.key].append(entry)
    out: list[Entry] = []
    notes: list[str] = []
    for key, group in groups.items():
        if len(group) == 1:
            out.append(group[0])
            continue
        ordered = sorted(group, key=_identity_order)
        notes.append(f"{key!r}: {len(group)} rows share the key; numbered :2..:{len(group)}")
        out.append(ordered[0])
        out += [dataclasses.replace(e, key=f"{key}:{i}") for i, e in enumerate(ordered[1:], 2)]
    warnings = notes[:_MAX_LISTED_WARNINGS]
    if len(notes) > _MAX_LISTED_WARNINGS:
        warnings.append(f"... and {len(notes) - _MAX_LISTED_WARNINGS} more key collisions")
    if notes:
        warnings.insert(0, f"key collisions: {len(notes)} keys shared by several rows")
    return out, warnings


def _identity_order(entry: Entry) -> tuple[str, ...]:
    """Sort colliding rows by what tells them apart (DPL repeats a person once per address)
    before the full content hash, so an edit elsewhere in the row rarely renumbers them."""
    addresses = "; ".join(a.text() for a in entry.addresses)
    citations = "; ".join(entry.citations)
    return (addresses, citations, entry.dates.get("start_date", ""), entry.content_hash())

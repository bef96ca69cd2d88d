"""OFAC's SDN list and non-SDN Consolidated list, in every format OFAC publishes.

The format is sniffed from the primary bytes, never from the file name, so a URL that
starts serving another format keeps working and an HTML error page is refused:

- legacy flat files (no header, `-0-` null, cp1252): CSV, `.pip`, `.del` and fixed-width `.ff`,
  with companions (addresses, aliases, remarks spill-over) recognised by name;
- legacy XML (`sdnList`, SDN.XML / consolidated.xml);
- advanced XML (`Sanctions`, sdn_advanced.xml / cons_advanced.xml).

All formats give the same Entry: key = OFAC uid (ent_num = uid = FixedRef), names as
'LAST, First', strong aliases only (weak ones sit in the flat files' remarks and in
`raw["weak_aliases"]` for XML), addresses as the flat files write them (street lines joined
by ', ', and one 'City, State Postal' string in `Address.city`), `"` folded to `'`.
Only the XML formats fill `ids` (the flat files keep identifiers inside remarks) and
`published_at`; only the advanced XML has `dates["listed"]` and `raw["linked_to"]`.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Mapping, Sequence
from datetime import UTC, datetime
from typing import Any, ClassVar

from lxml import etree

from watcher.errors import ParseError
from watcher.models import Entry, Identifier, ParseResult, make_entry
from watcher.sources._ofac_csv import (
    VESSEL_FIELDS,
    ListCode,
    build_entries,
    flat_address,
    fold,
    join_name,
    looks_flat,
    read_tables,
    tidy,
)
from watcher.sources._ofac_xml import ADVANCED_NS, parse_advanced
from watcher.sources._xml import check_xml_bytes, iter_children, local_name, root_tag
from watcher.sources.base import Source

# Consolidated sub-lists by program, first match wins (DESIGN.md section 5).
_SUBLISTS: tuple[tuple[str, tuple[str, ...], tuple[str, ...]], ...] = (
    # (code, program prefixes, substrings)
    ("CMIC", ("CMIC", "NS-CMIC"), ()),
    ("SSI", (), ("UKRAINE-EO13662", "SSI")),
    ("FSE", ("FSE",), ()),
    ("PLC", ("NS-PLC",), ()),
    ("MBS", ("NS-MBS", "MBS"), ()),
    ("CAP", ("CAPTA",), ()),
)


def consolidated_list_code(programs: Sequence[str]) -> str:
    """The Consolidated sub-list a record's programs name: CMIC, SSI, FSE, PLC, MBS, CAP, CONS."""
    upper = [p.upper() for p in programs]
    for code, prefixes, parts in _SUBLISTS:
        for program in upper:
            if program.startswith(prefixes or ("\0",)) or any(s in program for s in parts):
                return code
    return "CONS"


def sdn_list_code(programs: Sequence[str]) -> str:
    """Everything on the SDN list is `SDN`, whatever its programs."""
    return "SDN"


def parse_ofac(files: Mapping[str, bytes], source: str, list_code: ListCode) -> ParseResult:
    """Sniff the primary file's format and parse it (with companions for flat files)."""
    primary = files.get("primary")
    if primary is None:
        raise ParseError("no primary file")
    head = primary[:256].lstrip(b"\xef\xbb\xbf \t\r\n")
    if not head.strip(b"\x1a \t\r\n"):
        raise ParseError("primary: empty file")
    published: datetime | None = None
    if head.startswith(b"<"):
        entries, published, warnings = _parse_xml(primary, source, list_code)
        extra = [name for name in files if name != "primary"]
        warnings += [f"{name}: ignored, companions belong to flat files" for name in extra]
    elif looks_flat(primary):
        tables = read_tables(files)
        entries = build_entries(tables, source, list_code)
        warnings = tables.warnings
    else:
        raise ParseError("primary: neither an OFAC flat file nor XML (binary or unknown data)")
    if not entries:
        raise ParseError("no records found")
    return ParseResult(
        entries=tuple(sorted(entries, key=lambda e: int(e.key))),
        published_at=published,
        warnings=tuple(warnings),
    )


def _parse_xml(
    data: bytes, source: str, list_code: ListCode
) -> tuple[list[Entry], datetime | None, list[str]]:
    check_xml_bytes(data)
    tag = root_tag(data)
    if tag == f"{{{LEGACY_NS}}}sdnList":
        return parse_legacy(data, source, list_code)
    if tag == f"{{{ADVANCED_NS}}}Sanctions":
        return parse_advanced(data, source, list_code)
    raise ParseError(f"XML root {tag!r} is neither OFAC sdnList nor Sanctions")


# --- legacy XML (`sdnList`: SDN.XML, consolidated.xml), streamed; children popped, rest audited

LEGACY_NS = "http://tempuri.org/sdnList.xsd"
_VESSEL_TAGS = (
    "callSign",
    "vesselType",
    "tonnage",
    "grossRegisteredTonnage",
    "vesselFlag",
    "vesselOwner",
)
_SIMPLE = {"uid", "firstName", "lastName", "title", "sdnType", "remarks"}
_LISTS = {
    "programList",
    "idList",
    "akaList",
    "addressList",
    "nationalityList",
    "citizenshipList",
    "dateOfBirthList",
    "placeOfBirthList",
    "vesselInfo",
}

Reader = Callable[[etree._Element, dict[str, Any]], None]


def parse_legacy(
    data: bytes, source: str, list_code: ListCode
) -> tuple[list[Entry], datetime | None, list[str]]:
    """Entries, publish date and warnings of a legacy `sdnList` document."""
    entries: list[Entry] = []
    published: datetime | None = None
    unknown: Counter[str] = Counter()
    declared: int | None = None
    for elem in iter_children(data, depth=1):
        tag = local_name(elem)
        if tag == "publshInformation":
            published = _publish_date(elem.findtext(f"{{{LEGACY_NS}}}Publish_Date"))
            count = elem.findtext(f"{{{LEGACY_NS}}}Record_Count")
            declared = int(count) if count and count.strip().isdigit() else None
        elif tag == "sdnEntry":
            entries.append(_entry(elem, source, list_code, unknown))
        elif tag:
            unknown[tag] += 1
    warnings = [f"legacy XML: unknown element <{t}> x{n}, ignored" for t, n in unknown.items()]
    if declared is not None and declared != len(entries):
        raise ParseError(f"legacy XML: Record_Count says {declared}, found {len(entries)}")
    return entries, published, warnings


def _publish_date(text: str | None) -> datetime | None:
    if not text:
        return None
    try:
        return datetime.strptime(text.strip(), "%m/%d/%Y").replace(tzinfo=UTC)
    except ValueError:
        raise ParseError(f"legacy XML: bad Publish_Date {text!r}") from None


def _entry(elem: etree._Element, source: str, list_code: ListCode, unknown: Counter[str]) -> Entry:
    fields: dict[str, Any] = {"aliases": [], "weak": [], "addresses": [], "ids": []}
    fields.update(programs=[], raw={})
    for child in elem:
        tag = local_name(child)
        if tag in _SIMPLE:
            fields[tag] = fold(child.text)
        elif tag in _LISTS:
            _READERS[tag](child, fields)
        elif tag:
            unknown[f"sdnEntry/{tag}"] += 1
    uid = (fields.get("uid") or "").strip()
    if not uid.isdigit():
        raise ParseError(f"legacy XML: sdnEntry without a numeric uid ({uid!r})")
    raw: dict[str, Any] = fields["raw"]
    raw["title"] = tidy(fields.get("title"))
    raw["weak_aliases"] = sorted(set(fields["weak"]))
    return make_entry(
        source=source,
        key=str(int(uid)),
        list_code=list_code(fields["programs"]),
        name=join_name(fields.get("lastName"), fields.get("firstName")),
        entity_type=fields.get("sdnType") or "entity",
        aliases=fields["aliases"],
        addresses=fields["addresses"],
        programs=fields["programs"],
        ids=fields["ids"],
        remarks=fields.get("remarks"),
        raw=raw,
    )


def _children(elem: etree._Element) -> dict[str, str | None]:
    return {local_name(c): fold(c.text) for c in elem if local_name(c)}


def _read_programs(elem: etree._Element, fields: dict[str, Any]) -> None:
    fields["programs"].extend(fold(c.text) for c in elem if c.text)


def _read_akas(elem: etree._Element, fields: dict[str, Any]) -> None:
    for aka in elem:
        values = _children(aka)
        name = join_name(values.get("lastName"), values.get("firstName"))
        target = "weak" if (values.get("category") or "").lower() == "weak" else "aliases"
        fields[target].append(name)


def _read_addresses(elem: etree._Element, fields: dict[str, Any]) -> None:
    for item in elem:
        v = _children(item)
        lines = [v.get("address1"), v.get("address2"), v.get("address3")]
        fields["addresses"].append(
            flat_address(
                lines,
                v.get("city"),
                v.get("stateOrProvince"),
                v.get("postalCode"),
                v.get("country"),
            )
        )


def _read_ids(elem: etree._Element, fields: dict[str, Any]) -> None:
    for item in elem:
        v = _children(item)
        fields["ids"].append(
            Identifier(v.get("idType") or "", v.get("idNumber") or "", v.get("idCountry"))
        )


def _reader(raw_key: str, value_tag: str) -> Reader:
    def read(elem: etree._Element, fields: dict[str, Any]) -> None:
        values = {_children(item).get(value_tag) for item in elem}
        fields["raw"][raw_key] = sorted(v for v in values if v)

    return read


def _read_vessel(elem: etree._Element, fields: dict[str, Any]) -> None:
    values = _children(elem)
    for key, tag in zip(VESSEL_FIELDS, _VESSEL_TAGS, strict=True):
        fields["raw"][key] = tidy(values.get(tag))


_READERS: dict[str, Reader] = {
    "programList": _read_programs,
    "akaList": _read_akas,
    "addressList": _read_addresses,
    "idList": _read_ids,
    "nationalityList": _reader("nationalities", "country"),
    "citizenshipList": _reader("citizenships", "country"),
    "dateOfBirthList": _reader("dates_of_birth", "dateOfBirth"),
    "placeOfBirthList": _reader("places_of_birth", "placeOfBirth"),
    "vesselInfo": _read_vessel,
}


class OfacSdn(Source):
    """The Specially Designated Nationals list (sdn.csv trio, SDN.XML or sdn_advanced.xml)."""

    name = "ofac_sdn"
    default_url = "https://www.treasury.gov/ofac/downloads/sdn.csv"
    default_companions: ClassVar[tuple[str, ...]] = ("add.csv", "alt.csv", "sdn_comments.csv")
    default_min_records = 5000

    def parse(self, files: Mapping[str, bytes]) -> ParseResult:
        return parse_ofac(files, self.name, sdn_list_code)


class OfacConsolidated(Source):
    """The non-SDN Consolidated list (SSI, FSE, PLC, CAPTA, NS-MBS, NS-CMIC ...)."""

    name = "ofac_consolidated"
    default_url = "https://www.treasury.gov/ofac/downloads/consolidated/cons_prim.csv"
    default_companions: ClassVar[tuple[str, ...]] = (
        "cons_add.csv",
        "cons_alt.csv",
        "cons_comments.csv",
    )
    default_min_records = 100

    def parse(self, files: Mapping[str, bytes]) -> ParseResult:
        return parse_ofac(files, self.name, consolidated_list_code)

"""OFAC advanced XML (`Sanctions`: sdn_advanced.xml, cons_advanced.xml), streamed.

Reference values (alias, party, feature, document and location-part types, countries,
programs) come first in the file and are resolved by ID; locations and identity documents
are collected next, then parties, whose programs and listing dates arrive last in
SanctionsEntries. Unknown sections and profile children are counted into warnings.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

from lxml import etree

from watcher.errors import ParseError
from watcher.models import Address, Entry, Identifier, make_entry
from watcher.sources._ofac_csv import ListCode, flat_address, fold, join_name, tidy
from watcher.sources._xml import iter_children, local_name

ADVANCED_NS = "http://www.un.org/sanctions/1.0"
_RAW_FEATURES = {
    "birthdate": "dates_of_birth",
    "place of birth": "places_of_birth",
    "citizenship country": "citizenships",
    "nationality country": "nationalities",
}
_SINGLE_FEATURES = {
    "title": "title",
    "vessel call sign": "call_sign",
    "vessel type": "vessel_type",
    "vessel tonnage": "tonnage",
    "vessel gross registered tonnage": "gross_registered_tonnage",
    "vessel flag": "vessel_flag",
    "vessel owner": "vessel_owner",
}


class _Advanced:
    """State while streaming one advanced document: reference values first, parties last."""

    def __init__(self) -> None:
        self.refs: dict[str, dict[str, tuple[str, dict[str, str]]]] = {}
        self.issue: dict[str, str] = {}
        self.locations: dict[str, Address] = {}
        self.documents: dict[str, list[Identifier]] = {}
        self.parties: dict[str, dict[str, Any]] = {}
        self.sanctions: dict[str, dict[str, list[str]]] = {}
        self.linked: dict[str, list[str]] = {}
        self.unknown: Counter[str] = Counter()

    def ref(self, kind: str, ident: str | None) -> str | None:
        found = self.refs.get(kind, {}).get(ident or "")
        return found[0] if found else None

    def ref_attr(self, kind: str, ident: str | None, attr: str) -> str | None:
        found = self.refs.get(kind, {}).get(ident or "")
        return found[1].get(attr) if found else None


def parse_advanced(
    data: bytes, source: str, list_code: ListCode
) -> tuple[list[Entry], datetime | None, list[str]]:
    """Entries, issue date and warnings of an advanced `Sanctions` document."""
    state = _Advanced()
    handlers: dict[str, Callable[[_Advanced, etree._Element], None]] = {
        "DateOfIssue": lambda s, e: s.issue.__setitem__(local_name(e), e.text or ""),
        "ReferenceValueSets": _read_refs,
        "Locations": _read_location,
        "IDRegDocuments": _read_document,
        "DistinctParties": _read_party,
        "ProfileRelationships": _read_relation,
        "SanctionsEntries": _read_sanctions_entry,
        "SanctionsEntryLinks": lambda s, e: None,
    }
    for elem in iter_children(data, depth=2):
        parent = elem.getparent()
        section = local_name(parent) if parent is not None else ""
        handler = handlers.get(section)
        if handler is None:
            state.unknown[section] += 1
        elif local_name(elem):
            handler(state, elem)
    entries = [_advanced_entry(state, p, source, list_code) for p in state.parties.values()]
    warnings = [
        f"advanced XML: unknown element <{t}> x{n}, ignored" for t, n in state.unknown.items()
    ]
    return entries, _issue_date(state.issue), warnings


def _issue_date(issue: dict[str, str]) -> datetime | None:
    if not issue:
        return None
    try:
        return datetime(int(issue["Year"]), int(issue["Month"]), int(issue["Day"]), tzinfo=UTC)
    except (KeyError, ValueError):
        raise ParseError(f"advanced XML: bad DateOfIssue {issue}") from None


def _read_refs(state: _Advanced, elem: etree._Element) -> None:
    for item in elem:
        kind = local_name(item)
        if kind:
            attrib = {str(k): str(v) for k, v in item.attrib.items()}
            text = item.text or attrib.get("Description") or ""
            state.refs.setdefault(kind, {})[attrib.get("ID", "")] = (text, attrib)


def _read_location(state: _Advanced, elem: etree._Element) -> None:
    parts: dict[str, str | None] = {}
    country = None
    for child in elem:
        tag = local_name(child)
        if tag == "LocationPart":
            kind = state.ref("LocPartType", child.get("LocPartTypeID")) or ""
            parts[kind.upper()] = fold(child.findtext(f".//{{{ADVANCED_NS}}}Value"))
        elif tag == "LocationCountry":
            country = state.ref("Country", child.get("CountryID"))
    lines = [parts.get("ADDRESS1"), parts.get("ADDRESS2"), parts.get("ADDRESS3")]
    state_part = ", ".join(p for p in (parts.get("STATE/PROVINCE"), parts.get("REGION")) if p)
    state.locations[elem.get("ID", "")] = flat_address(
        lines, parts.get("CITY"), state_part or None, parts.get("POSTAL CODE"), country
    )


def _read_document(state: _Advanced, elem: etree._Element) -> None:
    kind = state.ref("IDRegDocType", elem.get("IDRegDocTypeID")) or "Document"
    number = elem.findtext(f"{{{ADVANCED_NS}}}IDRegistrationNo") or ""
    country = state.ref("Country", elem.get("IssuedBy-CountryID"))
    ident = Identifier(kind, fold(number) or "", country)
    state.documents.setdefault(elem.get("IdentityID", ""), []).append(ident)


def _read_relation(state: _Advanced, elem: etree._Element) -> None:
    state.linked.setdefault(elem.get("From-ProfileID", ""), []).append(elem.get("To-ProfileID", ""))


def _read_sanctions_entry(state: _Advanced, elem: etree._Element) -> None:
    found = state.sanctions.setdefault(elem.get("ProfileID", ""), {"programs": [], "dates": []})
    for child in elem:
        tag = local_name(child)
        if tag == "SanctionsMeasure":
            kind = state.ref("SanctionsType", child.get("SanctionsTypeID"))
            comment = child.findtext(f"{{{ADVANCED_NS}}}Comment")
            if kind == "Program" and comment:
                found["programs"].append(comment)
        elif tag == "EntryEvent":
            date = child.find(f"{{{ADVANCED_NS}}}Date")
            if date is not None:
                found["dates"].append(_ymd(date))


def _ymd(elem: etree._Element) -> str:
    values = [elem.findtext(f"{{{ADVANCED_NS}}}{p}") or "" for p in ("Year", "Month", "Day")]
    year, month, day = (v.strip() for v in values)
    return "-".join([year.zfill(4), *(v.zfill(2) for v in (month, day) if v)])


def _period(elem: etree._Element) -> str:
    """A DatePeriod as 'YYYY-MM-DD', or 'from..to' when OFAC gives a range (a birth year)."""
    ns = f"{{{ADVANCED_NS}}}"
    start = elem.find(f"{ns}Start/{ns}From")
    end = elem.find(f"{ns}End/{ns}To")
    first = _ymd(start) if start is not None else ""
    last = _ymd(end) if end is not None else first
    return first if first == last else f"{first}..{last}"


def _read_party(state: _Advanced, elem: etree._Element) -> None:
    party: dict[str, Any] = {"key": elem.get("FixedRef", ""), "aliases": [], "weak": []}
    party.update(addresses=[], ids=[], raw={}, remarks=None, name="", type="entity")
    for child in elem:
        tag = local_name(child)
        if tag == "Comment":
            party["remarks"] = fold(child.text)
        elif tag == "Profile":
            _read_profile(state, child, party)
        elif tag:
            state.unknown[f"DistinctParty/{tag}"] += 1
    state.parties[party["profile"] if "profile" in party else party["key"]] = party


def _read_profile(state: _Advanced, elem: etree._Element, party: dict[str, Any]) -> None:
    party["profile"] = elem.get("ID", "")
    subtype = elem.get("PartySubTypeID")
    kind = state.ref("PartySubType", subtype) or ""
    if kind.lower() not in ("vessel", "aircraft"):
        kind = state.ref("PartyType", state.ref_attr("PartySubType", subtype, "PartyTypeID")) or ""
    party["type"] = (
        kind.lower() if kind.lower() in ("individual", "vessel", "aircraft") else "entity"
    )
    for child in elem:
        tag = local_name(child)
        if tag == "Identity":
            _read_identity(state, child, party)
        elif tag == "Feature":
            _read_feature(state, child, party)
        elif tag and tag not in ("Comment", "SanctionsEntryReference", "ExternalReference"):
            state.unknown[f"Profile/{tag}"] += 1


def _read_identity(state: _Advanced, elem: etree._Element, party: dict[str, Any]) -> None:
    ns = f"{{{ADVANCED_NS}}}"
    groups = {
        g.get("ID", ""): state.ref("NamePartType", g.get("NamePartTypeID")) or ""
        for g in elem.iterfind(f"{ns}NamePartGroups/{ns}MasterNamePartGroup/{ns}NamePartGroup")
    }
    party["ids"].extend(state.documents.get(elem.get("ID", ""), []))
    for alias in elem.iterfind(f"{ns}Alias"):
        names = [_doc_name(doc, groups) for doc in alias.iterfind(f"{ns}DocumentedName")]
        if alias.get("Primary") == "true" and elem.get("Primary") == "true" and names:
            party["name"] = names[0]
            party["aliases"].extend(names[1:])
        elif alias.get("LowQuality") == "true":
            party["weak"].extend(names)
        else:
            party["aliases"].extend(names)


def _doc_name(doc: etree._Element, groups: dict[str, str]) -> str:
    last: list[str] = []
    rest: list[str] = []
    for value in doc.iter(f"{{{ADVANCED_NS}}}NamePartValue"):
        kind = groups.get(value.get("NamePartGroupID", ""), "")
        (last if kind == "Last Name" else rest).append(fold(value.text) or "")
    return join_name(" ".join(last), " ".join(rest))


def _read_feature(state: _Advanced, elem: etree._Element, party: dict[str, Any]) -> None:
    name = state.ref("FeatureType", elem.get("FeatureTypeID")) or "Feature"
    ns = f"{{{ADVANCED_NS}}}"
    for version in elem.iterfind(f"{ns}FeatureVersion"):
        location = version.find(f"{ns}VersionLocation")
        place = (
            state.locations.get(location.get("LocationID", "")) if location is not None else None
        )
        if name.lower() == "location":
            if place is not None:
                party["addresses"].append(place)
            continue
        value = _feature_value(state, version, place)
        raw_key = _RAW_FEATURES.get(name.lower())
        if raw_key:
            party["raw"].setdefault(raw_key, []).append(value)
        elif name.lower() in _SINGLE_FEATURES:
            party["raw"][_SINGLE_FEATURES[name.lower()]] = value
        else:
            party["ids"].append(Identifier(name, value or ""))


def _feature_value(state: _Advanced, version: etree._Element, place: Address | None) -> str | None:
    ns = f"{{{ADVANCED_NS}}}"
    detail = version.find(f"{ns}VersionDetail")
    period = version.find(f"{ns}DatePeriod")
    if detail is not None and detail.text:
        return fold(detail.text)
    if detail is not None and detail.get("DetailReferenceID"):
        return state.ref("DetailReference", detail.get("DetailReferenceID"))
    if place is not None:
        return place.country if not (place.address or place.city) else place.text()
    return _period(period) if period is not None else None


def _advanced_entry(
    state: _Advanced, party: dict[str, Any], source: str, list_code: ListCode
) -> Entry:
    if not party["key"].isdigit():
        raise ParseError(
            f"advanced XML: DistinctParty without a numeric FixedRef ({party['key']!r})"
        )
    sanction = state.sanctions.get(
        party.get("profile", party["key"]), {"programs": [], "dates": []}
    )
    programs = [fold(p) or "" for p in sanction["programs"]]
    raw = {k: sorted(set(v)) if isinstance(v, list) else tidy(v) for k, v in party["raw"].items()}
    raw["weak_aliases"] = sorted(set(party["weak"]))
    linked = set(state.linked.get(party.get("profile", ""), []))
    raw["linked_to"] = sorted(linked, key=lambda ref: (len(ref), ref))
    return make_entry(
        source=source,
        key=str(int(party["key"])),
        list_code=list_code(programs),
        name=party["name"],
        entity_type=party["type"],
        aliases=party["aliases"],
        addresses=party["addresses"],
        programs=programs,
        ids=party["ids"],
        remarks=party["remarks"],
        dates={"listed": min(sanction["dates"])} if sanction["dates"] else None,
        raw=raw,
    )

"""Field parsers for Consolidated Screening List records: list codes, addresses, ids, names.

Values come as CSV strings (`; `-joined) or JSON lists/objects; every parser accepts both.
"""

from __future__ import annotations

import re
from typing import Any

from watcher.models import Address, Identifier

# The `source` column as trade.gov spells it -> list code (DESIGN.md section 5).
KNOWN_SOURCES: dict[str, str] = {
    "Entity List (EL) - Bureau of Industry and Security": "EL",
    "Military End User (MEU) List - Bureau of Industry and Security": "MEU",
    "Unverified List (UVL) - Bureau of Industry and Security": "UVL",
    "Denied Persons List (DPL) - Bureau of Industry and Security": "DPL",
    "Nonproliferation Sanctions (ISN) - State Department": "ISN",
    "ITAR Debarred (DTC) - State Department": "DTC",
    "Non-SDN Chinese Military-Industrial Complex Companies List (CMIC) - Treasury Department": (
        "CMIC"
    ),
    "Specially Designated Nationals (SDN) - Treasury Department": "SDN",
    "Sectoral Sanctions Identifications List (SSI) - Treasury Department": "SSI",
    "Foreign Sanctions Evaders (FSE) - Treasury Department": "FSE",
    "Palestinian Legislative Council List (PLC) - Treasury Department": "PLC",
    "Capta List (CAP) - Treasury Department": "CAP",
    "Non-SDN Menu-Based Sanctions List (NS-MBS List) - Treasury Department": "MBS",
}
# Lists OFAC publishes: their rows carry OFAC's own numeric id in `entity_number`.
OFAC_CODES = frozenset({"CMIC", "SDN", "SSI", "FSE", "PLC", "CAP", "MBS"})

_PAREN = re.compile(r"\(([^()]+)\)")
_CODE = re.compile(r"[A-Z]{2}")
_ZIP = re.compile(r"\d{5}(-\d{4})?")


def list_code(source_name: str) -> tuple[str, bool]:
    """(code, known): the table's code, else the parenthesised one, else "CSL"."""
    name = " ".join(source_name.split())
    if name in KNOWN_SOURCES:
        return KNOWN_SOURCES[name], True
    found = _PAREN.search(name)
    if not found:
        return "CSL", False
    code = found.group(1).strip().upper().removeprefix("NS-").removesuffix(" LIST").strip()
    return (code or "CSL"), False


def text(value: Any) -> str:
    """One string from a CSV cell or a JSON scalar/list; None is ''."""
    if value is None:
        return ""
    if isinstance(value, list):
        return "; ".join(text(v) for v in value if text(v))
    return str(value).strip()


def split_multi(value: Any) -> list[str]:
    """`; `-joined CSV values or a JSON list, each stripped, empties dropped."""
    if isinstance(value, list):
        return [t for v in value if (t := text(v))]
    return [p.strip() for p in text(value).split("; ") if p.strip()]


def parse_addresses(value: Any) -> list[Address]:
    """Each address of a record; JSON address objects are taken field by field."""
    if isinstance(value, list) and any(isinstance(v, dict) for v in value):
        return [_address_from_dict(v) for v in value if isinstance(v, dict)]
    return [parse_address(a) for a in split_multi(value)]


def _address_from_dict(item: dict[str, Any]) -> Address:
    return Address(
        address=text(item.get("address")) or None,
        city=text(item.get("city")) or None,
        state=text(item.get("state")) or None,
        postal_code=text(item.get("postal_code")) or None,
        country=text(item.get("country")) or None,
    )


def parse_address(raw: str) -> Address:
    """Split off the country: the last comma part when it is a code or a place name.

    BIS Denied Persons rows end in `STATE, ZIP` with no country: those are US addresses.
    Everything else before the country stays one text; finer parsing would only guess.
    """
    parts = [p.strip() for p in " ".join(raw.split()).split(",")]
    parts = [p for p in parts if p]
    if not parts:
        return Address()
    last = parts[-1]
    if _CODE.fullmatch(last) or _is_place(last):
        return Address(address=", ".join(parts[:-1]) or None, country=last)
    if len(parts) >= 2 and _ZIP.fullmatch(last) and _CODE.fullmatch(parts[-2]):
        street = ", ".join(parts[:-2]) or None
        return Address(address=street, state=parts[-2], postal_code=last, country="US")
    return Address(address=", ".join(parts))


def _is_place(part: str) -> bool:
    """A country or region name: starts with a letter, no digits ("Hong Kong", "China")."""
    return part[0].isalpha() and not any(c.isdigit() for c in part)


def parse_ids(value: Any, *, country_first: bool) -> list[Identifier]:
    """Identifiers from `type, value, country` items (2023+), or `country, value, type`
    (2019 format, `country_first`), or JSON objects with type/number/country."""
    if isinstance(value, list) and any(isinstance(v, dict) for v in value):
        return [
            Identifier(
                type=text(v.get("type")),
                value=text(v.get("number") or v.get("value")),
                country=text(v.get("country")) or None,
            )
            for v in value
            if isinstance(v, dict)
        ]
    return [_parse_id(item, country_first) for item in split_multi(value)]


def _parse_id(item: str, country_first: bool) -> Identifier:
    parts = [p.strip() for p in item.split(", ")]
    if len(parts) == 1:
        return Identifier(type="", value=parts[0])
    if country_first:
        kind, rest = parts[-1], parts[:-1]
        if len(rest) >= 2 and _CODE.fullmatch(rest[0]):
            return Identifier(type=kind, value=", ".join(rest[1:]), country=rest[0])
        return Identifier(type=kind, value=", ".join(rest))
    kind, rest = parts[0], parts[1:]
    if len(rest) >= 2 and _CODE.fullmatch(rest[-1]):
        return Identifier(type=kind, value=", ".join(rest[:-1]), country=rest[-1])
    return Identifier(type=kind, value=", ".join(rest))

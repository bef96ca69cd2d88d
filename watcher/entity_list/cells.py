"""The entity cell of the Entity List table: name, "a.k.a." aliases, addresses.

Layouts seen in GPO XML:
  - "Name, a.k.a., the following two aliases:" then one line per alias ("—Alias; and") and
    one line for the address(es), several addresses joined by "; and";
  - inline: "Name, a.k.a. Alias, a.k.a. Other, 12 Street, City, Country.";
  - no alias: "Name Co., Ltd., Room 5, Street, City, Country." (name ends where a segment
    stops being a company suffix).
"""

from __future__ import annotations

import re
from dataclasses import dataclass

_AKA = re.compile(r",?\s*\ba\.\s?k\.\s?a\.?,?\s*", re.I)
_FOLLOWING = re.compile(r"^\s*the\s+following\s+[\w-]+\s+alias(?:es)?\s*[:;,.]?\s*", re.I)
_DASH_START = re.compile(r"^\s*[—–‒―]\s*|^\s*-{1,2}\s+")
_INLINE_DASH = re.compile(r"\s*[—―]\s*")
_AND_END = re.compile(r"(?:[;,]?\s*\band\b)?\s*[;,]*\s*$", re.I)
_ABBREV = re.compile(
    r"^(?:(?:[A-Za-z]\.){2,}|(?:Co|Ltd|Inc|Corp|Bhd|Pvt|Pte|Jr|Sr|St|No|Bros|Mfg|Intl)\.)$", re.I
)
_SUFFIX = re.compile(
    r"^(?:Ltd|Limited|Inc|Co|Corp|LLC|L\.L\.C|LLP|S\.A|S\.A\.S|S\.L|GmbH|AG|B\.V|N\.V|JSC|PJSC"
    r"|OJSC|CJSC|OOO|PLC|Pte|Pvt|S\.R\.L|SRL|SpA|S\.p\.A|Sdn\.? Bhd|AB|AS|Oy|KG|Company"
    r"|Corporation|Incorporated|FZE|FZCO|FZ-LLC|DMCC|LTDA|SARL)\.?"
    r"(?:\s+(?:Ltd|Limited|Co|Inc|Pte|Pvt)\.?)*$",
    re.I,
)
_SEE_ALSO = re.compile(r"\(\s*See alternate address[^)]*\)\.?", re.I)
_ADDR_SPLIT = re.compile(r";\s*(?:and\s+)?", re.I)
_ADDRESS_START = re.compile(
    r"\.\s+(?=\d|No\.|Room|Rm\b|Building|Bldg|Floor|Suite|Unit|Flat|Apartment|Block|P\.\s?O\.)"
)


@dataclass(frozen=True)
class EntityCell:
    name: str
    aliases: tuple[str, ...] = ()
    addresses: tuple[str, ...] = ()


def parse_entity_cell(parts: list[str], *, address_only: bool = False) -> EntityCell:
    """Split the lines of an entity cell into name, aliases and addresses."""
    if address_only:
        return EntityCell("", (), tuple(split_addresses(" ".join(parts))))
    lines = _explode_inline(parts)
    if not lines:
        return EntityCell("")
    head, rest = lines[0], lines[1:]
    aliases: list[str] = []
    address_texts: list[str] = []
    pieces = _AKA.split(head)
    if len(pieces) > 1:
        name = pieces[0]
        inline = [_FOLLOWING.sub("", p) for p in pieces[1:]]
        inline = [p for p in inline if p.strip(" :;,.")]
        if inline:
            last_alias, address = split_name_address(inline[-1])
            aliases += [clean_alias(p) for p in inline[:-1]] + [clean_alias(last_alias)]
            address_texts += [address] if address else []
    else:
        name, address = split_name_address(head)
        address_texts += [address] if address else []
    for line in rest:
        if _DASH_START.match(line):
            aliases.append(clean_alias(line))
        else:
            address_texts.append(line)
    addresses = [a for t in address_texts for a in split_addresses(t)]
    return EntityCell(name.strip(" ,;:"), tuple(a for a in aliases if a), tuple(addresses))


def _explode_inline(parts: list[str]) -> list[str]:
    """One line holding "—Alias" markers becomes head + one line per alias (+ address)."""
    if len(parts) != 1 or not _AKA.search(parts[0]) or not _INLINE_DASH.search(parts[0]):
        return list(parts)
    head, *aliases = _INLINE_DASH.split(parts[0])
    lines = [head] + ["—" + a for a in aliases[:-1]]
    last = aliases[-1] if aliases else ""
    m = _ADDRESS_START.search(last)
    if m:
        lines += ["—" + last[: m.start()], last[m.end() :]]
    elif last:
        lines.append("—" + last)
    return lines


def clean_alias(text: str) -> str:
    """`—AOOK; and` -> `AOOK`; `—CPUNTO.` -> `CPUNTO`; keeps the period of `S.A.`, `Co.`."""
    text = _DASH_START.sub("", text)
    text = _AND_END.sub("", text).strip()
    if text.endswith("."):
        last = text.rsplit(" ", 1)[-1]
        if not _ABBREV.match(last):
            text = text[:-1].rstrip()
    return text.strip(" ,;")


def split_name_address(text: str) -> tuple[str, str]:
    """`Foo Co., Ltd., 5 Road, Beijing` -> (`Foo Co., Ltd.`, `5 Road, Beijing`)."""
    segments = [s for s in text.split(", ")]
    name = segments[0]
    i = 1
    while i < len(segments) and _SUFFIX.match(segments[i].strip(" ,;")):
        name += ", " + segments[i]
        i += 1
    return name.strip(" ,;"), ", ".join(segments[i:]).strip()


def split_addresses(text: str) -> list[str]:
    """Addresses joined by "; and", without the "(See alternate address under ...)" notes."""
    text = _SEE_ALSO.sub("", text)
    out = []
    for part in _ADDR_SPLIT.split(text):
        part = _AND_END.sub("", part).strip(" .;,")
        if part:
            out.append(part)
    return out

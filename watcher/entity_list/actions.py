"""Entity List actions from BIS rule XML, and the Entity List table itself (FR and eCFR).

Both the Federal Register rule and the eCFR Supplement No. 4 to Part 744 carry the same
five-column table: country / entity (name, "a.k.a." aliases, address) / license requirement /
license review policy / Federal Register citation. The country sits on its own row (or the
first row of its block) and carries forward; rows of asterisks are elisions; a row with only
an entity cell continues the previous entity's addresses. Pure functions, no I/O.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable
from dataclasses import asdict, dataclass, field, replace
from datetime import datetime
from typing import Any

from lxml import etree

from watcher.entity_list.amend import Instruction, parse_instructions
from watcher.entity_list.cells import EntityCell, parse_entity_cell
from watcher.entity_list.gpo_xml import element_parts, element_text, load_xml
from watcher.errors import ParseError
from watcher.keys import name_key

_ROW_TAGS = ("ROW", "TR")
_CELL_TAGS = frozenset({"ENT", "TD", "TH"})
_ELISION = re.compile(r"^[\s*.]*\*[\s*.]*$")
_PLACEHOLDER = re.compile(r"(?:(\d+)\s*FR\s*)?\[INSERT[^\]]*?(?:AND\s+([^\]]*?))?\s*\]", re.I)
_FRDOC = re.compile(r"FR\s+Doc\.?\s*([A-Z0-9]+(?:[-‐‑‒–—−][A-Z0-9]+)+)", re.I)
_DATE = re.compile(r"([A-Z][a-z]+)\.?\s+(\d{1,2}),\s*(\d{4})")
_CITES_SPLIT = re.compile(r";\s*|(?<=\d)\.\s+(?=\d+\s+FR\b)")
_DASHES = str.maketrans({c: "-" for c in "‐‑‒–—−"})


@dataclass(frozen=True)
class EntityAction:
    """One Entity List entry as a rule adds, removes or revises it (or as the list holds it)."""

    action: str  # "add" | "remove" | "revise"
    country: str
    name: str
    aliases: tuple[str, ...] = ()
    addresses: tuple[str, ...] = ()
    license_requirement: str | None = None
    license_policy: str | None = None
    citation: str | None = None  # the table's citation cell, placeholder filled in
    effective_date: str | None = None
    document_number: str | None = None
    federal_register_citation: str | None = None  # the rule's own cite, e.g. "88 FR 12170"
    citations: tuple[str, ...] = ()  # every FR cite of the citation cell, split
    stage: str = "published"  # or "public_inspection": read from the manuscript PDF

    def to_dict(self) -> dict[str, Any]:
        """JSON form (`watcher fr extract --format json`, the documents' stored actions)."""
        out = asdict(self)
        out.update(aliases=list(self.aliases), addresses=list(self.addresses))
        out.update(citations=list(self.citations), key=self.key())
        return out

    def key(self) -> str:
        """Stable key of a rule's action: document, action, country and name."""
        return ":".join(
            (
                self.document_number or "",
                self.action,
                name_key(self.country),
                name_key(self.name),
            )
        )


@dataclass(frozen=True)
class Extraction:
    """A rule's actions plus what the extractor could not reconcile."""

    actions: tuple[EntityAction, ...]
    warnings: tuple[str, ...] = field(default_factory=tuple)


def normalize_document_number(value: str) -> str:
    """`2023–03929` (en dash), ` e9-969 ` -> `2023-03929`, `E9-969`."""
    return "".join(unicodedata.normalize("NFKC", value).translate(_DASHES).split()).upper()


def split_citations(text: str | None) -> tuple[str, ...]:
    """`73 FR 54506, 9/22/08. 75 FR 7359, 2/19/10.` -> one string per Federal Register cite."""
    if not text:
        return ()
    parts = (p.strip(" .;") for p in _CITES_SPLIT.split(text))
    return tuple(p for p in parts if p)


def is_entity_list_table(table: etree._Element) -> bool:
    """A five-column table whose header names the Entity List columns."""
    header = " ".join(_header_texts(table)).casefold()
    return "entity" in header and "license" in header and "country" in header


def parse_entity_list_table(
    table: etree._Element, *, default_action: str = "add", strict: bool = False
) -> list[EntityAction]:
    """Rows of an Entity List table (GPOTABLE ROW/ENT or eCFR TABLE TR/TD) as actions.

    `strict` (eCFR): a table that does not look like the Entity List raises ParseError.
    """
    if strict and not is_entity_list_table(table):
        raise ParseError("table does not have the Entity List columns (country, entity, ...)")
    rows = [r for r in table.iter(*_ROW_TAGS)]
    builders: list[_Row] = []
    country: str | None = None
    last: _Row | None = None
    for row in rows:
        cells = [c for c in row if isinstance(c.tag, str) and c.tag in _CELL_TAGS]
        texts = [_cell_text(c) for c in cells]
        if not any(texts) or _is_header(texts):
            last = None
            continue
        if texts[0]:
            country = texts[0]
        if len(cells) < 2 or not texts[1]:
            if last is not None and texts[0] == "" and len(texts) >= 5 and texts[4]:
                last.cites.append(texts[4])  # a citation continued on the next row
            else:
                last = None
            continue
        if last is not None and not any(texts[2:]):
            last.continuation(element_parts(cells[1]))
            continue
        if country is None:
            raise ParseError(f"entity row before any country row: {texts[1][:80]!r}")
        last = _Row(country, parse_entity_cell(element_parts(cells[1])), texts[2:5])
        builders.append(last)
    return [b.build(default_action) for b in builders]


def extract(
    xml: bytes,
    *,
    document_number: str | None = None,
    citation: str | None = None,
    effective_date: str | None = None,
    publication_date: str | None = None,
) -> Extraction:
    """Every entity action of a BIS rule's full-text XML; arguments override what the XML says."""
    root = load_xml(xml, "Federal Register full text")
    if root.tag in ("html", "HTML"):
        raise ParseError("Federal Register full text: got an HTML page")
    doc = normalize_document_number(document_number) if document_number else _document_number(root)
    effective = effective_date or _effective_date(root)
    cite = citation or _own_citation(root, publication_date)
    warnings: list[str] = []
    rows: list[EntityAction] = []
    for table in _entity_tables(root):
        rows.extend(parse_entity_list_table(table))
    actions = reconcile(rows, parse_instructions(root), warnings)
    finished = [
        replace(
            a,
            document_number=doc,
            effective_date=effective,
            federal_register_citation=cite,
            citation=_fill_placeholder(a.citation, cite),
            citations=tuple(_fill_placeholder(c, cite) or c for c in a.citations),
        )
        for a in actions
    ]
    return Extraction(tuple(finished), tuple(warnings))


def extract_actions(xml: bytes, **overrides: str | None) -> list[EntityAction]:
    """Entity actions of one BIS rule (see `extract`), without the warnings."""
    return list(extract(xml, **overrides).actions)


class _Row:
    """A table entry being assembled (continuation rows add addresses)."""

    def __init__(self, country: str, cell: EntityCell, rest: list[str]) -> None:
        self.country = country
        self.cell = cell
        self.addresses = list(cell.addresses)
        rest = rest + [""] * (3 - len(rest))
        self.requirement, self.policy = rest[0] or None, rest[1] or None
        self.cites = [rest[2]] if rest[2] else []

    def continuation(self, parts: list[str]) -> None:
        self.addresses.extend(parse_entity_cell(parts, address_only=True).addresses)

    def build(self, action: str) -> EntityAction:
        cite_text = " ".join(self.cites) or None
        return EntityAction(
            action=action,
            country=self.country,
            name=self.cell.name,
            aliases=self.cell.aliases,
            addresses=tuple(self.addresses),
            license_requirement=self.requirement,
            license_policy=self.policy,
            citation=cite_text,
            citations=tuple(c for t in self.cites for c in split_citations(t)),
        )


def _cell_text(cell: etree._Element) -> str:
    text = element_text(cell)
    return "" if _ELISION.match(text) else text


def _is_header(texts: list[str]) -> bool:
    return texts[0].casefold() == "country" and len(texts) > 1 and "entity" in texts[1].casefold()


def _header_texts(table: etree._Element) -> list[str]:
    heads = [element_text(h) for h in table.iter("CHED", "TH")]
    if any(heads):
        return heads
    for row in table.iter(*_ROW_TAGS):
        texts = [element_text(c) for c in row if isinstance(c.tag, str) and c.tag in _CELL_TAGS]
        if texts and _is_header(texts):
            return texts
    return []


def _entity_tables(root: etree._Element) -> Iterable[etree._Element]:
    """Tables that are the Entity List: by their header, or under its HD inside REGTEXT."""
    for table in root.iter("GPOTABLE", "TABLE"):
        if is_entity_list_table(table):
            yield table
            continue
        prev = table.getprevious()
        while prev is not None and prev.tag in ("STARS", "PRTPAGE"):
            prev = prev.getprevious()
        if prev is not None and "supplement no. 4 to part 744" in element_text(prev).casefold():
            yield table


def reconcile(
    rows: list[EntityAction], instructions: list[Instruction], warnings: list[str]
) -> list[EntityAction]:
    """Give each table row the verb of its instruction; removals come from instructions only."""
    unused = list(instructions)
    kinds = {i.action for i in instructions if i.action != "remove"}
    default = kinds.pop() if len(kinds) == 1 else "add"
    out: list[EntityAction] = []
    for row in rows:
        match = _find(unused, row, by_name=True) or _find(unused, row, by_name=False)
        if match is None:
            warnings.append(f"no instruction names {row.name!r} under {row.country}: {default}")
        else:
            unused.remove(match)
        out.append(replace(row, action=match.action if match else default))
    for ins in unused:
        if ins.action != "remove":
            warnings.append(f"instruction to {ins.action} {ins.name!r} has no table row")
        out.append(EntityAction(action=ins.action, country=ins.country or "", name=ins.name))
    return _dedupe(out, warnings)


def _find(unused: list[Instruction], row: EntityAction, *, by_name: bool) -> Instruction | None:
    country = name_key(row.country)
    name = name_key(row.name)
    for ins in unused:
        same_country = ins.country is None or name_key(ins.country) == country
        if by_name and same_country and name_key(ins.name) == name:
            return ins
        # A renamed entry: the instruction quotes the old name; pair it within the country.
        if not by_name and ins.country and same_country and ins.action == "revise":
            return ins
    return None


def _dedupe(actions: list[EntityAction], warnings: list[str]) -> list[EntityAction]:
    seen: dict[str, EntityAction] = {}
    for a in actions:
        k = a.key()
        if k in seen:
            warnings.append(f"duplicate entry {a.name!r} under {a.country}; kept the first")
            continue
        seen[k] = a
    return list(seen.values())


def _document_number(root: etree._Element) -> str | None:
    for frdoc in root.iter("FRDOC"):
        m = _FRDOC.search(element_text(frdoc))
        if m:
            return normalize_document_number(m.group(1))
    return None


def _effective_date(root: etree._Element) -> str | None:
    for eff in root.iter("EFFDATE"):
        m = _DATE.search(element_text(eff))
        if m:
            try:
                when = datetime.strptime(" ".join(m.groups()), "%B %d %Y")
            except ValueError:
                continue
            return when.date().isoformat()
    return None


def _own_citation(root: etree._Element, publication_date: str | None) -> str | None:
    """`88 FR 12170`: volume from the placeholder or the year, page before the first PRTPAGE."""
    page = next((p.get("P") for p in root.iter("PRTPAGE") if (p.get("P") or "").isdigit()), None)
    if page is None:
        return None
    volume: str | None = None
    m = _PLACEHOLDER.search(element_text(root))
    if m and m.group(1):
        volume = m.group(1)
    elif publication_date and publication_date[:4].isdigit():
        volume = str(int(publication_date[:4]) - 1935)  # volume 1 was 1936
    return f"{volume} FR {int(page) - 1}" if volume else None


def _fill_placeholder(text: str | None, cite: str | None) -> str | None:
    """`88 FR [INSERT FR PAGE NUMBER AND 2/27/2023].` -> `88 FR 12170, 2/27/2023`."""
    if not text or not cite:
        return text
    m = _PLACEHOLDER.search(text)
    if not m:
        return text
    when = (m.group(2) or "").strip(" .")
    filled = f"{cite}, {when}" if when else cite
    return (text[: m.start()] + filled + text[m.end() :]).strip(" .") or None

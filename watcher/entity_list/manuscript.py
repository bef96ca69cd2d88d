"""Entity actions from the text of a public-inspection manuscript (pure, no I/O).

On public inspection a BIS rule is the agency's typed manuscript, not GPO XML: "BILLING CODE
3510-33-P", the Office of the Federal Register's stamp at the top of each page ("This document
is scheduled to be published in the Federal Register on 02/27/2023 and available online at
https://federalregister.gov/d/2023-03929 ..."), page numbers and footnotes at the bottom, the
amendatory instructions, and the Supplement No. 4 table flattened into lines: the country in
capitals on its own line, then per entity its name (", a.k.a., the following N aliases:"),
"-alias;" lines, the address, the license requirement ("For all items subject to the EAR ..."),
the review policy ("Case-by-case ...", "Presumption of denial", "Policy of denial ...") and the
citation placeholder ("88 FR [INSERT FR PAGE NUMBER] [INSERT DATE OF PUBLICATION ...]").

Entity boundaries are recovered from that sequence (requirement -> policy -> citation closes an
entry), not from line breaks, so names wrapped over several lines and page breaks inside an
entry (stamp, page number and footnotes are dropped first) do not split or merge entries. The
instructions give each row its verb and carry removals, exactly as for the XML (`actions`).
"""

from __future__ import annotations

import re
from dataclasses import dataclass, replace
from datetime import datetime

from watcher.entity_list.actions import (
    _DATE,
    EntityAction,
    Extraction,
    normalize_document_number,
    reconcile,
    split_citations,
)
from watcher.entity_list.amend import Instruction, parse_instruction_text
from watcher.entity_list.cells import parse_entity_cell
from watcher.keys import name_key

STAGE = "public_inspection"
_STAMP = re.compile(r"^This document is scheduled to be published in the Federal Register", re.I)
_STAMP_FACTS = re.compile(
    r"Federal Register on (\d{1,2})/(\d{1,2})/(\d{4}).*?federalregister\.gov/d/([\w-]+)", re.I
)
_BILLING = re.compile(r"^BILLING CODE\b", re.I)
_PAGE_NO = re.compile(r"^(?:-\s*)?(?:Page\s+)?\d{1,4}(?:\s*-)?(?:\s+of\s+\d{1,4})?$", re.I)
_FOOTNOTE = re.compile(r"^(\d{1,2})\s+\S")
_FOOTNOTE_REF = r"[,.;)\]]{n}(?:\s|$)"
_AMENDED = re.compile(r"Supplement No\. 4 to part 744 is amended", re.I)
_HEADING = re.compile(r"^Supplement No\. 4 to Part 744\b(?!.*\bamended\b)", re.I)
_STARS = re.compile(r"^[*\s.]+$")
_COUNTRY = re.compile(r"^[A-Z][A-Z ,.'’()&-]*[A-Z)]$")
_REQUIREMENT = re.compile(r"^For (?:all|any|the|items)\b", re.I)
_POLICY = re.compile(
    r"^(?:Case[- ]by[- ]case|Presumption of|Policy of denial|Approval|License review|Deny)\b",
    re.I,
)
_CITE = re.compile(r"^\d+\s+FR\s+(?:\[|\d)")
_MORE_CITE = re.compile(r"^(?:\d+\s+FR\b|\[INSERT|and\s+\d+\s+FR\b)", re.I)
_FOLLOWING = re.compile(r"a\.\s?k\.\s?a\.?,?\s*the following\s+([\w-]+)\s+alias(?:es)?\s*:", re.I)
_ALIAS_LINE = re.compile(r"^[-–—]\s*")
_END_SIGNATURE = re.compile(r"^(?:Assistant Secretary|Under Secretary|\[FR Doc\.)", re.I)
_VERB = re.compile(r"\bby (?:adding|removing|revising)\b")
_DATES = re.compile(r"^DATES:\s*(.*)", re.I)
_WORDS = {"one": 1, "two": 2, "three": 3, "four": 4, "five": 5, "six": 6, "seven": 7,
          "eight": 8, "nine": 9, "ten": 10, "eleven": 11, "twelve": 12}  # fmt: skip


@dataclass(frozen=True)
class Manuscript:
    """The manuscript's body lines (stamps, page numbers, footnotes gone) and its facts."""

    lines: tuple[str, ...]
    document_number: str | None
    publication_date: str | None  # the date the stamp says it is scheduled for


def clean_manuscript(text: str) -> Manuscript:
    """Drop what a page adds around the body; pages are separated by form feeds."""
    lines: list[str] = []
    number = scheduled = None
    for page in text.split("\f"):
        body, facts = _clean_page([" ".join(x.split()) for x in page.splitlines()])
        lines += body
        if facts and number is None:
            number, scheduled = facts
    return Manuscript(tuple(lines), number, scheduled)


def extract_manuscript(
    text: str,
    *,
    document_number: str | None = None,
    publication_date: str | None = None,
    effective_date: str | None = None,
    stage: str = STAGE,
) -> Extraction:
    """Every entity action in a manuscript's text; arguments override what the text says."""
    doc = clean_manuscript(text)
    number = document_number or doc.document_number
    published = publication_date or doc.publication_date
    instructions, table = _split_sections(doc.lines)
    warnings: list[str] = []
    rows = _table_rows(table, {name_key(i.country) for i in instructions if i.country})
    actions = reconcile(rows, instructions, warnings)
    effective = effective_date or _effective(doc.lines) or published
    finished = tuple(
        replace(
            a,
            document_number=normalize_document_number(number) if number else None,
            effective_date=effective,
            stage=stage,
        )
        for a in actions
    )
    if not finished:
        warnings.append("no Entity List instructions or table entries found in the manuscript")
    return Extraction(finished, tuple(warnings))


def _clean_page(lines: list[str]) -> tuple[list[str], tuple[str, str | None] | None]:
    lines = [x for x in lines if x]
    facts = None
    if lines and _STAMP.match(lines[0]):
        end = next((i for i, x in enumerate(lines[:4]) if "govinfo" in x.casefold()), 0)
        m = _STAMP_FACTS.search(" ".join(lines[: end + 1]))
        if m:
            mm, dd, yyyy, number = m.groups()
            facts = (number.rstrip(".,"), f"{yyyy}-{int(mm):02d}-{int(dd):02d}")
        lines = lines[end + 1 :]
    lines = [x for x in lines if not _BILLING.match(x)]
    if lines and _PAGE_NO.match(lines[-1]):
        lines = lines[:-1]
    if lines and _PAGE_NO.match(lines[0]):  # numbered at the top instead
        lines = lines[1:]
    return _drop_footnotes(lines), facts


def _drop_footnotes(lines: list[str]) -> list[str]:
    """Footnotes sit at the bottom of the page that references them ("...(g),3 744.21")."""
    for i in range(len(lines)):
        m = _FOOTNOTE.match(lines[i])
        if not m:
            continue
        ref = re.compile(_FOOTNOTE_REF.format(n=m.group(1)))
        if any(ref.search(x) for x in lines[:i]) and not any(_is_structure(x) for x in lines[i:]):
            return lines[:i]
    return lines


def _is_structure(line: str) -> bool:
    return bool(_REQUIREMENT.match(line) or _POLICY.match(line) or _CITE.match(line)) or (
        _ALIAS_LINE.match(line) is not None or "a.k.a" in line
    )


def _split_sections(lines: tuple[str, ...]) -> tuple[list[Instruction], list[str]]:
    start = next((i for i, x in enumerate(lines) if _AMENDED.search(x)), None)
    heading = next(
        (i for i, x in enumerate(lines) if _HEADING.match(x) and (start is None or i > start)),
        None,
    )
    if start is None:
        start = next((i for i, x in enumerate(lines) if _VERB.search(x)), 0)
    end_instr = heading if heading is not None else len(lines)
    instructions = parse_instruction_text(_join(list(lines[start:end_instr])))
    table = list(lines[heading + 1 :]) if heading is not None else []
    stop = next((i for i, x in enumerate(table) if _END_SIGNATURE.match(x)), len(table))
    return instructions, table[:stop]


class _Entry:
    """One table entry being read: entity lines, then requirement, policy and citation."""

    def __init__(self, country: str) -> None:
        self.country = country
        self.parts: dict[str, list[str]] = {"entity": [], "req": [], "policy": [], "cite": []}
        self.state = "entity"

    def build(self) -> EntityAction:
        cell = parse_entity_cell(_cell_parts(self.parts["entity"]))
        cite = _join(self.parts["cite"]) or None
        return EntityAction(
            action="add",
            country=self.country,
            name=cell.name,
            aliases=cell.aliases,
            addresses=cell.addresses,
            license_requirement=_join(self.parts["req"]) or None,
            license_policy=_join(self.parts["policy"]) or None,
            citation=cite.rstrip(" .") if cite else None,
            citations=split_citations(cite),
        )


def _table_rows(lines: list[str], countries: set[str]) -> list[EntityAction]:
    rows: list[EntityAction] = []
    country: str | None = None
    entry: _Entry | None = None
    for line in lines:
        if entry is not None and entry.state == "cite" and not _continues_cite(entry, line):
            rows.append(entry.build())
            entry = None
        if entry is None:
            if _STARS.match(line):
                continue
            if _is_country(line, countries):
                country = line.rstrip(".")
                continue
            if country is None:
                continue  # text before the first country (a heading note)
            entry = _Entry(country)
        entry.state = _next_state(entry.state, line)
        entry.parts[entry.state].append(line)
    if entry is not None and any(entry.parts["entity"]):
        rows.append(entry.build())
    # A row has at least a requirement or a citation; lines without (a signature) are not rows.
    return [r for r in rows if r.name and (r.license_requirement or r.citation)]


def _next_state(state: str, line: str) -> str:
    if state == "entity" and _REQUIREMENT.match(line):
        return "req"
    if state in ("entity", "req") and _POLICY.match(line):
        return "policy"
    if state in ("req", "policy") and _CITE.match(line):
        return "cite"
    return state


def _continues_cite(entry: _Entry, line: str) -> bool:
    text = _join(entry.parts["cite"])
    return text.count("[") > text.count("]") or bool(_MORE_CITE.match(line))


def _is_country(line: str, countries: set[str]) -> bool:
    if countries:
        return name_key(line) in countries
    return bool(_COUNTRY.match(line)) and len(line) < 60 and not re.search(r"\d", line)


def _cell_parts(lines: list[str]) -> list[str]:
    """Physical lines -> the cell's logical lines: head, one line per alias, the address."""
    joined = _join(lines)
    m = _FOLLOWING.search(joined)
    if not m:
        return [joined]
    expected = _WORDS.get(m.group(1).casefold()) or (
        int(m.group(1)) if m.group(1).isdigit() else None
    )
    head_end = next(i for i in range(len(lines)) if _FOLLOWING.search(_join(lines[: i + 1])))
    aliases: list[str] = []
    rest: list[str] = []
    for line in lines[head_end + 1 :]:
        if rest:
            rest.append(line)
        elif _ALIAS_LINE.match(line):
            aliases.append(_ALIAS_LINE.sub("", line))
        elif aliases and not _alias_done(aliases, expected):
            aliases[-1] = _join([aliases[-1], line])
        else:
            rest.append(line)
    address = [_join(rest)] if rest else []
    return [_join(lines[: head_end + 1])] + ["— " + a for a in aliases] + address


def _alias_done(aliases: list[str], expected: int | None) -> bool:
    last = aliases[-1].rstrip()
    if last.endswith(";") or re.search(r";\s*and$", last):
        return True
    return last.endswith(".") and (expected is None or len(aliases) >= expected)


def _join(lines: list[str]) -> str:
    """Wrapped lines back into one: a line ending in a letter and "-" continues the word."""
    out = ""
    for line in lines:
        if re.search(r"[A-Za-z]-$", out) and line[:1].isalnum():
            out += line
        else:
            out = f"{out} {line}" if out else line
    return out.strip()


def _effective(lines: tuple[str, ...]) -> str | None:
    for i, line in enumerate(lines):
        m = _DATES.match(line)
        if m:
            found = _DATE.search(_join([m.group(1), *lines[i + 1 : i + 3]]))
            if found:
                try:
                    when = datetime.strptime(" ".join(found.groups()), "%B %d %Y")
                except ValueError:
                    return None
                return when.date().isoformat()
    return None

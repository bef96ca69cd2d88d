"""Public-inspection manuscripts built from real rule text (tests and bench/ only).

There is no real public-inspection PDF in the fixtures. These helpers take the entries of the
real rule fr_2023-03929 (its GPO XML, parsed by the existing extractor) and its real preamble
and amendatory instructions, and lay them out the way BIS's typed manuscript looks on public
inspection: "BILLING CODE 3510-33-P", the Office of the Federal Register's stamp at the top of
every page, page numbers at the bottom, a footnote at the bottom of the page that cites it
(its reference a raised small "3" inside the license requirement, as in the rule), the
Supplement No. 4 table flattened into text (country in capitals on its own line, the entity
with "a.k.a., the following N aliases:" and "-alias;" lines, its address, the license
requirement, the review policy and the citation placeholder), long names wrapping over
several lines, and a page break forced inside one entry. Text is written with the PDF core
fonts, so it is reduced to Latin-1 (curly quotes become straight ones).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace

from fpdf import FPDF

from tests.conftest import fixture_bytes
from watcher.entity_list.actions import EntityAction, extract

RULE = "federal_register/fr_2023-03929_2023-02-27_additions_entity_list.xml"
STAMP = (
    "This document is scheduled to be published in the Federal Register on {date} and "
    "available online at https://federalregister.gov/d/{number}, and on https://govinfo.gov"
)
PLACEHOLDER = "88 FR [INSERT FR PAGE NUMBER] [INSERT DATE OF PUBLICATION IN THE FEDERAL REGISTER]"
# The rule's own words about its footnote 3 (SUPPLEMENTARY INFORMATION), used as the footnote.
FOOTNOTE = (
    "A footnote 3 designation subjects these entities to the Russia/Belarus-Military End User "
    "Foreign Direct Product (FDP) rule, detailed under \u00a7 734.9(g)."
)
NUMBERS = {1: "one", 2: "two", 3: "three", 4: "four", 5: "five", 6: "six", 7: "seven", 8: "eight"}
_LATIN1 = str.maketrans({"“": '"', "”": '"', "’": "'", "‘": "'", "—": "-", "–": "-"})


@dataclass(frozen=True)
class Manuscript:
    """What a test renders: the rule's facts and the entries (with their action)."""

    number: str
    date: str  # mm/dd/yyyy, as the stamp prints it
    title: str
    instructions: tuple[str, ...]
    entries: tuple[EntityAction, ...]
    break_inside: str | None = None  # name of the entry that gets a page break inside


def rule_actions() -> list[EntityAction]:
    """The 13 entries of the real rule, as the GPO XML gives them."""
    return list(extract(fixture_bytes(RULE)).actions)


def additions_manuscript() -> Manuscript:
    """The rule's own additions, with its real instructions (quotes made straight)."""
    return Manuscript(
        number="2023-03929",
        date="02/27/2023",
        title="Additions of Entities to the Entity List",
        instructions=(
            "2. Supplement No. 4 to part 744 is amended:",
            'a. Under CANADA, by adding in alphabetical order, entries for "CPUNTO Inc." and '
            '"Electronic Network Inc.";',
            "b. Under CHINA, PEOPLE'S REPUBLIC OF, by adding, in alphabetical order, entries for "
            '"AOOK Technology Ltd."; "Beijing Ti-Tech Science and Technology Development Co."; '
            '"Beijing Yunze Technology Co., Ltd."; "China HEAD Aerospace Technology Co."; and '
            '"Spacety Co., Ltd.";',
            'c. Under FRANCE, by adding in alphabetical order, an entry for "China HEAD Aerospace '
            'Technology Co.";',
            'd. Under LUXEMBOURG, by adding in alphabetical order, an entry for "Spacety Co., '
            'Ltd.";',
            'e. Under NETHERLANDS, by adding in alphabetical order, an entry for "China HEAD '
            'Aerospace Technology Co."; and',
            'f. Under RUSSIA, by adding, in alphabetical order, entries for "Dexias Industrial '
            'Products and Trade Limited Company"; "Innovation and Technologies LLC"; and '
            '"Promtekhkomplekt JSC".',
        ),
        entries=tuple(rule_actions()),
        break_inside="China HEAD Aerospace Technology Co.",
    )


def removal_manuscript() -> Manuscript:
    """Derived: a removal rule for two of the rule's Russian entries (removals have no rows)."""
    return Manuscript(
        number="2023-99901",
        date="03/15/2023",
        title="Removal of Entities From the Entity List",
        instructions=(
            "2. Supplement No. 4 to part 744 is amended under RUSSIA by removing the entries for "
            '"Dexias Industrial Products and Trade Limited Company" and "Promtekhkomplekt JSC".',
        ),
        entries=(),
    )


class _Pdf(FPDF):
    def __init__(self, stamp: str) -> None:
        super().__init__(format="letter", unit="mm")
        self.stamp = stamp
        self.notes: dict[int, list[str]] = {}
        self.set_margins(25, 25, 25)
        self.set_auto_page_break(True, margin=40)

    def header(self) -> None:
        self.set_font("Times", size=8)
        self.set_xy(25, 8)
        self.multi_cell(160, 3.5, self.stamp)
        self.set_xy(25, 25)

    def footer(self) -> None:
        notes = self.notes.get(self.page_no(), [])
        if notes:
            self.set_xy(25, -38)
            self.line(25, self.get_y(), 75, self.get_y())
            self.set_font("Times", size=10)
            for note in notes:
                self.multi_cell(140, 4.5, note)
        self.set_xy(25, -18)
        self.set_font("Times", size=12)
        self.cell(165, 5, str(self.page_no()), align="C")


def render(doc: Manuscript, *, width: float = 85.0) -> bytes:
    """The manuscript as PDF bytes; `width` (mm) narrows lines so long names wrap."""
    pdf = _Pdf(STAMP.format(date=doc.date, number=doc.number))
    pdf.add_page()
    para = _para(pdf, width)
    para("BILLING CODE 3510-33-P")
    for line in ("DEPARTMENT OF COMMERCE", "Bureau of Industry and Security", "15 CFR Part 744"):
        para(line)
    para("[Docket No. 230221-0050]")
    para("RIN 0694-AJ13")
    para(doc.title)
    para("AGENCY: Bureau of Industry and Security, Department of Commerce.")
    para("ACTION: Final rule.")
    para("DATES: This rule is effective February 24, 2023.")  # the rule's real DATES text
    para("PART 744 - CONTROL POLICY: END-USER AND END-USE BASED")
    for text in doc.instructions:
        para(text)
    para("Supplement No. 4 to Part 744 - Entity List")
    para("* * * * *")
    country = None
    for entry in doc.entries:
        if entry.country != country:
            country = entry.country
            para(country)
        _entry(pdf, para, entry, width, doc.break_inside == entry.name)
    para("* * * * *")
    para("Thea D. Rozman Kendler,")
    para("Assistant Secretary for Export Administration.")
    return bytes(pdf.output())


def _para(pdf: _Pdf, width: float) -> Callable[[str], None]:
    def write(text: str) -> None:
        pdf.set_font("Times", size=12)
        pdf.set_x(25)
        pdf.multi_cell(width, 6, text.translate(_LATIN1))

    return write


def _entry(
    pdf: _Pdf, para: Callable[[str], None], entry: EntityAction, width: float, cut: bool
) -> None:
    aliases = list(entry.aliases)
    if aliases:
        count = NUMBERS.get(len(aliases), str(len(aliases)))
        noun = "alias" if len(aliases) == 1 else "aliases"
        para(f"{entry.name}, a.k.a., the following {count} {noun}:")
        for i, alias in enumerate(aliases):
            end = "." if i == len(aliases) - 1 else ("; and" if i == len(aliases) - 2 else ";")
            para(f"-{alias}{end}".replace("..", "."))
            if cut and i == 1:
                pdf.add_page()  # a page break in the middle of the alias list
        para(_sentence("; and ".join(entry.addresses)))
    else:
        para(_sentence(f"{entry.name}, " + "; and ".join(entry.addresses)))
    _requirement(pdf, entry.license_requirement or "", width)
    para(entry.license_policy or "")
    para(PLACEHOLDER + ".")


def _requirement(pdf: _Pdf, text: str, width: float) -> None:
    """The license requirement with its footnote reference raised and set small, as typed."""
    head, sep, tail = text.partition("),3 ")
    pdf.set_x(25)
    pdf.set_font("Times", size=12)
    if not sep:
        pdf.multi_cell(width, 6, text.translate(_LATIN1))
        return
    pdf.set_right_margin(pdf.w - 25 - width)
    pdf.write(6, (head + "),").translate(_LATIN1))
    pdf.char_vpos = "SUP"
    pdf.write(6, "3")
    page = pdf.page_no()  # the footnote goes to the foot of the page with its reference
    pdf.char_vpos = "LINE"
    pdf.write(6, (" " + tail).translate(_LATIN1))
    pdf.ln(6)
    pdf.set_right_margin(25)
    notes = pdf.notes.setdefault(page, [])
    if not notes:
        notes.append("3 " + FOOTNOTE)


def _sentence(text: str) -> str:
    return text if text.endswith(".") else text + "."


def with_changes(doc: Manuscript, **entries: EntityAction) -> Manuscript:
    """Derived variant: entries replaced by name (e.g. an address changed before publication)."""
    replaced = tuple(entries.get(_slug(e.name), e) for e in doc.entries)
    return replace(doc, entries=replaced)


def _slug(name: str) -> str:
    return "".join(c for c in name.lower() if c.isalnum())


def manuscript_lines(doc: Manuscript) -> Sequence[str]:
    """The entity names the manuscript must give back, in order (for fidelity checks)."""
    return [e.name for e in doc.entries]

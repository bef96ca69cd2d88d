"""Entity actions from public-inspection manuscripts (PDF and text).

Derived inside the tests: the PDFs are the real rule fr_2023-03929 (its 13 entries as the GPO
XML gives them, its real preamble, DATES text and amendatory instructions) laid out as BIS's
typed manuscript by `tests.entity_list.manuscript_pdf` (stamp, BILLING CODE, page numbers, a
footnote, wrapped names, a page break forced inside "China HEAD Aerospace Technology Co."'s
alias list), plus a removal rule for two of its Russian entries. The expected answer is what
the existing XML extractor reads from the real XML.
"""

from __future__ import annotations

from dataclasses import asdict

import pytest

from tests.entity_list.manuscript_pdf import (
    FOOTNOTE,
    additions_manuscript,
    removal_manuscript,
    render,
    rule_actions,
)
from watcher.entity_list.actions import EntityAction
from watcher.entity_list.manuscript import clean_manuscript, extract_manuscript
from watcher.entity_list.pdf_text import pdf_text
from watcher.errors import ParseError

FIELDS = ("action", "country", "name", "aliases", "addresses", "license_requirement")


@pytest.fixture(scope="module")
def additions_text() -> str:
    return pdf_text(render(additions_manuscript()))


def _facts(action: EntityAction) -> dict[str, object]:
    data = asdict(action)
    return {k: data[k] for k in (*FIELDS, "license_policy", "effective_date", "document_number")}


def test_every_entry_of_the_rule_comes_back_from_the_pdf(additions_text: str) -> None:
    result = extract_manuscript(additions_text)
    assert result.warnings == ()
    assert [_facts(a) for a in result.actions] == [_facts(a) for a in rule_actions()]
    assert {a.stage for a in result.actions} == {"public_inspection"}
    # The citation stays the manuscript's placeholder until publication.
    assert {a.citation for a in result.actions} == {
        "88 FR [INSERT FR PAGE NUMBER] [INSERT DATE OF PUBLICATION IN THE FEDERAL REGISTER]"
    }


def test_the_layout_really_has_wrapped_names_page_breaks_and_footnotes(
    additions_text: str,
) -> None:
    lines = additions_text.splitlines()
    # A multi-line name: the head line of Dexias is split over two physical lines.
    head = "Dexias Industrial Products and Trade Limited Company, a.k.a."
    assert not any(head in line for line in lines)
    assert any(line.startswith("Dexias Industrial Products and Trade") for line in lines)
    # The page break inside China HEAD: a stamp sits between two of its aliases.
    start = additions_text.index("-China HEAD;")
    end = additions_text.index("-HEAD Aerospace Group;")
    assert "This document is scheduled to be published" in additions_text[start:end]
    assert "\f" in additions_text[start:end]
    assert "3 " + FOOTNOTE[:40] in additions_text  # the footnote, at a page's foot


def test_stamp_page_numbers_footnotes_and_billing_code_are_dropped(additions_text: str) -> None:
    doc = clean_manuscript(additions_text)
    assert (doc.document_number, doc.publication_date) == ("2023-03929", "2023-02-27")
    body = "\n".join(doc.lines)
    assert "BILLING CODE" not in body and "scheduled to be published" not in body
    assert "Foreign Direct Product (FDP) rule" not in body  # the footnote
    assert not any(line.isdigit() for line in doc.lines)  # page numbers


def test_the_text_export_reads_like_the_pdf(additions_text: str) -> None:
    from_text = extract_manuscript(additions_text.replace("\f", "\n\f"))
    assert [a.key() for a in from_text.actions] == [a.key() for a in rule_actions()]


def test_a_removal_rule_gives_removals_from_its_instructions() -> None:
    result = extract_manuscript(pdf_text(render(removal_manuscript())))
    assert [(a.action, a.country, a.name) for a in result.actions] == [
        ("remove", "RUSSIA", "Dexias Industrial Products and Trade Limited Company"),
        ("remove", "RUSSIA", "Promtekhkomplekt JSC"),
    ]
    assert {a.document_number for a in result.actions} == {"2023-99901"}


def test_arguments_override_what_the_stamp_says(additions_text: str) -> None:
    result = extract_manuscript(
        additions_text, document_number="2023–03929", publication_date="2023-02-28"
    )
    assert {a.document_number for a in result.actions} == {"2023-03929"}


@pytest.mark.parametrize(
    "content",
    [b"", b"<html><body>busy</body></html>", b"%PDF-1.4\n% truncated"],
    ids=["empty", "html", "truncated"],
)
def test_what_is_not_a_readable_pdf_is_a_parse_error(content: bytes) -> None:
    with pytest.raises(ParseError):
        pdf_text(content)


def test_text_without_entity_list_content_is_a_warning_not_actions() -> None:
    result = extract_manuscript("BILLING CODE 3510-33-P\nMeetings; Sunshine Act\n")
    assert result.actions == () and result.warnings


# Derived: a revision of the rule's real Promtekhkomplekt JSC entry, typed as a text export
# with other habits: page numbers on top ("Page 2 of 3"), en dashes before aliases, a page
# break between the address and the license requirement, "Presumption of denial".
REVISION_TEXT = """BILLING CODE 3510-33-P
DEPARTMENT OF COMMERCE
Revisions to the Entity List
2. Supplement No. 4 to part 744 is amended under RUSSIA by revising the entry for
"Promtekhkomplekt JSC".
Supplement No. 4 to Part 744 - Entity List
* * * * *
RUSSIA
Promtekhkomplekt JSC, a.k.a., the following two
aliases:
\u2013Promtech Komplekt; and
\u2013Promtekhkomplekt Joint Stock Company.
6/1 Griboyedov Street, OF.23, Tyumen, Tyumen
Oblast, Russia.
\fPage 2 of 3
For all items subject to the EAR. (See \u00a7 744.11 of
the EAR)
Presumption of denial.
88 FR 12170, 2/27/2023. 88 FR [INSERT FR PAGE
NUMBER] [INSERT DATE OF PUBLICATION IN THE FEDERAL REGISTER].
* * * * *
\fPage 3 of 3
Thea D. Rozman Kendler,
Assistant Secretary for Export Administration.
"""


def test_a_revision_in_a_text_export_with_other_typing_habits() -> None:
    (action,) = extract_manuscript(REVISION_TEXT, document_number="2023-99902").actions
    assert (action.action, action.country, action.name) == (
        "revise",
        "RUSSIA",
        "Promtekhkomplekt JSC",
    )
    assert action.aliases == ("Promtech Komplekt", "Promtekhkomplekt Joint Stock Company")
    assert action.addresses == ("6/1 Griboyedov Street, OF.23, Tyumen, Tyumen Oblast, Russia",)
    assert (
        action.license_requirement == "For all items subject to the EAR. (See § 744.11 of the EAR)"
    )
    assert action.license_policy == "Presumption of denial."
    assert action.citations == (
        "88 FR 12170, 2/27/2023",
        "88 FR [INSERT FR PAGE NUMBER] [INSERT DATE OF PUBLICATION IN THE FEDERAL REGISTER]",
    )

"""Amendatory instructions of a BIS rule: who is added, removed or revised, under which country.

The instruction text ("b. Under CHINA, PEOPLE'S REPUBLIC OF, by adding ... entries for “A”;
and “B”") is the authority on the *kind* of action; the table carries the details. Removals
appear only here, never as table rows.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from lxml import etree

from watcher.entity_list.gpo_xml import element_text

_VERBS = {
    "adding": "add",
    "add": "add",
    "removing": "remove",
    "remove": "remove",
    "revising": "revise",
    "revise": "revise",
    "amending": "revise",
}
# Upper-case country names may contain commas ("CHINA, PEOPLE'S REPUBLIC OF"); title-case ones
# are words joined by "of", "the", "and".
_UPPER = r"[A-Z][A-Z0-9 ,.'’()&-]*[A-Z)]"
_TITLE = r"[A-Z][\w'’.()-]*(?:(?:,\s*|\s+)(?:(?:of|the|and)\s+)?[A-Z][\w'’.()-]*)*(?:\s+of\b)?"
_TOKEN = re.compile(
    r"(?P<verb>\b(?:adding|removing|revising|amending)\b)"
    r"|(?P<under>\b[Uu]nder\s+(?:the\s+(?:destination|heading)\s+(?:of\s+|for\s+)?)?"
    rf"(?P<country>{_UPPER}|{_TITLE}))"
    r"|[“\"]\s*(?P<name>[^”\"]+?)\s*[”\"]"
)
_NOT_COUNTRY = re.compile(r"^(?:Supplement|Part|Section|This|The)\b")


@dataclass(frozen=True)
class Instruction:
    """One named party in an amendatory instruction."""

    action: str  # "add" | "remove" | "revise"
    country: str | None
    name: str


def parse_instructions(root: etree._Element) -> list[Instruction]:
    """Every quoted party name in the AMDPAR paragraphs, with the verb and country around it."""
    out: list[Instruction] = []
    for amdpar in root.iter("AMDPAR"):
        out.extend(parse_instruction_text(element_text(amdpar)))
    return out


def parse_instruction_text(text: str) -> list[Instruction]:
    """Instructions in one paragraph; a country named after its names applies to them too."""
    verb: str | None = None
    country: str | None = None
    found: list[Instruction] = []
    pending: list[int] = []  # indexes of names seen before any "under COUNTRY"
    for m in _TOKEN.finditer(text):
        if m.group("verb"):
            verb = _VERBS[m.group("verb").lower()]
        elif m.group("under"):
            candidate = m.group("country").strip(" ,.")
            if _NOT_COUNTRY.match(candidate):
                continue
            country = candidate
            for i in pending:
                found[i] = Instruction(found[i].action, country, found[i].name)
            pending = []
        elif m.group("name") and verb:
            name = m.group("name").strip(" ;,")
            if country is None:
                pending.append(len(found))
            found.append(Instruction(verb, country, name))
    return found

"""Safe XML loading and text extraction for Federal Register and eCFR documents.

GPO XML is untrusted input: entities are never expanded, no DTD or network access, and an
HTML page served in place of XML is refused, so a parser never sees a half-valid document.
"""

from __future__ import annotations

import re

from lxml import etree

from watcher.errors import ParseError

_HTML_START = re.compile(rb"^\s*(<!doctype\s+html|<html)", re.IGNORECASE)
# Block-level children that start a new line of an entity cell (FR: LI, P; eCFR: BR, P).
BLOCK_TAGS = frozenset({"LI", "P", "FP", "BR", "br", "p", "li"})
_SKIP_TAGS = frozenset({"PRTPAGE", "FTREF"})
_QUOTE_SPACES = re.compile(r"([“\"])\s+|\s+([”])")


def load_xml(content: bytes, what: str) -> etree._Element:
    """Parse untrusted XML bytes; ParseError for empty input, HTML, entities or bad syntax."""
    if not content.strip():
        raise ParseError(f"{what}: empty document")
    head = content[:2048]
    if _HTML_START.match(head):
        raise ParseError(f"{what}: got an HTML page, not XML")
    if b"<!ENTITY" in content[:65536]:
        raise ParseError(f"{what}: document declares XML entities; refused")
    parser = etree.XMLParser(
        resolve_entities=False, no_network=True, huge_tree=False, load_dtd=False
    )
    try:
        root = etree.fromstring(content, parser=parser)
    except etree.XMLSyntaxError as exc:
        raise ParseError(f"{what}: not well-formed XML: {exc}") from exc
    if root is None:
        raise ParseError(f"{what}: empty document")
    # The byte search above misses UTF-16 and a prolog longer than 64 KiB; the parsed internal
    # subset does not (entities are never expanded either way: this refuses the document).
    dtd = root.getroottree().docinfo.internalDTD
    if dtd is not None and list(dtd.entities()):  # type: ignore[union-attr]
        raise ParseError(f"{what}: document declares XML entities; refused")
    if isinstance(root.tag, str) and root.tag.lower() in (
        "html",
        "{http://www.w3.org/1999/xhtml}html",
    ):
        raise ParseError(f"{what}: got an HTML page, not XML")
    return root


def clean(text: str) -> str:
    """Collapse whitespace (GPO XML is often pretty-printed) and tidy quote spacing."""
    text = " ".join(text.split())
    return _QUOTE_SPACES.sub(lambda m: m.group(1) or m.group(2), text)


def element_text(el: etree._Element) -> str:
    """All text of an element as one line: page markers dropped, superscripts joined."""
    return clean(" ".join(element_parts(el)))


def element_parts(el: etree._Element) -> list[str]:
    """Text of an element split at block children (LI, P, BR): one string per line."""
    parts: list[str] = [""]
    _walk(el, parts, top=True)
    return [p for p in (clean(x) for x in parts) if p]


def _walk(el: etree._Element, parts: list[str], top: bool) -> None:
    tag = el.tag if isinstance(el.tag, str) else ""
    if not top and tag in BLOCK_TAGS:
        parts.append("")
    if tag == "SU" and not top:
        # A superscript belongs to the word before it ("3<SU>rd</SU>" is "3rd").
        parts[-1] = parts[-1].rstrip()
    if tag not in _SKIP_TAGS and isinstance(el.tag, str) and el.text:
        parts[-1] += el.text
    for child in el:
        _walk(child, parts, top=False)
        if child.tail:
            parts[-1] += child.tail
    if not top and tag in BLOCK_TAGS:
        parts.append("")

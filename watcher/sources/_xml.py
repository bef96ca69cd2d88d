"""Safe XML for untrusted downloads: no entities, no DTD loading, no network, no HTML.

Every source that reads XML goes through here, so the rules live in one place:
empty input, an HTML page served instead of data, a document that declares entities
(billion laughs, XXE) and malformed XML all raise `ParseError` with a one-line message,
before anything is expanded or read from disk.
"""

from __future__ import annotations

import io
import re
from collections.abc import Iterator

from lxml import etree

from watcher.errors import ParseError

_HTML = re.compile(rb"^\s*(<!--.*?-->\s*)*<(!doctype\s+html|html[\s>])", re.IGNORECASE | re.DOTALL)
_UTF16_BOMS = (b"\xff\xfe", b"\xfe\xff")


def _parser() -> etree.XMLParser:
    return etree.XMLParser(resolve_entities=False, no_network=True, huge_tree=False, load_dtd=False)


def check_xml_bytes(data: bytes) -> None:
    """Refuse what must never reach the XML parser: nothing, HTML, entity declarations."""
    if not data.strip():
        raise ParseError("empty document")
    head = data[:4096]
    if head.startswith(_UTF16_BOMS):
        # A byte search would miss UTF-16 declarations; decode to look (rare, small cost).
        text = data.decode("utf-16", errors="replace")
        data = text.encode("utf-8", errors="replace")
        head = data[:4096]
    head = head.removeprefix(b"\xef\xbb\xbf")
    if _HTML.match(head):
        raise ParseError("got an HTML page, not XML data")
    if b"<!ENTITY" in data:
        raise ParseError("XML declares entities (<!ENTITY): refused, nothing expanded")
    if not head.lstrip().startswith(b"<"):
        raise ParseError("not XML: does not start with '<'")


def parse_xml(data: bytes) -> etree._Element:
    """The root of a whole document, parsed safely; `ParseError` for anything suspect."""
    check_xml_bytes(data)
    try:
        root = etree.fromstring(data, parser=_parser())
    except etree.XMLSyntaxError as exc:
        raise ParseError(f"malformed XML: {exc}") from None
    _check_no_entities(root.getroottree())
    return root


def _check_no_entities(tree: etree._ElementTree) -> None:
    dtd = tree.docinfo.internalDTD
    # lxml-stubs lack DTD.entities(); it exists in every lxml since 2.x.
    if dtd is not None and list(dtd.entities()):  # type: ignore[attr-defined]
        raise ParseError("XML declares entities: refused")


def iter_children(data: bytes, depth: int = 1) -> Iterator[etree._Element]:
    """Yield each element at `depth` below the root when complete, then free it.

    For large files (sdn_advanced.xml is ~100 MB): memory stays near one subtree, not the
    whole document. The caller must copy out what it needs before asking for the next one.
    """
    check_xml_bytes(data)
    events = etree.iterparse(
        io.BytesIO(data),
        events=("start", "end"),
        resolve_entities=False,
        no_network=True,
        huge_tree=False,
        load_dtd=False,
    )
    level = -1
    try:
        for event, elem in events:
            if event == "start":
                level += 1
                continue
            if level == depth:
                yield elem
            if level <= depth:
                _free(elem)
            level -= 1
    except etree.XMLSyntaxError as exc:
        raise ParseError(f"malformed XML: {exc}") from None


def root_tag(data: bytes) -> str:
    """Qualified tag (`{ns}local`) of the document element, read from the first start tag."""
    check_xml_bytes(data)
    events = etree.iterparse(
        io.BytesIO(data),
        events=("start",),
        resolve_entities=False,
        no_network=True,
        huge_tree=False,
        load_dtd=False,
    )
    try:
        for _event, elem in events:
            return str(elem.tag)
    except etree.XMLSyntaxError as exc:
        raise ParseError(f"malformed XML: {exc}") from None
    raise ParseError("XML has no root element")


def _free(elem: etree._Element) -> None:
    elem.clear()
    parent = elem.getparent()
    if parent is not None:
        while elem.getprevious() is not None:
            del parent[0]


def local_name(elem: etree._Element) -> str:
    """Tag without namespace; comments and processing instructions give ''."""
    tag = elem.tag
    if not isinstance(tag, str):
        return ""
    return tag.rsplit("}", 1)[-1]

"""Byte-level variants of real fixture bytes for the hostile-input corpus (derived in the tests,
never committed: MANIFEST.md)."""

from __future__ import annotations

import csv
import io
import json
import re
from collections.abc import Callable
from dataclasses import dataclass


@dataclass(frozen=True)
class Ctx:
    """What a case may need besides the good bytes."""

    secret: str  # a local file an XXE would try to read
    base: str  # the hostile server, for a DTD it would try to fetch


def csv_rows(data: bytes) -> list[bytes]:
    return [line for line in data.rstrip(b"\x1a").split(b"\r\n") if line]


def join(rows: list[bytes]) -> bytes:
    return b"\r\n".join(rows) + b"\r\n"


def drop_every(data: bytes, nth: int) -> bytes:
    """Every nth data row dropped (the header, if any, kept by callers)."""
    return join([r for i, r in enumerate(csv_rows(data)) if i % nth != 1])


def ofac_cells(data: bytes, change: Callable[[list[str]], list[str]]) -> bytes:
    text = data.rstrip(b"\x1a").decode("cp1252")
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n", quoting=csv.QUOTE_MINIMAL)
    for row in csv.reader(io.StringIO(text, newline="")):
        if row:
            writer.writerow(change(row))
    return out.getvalue().encode("cp1252")


def swap(i: int, j: int) -> Callable[[list[str]], list[str]]:
    def swap(row: list[str]) -> list[str]:
        row = list(row)
        row[i], row[j] = row[j], row[i]
        return row

    return swap


def csl_reordered(data: bytes) -> bytes:
    rows = list(csv.reader(io.StringIO(data.decode("utf-8-sig"), newline="")))
    order = list(reversed(range(len(rows[0]))))
    out = io.StringIO()
    csv.writer(out, lineterminator="\r\n").writerows([[r[i] for i in order] for r in rows if r])
    return out.getvalue().encode()


def csl_cells(data: bytes, change: Callable[[list[str]], list[str]], header: bool) -> bytes:
    rows = list(csv.reader(io.StringIO(data.decode("utf-8-sig"), newline="")))
    out = io.StringIO()
    body = [change(r) for r in rows[1:] if r]
    first = change(rows[0]) if header else rows[0]
    csv.writer(out, lineterminator="\r\n").writerows([first, *body])
    return out.getvalue().encode()


def csl_json(data: bytes) -> bytes:
    """The CSV fixture as the JSON API would serve it (same records, list-valued fields)."""
    reader = csv.DictReader(io.StringIO(data.decode("utf-8-sig"), newline=""))
    return json.dumps({"results": list(reader)}).encode()


def rss_items(data: bytes, n: int) -> bytes:
    """The real channel with n small items (about 6 MB for 100,000)."""
    head = data.partition(b"<item>")[0]
    items = b"".join(
        b"<item><title>t%d</title><guid>https://example.org/%d</guid></item>" % (i, i)
        for i in range(n)
    )
    return head + items + b"</channel></rss>"


def new_rss_item(data: bytes) -> bytes:
    head, _, rest = data.partition(b"<item>")
    item = rest.split(b"</item>", 1)[0]
    extra = item.replace(b"</guid>", b"-next-day</guid>", 1)
    return head + b"<item>" + extra + b"</item><item>" + rest


def xxe(_: bytes, ctx: Ctx) -> bytes:
    return (
        f'<?xml version="1.0"?><!DOCTYPE sdnList [<!ENTITY x SYSTEM "file://{ctx.secret}">]>'
        '<sdnList xmlns="http://tempuri.org/sdnList.xsd"><sdnEntry><uid>1</uid>'
        "<lastName>&x;</lastName><sdnType>Entity</sdnType></sdnEntry></sdnList>"
    ).encode()


LAUGHS = (
    b'<?xml version="1.0"?><!DOCTYPE lolz [<!ENTITY lol "lol">'
    + b"".join(
        f'<!ENTITY lol{i} "{("&lol" + (str(i - 1) if i > 1 else "") + ";") * 10}">'.encode()
        for i in range(1, 10)
    )
    + b']><sdnList xmlns="http://tempuri.org/sdnList.xsd"><x>&lol9;</x></sdnList>'
)


def dtd_fetch(_: bytes, ctx: Ctx) -> bytes:
    return (
        f'<?xml version="1.0"?><!DOCTYPE sdnList SYSTEM "{ctx.base}/evil.dtd">'
        '<sdnList xmlns="http://tempuri.org/sdnList.xsd"></sdnList>'
    ).encode()


def with_doctype(data: bytes, declaration: str) -> bytes:
    """A real XML document with a DOCTYPE (after its XML declaration, if any) naming its root."""
    decl, sep, rest = data.partition(b"?>") if data.startswith(b"<?xml") else (b"", b"", data)
    found = re.search(rb"<([A-Za-z][\w.-]*)", rest)
    assert found, "no root element"
    doctype = b"<!DOCTYPE " + found.group(1) + b" " + declaration.encode() + b">"
    return decl + sep + doctype + rest


def xxe_into(data: bytes, ctx: Ctx, before: bytes) -> bytes:
    """The real document with an external entity (a local file) used before `before`."""
    declared = with_doctype(data, f'[<!ENTITY x SYSTEM "file://{ctx.secret}">]')
    assert before in declared
    return declared.replace(before, b"&x;" + before, 1)


def doctype_fetch(data: bytes, ctx: Ctx) -> bytes:
    """The real document behind a DOCTYPE whose DTD sits on the hostile server."""
    return with_doctype(data, f'SYSTEM "{ctx.base}/evil.dtd"')

"""The eCFR family of the hostile-input corpus: 15 CFR 744 Supplement No. 4 (the Entity List)
from the versioner API, which the source reaches in two steps (the versions listing, then the
part's text on the newest date).

No capture of the appendix exists (MANIFEST.md), so the good text is built inside the test as
tests/sources/test_ecfr.py builds it: the real GPOTABLE of the Federal Register rule 2023-03929
(13 entities) in eCFR's `DIV9 N="Supplement No. 4 to Part 744"` under the part's DIV5; the
versions listing is derived too (the versioner's `content_versions` shape). The next good day
changes one real address (one modification). Cases that do not apply: a feed of 100,000 items
(a list, not a feed; over `max_records` it is the Atom case). Rows dropped apply (a full list):
half is quarantined, one row of 13 (the nearest to 5%) is a plausible removal.
"""

from __future__ import annotations

import codecs
import json

from lxml import etree

from tests.conftest import fixture_bytes
from tests.helpers import ecfr_part744
from tests.reliability.corpus_base import (
    GZIP_GARBAGE,
    HTML,
    Case,
    Family,
    Files,
    cut,
    ok,
    statuses,
)
from tests.reliability.variants import LAUGHS, Ctx, doctype_fetch, xxe_into

RULE = "federal_register/fr_2023-03929_2023-02-27_additions_entity_list.xml"
WRONG = "ecfr/ecfr_versioner_full_title-3_part-101_2024-05-17.xml"
ERROR_400 = "federal_register/fr_error_400_invalid_cursor_captured-2026-09-24.json"
DAY = "2023-02-27"
VERSIONS = "ecfr/versions/title-15.json"
TEXT = f"ecfr/full/{DAY}/title-15.xml"
ADDRESS = b"145 Montee De Liesse"  # a real address of the table (CPUNTO Inc.)


def appendix() -> bytes:
    """Part 744 as eCFR serves it, holding the real 2023-03929 table (see the docstring)."""
    table = next(etree.fromstring(fixture_bytes(RULE)).iter("GPOTABLE"))
    meta = {"path": f"/on/{DAY}/title-15/part-744", "citation": "15 CFR Part 744"}
    return ecfr_part744(table, meta)


def versions() -> bytes:
    """The versioner's listing of part 744: an older date, then the one served."""
    days = ("2022-10-21", DAY)
    rows = [{"date": d, "amendment_date": d, "part": "744", "type": "supplement"} for d in days]
    return json.dumps({"content_versions": rows, "meta": {"title": "15"}}).encode()


def drop_entities(data: bytes, nth: int) -> bytes:
    """Every nth entity left out: its row (five cells) and the address rows under it."""
    root = etree.fromstring(data)
    table = next(root.iter("GPOTABLE"))
    rows = list(table.iter("ROW"))
    starts = [i for i, r in enumerate(rows) if len(r.findall("ENT")) == 5][1:]  # 0: the heads
    for n, start in enumerate(starts):
        if n % nth != 1:
            continue
        rows[start].getparent().remove(rows[start])
        for row in rows[start + 1 :]:
            cells = row.findall("ENT")
            if len(cells) != 2 or "".join(cells[0].itertext()).strip():
                break  # the next entity, a country or an elision row
            row.getparent().remove(row)
    return etree.tostring(root, xml_declaration=True, encoding="UTF-8")


def _files(_ctx: Ctx) -> Files:
    return {VERSIONS: versions(), TEXT: appendix()}


FAMILIES: dict[str, Family] = {
    "ecfr": Family(
        "ecfr_entity_list",
        "",
        {"min_records": 5},  # the real table has 13 rows (the live list ~3,000)
        lambda b, c: b.replace(ADDRESS, b"146 Montee De Liesse", 1),
        (0, 0, 1),
        files=_files,
        url="ecfr/full/{date}/title-15.xml?part=744",
        target=TEXT,
    ),
}

ec = "ecfr"
CASES: list[Case] = [
    Case("ecfr-empty-body", ec, lambda b, s: ok(b""), "rejected", "empty"),
    Case("ecfr-truncated-1pct", ec, cut(0.01), "rejected", "not well-formed"),
    Case("ecfr-truncated-50pct", ec, cut(0.50), "rejected", "not well-formed"),
    Case("ecfr-truncated-99pct", ec, cut(0.99), "rejected", "not well-formed"),
    Case(
        "ecfr-truncated-mid-row",
        ec,
        lambda b, s: ok(b[: b.index(ADDRESS) + 10]),
        "rejected",
        "not well-formed",
    ),
    Case("ecfr-html-200", ec, lambda b, s: ok(HTML), "rejected", "HTML"),
    Case(
        "ecfr-json-error-body-200",
        ec,
        lambda b, s: ok(fixture_bytes(ERROR_400)),
        "rejected",
        "not well-formed",
    ),
    Case("ecfr-gzip-garbage", ec, lambda b, s: GZIP_GARBAGE, "error", "gzip"),
    # XML says its own encoding: the same document in UTF-16 or with a BOM is the same list.
    Case("ecfr-utf16", ec, lambda b, s: ok(b.decode().encode("utf-16")), "ok"),
    Case("ecfr-utf8-bom", ec, lambda b, s: ok(codecs.BOM_UTF8 + b), "ok"),
    Case(
        "ecfr-nul-bytes",
        ec,
        lambda b, s: ok(b[:3000] + b"\0" + b[3000:]),
        "rejected",
        "not well-formed",
    ),
    Case(
        "ecfr-half-rows-dropped",
        ec,
        lambda b, s: ok(drop_entities(b, 2)),
        "quarantined",
        "max_removed_share",
    ),
    Case(
        "ecfr-one-row-in-13-dropped",
        ec,
        lambda b, s: ok(drop_entities(b, 20)),
        "ok",
        changes=(0, 1, 0),
    ),
    Case(
        "ecfr-wrong-schema",  # real eCFR XML, title 3 part 101: no Entity List in it
        ec,
        lambda b, s: ok(fixture_bytes(WRONG)),
        "rejected",
        "not the Entity List",
    ),
    Case(
        "ecfr-appendix-without-table",
        ec,
        lambda b, s: ok(b[: b.index(b"<GPOTABLE")] + b"</DIV9></DIV5>"),
        "rejected",
        "holds no table",
    ),
    Case(
        "ecfr-malformed",
        ec,
        lambda b, s: ok(b.replace(b"</GPOTABLE>", b"</GPOTABL>", 1)),
        "rejected",
        "not well-formed",
    ),
    Case(
        "ecfr-external-entity",
        ec,
        lambda b, s: ok(xxe_into(b, s, b"CPUNTO Inc.")),
        "rejected",
        "entities",
    ),
    Case(
        "ecfr-external-entity-utf16",  # a byte search for <!ENTITY misses it
        ec,
        lambda b, s: ok(xxe_into(b, s, b"CPUNTO Inc.").decode().encode("utf-16")),
        "rejected",
        "entities",
    ),
    Case(
        "ecfr-external-entity-after-64kib",  # the prolog may be long: a comment before it
        ec,
        lambda b, s: ok(
            xxe_into(b, s, b"CPUNTO Inc.").replace(b"?>", b"?><!--" + b"x" * 70_000 + b"-->", 1)
        ),
        "rejected",
        "entities",
    ),
    Case("ecfr-billion-laughs", ec, lambda b, s: ok(LAUGHS), "rejected", "entities"),
    # The real text behind a DOCTYPE naming a remote DTD: read as it is, the DTD never fetched.
    Case("ecfr-dtd-fetch", ec, lambda b, s: ok(doctype_fetch(b, s)), "ok"),
    *statuses(ec, "ecfr"),
    # --- the versions listing: a failure there is a failed poll (nothing to parse yet) --------
    Case("ecfr-versions-empty", ec, lambda b, s: ok(b""), "error", "versions", path=VERSIONS),
    Case("ecfr-versions-html", ec, lambda b, s: ok(HTML), "error", "versions", path=VERSIONS),
    Case(
        "ecfr-versions-wrong-schema",
        ec,
        lambda b, s: ok(b'{"content_versions": [], "meta": {}}'),
        "error",
        "no versions",
        path=VERSIONS,
    ),
    *statuses(ec, "ecfr-versions", path=VERSIONS, codes=(404, 503)),
]

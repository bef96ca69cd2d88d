"""Federal Register families of the hostile-input corpus: the documents.json API (with its
public-inspection companion) and the full-text XML of an Entity List rule.

Real bytes: the BIS documents.json capture (20 documents), the empty public-inspection answer,
the 2023-03929 rule XML, the API's real 400 body. Derived inside the tests (as in
tests/pipeline/test_fr_pipeline.py): `next_page_url` and `full_text_xml_url` pointed at the
loopback server, page 2 an empty answer, and no full text of the capture's two Entity List rules
being in the fixtures, both serve the real 2023-03929 XML (13 actions each). The first day is the
capture without its newest document (2026-19537), the next good day the whole capture: one
document added, as between two real polls.

The FR is a window (mode "incremental"): nothing is removed by absence, so "the list unchanged"
is the stored documents and actions (checked by the test), and "changes" are FR document and
entity-action changes. Cases that do not apply: entities, billion laughs and DTDs (JSON has
none; the full-text family has them); 100,000 items (the API caps `per_page` at 1,000: the Atom
family has the huge feed); a public-inspection PDF (optional by design: a failed one is fetched
again next poll, tests/pipeline/test_public_inspection.py); rows dropped from a rule's table (a
full text is read once, and a shorter table is a shorter rule: nothing to tell it by).
"""

from __future__ import annotations

import codecs
import json
import re
from typing import Any

from tests.conftest import fixture_bytes
from tests.hostile import Reply
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
from tests.reliability.variants import LAUGHS, Ctx, csl_json, doctype_fetch, xxe_into

BIS = "federal_register/fr_documents_bis_agency_captured-2026-09-25.json"
RULE = "federal_register/fr_2023-03929_2023-02-27_additions_entity_list.xml"
EMPTY = "federal_register/fr_public_inspection_search_empty_captured-2026-09-29.json"
ERROR_400 = "federal_register/fr_error_400_invalid_cursor_captured-2026-09-24.json"
CSL = "trade_gov_csl/moov_csl_sample_2019-12-03.csv"
WRONG_XML = "ecfr/ecfr_versioner_full_title-3_part-101_2024-05-17.xml"
DOCS = "fr/api/v1/documents.json"
PAGE2 = "fr/api/v1/documents-page-2.json"
PI = "fr/api/v1/public-inspection-documents/current.json"
NEWEST = "2026-19537"  # not on the first day's page
RULES = ("2026-17231", "2026-17230")  # "Revisions to" / "Removal From the Entity List"
FULL = "fr/full_text/2026-17231.xml"
NAME = b"CPUNTO Inc."  # an entity of the rule's table


def full_text(number: str) -> str:
    return f"fr/full_text/{number}.xml"


def page(ctx: Ctx, drop: tuple[str, ...] = ()) -> bytes:
    """The BIS capture on the loopback server, without the documents in `drop`."""
    data: dict[str, Any] = json.loads(fixture_bytes(BIS))
    data["next_page_url"] = f"{ctx.base}/{PAGE2}"
    data["results"] = [r for r in data["results"] if r["document_number"] not in drop]
    for record in data["results"]:
        record["full_text_xml_url"] = f"{ctx.base}/{full_text(record['document_number'])}"
    return json.dumps(data).encode()


def _files(ctx: Ctx, drop: tuple[str, ...]) -> Files:
    rule = fixture_bytes(RULE)
    return {
        DOCS: page(ctx, drop),
        PAGE2: fixture_bytes(EMPTY),
        PI: fixture_bytes(EMPTY),
        **{full_text(n): rule for n in RULES},
    }


def drop_documents(data: bytes, nth: int = 0, number: str = "") -> bytes:
    """Every nth document, or the one numbered `number`, left out of the page."""
    body = json.loads(data)
    body["results"] = [
        r
        for i, r in enumerate(body["results"])
        if not (nth and i % nth == 1) and r["document_number"] != number
    ]
    return json.dumps(body).encode()


def mid_record(data: bytes) -> bytes:
    """Cut inside the tenth document record."""
    at = [m.start() for m in re.finditer(rb'"document_number"', data)][9]
    return data[: at + 30]


FAMILIES: dict[str, Family] = {
    "fr_json": Family(
        "federal_register",
        "",
        {},
        lambda b, c: page(c),
        (1, 0, 0),
        files=lambda c: _files(c, (NEWEST,)),
        url=DOCS,
        target=DOCS,
    ),
    "fr_fulltext": Family(
        "federal_register",
        "",
        {},
        lambda b, c: b,  # the rule served whole again: its 13 actions arrive
        (14, 0, 0),  # the document and its 13 actions (nothing of it was stored)
        files=lambda c: _files(c, ()),
        url=DOCS,
        target=FULL,
        baseline=lambda day: {**day, DOCS: drop_documents(day[DOCS], number="2026-17231")},
    ),
}


def _utf16(b: bytes, _c: Ctx) -> Reply:
    return ok(b.decode("utf-8").encode("utf-16"))


# A full text that cannot be read is a warning: the document is stored, its actions are not,
# operators hear once (the rule's entries would reach no subscriber), and the next poll
# fetches the full text again (`back`: the rule's 13 actions then).
BROKEN = {"outcome": "ok", "changes": (1, 0, 0), "back": (13, 0, 0), "operators": 1}
ft = "fr_fulltext"

CASES: list[Case] = [
    # --- documents.json -------------------------------------------------------------------
    Case("fr-empty-body", "fr_json", lambda b, s: ok(b""), "rejected", "empty"),
    Case("fr-truncated-1pct", "fr_json", cut(0.01), "rejected", "not JSON"),
    Case("fr-truncated-50pct", "fr_json", cut(0.50), "rejected", "not JSON"),
    Case("fr-truncated-99pct", "fr_json", cut(0.99), "rejected", "not JSON"),
    Case("fr-truncated-mid-record", "fr_json", lambda b, s: ok(mid_record(b)), "rejected", "JSON"),
    Case("fr-html-200", "fr_json", lambda b, s: ok(HTML), "rejected", "HTML"),
    Case(
        "fr-json-error-body-200",  # the API's real 400 answer, served with 200
        "fr_json",
        lambda b, s: ok(fixture_bytes(ERROR_400)),
        "rejected",
        "Federal Register API error 400",
    ),
    Case("fr-gzip-garbage", "fr_json", lambda b, s: GZIP_GARBAGE, "error", "gzip"),
    Case("fr-utf16", "fr_json", _utf16, "rejected", "not JSON"),  # RFC 8259: JSON is UTF-8
    Case("fr-utf8-bom", "fr_json", lambda b, s: ok(codecs.BOM_UTF8 + b), "ok"),
    Case("fr-nul-bytes", "fr_json", lambda b, s: ok(b[:900] + b"\0" + b[900:]), "rejected", "JSON"),
    # A window missing documents removes nothing, and a dropped new one is still unknown, so
    # the next poll finds it: plausible, accepted, no change.
    Case("fr-half-documents-dropped", "fr_json", lambda b, s: ok(drop_documents(b, 2)), "ok"),
    Case("fr-5pct-documents-dropped", "fr_json", lambda b, s: ok(drop_documents(b, 20)), "ok"),
    Case(
        "fr-wrong-schema",  # valid JSON with `results`, of another API: no documents in it
        "fr_json",
        lambda b, s: ok(csl_json(fixture_bytes(CSL))),
        "rejected",
        "not Federal Register documents",
    ),
    Case(
        "fr-wrong-schema-array",
        "fr_json",
        lambda b, s: ok(json.dumps(json.loads(b)["results"]).encode()),
        "rejected",
        "expected a JSON object",
    ),
    Case(
        "fr-malformed",
        "fr_json",
        lambda b, s: ok(b.replace(b'",', b'"', 1)),
        "rejected",
        "not JSON",
    ),
    *statuses("fr_json", "fr"),
    # --- public-inspection/current.json, fetched with every poll ------------------------------
    Case("fr-pi-empty-body", "fr_json", lambda b, s: ok(b""), "rejected", "empty", path=PI),
    Case("fr-pi-html-200", "fr_json", lambda b, s: ok(HTML), "rejected", "HTML", path=PI),
    Case(
        "fr-pi-json-error-body-200",
        "fr_json",
        lambda b, s: ok(fixture_bytes(ERROR_400)),
        "rejected",
        "API error",
        path=PI,
    ),
    Case(
        "fr-pi-wrong-schema",
        "fr_json",
        lambda b, s: ok(csl_json(fixture_bytes(CSL))),
        "rejected",
        "not Federal Register documents",
        path=PI,
    ),
    *statuses("fr_json", "fr-pi", path=PI, codes=(404, 503)),
    # --- the full-text XML of a new Entity List rule (2026-17231) -----------------------------
    Case("ft-empty-body", ft, lambda b, s: ok(b""), warning="no entity actions", **BROKEN),
    Case("ft-truncated-1pct", ft, cut(0.01), warning="full text of 2026-17231", **BROKEN),
    Case("ft-truncated-50pct", ft, cut(0.50), warning="not well-formed", **BROKEN),
    Case("ft-truncated-99pct", ft, cut(0.99), warning="not well-formed", **BROKEN),
    Case(
        "ft-truncated-mid-row",
        ft,
        lambda b, s: ok(b[: b.index(b"<ROW>", b.index(b"<GPOTABLE")) + 40]),
        warning="not well-formed",
        **BROKEN,
    ),
    # An HTML page anywhere in a poll is refused by the guard: the documents wait too.
    Case("ft-html-200", ft, lambda b, s: ok(HTML), "rejected", "fulltext:2026-17231"),
    Case(
        "ft-json-error-body-200",
        ft,
        lambda b, s: ok(fixture_bytes(ERROR_400)),
        warning="no entity actions",
        **BROKEN,
    ),
    Case("ft-gzip-garbage", ft, lambda b, s: GZIP_GARBAGE, "error", "gzip"),
    Case("ft-utf16", ft, _utf16, "ok", changes=(14, 0, 0), back=(0, 0, 0)),
    Case(
        "ft-utf8-bom",
        ft,
        lambda b, s: ok(codecs.BOM_UTF8 + b),
        "ok",
        changes=(14, 0, 0),
        back=(0, 0, 0),
    ),
    Case(
        "ft-nul-bytes",
        ft,
        lambda b, s: ok(b[:3000] + b"\0" + b[3000:]),
        warning="not well-formed",
        **BROKEN,
    ),
    Case(
        "ft-wrong-schema",  # real eCFR XML (title 3): well-formed, no Entity List table
        ft,
        lambda b, s: ok(fixture_bytes(WRONG_XML)),
        warning="no entity actions",
        **BROKEN,
    ),
    Case(
        "ft-malformed",
        ft,
        lambda b, s: ok(b.replace(b"</GPOTABLE>", b"</GPOTABL>", 1)),
        warning="not well-formed",
        **BROKEN,
    ),
    Case(
        "ft-external-entity",
        ft,
        lambda b, s: ok(xxe_into(b, s, NAME)),
        warning="entities",
        **BROKEN,
    ),
    Case(
        "ft-external-entity-utf16",  # a byte search for <!ENTITY misses it
        ft,
        lambda b, s: ok(xxe_into(b, s, NAME).decode().encode("utf-16")),
        warning="entities",
        **BROKEN,
    ),
    Case("ft-billion-laughs", ft, lambda b, s: ok(LAUGHS), warning="entities", **BROKEN),
    Case(
        "ft-dtd-fetch",  # the real rule behind a DOCTYPE naming a remote DTD: read, not fetched
        ft,
        lambda b, s: ok(doctype_fetch(b, s)),
        "ok",
        changes=(14, 0, 0),
        back=(0, 0, 0),
    ),
    *statuses(ft, "ft"),
]

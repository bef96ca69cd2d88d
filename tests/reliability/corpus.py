"""The hostile-input corpus: one row per bad download, derived inside the tests from real
fixture bytes (MANIFEST.md: nothing invented is committed), per source family. This module holds
OFAC (CSV, XML), the CSL (CSV, JSON) and RSS 2.0, and gathers the other families' modules:
corpus_fr.py (documents.json, public inspection, rule full texts), corpus_ecfr.py, corpus_atom.py;
the shapes (`Family`, `Case`) are in corpus_base.py.

A case turns the family's good bytes into the `Reply` a misbehaving server sends, and says
what the pipeline must make of it: `rejected` / `quarantined` (a stored snapshot, one
operator message), `error` (a fetch failure: no snapshot, `watcher sources` shows it at once),
or `ok` (plausible, accepted and diffed: `changes` = added, removed, modified).
"""

from __future__ import annotations

import codecs
import gzip

from tests.hostile import Reply
from tests.reliability import corpus_atom, corpus_ecfr, corpus_fr
from tests.reliability.corpus_base import CAP, GZ, HTML, Case, Family, MiB, cut, ok
from tests.reliability.variants import (
    LAUGHS,
    Ctx,
    csl_cells,
    csl_json,
    csl_reordered,
    csv_rows,
    drop_every,
    dtd_fetch,
    new_rss_item,
    ofac_cells,
    rss_items,
    swap,
    xxe,
)

__all__ = ["CAP", "CASES", "FAMILIES", "Case", "Family"]

_FAMILIES: dict[str, Family] = {
    "ofac_csv": Family(
        "ofac_consolidated",
        "ofac_consolidated/cons_prim_2018-04-06.csv",
        {"companions": []},
        lambda b, _c: b.replace(b'"BANK MARKAZI JOMHOURI ISLAMI IRAN"', b'"BANK MARKAZI (CBI)"', 1),
        (0, 0, 1),
    ),
    "ofac_xml": Family(
        "ofac_consolidated",
        "ofac_consolidated/consolidated_2018-04-06.xml",
        {"companions": []},
        lambda b, _c: b.replace(b">BANK MARKAZI JOMHOURI ISLAMI IRAN<", b">BANK MARKAZI (CBI)<", 1),
        (0, 0, 1),
    ),
    "csl_csv": Family(
        "trade_csl",
        "trade_gov_csl/moov_csl_sample_2019-12-03.csv",
        {"min_records": 50},
        lambda b, _c: b.replace(
            b"183rd Guard Air Defense Missile Regiment", b"183rd Guard Regt", 1
        ),
        (1, 1, 0),  # a non-OFAC row is keyed by its name: a rename is one out, one in
    ),
    "csl_json": Family(
        "trade_csl",
        "trade_gov_csl/moov_csl_sample_2019-12-03.csv",
        {"min_records": 50},
        lambda b, _c: b.replace(
            b"183rd Guard Air Defense Missile Regiment", b"183rd Guard Regt", 1
        ),
        (1, 1, 0),  # a non-OFAC row is keyed by its name: a rename is one out, one in
        to_body=csl_json,
    ),
    "rss": Family(
        "news",
        "news_rss/guardian_us_rss_2018-01-31.rss",
        {"max_records": 10_000},
        lambda b, _c: new_rss_item(b),
        (1, 0, 0),
    ),
}


def _midline(b: bytes, _s: Ctx) -> Reply:
    last = b.rstrip(b"\x1a\r\n").rfind(b"\r\n")
    return ok(b[: last + 40])


_CASES: list[Case] = [
    # --- OFAC legacy CSV (the non-SDN consolidated list, 639 real entries) ---------------
    Case("empty-body", "ofac_csv", lambda b, s: ok(b""), "rejected", "empty"),
    Case("truncated-1pct", "ofac_csv", cut(0.01), "rejected", "truncated"),
    Case("truncated-50pct", "ofac_csv", cut(0.50), "rejected", "truncated"),
    Case("truncated-99pct", "ofac_csv", cut(0.99), "rejected", "truncated"),
    Case("truncated-mid-line", "ofac_csv", _midline, "rejected", "truncated"),
    Case("html-error-page-200", "ofac_csv", lambda b, s: ok(HTML), "rejected", "HTML"),
    Case(
        "json-error-body-200",
        "ofac_csv",
        lambda b, s: ok(b'{"error": "rate limit exceeded", "status": 429}'),
        "rejected",
        "neither an OFAC flat file nor XML",
    ),
    Case(
        "gzip-garbage",
        "ofac_csv",
        lambda b, s: Reply(200, b"\x1f\x8bnot gzip", GZ),
        "error",
        "gzip",
    ),
    Case(
        "utf16",
        "ofac_csv",
        lambda b, s: ok(codecs.BOM_UTF16_LE + b.decode("cp1252").encode("utf-16-le")),
        "rejected",
        "neither an OFAC flat file nor XML",
    ),
    Case("utf8-bom", "ofac_csv", lambda b, s: ok(codecs.BOM_UTF8 + b), "rejected", "flat file"),
    Case(
        "nul-bytes",
        "ofac_csv",
        lambda b, s: ok(b[:5000] + b"\0" * 64 + b[5000:]),
        "rejected",
        "NUL",
    ),
    Case(
        "half-rows-dropped", "ofac_csv", lambda b, s: ok(drop_every(b, 2)), "quarantined", "remove"
    ),
    Case(
        "5pct-rows-dropped",
        "ofac_csv",
        lambda b, s: ok(drop_every(b, 20)),
        "ok",
        changes=(0, 32, 0),
    ),
    Case(
        "columns-reordered",
        "ofac_csv",
        lambda b, s: ok(ofac_cells(b, swap(2, 3))),
        "rejected",
        "columns moved",
    ),
    Case(
        "columns-reordered-plausibly",
        "ofac_csv",
        lambda b, s: ok(ofac_cells(b, swap(4, 11))),
        "quarantined",
        "max_modified_share",
    ),
    Case(
        "extra-column",
        "ofac_csv",
        lambda b, s: ok(ofac_cells(b, lambda r: [*r, "-0- "])),
        "rejected",
        "columns",
    ),
    Case(
        "duplicate-keys",
        "ofac_csv",
        lambda b, s: ok(b.rstrip(b"\x1a") + csv_rows(b)[3] + b"\r\n"),
        "ok",
    ),
    Case(
        "lf-and-no-0x1a",
        "ofac_csv",
        lambda b, s: ok(b.replace(b"\r\n", b"\n").rstrip(b"\x1a")),
        "ok",
    ),
    Case("http-404", "ofac_csv", lambda b, s: Reply(404, b"Not Found"), "error", "HTTP 404"),
    Case("http-403", "ofac_csv", lambda b, s: Reply(403, b"Forbidden"), "error", "HTTP 403"),
    Case(
        "http-429-retry-after",
        "ofac_csv",
        lambda b, s: Reply(429, b"slow down", (("Retry-After", "1"),)),
        "error",
        "HTTP 429",
    ),
    Case("http-500", "ofac_csv", lambda b, s: Reply(500, b"oops"), "error", "HTTP 500"),
    Case("http-503", "ofac_csv", lambda b, s: Reply(503, b"busy"), "error", "HTTP 503"),
    Case(
        "redirect-loop",
        "ofac_csv",
        lambda b, s: Reply(302, b"", (("Location", "/live/ofac_csv"),)),
        "error",
        "redirects",
    ),
    Case(
        "redirect-to-ftp",
        "ofac_csv",
        lambda b, s: Reply(302, b"", (("Location", "ftp://example.org/sdn.csv"),)),
        "error",
        "not http",
    ),
    Case(
        "oversized-slow-stream",
        "ofac_csv",
        lambda b, s: Reply(200, b * 4, repeat=64, pause=0.002, length=-1),
        "error",
        "cap",
        memory_bound=True,
    ),
    Case(
        "one-byte-a-second",
        "ofac_csv",
        lambda b, s: Reply(200, b, chunk=1, pause=1.0),
        "error",
        "deadline",
    ),
    Case(
        "content-length-too-large",
        "ofac_csv",
        lambda b, s: Reply(200, b, length=len(b) + 1000),
        "error",
        "ofac_consolidated",
    ),
    Case(
        "gzip-bomb",
        "ofac_csv",
        lambda b, s: Reply(200, gzip.compress(b"\0" * (64 * MiB)), GZ),
        "error",
        "cap",
        memory_bound=True,
    ),
    # --- OFAC legacy XML -------------------------------------------------------------------
    Case("xml-empty", "ofac_xml", lambda b, s: ok(b""), "rejected", "empty"),
    Case("xml-truncated-50pct", "ofac_xml", cut(0.5), "rejected", "XML"),
    Case("xml-html-200", "ofac_xml", lambda b, s: ok(HTML), "rejected", "HTML"),
    Case("xml-external-entity", "ofac_xml", lambda b, s: ok(xxe(b, s)), "rejected", "entit"),
    Case("xml-billion-laughs", "ofac_xml", lambda b, s: ok(LAUGHS), "rejected", "entit"),
    Case("xml-dtd-fetch", "ofac_xml", lambda b, s: ok(dtd_fetch(b, s)), "rejected", ""),
    Case(
        "xml-malformed",
        "ofac_xml",
        lambda b, s: ok(b.replace(b"</sdnEntry>", b"</sdnEntr>", 1)),
        "rejected",
        "XML",
    ),
    Case(
        "xml-wrong-schema",
        "ofac_xml",
        lambda b, s: ok(b"<?xml version='1.0'?><DIV5 N='101' TYPE='PART'><HEAD>x</HEAD></DIV5>"),
        "rejected",
        "",
    ),
    # --- trade.gov CSL, CSV and JSON ----------------------------------------------------------
    Case("csl-empty", "csl_csv", lambda b, s: ok(b""), "rejected", "empty"),
    Case("csl-html-200", "csl_csv", lambda b, s: ok(HTML), "rejected", "HTML"),
    Case(
        "csl-half-rows-dropped",
        "csl_csv",
        lambda b, s: ok(drop_every(b.replace(b"\n", b"\r\n"), 2)),
        "quarantined",
        "remove",
    ),
    Case("csl-utf16", "csl_csv", lambda b, s: ok(b.decode().encode("utf-16")), "rejected", ""),
    Case("csl-utf8-bom", "csl_csv", lambda b, s: ok(codecs.BOM_UTF8 + b), "ok"),
    Case("csl-columns-reordered-with-header", "csl_csv", lambda b, s: ok(csl_reordered(b)), "ok"),
    Case(
        "csl-values-moved-under-the-header",
        "csl_csv",
        lambda b, s: ok(csl_cells(b, swap(0, 4), header=False)),
        "rejected",
        "columns moved",
    ),
    Case(
        "csl-extra-column",
        "csl_csv",
        lambda b, s: ok(csl_cells(b, lambda r: [*r, "x"], header=True)),
        "ok",
    ),
    Case(
        "csl-json-error-body-200",
        "csl_json",
        lambda b, s: ok(b'{"error": "Unauthorized"}'),
        "rejected",
        "results",
    ),
    Case("csl-json-truncated", "csl_json", cut(0.5), "rejected", "JSON"),
    Case(
        "csl-json-nul-bytes",
        "csl_json",
        lambda b, s: ok(b[:100] + b"\0\0" + b[100:]),
        "rejected",
        "",
    ),
    # --- RSS -----------------------------------------------------------------------------------
    Case("rss-truncated", "rss", cut(0.5), "ok"),  # whole items kept, the cut one left out
    Case("rss-html-200", "rss", lambda b, s: ok(HTML), "rejected", "HTML"),
    Case(
        "rss-100000-items",
        "rss",
        lambda b, s: ok(rss_items(b, 100_000)),
        "rejected",
        "max_records",
    ),
]

FAMILIES: dict[str, Family] = {
    **_FAMILIES,
    **corpus_fr.FAMILIES,
    **corpus_ecfr.FAMILIES,
    **corpus_atom.FAMILIES,
}
CASES: list[Case] = [*_CASES, *corpus_fr.CASES, *corpus_ecfr.CASES, *corpus_atom.CASES]

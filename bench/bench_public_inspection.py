"""Benchmark: public-inspection PDFs -> entity actions, and public inspection -> webhook.

Run: .venv/bin/python bench/bench_public_inspection.py [--repeat 5] [--copies 4]
1. Extraction, pypdf vs pdfminer.six, on manuscripts built from the real rule fr_2023-03929
   (`tests/entity_list/manuscript_pdf.py`: stamp, page numbers, footnotes, wrapped names, a
   page break inside an entry), at two line widths and as a long document (`--copies` times
   the rule's entries): pages/s of text extraction, and fidelity: entries the manuscript parser
   gets exactly right (name, aliases, addresses, license requirement against the XML), entity
   names in the right order, and page stamps kept on whole lines.
2. Latency: the real pipeline and dispatcher (SQLite file, local HTTP server, local webhook):
   from the public-inspection list serving the document to the webhook receiving the alert,
   with the poll started at once (add the configured `interval` for the worst case).
Prints one JSON object.
"""

from __future__ import annotations

import argparse
import io
import json
import os
import sys
import tempfile
import time
from collections.abc import Callable
from dataclasses import replace
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from tests.entity_list.manuscript_pdf import (  # noqa: E402
    Manuscript,
    additions_manuscript,
    render,
    rule_actions,
)
from watcher.entity_list.manuscript import extract_manuscript  # noqa: E402

FIELDS = ("country", "name", "aliases", "addresses", "license_requirement")


def pypdf_text(pdf: bytes) -> tuple[str, int]:
    from pypdf import PdfReader

    reader = PdfReader(io.BytesIO(pdf))
    pages = [p.extract_text() or "" for p in reader.pages]
    return "\f".join(pages), len(pages)


def pdfminer_text(pdf: bytes) -> tuple[str, int]:
    from pdfminer.high_level import extract_text

    text = extract_text(io.BytesIO(pdf))
    return text, text.count("\f") + 1 - (1 if text.endswith("\f") else 0)


def _long(doc: Manuscript, copies: int) -> Manuscript:
    """The rule's entries several times over (names numbered so keys stay distinct)."""
    entries = tuple(
        replace(e, name=f"{e.name} {i}" if i else e.name)
        for i in range(copies)
        for e in doc.entries
    )
    return replace(doc, entries=entries, instructions=())


def fidelity(text: str, doc: Manuscript, expected: list[Any]) -> dict[str, Any]:
    found = extract_manuscript(text).actions
    want = {(e.country, e.name): e for e in expected}
    exact = sum(
        1
        for a in found
        if (a.country, a.name) in want
        and all(getattr(a, f) == getattr(want[(a.country, a.name)], f) for f in FIELDS)
    )
    # Line order: each entry's first words, searched one after the other in the table.
    pos = max(text.find("Supplement No. 4 to Part 744 - Entity List"), 0)
    ordered = 0
    for entry in doc.entries:
        found_at = text.find(" ".join(entry.name.split()[:3]), pos)
        if found_at >= 0:
            ordered, pos = ordered + 1, found_at + 1
    stamps = text.count("This document is scheduled to be published in the Federal Register on")
    return {
        "entries_exact": exact,
        "entries_expected": len(expected),
        "names_in_order": f"{ordered}/{len(doc.entries)}",
        "page_stamps_on_one_line": stamps,
    }


def measure(
    extract: Callable[[bytes], tuple[str, int]], pdf: bytes, repeat: int
) -> tuple[str, int, float]:
    best = float("inf")
    text, pages = "", 0
    for _ in range(repeat):
        t0 = time.perf_counter()
        text, pages = extract(pdf)
        best = min(best, time.perf_counter() - t0)
    return text, pages, best


def bench_extraction(repeat: int, copies: int) -> dict[str, Any]:
    base = additions_manuscript()
    xml = rule_actions()
    cases = {
        "rule_width_85mm": (base, render(base, width=85), xml),
        "rule_width_110mm": (base, render(base, width=110), xml),
    }
    long_doc = _long(base, copies)
    cases[f"rule_x{copies}_width_85mm"] = (long_doc, render(long_doc, width=85), [])
    out: dict[str, Any] = {}
    for case, (doc, pdf, expected) in cases.items():
        for lib, fn in (("pypdf", pypdf_text), ("pdfminer.six", pdfminer_text)):
            text, pages, seconds = measure(fn, pdf, repeat)
            row: dict[str, Any] = {
                "pages": pages,
                "seconds": round(seconds, 4),
                "pages_per_s": round(pages / seconds, 1),
            }
            if expected:
                row.update(fidelity(text, doc, expected))
            out[f"{case}/{lib}"] = row
    return out


def bench_latency(runs: int) -> dict[str, Any]:
    """Public-inspection list serves the document -> webhook has the alert (real pipeline)."""
    from tests.conftest import LocalServer
    from tests.pipeline import test_public_inspection as e2e
    from tests.receivers import HttpReceiver
    from watcher.alerts.dispatch import dispatch_pending
    from watcher.pipeline.run import run_source
    from watcher.store.engine import make_engine, upgrade

    pdf = render(additions_manuscript())
    empty = e2e.fixture_bytes(e2e.EMPTY)
    latencies = []
    for _ in range(runs):
        with tempfile.TemporaryDirectory() as tmp, HttpReceiver() as receiver:
            server = LocalServer()
            url = f"sqlite:///{tmp}/bench.db"
            upgrade(make_engine(url))
            hook = f"json://127.0.0.1:{receiver.port}/"
            os.environ["EL_HOOK"] = hook
            rt = e2e._runtime(url, server, hook)
            rt.clock = e2e.Clock()
            server.serve(e2e.DOCS, empty)
            server.serve(e2e.PI, empty)
            run_source(rt, e2e.FR)  # baseline
            server.serve(e2e.PDF, pdf)
            t0 = time.perf_counter()
            server.serve(e2e.PI, e2e._pi_page(server))  # the document appears
            run_source(rt, e2e.FR)
            dispatch_pending(rt)
            while not receiver.requests:
                time.sleep(0.001)
            latencies.append(time.perf_counter() - t0)
            server.close()
    latencies.sort()
    return {
        "runs": runs,
        "median_s": round(latencies[len(latencies) // 2], 3),
        "max_s": round(latencies[-1], 3),
        "note": "poll started at once; add the source interval for the worst case",
    }


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--repeat", type=int, default=5)
    parser.add_argument("--copies", type=int, default=4)
    parser.add_argument("--runs", type=int, default=3)
    args = parser.parse_args()
    result = {
        "extraction": bench_extraction(args.repeat, args.copies),
        "public_inspection_to_webhook": bench_latency(args.runs),
    }
    print(json.dumps(result, indent=2))


if __name__ == "__main__":
    main()

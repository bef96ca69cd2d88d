"""Text of a public-inspection PDF, page by page (pypdf; no I/O).

pypdf was measured against pdfminer.six on manuscripts laid out like BIS's public-inspection
documents (`bench/bench_public_inspection.py`): both keep line order, but pdfminer's default
layout analysis splits the page stamp into word fragments scattered over several lines, while
pypdf keeps each typed line whole, and pypdf is about five times faster. Pages are joined with
form feeds, the way `pdftotext` writes them, so a `.txt` export and a PDF read the same way.
"""

from __future__ import annotations

import io
import logging

from watcher.errors import ParseError

PAGE_BREAK = "\f"


def pdf_text(content: bytes) -> str:
    """Every page's text, pages separated by form feeds; ParseError for anything not a PDF."""
    from pypdf import PdfReader
    from pypdf.errors import PyPdfError

    if not content.lstrip()[:5] == b"%PDF-":
        raise ParseError("public-inspection document: not a PDF")
    # pypdf logs recoverable damage as warnings; a damaged page is still worth reading.
    logging.getLogger("pypdf").setLevel(logging.ERROR)
    try:
        reader = PdfReader(io.BytesIO(content), strict=False)
        pages = [page.extract_text() or "" for page in reader.pages]
    except (PyPdfError, ValueError, KeyError, TypeError) as exc:
        raise ParseError(f"public-inspection document: unreadable PDF: {exc}") from exc
    if not any(p.strip() for p in pages):
        raise ParseError("public-inspection document: the PDF has no text layer (scanned?)")
    return PAGE_BREAK.join(pages)


def is_pdf(content: bytes) -> bool:
    return content.lstrip()[:5] == b"%PDF-"

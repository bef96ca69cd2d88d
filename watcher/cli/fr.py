"""Federal Register tools: the entity actions of one rule (published or on public inspection)."""

from __future__ import annotations

import json
import re
from dataclasses import asdict
from pathlib import Path
from typing import Any

import click

from watcher.cli.common import App, handled, pass_app
from watcher.cli.output import FORMAT_OPTION, emit
from watcher.errors import ParseError, PermanentFetchError

_DOCUMENT_NUMBER = re.compile(r"^(?:[A-Z]\d?-)?\d{2,4}-\d{3,6}$", re.I)
COLUMNS = ["stage", "action", "country", "name", "aliases", "address", "license_requirement"]


@click.group()
def fr() -> None:
    """Federal Register tools."""


@fr.command("extract")
@click.argument("file_or_url")
@FORMAT_OPTION
@pass_app
@handled
def fr_extract(app: App, file_or_url: str, fmt: str) -> None:
    """Entity actions (add / remove / revise) of one rule, with their stage.

    FILE_OR_URL is a public-inspection PDF, its extracted text (.txt), a published full-text XML
    file, a URL of one of these, or a document number (fetched: the published XML if the
    document is published, else its public-inspection PDF).
    """
    from watcher.sources.federal_register import read_actions

    content, number, record = _load(app, file_or_url)
    result = read_actions(content, number, record)
    for warning in result.warnings:
        click.echo(f"warning: {warning}", err=True)
    rows = [{**asdict(a), "address": "; ".join(a.addresses)} for a in result.actions]
    emit(rows, fmt, COLUMNS)


def _load(app: App, source: str) -> tuple[bytes, str | None, dict[str, Any]]:
    """Bytes to read, the document number (if known) and its API record (if fetched)."""
    if source.startswith(("http://", "https://", "file://")):
        return _get(app, source), None, {}
    path = Path(source)
    if path.exists() or not _DOCUMENT_NUMBER.match(source):
        return path.read_bytes(), None, {}
    return _by_number(app, source)


def _by_number(app: App, number: str) -> tuple[bytes, str, dict[str, Any]]:
    from watcher.sources import _fr_api as api
    from watcher.sources.federal_register import FederalRegister

    base = api.api_base(
        app.settings.source(FederalRegister.name).url or FederalRegister.default_url
    )
    try:
        record = json.loads(_get(app, f"{base}documents/{number}.json"))
    except PermanentFetchError:
        record = {}
    url = api.full_text_url(record) if record.get("full_text_xml_url") else None
    if url:
        return _get(app, url), number, record
    record = json.loads(_get(app, f"{base}public-inspection-documents/{number}.json"))
    pdf = record.get("pdf_url") or record.get("public_inspection_pdf_url")
    if not isinstance(pdf, str) or not pdf:
        raise ParseError(f"{number}: neither a published full text nor a public-inspection PDF")
    return _get(app, api.strip_cache_buster(pdf)), number, record


def _get(app: App, url: str) -> bytes:
    from watcher.http import fetch, make_client

    with make_client(app.settings.fetch) as client:
        return fetch(client, url, app.settings.fetch).content

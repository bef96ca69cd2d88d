"""Federal Register tools: the entity actions of one rule."""

from __future__ import annotations

from dataclasses import asdict
from pathlib import Path

import click

from watcher.cli.common import App, handled, pass_app
from watcher.cli.output import FORMAT_OPTION, emit


@click.group()
def fr() -> None:
    """Federal Register tools."""


@fr.command("extract")
@click.argument("file_or_url")
@FORMAT_OPTION
@pass_app
@handled
def fr_extract(app: App, file_or_url: str, fmt: str) -> None:
    """The entity actions (add / remove / revise) of one Federal Register rule."""
    from watcher.entity_list.actions import extract_actions
    from watcher.http import fetch, make_client

    if file_or_url.startswith(("http://", "https://")):
        with make_client(app.settings.fetch) as client:
            data = fetch(client, file_or_url, app.settings.fetch).content
    else:
        data = Path(file_or_url).read_bytes()
    actions = extract_actions(data)
    rows = [asdict(a) for a in actions]
    emit(rows, fmt, ["action", "country", "name", "aliases", "addresses", "license_requirement"])

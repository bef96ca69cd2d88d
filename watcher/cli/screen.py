"""`watcher screen NAME`: is this name (in any script) on a current list, since when, and why."""

from __future__ import annotations

from typing import Any

import click

from watcher.cli.common import App, handled, pass_app
from watcher.cli.output import FORMAT_OPTION, emit


@click.command()
@click.argument("name")
@click.option("--threshold", type=float, help="Fuzzy score needed (default: match.threshold)")
@FORMAT_OPTION
@pass_app
@handled
def screen(app: App, name: str, threshold: float | None, fmt: str) -> None:
    """Is NAME on any current list, since when, and why it matched.

    NAME may be in Latin script, Chinese (simplified or traditional), pinyin (with or without
    tones or spaces) or a Uyghur spelling; a name or alias of a watchlist entity also screens
    that entity's other names ("path": direct or watchlist)."""
    from watcher.pipeline.screen import screen_name
    from watcher.store.engine import transaction

    rows: list[dict[str, Any]] = []
    with transaction(app.runtime().engine) as conn:
        found = screen_name(conn, name, threshold or app.settings.match.threshold)
    for r in found:
        entry, hit = r.entry, r.hit
        rows.append(
            {
                "source": entry.source,
                "list_code": entry.list_code,
                "key": entry.key,
                "name": entry.name,
                "score": round(float(hit.match.score), 1),
                "method": hit.match.method,
                "path": hit.path,
                "via": hit.via or None,
                "matched_name": hit.match.matched_name,
                "reason": hit.match.reason,
                "since": r.since.isoformat() if r.since else None,
                "programs": list(entry.programs),
            }
        )
    rows.sort(key=lambda r: (-r["score"], r["source"], r["key"]))
    emit(
        rows,
        fmt,
        ["score", "path", "source", "key", "name", "since", "via"],
    )

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
    from watcher.matching.matcher import load_default_watchlist
    from watcher.matching.screening import build_screener
    from watcher.store import queries
    from watcher.store.engine import transaction
    from watcher.store.watchlist import watch_entities

    bundled, _topics = load_default_watchlist(_ALL_GROUPS)
    rows: list[dict[str, Any]] = []
    with transaction(app.runtime().sessions) as session:
        screener = build_screener(
            name,
            [*watch_entities(session), *bundled],
            threshold=threshold or app.settings.match.threshold,
        )
        candidates = [i for i, text in queries.current_texts(session) if screener.could_match(text)]
        for rec in queries.versions_by_id(session, candidates):
            hit = screener.screen(rec.entry)
            if hit is None:
                continue
            since = queries.first_listed(session, rec.entry.source, rec.entry.key)
            rows.append(
                {
                    "source": rec.entry.source,
                    "list_code": rec.entry.list_code,
                    "key": rec.entry.key,
                    "name": rec.entry.name,
                    "score": round(float(hit.match.score), 1),
                    "method": hit.match.method,
                    "path": hit.path,
                    "via": hit.via or None,
                    "matched_name": hit.match.matched_name,
                    "reason": hit.match.reason,
                    "since": since.isoformat() if since else None,
                    "programs": list(rec.entry.programs),
                }
            )
    rows.sort(key=lambda r: (-r["score"], r["source"], r["key"]))
    emit(
        rows,
        fmt,
        ["score", "path", "source", "key", "name", "since", "via"],
    )


# Screening resolves names through every bundled group, the opt-in ones too: it is a look-up,
# not an alerting decision.
_ALL_GROUPS = ("xinjiang-2019", "xinjiang-sdn", "china-tech")

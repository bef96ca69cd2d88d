"""Importing the past: archived files as dated snapshots, and eCFR backfill."""

from __future__ import annotations

import sys
from datetime import datetime
from pathlib import Path

import click

from watcher.cli.common import App, handled, parse_date, pass_app
from watcher.cli.output import Progress
from watcher.sources.names import SOURCE_NAMES as SOURCES


@click.command("replay")
@click.option("--source", required=True, type=click.Choice(sorted(SOURCES)))
@click.option("--at", "at", required=True, help="ISO date the archived files speak for")
@click.argument(
    "files", nargs=-1, required=True, type=click.Path(exists=True, dir_okay=False, path_type=Path)
)
@click.option(
    "--min-records", type=click.IntRange(0), help="Guard override: accept fewer records (a subset)."
)
@click.option("--max-records", type=click.IntRange(1), help="Guard override: the upper bound.")
@click.option(
    "--max-removed-share",
    type=click.FloatRange(0, 1),
    help="Guard override: the share of the list this import may remove (0-1).",
)
@pass_app
@handled
def replay_cmd(
    app: App,
    source: str,
    at: str,
    files: tuple[Path, ...],
    min_records: int | None,
    max_records: int | None,
    max_removed_share: float | None,
) -> None:
    """Import archived files as a dated snapshot (first FILE is the primary, others companions).

    The guard options apply to this import only, for bringing in a real subset deliberately."""
    from watcher.pipeline.run import replay

    when = parse_date(at, "--at")
    rt = app.runtime()
    named = [
        ("primary" if i == 0 else p.name, p.read_bytes(), str(p.resolve()))
        for i, p in enumerate(files)
    ]
    guards = {
        "min_records": min_records,
        "max_records": max_records,
        "max_removed_share": max_removed_share,
    }
    with Progress(f"{source}: importing {files[0].name}"):
        result = replay(rt, source, when, named, guards)
    click.echo(result.summary())
    if not result.ok:
        sys.exit(1)


@click.group()
def backfill() -> None:
    """Build history from dated archives."""


@backfill.command("ecfr")
@click.option("--from", "start", required=True, help="ISO date")
@click.option("--to", "end", required=True, help="ISO date")
@click.option(
    "--delay", default=1.0, show_default=True, help="Seconds between requests (be polite)"
)
@pass_app
@handled
def backfill_ecfr(app: App, start: str, end: str, delay: float) -> None:
    """Fetch only the dates on which 15 CFR 744 changed, as dated snapshots (resumable)."""
    from watcher.pipeline.backfill import backfill_ecfr as run_backfill

    results = run_backfill(
        app.runtime(),
        datetime.fromisoformat(start).date(),
        datetime.fromisoformat(end).date(),
        delay=delay,
        progress=sys.stderr.isatty(),
    )
    bad = [r for r in results if not r.ok]
    click.echo(f"{len(results)} dates processed, {len(bad)} failed")
    for r in bad:
        click.echo(r.summary())
    if bad:
        sys.exit(1)

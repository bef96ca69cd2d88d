"""History from dated eCFR versions: fetch only the dates on which part 744 changed.

Resumable (dates at or before the latest stored snapshot are skipped, so a re-run continues
where the last one stopped), polite (a delay between requests), and built on the same
`ingest()` as every poll, so the guards apply to each dated snapshot.
"""

from __future__ import annotations

import sys
import time
from collections.abc import Callable
from datetime import UTC, date, datetime

from watcher.http import fetch
from watcher.models import FetchedFile, RawSnapshot
from watcher.pipeline.run import RunResult, ingest, make_source
from watcher.runtime import Runtime
from watcher.sources.ecfr import parse_versions, versions_url_for
from watcher.store import snapshots as store
from watcher.store.engine import transaction

NAME = "ecfr_entity_list"


def backfill_ecfr(
    rt: Runtime,
    start: date,
    end: date,
    *,
    delay: float = 1.0,
    progress: bool = False,
    sleep: Callable[[float], None] = time.sleep,
) -> list[RunResult]:
    """Store one dated snapshot per change date of part 744 in [start, end]."""
    source, settings = make_source(rt.settings, NAME)
    template = settings.url or source.default_url
    listing = fetch(rt.http(), versions_url_for(template), rt.settings.fetch)
    dates = [d for d in parse_versions(listing.content) if start <= d <= end]
    with transaction(rt.engine) as conn:
        latest = store.latest_snapshot(conn, NAME)
    if latest is not None:
        dates = [d for d in dates if _midnight(d) > latest.effective_at]
    results: list[RunResult] = []
    for i, day in enumerate(dates, 1):
        url = template.replace("{date}", day.isoformat())
        resp = fetch(rt.http(), url, rt.settings.fetch)
        files = (
            FetchedFile(
                "primary",
                url,
                resp.content,
                resp.status,
                resp.etag,
                resp.last_modified,
                resp.content_type,
            ),
        )
        raw = RawSnapshot(NAME, files, source.digest({"primary": resp.content}), rt.clock())
        result = ingest(rt, source, settings, raw, effective_at=_midnight(day), origin="backfill")
        results.append(result)
        if progress:
            print(
                f"\r[{i}/{len(dates)}] {day}: {result.outcome}", end="", file=sys.stderr, flush=True
            )
        if i < len(dates):
            sleep(delay)
    if progress and dates:
        print(file=sys.stderr)
    return results


def _midnight(day: date) -> datetime:
    return datetime(day.year, day.month, day.day, tzinfo=UTC)

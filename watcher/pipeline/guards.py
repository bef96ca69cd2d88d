"""Guards: refuse a download that is not believable before it can touch history (DESIGN.md
section 7), and the diff of what passed against what is stored."""

from __future__ import annotations

import logging
from collections.abc import Mapping, Sequence
from dataclasses import replace

from watcher import diff as diffing
from watcher.config import SourceSettings
from watcher.errors import GuardError, ParseError
from watcher.models import Change, Entry, ParseResult, RawSnapshot
from watcher.sources.base import Source
from watcher.store.records import CurrentVersion

log = logging.getLogger(__name__)


def parse_and_guard(
    source: Source,
    settings: SourceSettings,
    raw: RawSnapshot,
    current: Mapping[str, CurrentVersion],
) -> ParseResult:
    """Refuse anything not believable before it can touch history (DESIGN.md section 7)."""
    if not raw.files or not raw.files[0].content.strip():
        raise ParseError("empty download (0 bytes of data)")
    for f in raw.files:
        if looks_like_html(f.content) and not source.accepts_html:
            raise ParseError(f"{f.name}: an HTML page was served where data was expected")
    parsed = keep_first(raw.source, source.parse({f.name: f.content for f in raw.files}))
    entries = parsed.entries
    minimum = (
        settings.min_records if settings.min_records is not None else source.default_min_records
    )
    if source.mode == "full" and len(entries) < minimum:
        raise GuardError(f"{len(entries)} records, below min_records={minimum}")
    if settings.max_records is not None and len(entries) > settings.max_records:
        raise GuardError(f"{len(entries)} records, above max_records={settings.max_records}")
    if source.mode == "full" and current:
        old = {k: v.entry for k, v in current.items()}
        share = diffing.removed_share(old, {e.key: e for e in entries})
        if share > settings.max_removed_share:
            removed = round(share * len(old))
            raise GuardError(
                f"would remove {removed} of {len(old)} entries ({share:.1%} > max_removed_share="
                f"{settings.max_removed_share:.0%})",
                status="quarantined",
            )
        share = diffing.modified_share(old, {e.key: e for e in entries})
        if share > settings.max_modified_share:
            modified = round(share * len(old))
            raise GuardError(
                f"would modify {modified} of {len(old)} entries ({share:.1%} > "
                f"max_modified_share={settings.max_modified_share:.0%})",
                status="quarantined",
            )
    return parsed


def keep_first(name: str, parsed: ParseResult) -> ParseResult:
    """Duplicate keys in one file: the first row wins, and the snapshot and the log say so."""
    seen: dict[str, Entry] = {}
    for entry in parsed.entries:
        seen.setdefault(entry.key, entry)
    dropped = len(parsed.entries) - len(seen)
    if not dropped:
        return parsed
    keys = sorted({e.key for e in parsed.entries if seen[e.key] is not e})
    shown = ", ".join(keys[:10]) + (", ..." if len(keys) > 10 else "")
    warning = f"{dropped} duplicate keys; first row kept ({shown})"
    log.warning("duplicate keys in a snapshot", extra={"source": name, "detail": warning})
    return replace(parsed, entries=tuple(seen.values()), warnings=(*parsed.warnings, warning))


def looks_like_html(content: bytes) -> bool:
    head = content[:1024].lstrip(b"\xef\xbb\xbf \t\r\n").lower()
    return head.startswith((b"<!doctype html", b"<html")) or (
        b"<html" in head and b"<body" in content[:4096].lower()
    )


def compute_changes(
    source: Source, current: Mapping[str, CurrentVersion], entries: Sequence[Entry]
) -> list[Change]:
    old = {k: v.entry for k, v in current.items()}
    new = {e.key: e for e in entries}
    if source.mode == "incremental":
        return source.reconcile_window(old, new, diffing.diff_incremental(old, new))
    pairer = getattr(source, "pair_renames", None)
    return diffing.diff_full(old, new, pair_renames=pairer)

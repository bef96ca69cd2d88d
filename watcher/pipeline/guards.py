"""Guards: refuse a download that is not believable before it can touch history (DESIGN.md
section 7), and the diff of what passed against what is stored.

Both work from the stored content hashes (`VersionRef`): the data of a stored entry is read
only when its hash differs, so a snapshot with 20 changes reads 20 entries, not 15,000."""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import replace

from watcher import diff as diffing
from watcher.config import SourceSettings
from watcher.errors import GuardError, ParseError
from watcher.models import Change, Entry, ParseResult, RawSnapshot
from watcher.sources.base import Source
from watcher.store.records import VersionRef

log = logging.getLogger(__name__)


def parse_and_guard(
    source: Source,
    settings: SourceSettings,
    raw: RawSnapshot,
    current: Mapping[str, VersionRef],
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
        share = diffing.removed_share(current, {e.key for e in entries})
        if share > settings.max_removed_share:
            removed = round(share * len(current))
            raise GuardError(
                f"would remove {removed} of {len(current)} entries ({share:.1%} > "
                f"max_removed_share={settings.max_removed_share:.0%})",
                status="quarantined",
            )
        hashes = {k: v.content_hash for k, v in current.items()}
        share = diffing.modified_share(hashes, entries)
        if share > settings.max_modified_share:
            modified = round(share * len(current))
            raise GuardError(
                f"would modify {modified} of {len(current)} entries ({share:.1%} > "
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
    source: Source,
    current: Mapping[str, VersionRef],
    entries: Sequence[Entry],
    load: Callable[[Iterable[str]], Mapping[str, Entry]],
) -> list[Change]:
    """The diff against the stored list; `load` reads stored entries by key (changed ones only).

    Unchanged entries (same content hash) take no part in a full diff, so leaving them out
    gives exactly the changes the whole lists would give.
    """
    new = {e.key: e for e in entries}
    if source.mode == "incremental":
        # Windows are small, and a source may reconcile against its whole stored window.
        old = load(list(current))
        return source.reconcile_window(old, new, diffing.diff_incremental(old, new))
    touched = [
        k for k, e in new.items() if k in current and current[k].content_hash != e.content_hash()
    ]
    old = load([*touched, *(k for k in current if k not in new)])
    fresh = {k: e for k, e in new.items() if k not in current or k in old}
    pairer = getattr(source, "pair_renames", None)
    return diffing.diff_full(old, fresh, pair_renames=pairer)

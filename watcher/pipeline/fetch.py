"""The fetch step of a poll: the files a source plans, the pages and full texts it follows, and
conditional requests on the primary file (a 304 ends the poll as "unchanged")."""

from __future__ import annotations

import logging
from collections.abc import Mapping
from typing import Any

from watcher.config import SourceSettings
from watcher.errors import FetchError
from watcher.http import Validators, fetch
from watcher.models import FetchedFile
from watcher.runtime import Runtime
from watcher.sources.base import Source

log = logging.getLogger(__name__)
MAX_FOLLOW = 60  # pages / full texts one poll may add to its plan


def fetch_files(
    rt: Runtime,
    source: Source,
    settings: SourceSettings,
    validators: Mapping[str, Any],
    known: frozenset[str],
) -> tuple[list[FetchedFile] | None, dict[str, Any]]:
    """Fetch what the source plans (and follows); None when the primary file is not modified."""
    url = settings.url or source.default_url
    companions = (
        settings.companions if settings.companions is not None else source.default_companions
    )
    queue = list(source.plan(url, companions).files)
    files: list[FetchedFile] = []
    new_validators: dict[str, Any] = dict(validators)
    followed = 0
    while queue:
        fname, furl = queue.pop(0)
        conditional = fname == "primary" and source.mode == "full"
        v = validators.get(furl, {}) if conditional else {}
        try:
            validators_of = Validators(v.get("etag"), v.get("last_modified"))
            resp = fetch(rt.http(), furl, rt.settings.fetch, validators_of)
        except FetchError as exc:
            if not source.optional(fname):
                raise
            log.warning("optional file not fetched", extra={"file": fname, "error": str(exc)})
            continue  # the source follows it again next poll
        if resp.not_modified:
            return None, new_validators
        if resp.etag or resp.last_modified:
            new_validators[furl] = {"etag": resp.etag, "last_modified": resp.last_modified}
        files.append(
            FetchedFile(
                fname,
                furl,
                resp.content,
                resp.status,
                resp.etag,
                resp.last_modified,
                resp.content_type,
            )
        )
        if followed < MAX_FOLLOW:
            more = source.follow(fname, furl, resp.content, known)[: MAX_FOLLOW - followed]
            followed += len(more)
            queue.extend(more)
    return files, new_validators

"""Placeholder: replaced by the real source module."""

from __future__ import annotations

from collections.abc import Mapping

from watcher.models import ParseResult
from watcher.sources.base import Source


class News(Source):
    name = "news"
    default_url = ""

    def parse(self, files: Mapping[str, bytes]) -> ParseResult:
        raise NotImplementedError

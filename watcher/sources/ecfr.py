"""Placeholder: replaced by the real source module."""

from __future__ import annotations

from collections.abc import Mapping

from watcher.models import ParseResult
from watcher.sources.base import Source


class EcfrEntityList(Source):
    name = "ecfr_entity_list"
    default_url = "https://www.ecfr.gov/api/versioner/v1/full/{date}/title-15.xml?part=744"

    def parse(self, files: Mapping[str, bytes]) -> ParseResult:
        raise NotImplementedError

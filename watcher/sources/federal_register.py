"""Placeholder: replaced by the real source module."""

from __future__ import annotations

from collections.abc import Mapping

from watcher.models import ParseResult
from watcher.sources.base import Source


class FederalRegister(Source):
    name = "federal_register"
    default_url = "https://www.federalregister.gov/api/v1/documents.json"

    def parse(self, files: Mapping[str, bytes]) -> ParseResult:
        raise NotImplementedError

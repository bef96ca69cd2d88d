"""Placeholder: replaced by the real source module."""

from __future__ import annotations

from collections.abc import Mapping

from watcher.models import ParseResult
from watcher.sources.base import Source


class OfacSdn(Source):
    name = "ofac_sdn"
    default_url = "https://www.treasury.gov/ofac/downloads/sdn.csv"

    def parse(self, files: Mapping[str, bytes]) -> ParseResult:
        raise NotImplementedError


class OfacConsolidated(Source):
    name = "ofac_consolidated"
    default_url = "https://www.treasury.gov/ofac/downloads/consolidated/cons_prim.csv"

    def parse(self, files: Mapping[str, bytes]) -> ParseResult:
        raise NotImplementedError

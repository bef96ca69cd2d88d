"""Placeholder: replaced by the real source module."""

from __future__ import annotations

from collections.abc import Mapping

from watcher.models import ParseResult
from watcher.sources.base import Source


class TradeCsl(Source):
    name = "trade_csl"
    default_url = "https://data.trade.gov/downloadable_consolidated_screening_list/v1/consolidated.csv"

    def parse(self, files: Mapping[str, bytes]) -> ParseResult:
        raise NotImplementedError

"""The explicit registry: source name (contract) -> class. No plugin magic."""

from __future__ import annotations

from watcher.sources.base import Source
from watcher.sources.ecfr import EcfrEntityList
from watcher.sources.federal_register import FederalRegister
from watcher.sources.news import News
from watcher.sources.ofac import OfacConsolidated, OfacSdn
from watcher.sources.trade_csl import TradeCsl

SOURCES: dict[str, type[Source]] = {
    cls.name: cls
    for cls in (OfacSdn, OfacConsolidated, TradeCsl, EcfrEntityList, FederalRegister, News)
}


def get_source(name: str, options: dict[str, object] | None = None) -> Source:
    return SOURCES[name](options)

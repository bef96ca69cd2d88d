"""Helpers shared by integration tests: a Runtime on a given database with given config."""

from __future__ import annotations

import html
import json
from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Any

from lxml import etree

from watcher.config import settings_from_dict
from watcher.runtime import Runtime
from watcher.store import subscribers, watchlist
from watcher.store.engine import make_engine, transaction


def make_runtime(
    db_url: str, config: dict[str, Any] | None = None, env: dict[str, str] | None = None
) -> Runtime:
    data = {"database": {"url": db_url}, **(config or {})}
    settings = settings_from_dict(data, env or {})
    rt = Runtime(settings, make_engine(db_url))
    with transaction(rt.engine) as conn:
        watchlist.sync_watchlist(conn, settings)
        subscribers.sync_subscribers(conn, settings)
    return rt


def at(day: str) -> datetime:
    return datetime.fromisoformat(day).replace(tzinfo=UTC)


def ecfr_part744(table: etree._Element, meta: Mapping[str, str]) -> bytes:
    """15 CFR part 744 in the eCFR's XML shape around an Entity List table: part DIV5 (with
    `hierarchy_metadata`) > appendix DIV9 > HEAD + the table. No capture of the real appendix
    exists in the fixtures: tests wrap the real table of a rule this way (MANIFEST.md)."""
    part = etree.Element(
        "DIV5", N="744", TYPE="PART", hierarchy_metadata=html.escape(json.dumps(dict(meta)))
    )
    etree.SubElement(part, "HEAD").text = "PART 744—CONTROL POLICY: END-USER AND END-USE BASED"
    appendix = etree.SubElement(part, "DIV9", N="Supplement No. 4 to Part 744", TYPE="APPENDIX")
    etree.SubElement(appendix, "HEAD").text = "Supplement No. 4 to Part 744—Entity List"
    appendix.append(table)
    return etree.tostring(part, xml_declaration=True, encoding="UTF-8")

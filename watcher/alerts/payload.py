"""The outbox payload of a change alert: everything a message needs, frozen at queue time."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import datetime
from typing import Any

from watcher.matching.matcher import Match
from watcher.models import Change

LIST_NAMES = {
    ("ofac_sdn", "SDN"): "OFAC SDN list",
    ("trade_csl", "EL"): "BIS Entity List (via the Consolidated Screening List)",
    ("ecfr_entity_list", "EL"): "BIS Entity List (eCFR, 15 CFR 744 Supp. 4)",
    ("federal_register", "EL"): "BIS Entity List (Federal Register rule)",
    ("federal_register", "FR"): "Federal Register",
    ("news", "NEWS"): "news",
}


def list_name(source: str, list_code: str) -> str:
    if (source, list_code) in LIST_NAMES:
        return LIST_NAMES[(source, list_code)]
    if source == "ofac_consolidated":
        return f"OFAC Consolidated (non-SDN) list: {list_code}"
    if source == "trade_csl":
        return f"Consolidated Screening List: {list_code}"
    return f"{source} {list_code}"


def event_payload(
    change_id: int, change: Change, matches: Sequence[Match], now: datetime
) -> dict[str, Any]:
    """Everything a message needs, frozen at queue time (the AlertEvent fields)."""
    e = change.entry
    return {
        "id": f"change:{change_id}",
        "kind": change.kind,
        "source": e.source,
        "list_code": e.list_code,
        "list_name": list_name(e.source, e.list_code),
        "key": e.key,
        "name": e.name,
        "aliases": list(e.aliases),
        "programs": list(e.programs),
        "addresses": [a.text() for a in e.addresses],
        "field_changes": [f.to_dict() for f in change.field_changes],
        "matches": [
            {
                "watch": m.watch,
                "score": round(float(m.score), 1),
                "method": m.method,
                "matched_name": m.matched_name,
                "reason": m.reason,
            }
            for m in matches
        ],
        "source_url": source_link(e.source, e.raw),
        "effective_date": e.dates.get("effective")
        or e.dates.get("effective_on")
        or e.dates.get("publication_date")
        or e.dates.get("start_date"),
        "detected_at": now.isoformat(),
        "remarks": e.remarks,
        "publication_date": e.dates.get("publication_date") or None,
    }


def source_link(source: str, raw: Mapping[str, Any]) -> str:
    """The official page a reader should open to verify."""
    for key in ("html_url", "link", "source_information_url", "source_list_url"):
        if raw.get(key):
            return str(raw[key])
    return {
        "ofac_sdn": "https://ofac.treasury.gov/recent-actions",
        "ofac_consolidated": "https://ofac.treasury.gov/consolidated-sanctions-list-non-sdn-lists",
        "trade_csl": "https://www.trade.gov/consolidated-screening-list",
        "ecfr_entity_list": "https://www.ecfr.gov/current/title-15/subtitle-B/chapter-VII/subchapter-C/part-744/appendix-Supplement%20No.%204%20to%20Part%20744",
    }.get(source, "https://www.federalregister.gov/")

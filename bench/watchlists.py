"""Watchlists of 10,000 to 100,000 real names for the screening benchmarks (reusable).

Real parties first, each with its real aliases: the SDN lists of 2019-01 and 2021-07 (with
their alt.csv), the non-SDN Consolidated lists of 2018 and 2025 (with alt.csv), and the
trade.gov CSL sample of 2023-11 (alt_names). Parties of those years that are still listed in
2024 are screened against themselves, as a bank's file of sanctioned counterparties would be.
Beyond the ~30,000 real parties, the rest are people in the shape of a customer file: a real
surname and real given names of two different SDN individuals ("SURNAME, Given Names"),
recombined with a fixed seed so every run screens the same list.
"""

from __future__ import annotations

import csv
import io
import random
from collections import defaultdict
from pathlib import Path

from watcher.models import WatchEntity

FIX = Path(__file__).resolve().parents[2] / "shared" / "fixtures"


def _csv(path: Path, encoding: str = "cp1252") -> list[list[str]]:
    text = path.read_bytes().decode(encoding, "replace").replace("\x1a", "")
    return [row for row in csv.reader(io.StringIO(text)) if row and row[0].strip()]


def _value(text: str) -> str | None:
    text = text.strip()
    return None if text in ("", "-0-") else text


def ofac_parties(primary: Path, alt: Path) -> list[WatchEntity]:
    """Parties of a legacy OFAC CSV pair: name, aliases, type."""
    aliases: dict[str, list[str]] = defaultdict(list)
    for row in _csv(alt):
        if len(row) > 3 and _value(row[3]):
            aliases[row[0].strip()].append(row[3].strip())
    out = []
    for row in _csv(primary):
        kind = _value(row[2]) if len(row) > 2 else None
        out.append(
            WatchEntity(
                row[1].strip(),
                tuple(aliases.get(row[0].strip(), ())),
                ("bench",),
                entity_type="individual" if kind == "individual" else "organization",
            )
        )
    return out


def csl_parties(path: Path) -> list[WatchEntity]:
    text = path.read_text("utf-8")
    out = []
    for row in csv.DictReader(io.StringIO(text)):
        if row.get("name") in (None, "", "name"):
            continue
        alts = tuple(a.strip() for a in (row.get("alt_names") or "").split(";") if a.strip())
        kind = "individual" if (row.get("type") or "").lower() == "individual" else None
        out.append(WatchEntity(row["name"].strip(), alts, ("bench",), entity_type=kind))
    return out


def real_parties() -> list[WatchEntity]:
    """Every real party of the fixtures above, first spelling wins."""
    sdn = FIX / "ofac_sdn"
    cons = FIX / "ofac_consolidated"
    parties = ofac_parties(sdn / "moov_sdn_2021-07.csv", sdn / "moov_alt_2021-07.csv")
    parties += ofac_parties(sdn / "moov_sdn_2019-01.csv", sdn / "moov_alt_2019-01.csv")
    parties += ofac_parties(cons / "cons_prim_2018-04-06.csv", cons / "cons_alt_2018-04-06.csv")
    parties += ofac_parties(cons / "cons_prim_2025-04-21.csv", cons / "cons_alt_2018-04-06.csv")
    parties += csl_parties(FIX / "trade_gov_csl" / "moov_csl_sample_2023-11-30.csv")
    seen: set[str] = set()
    unique = []
    for party in parties:
        if party.name.casefold() not in seen:
            seen.add(party.name.casefold())
            unique.append(party)
    return unique


def _people_parts(parties: list[WatchEntity]) -> tuple[list[str], list[str]]:
    surnames, given = set(), set()
    for party in parties:
        if party.entity_type == "individual" and ", " in party.name:
            last, first = party.name.split(", ", 1)
            if last.replace(" ", "").isalpha() and first.replace(" ", "").isalpha():
                surnames.add(last)
                given.add(first)
    return sorted(surnames), sorted(given)


def scaled_watchlist(size: int, seed: int = 11) -> list[WatchEntity]:
    """`size` watch entities: the real parties, then recombined real people's names."""
    parties = real_parties()
    if size <= len(parties):
        return random.Random(seed).sample(parties, size)
    surnames, given = _people_parts(parties)
    rng = random.Random(seed)
    seen = {p.name.casefold() for p in parties}
    out = list(parties)
    while len(out) < size:
        name = f"{rng.choice(surnames)}, {rng.choice(given)}"
        if name.casefold() not in seen:
            seen.add(name.casefold())
            out.append(WatchEntity(name, (), ("customer",), entity_type="individual"))
    return out


def watchlist_csv(entities: list[WatchEntity]) -> str:
    """The CSV `watcher watchlist import` reads: name, aliases and tags (`; `-joined), ..."""
    buf = io.StringIO()
    writer = csv.writer(buf)
    writer.writerow(["name", "aliases", "tags", "country", "notes"])
    for e in entities:
        writer.writerow([e.name, "; ".join(e.aliases), "; ".join(e.tags), e.country or "", ""])
    return buf.getvalue()

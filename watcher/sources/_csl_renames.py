"""Rename detection for CSL rows whose key is derived from the name.

A BIS or State row has no stable id, so a renamed party gets a new key. Before the diff
reports it as removed + added, we look for a removed and an added row of the same list that
the rest of the row shows to be one party:
- the same (non-empty) addresses, the same Federal Register citations and the same start
  date; or
- the name of one is among the aliases of the other (normalized).
A pair is only made when it is unambiguous both ways (one candidate each side), so two
parties sharing an address or a notice are never merged. Rows keyed by an OFAC id never
change key on a rename and are left alone.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Hashable, Sequence

from watcher.keys import csl_name_key
from watcher.models import Entry
from watcher.sources._csl_fields import OFAC_CODES


def match_renames(removed: list[Entry], added: list[Entry]) -> list[tuple[Entry, Entry]]:
    """(removed, added) pairs that are one party under a new name; order follows `removed`."""
    old = [e for e in removed if not _ofac_keyed(e)]
    new = [e for e in added if not _ofac_keyed(e)]
    new_index = _index(new)
    old_index = _index(old)
    pairs: list[tuple[Entry, Entry]] = []
    taken: set[str] = set()
    for entry in old:
        found = _candidates(entry, new_index)
        if len(found) != 1:
            continue
        partner = next(iter(found.values()))
        if partner.key in taken or len(_candidates(partner, old_index)) != 1:
            continue
        taken.add(partner.key)
        pairs.append((entry, partner))
    return pairs


def _ofac_keyed(entry: Entry) -> bool:
    number = str(entry.raw.get("entity_number", ""))
    return entry.list_code in OFAC_CODES and number.isdigit()


def _signature(entry: Entry) -> Hashable | None:
    if not entry.addresses:
        return None  # too weak alone: many debarred persons share one notice and no address
    return ("sig", entry.addresses, entry.citations, entry.dates.get("start_date", ""))


def _names(entry: Entry) -> set[str]:
    return {csl_name_key(entry.name)}


def _aliases(entry: Entry) -> set[str]:
    return {csl_name_key(a) for a in entry.aliases}


def _index(entries: Sequence[Entry]) -> dict[Hashable, list[Entry]]:
    """Lookups by (list, signature), (list, name) and (list, alias)."""
    index: dict[Hashable, list[Entry]] = defaultdict(list)
    for entry in entries:
        signature = _signature(entry)
        if signature is not None:
            index[(entry.list_code, signature)].append(entry)
        for name in _names(entry):
            index[(entry.list_code, "name", name)].append(entry)
        for alias in _aliases(entry):
            index[(entry.list_code, "alias", alias)].append(entry)
    return index


def _candidates(entry: Entry, index: dict[Hashable, list[Entry]]) -> dict[str, Entry]:
    """Entries in `index` that identify as the same party, by key."""
    code = entry.list_code
    found: list[Entry] = []
    signature = _signature(entry)
    if signature is not None:
        found += index.get((code, signature), [])
    for name in _names(entry):
        found += index.get((code, "alias", name), [])
    for alias in _aliases(entry):
        found += index.get((code, "name", alias), [])
    return {e.key: e for e in found}

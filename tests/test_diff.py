"""watcher.diff in tables of cases: what kind of change, and which fields, two versions make."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import FrozenInstanceError
from typing import Any

import pytest

from watcher.diff import diff_full, diff_incremental, field_changes, removed_share
from watcher.models import Address, Change, Entry, FieldChange, Identifier, make_entry


def entry(key: str = "1", **fields: Any) -> Entry:
    base: dict[str, Any] = {"source": "ofac_sdn", "list_code": "SDN", "name": "HIKVISION"}
    return make_entry(key=key, **(base | fields))


def keyed(*entries: Entry) -> dict[str, Entry]:
    return {e.key: e for e in entries}


URUMQI = Address(address="1 Road", city="Urumqi", country="China")
KASHGAR = Address(address="2 Street", city="Kashgar", country="China")
USCC = Identifier("USCC", "91330000733796106P", "China")

# (case, before fields, after fields, expected field changes)
FIELD_CASES: list[tuple[str, dict[str, Any], dict[str, Any], list[FieldChange]]] = [
    ("no change", {}, {}, []),
    ("rename", {}, {"name": "HIKVISION DIGITAL"},
     [FieldChange("name", before="HIKVISION", after="HIKVISION DIGITAL")]),
    ("alias added", {"aliases": ["A"]}, {"aliases": ["A", "海康威视"]},
     [FieldChange("aliases", added=("海康威视",))]),
    ("alias removed", {"aliases": ["A", "B"]}, {"aliases": ["A"]},
     [FieldChange("aliases", removed=("B",))]),
    ("alias replaced", {"aliases": ["A"]}, {"aliases": ["B"]},
     [FieldChange("aliases", added=("B",), removed=("A",))]),
    ("address changed", {"addresses": [URUMQI]}, {"addresses": [KASHGAR]},
     [FieldChange("addresses", added=("2 Street, Kashgar, China",),
                  removed=("1 Road, Urumqi, China",))]),
    ("program added", {"programs": ["SDGT"]}, {"programs": ["SDGT", "CMIC-EO13959"]},
     [FieldChange("programs", added=("CMIC-EO13959",))]),
    ("id added", {}, {"ids": [USCC]},
     [FieldChange("ids", added=("USCC: 91330000733796106P (China)",))]),
    ("citation added", {"citations": ["84 FR 54002"]},
     {"citations": ["84 FR 54002", "85 FR 1"]}, [FieldChange("citations", added=("85 FR 1",))]),
    ("list moved", {}, {"list_code": "NS-CMIC"},
     [FieldChange("list_code", before="SDN", after="NS-CMIC")]),
    ("type set", {}, {"entity_type": "Entity"},
     [FieldChange("entity_type", before=None, after="entity")]),
    ("remarks changed", {"remarks": "a"}, {"remarks": "b"},
     [FieldChange("remarks", before="a", after="b")]),
    ("date added", {}, {"dates": {"listed": "2019-10-09"}},
     [FieldChange("dates.listed", None, "2019-10-09")]),
    ("raw value changed", {"raw": {"x": 1, "y": 2}}, {"raw": {"x": 1, "y": 3}},
     [FieldChange("raw.y", 2, 3)]),
    ("order and spacing only", {"aliases": ["B", "A"], "programs": ["P2", "P1"]},
     {"aliases": ["A ", " B"], "programs": ["P1", "P2", "P1"]}, []),
    ("several at once", {"aliases": ["A"]}, {"name": "HIK", "aliases": ["A", "C"]},
     [FieldChange("name", before="HIKVISION", after="HIK"), FieldChange("aliases", added=("C",))]),
]  # fmt: skip


@pytest.mark.parametrize(
    ("before", "after", "expected"),
    [c[1:] for c in FIELD_CASES],
    ids=[c[0] for c in FIELD_CASES],
)
def test_field_changes(
    before: dict[str, Any], after: dict[str, Any], expected: list[FieldChange]
) -> None:
    old, new = entry(**before), entry(**after)
    assert list(field_changes(old, new)) == expected
    assert (old.content_hash() == new.content_hash()) == (not expected)


A, B, C = entry("a", name="A"), entry("b", name="B"), entry("c", name="C")
B2 = entry("b", name="B", aliases=["B-alias"])

# (case, old entries, new entries, expected (kind, key) in order)
FULL_CASES: list[tuple[str, list[Entry], list[Entry], list[tuple[str, str]]]] = [
    ("no change", [A, B], [A, B], []),
    ("added", [A], [A, B], [("added", "b")]),
    ("removed", [A, B], [A], [("removed", "b")]),
    ("modified", [A, B], [A, B2], [("modified", "b")]),
    ("all three", [A, B], [B2, C], [("added", "c"), ("modified", "b"), ("removed", "a")]),
    ("from empty", [], [A, B], [("added", "a"), ("added", "b")]),
    ("to empty", [A], [], [("removed", "a")]),
    ("order of the input does not matter", [B, A], [A, B], []),
]  # fmt: skip


@pytest.mark.parametrize(
    ("old", "new", "expected"), [c[1:] for c in FULL_CASES], ids=[c[0] for c in FULL_CASES]
)
def test_diff_full(old: list[Entry], new: list[Entry], expected: list[tuple[str, str]]) -> None:
    changes = diff_full(keyed(*old), keyed(*new))
    assert [(c.kind, c.key) for c in changes] == expected
    for c in changes:
        assert c.before == (keyed(*old).get(c.key) if c.kind != "added" else None)
        assert c.after == (keyed(*new).get(c.key) if c.kind != "removed" else None)
    assert diff_full(keyed(*reversed(old)), keyed(*reversed(new))) == changes


def _pair_by_id(removed: Sequence[Entry], added: Sequence[Entry]) -> list[tuple[Entry, Entry]]:
    return [(r, a) for r in removed for a in added if r.ids and r.ids == a.ids]


def test_rename_paired_by_the_source_is_one_modification_under_the_old_key() -> None:
    old = entry("old-key", name="ZHEJIANG DAHUA", ids=[USCC])
    new = entry("new-key", name="DAHUA TECHNOLOGY", ids=[USCC])
    other = entry("z", name="OTHER")
    changes = diff_full(keyed(old), keyed(new, other), pair_renames=_pair_by_id)
    assert [(c.kind, c.key) for c in changes] == [("added", "z"), ("modified", "new-key")]
    renamed = changes[1]
    assert renamed.before == old and renamed.after == new
    assert renamed.field_changes == (
        FieldChange("name", before="ZHEJIANG DAHUA", after="DAHUA TECHNOLOGY"),
    )
    unpaired = diff_full(keyed(old), keyed(new))
    assert [(c.kind, c.key) for c in unpaired] == [("added", "new-key"), ("removed", "old-key")]


# (case, old, new, expected (kind, key))
INCREMENTAL_CASES: list[tuple[str, list[Entry], list[Entry], list[tuple[str, str]]]] = [
    ("absence means nothing", [A, B], [A], []),
    ("new document", [A], [A, C], [("added", "c")]),
    ("changed document", [B], [B2], [("modified", "b")]),
    ("add action", [], [entry("r1", raw={"action": "add"})], [("added", "r1")]),
    ("remove action", [], [entry("r2", raw={"action": "remove"})], [("removed", "r2")]),
    ("revise action", [], [entry("r3", raw={"action": "revise"})], [("modified", "r3")]),
    ("unknown action", [], [entry("r4", raw={"action": "other"})], [("added", "r4")]),
]  # fmt: skip


@pytest.mark.parametrize(
    ("old", "new", "expected"),
    [c[1:] for c in INCREMENTAL_CASES],
    ids=[c[0] for c in INCREMENTAL_CASES],
)
def test_diff_incremental(
    old: list[Entry], new: list[Entry], expected: list[tuple[str, str]]
) -> None:
    assert [(c.kind, c.key) for c in diff_incremental(keyed(*old), keyed(*new))] == expected


def test_incremental_modification_carries_field_changes() -> None:
    [change] = diff_incremental(keyed(B), keyed(B2))
    assert change.field_changes == (FieldChange("aliases", added=("B-alias",)),)


@pytest.mark.parametrize(
    ("old", "new", "share"),
    [([], [A], 0.0), ([A, B], [A, B], 0.0), ([A, B], [A], 0.5), ([A, B], [C], 1.0),
     ([A, B, C], [A, B, C, entry("d")], 0.0)],
)  # fmt: skip
def test_removed_share(old: list[Entry], new: list[Entry], share: float) -> None:
    assert removed_share(keyed(*old), keyed(*new)) == share


def test_added_and_removed_changes_are_plain_changes() -> None:
    """diff_full builds its additions and removals without Change.__init__: still equal,
    frozen and printable like any Change."""
    old, new = entry("1"), entry("2", name="DAHUA")
    changes = diff_full(keyed(old), keyed(new))
    assert changes == [Change("added", "2", None, new), Change("removed", "1", old, None)]
    assert repr(changes[0]) == repr(Change("added", "2", None, new))
    with pytest.raises(FrozenInstanceError):
        changes[0].kind = "removed"  # type: ignore[misc]

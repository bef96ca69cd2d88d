"""Public inspection -> publication reconciliation of entity actions (`_fr_stages`), as a table.

Real: the entries of fr_2023-03929 as its GPO XML gives them. Derived here: the same entries at
the public-inspection stage (placeholder citation, the manuscript's footnote spacing), and
variants with an address changed, an entry missing, or the document gone unpublished.
"""

from __future__ import annotations

from dataclasses import replace

import pytest

from tests.entity_list.manuscript_pdf import rule_actions
from watcher.diff import diff_incremental
from watcher.entity_list.actions import EntityAction
from watcher.models import Change, Entry
from watcher.sources import _fr_stages as stages
from watcher.sources.federal_register import action_entry

PLACEHOLDER = "88 FR [INSERT FR PAGE NUMBER] [INSERT DATE OF PUBLICATION IN THE FEDERAL REGISTER]"
PI_RECORD = {"publication_date": "2023-02-27", "html_url": "https://example.org/pi"}
DOC_RECORD = {"publication_date": "2023-02-27", "html_url": "https://example.org/doc"}


def _pi(action: EntityAction) -> Entry:
    requirement = (action.license_requirement or "").replace("),3 ", "), 3 ")
    staged = replace(
        action,
        stage="public_inspection",
        citation=PLACEHOLDER,
        citations=(PLACEHOLDER,),
        federal_register_citation=None,
        license_requirement=requirement,
    )
    return action_entry(staged, PI_RECORD)


def _published(action: EntityAction) -> Entry:
    return action_entry(action, DOC_RECORD)


def _diff(old: dict[str, Entry], new: dict[str, Entry], *, pi_list_read: bool) -> list[Change]:
    return stages.diff_stages(old, new, diff_incremental(old, new), pi_list_read=pi_list_read)


def _keyed(entries: list[Entry]) -> dict[str, Entry]:
    return {e.key: e for e in entries}


@pytest.fixture(scope="module")
def actions() -> list[EntityAction]:
    return rule_actions()


def test_first_sight_on_public_inspection_is_marked(actions: list[EntityAction]) -> None:
    changes = _diff({}, _keyed([_pi(a) for a in actions]), pi_list_read=True)
    assert len(changes) == 13 and {c.kind for c in changes} == {"added"}
    assert {c.field_changes[0].after for c in changes} == {"public_inspection"}
    assert all(stages.alertable(c) for c in changes)


def test_the_same_actions_published_are_silent(actions: list[EntityAction]) -> None:
    old = _keyed([_pi(a) for a in actions])
    changes = _diff(old, _keyed([_published(a) for a in actions]), pi_list_read=True)
    assert len(changes) == 13
    assert [f.field for c in changes for f in c.field_changes] == ["stage"] * 13
    assert not any(stages.alertable(c) for c in changes)


def test_a_changed_appeared_or_dropped_action_is_one_follow_up_each(
    actions: list[EntityAction],
) -> None:
    old = _keyed([_pi(a) for a in actions[:-1]])  # the last entry only appears at publication
    changed = replace(actions[0], addresses=("1 New Street, Montreal, Canada",))
    new = _keyed([_published(a) for a in [changed, *actions[2:]]])  # actions[1] dropped
    changes = {c.key: c for c in _diff(old, new, pi_list_read=True)}
    loud = {k: c for k, c in changes.items() if stages.alertable(c)}
    assert set(loud) == {actions[0].key(), actions[1].key(), actions[-1].key()}
    first = loud[actions[0].key()]
    assert [f.field for f in first.field_changes] == ["stage", "addresses"]
    assert first.field_changes[1].added == ("1 New Street, Montreal, Canada, CANADA",)
    dropped = loud[actions[1].key()]
    assert dropped.kind == "removed" and dropped.field_changes[0].after == stages.DROPPED
    appeared = loud[actions[-1].key()]
    assert appeared.kind == "added" and appeared.field_changes[0].before == stages.NOT_ON_PI


def test_withdrawal_needs_the_window_past_the_scheduled_date(
    actions: list[EntityAction],
) -> None:
    old = _keyed([_pi(a) for a in actions])
    later = Entry(
        source="federal_register",
        key="2023-04100",
        list_code="FR",
        name="Technical Corrections",
        dates={"publication_date": "2023-02-28"},
    )
    same_day = replace(later, dates={"publication_date": "2023-02-27"})

    def retired(new: Entry, pi_list_read: bool) -> list[Change]:
        changes = _diff(old, {new.key: new}, pi_list_read=pi_list_read)
        return [c for c in changes if c.key != new.key]  # the later document itself is added

    assert retired(same_day, True) == []
    assert retired(later, False) == []
    withdrawn = retired(later, True)
    assert len(withdrawn) == 13 and {c.kind for c in withdrawn} == {"removed"}
    assert {c.field_changes[0].after for c in withdrawn} == {stages.WITHDRAWN}

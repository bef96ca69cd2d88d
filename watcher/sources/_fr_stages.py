"""Public inspection -> publication: how a rule's entity actions change stage (pure).

An Entity List action read from the public-inspection PDF is stored with `raw.stage =
"public_inspection"` under the same key the published XML later gives it, so publication is a
modification of the same entry. These functions turn the plain incremental diff into what a
subscriber should hear, using the `stage` field change as the marker:

- new on public inspection: `stage: None -> public_inspection` (the day-early alert);
- published and the same in substance (name, aliases, addresses, license requirement and
  policy, compared without spacing, punctuation and footnote numbers): only
  `stage: public_inspection -> published`; silent (`alertable` is False);
- published but different: the stage change plus the fields that differ (one follow-up);
- published and new (not in the public-inspection version): `stage: (not on public
  inspection) -> published`;
- in the public-inspection version but not in the published one: removed, `stage:
  public_inspection -> dropped at publication`;
- the document left the public-inspection list without being published by its scheduled date
  (the documents window has moved past it): its actions are removed, `stage: public_inspection
  -> withdrawn`.
"""

from __future__ import annotations

import re
from collections import defaultdict
from collections.abc import Mapping

from watcher.keys import name_key
from watcher.models import Change, Entry, FieldChange

PI = "public_inspection"
PUBLISHED = "published"
NOT_ON_PI = "(not on public inspection)"
DROPPED = "dropped at publication"
WITHDRAWN = "withdrawn"
_FOOTNOTE_NUMBER = re.compile(r"(?<=[,;)\]])\d{1,2}(?=\s|$)")
# In license text a footnote mark may come out of a PDF set apart: "734.9(g), 3 744.21(b)".
_LICENSE_FOOTNOTE = re.compile(r"(?<=[,;)\]])\s?\d{1,2}(?=\s+\d{3}\.)")


def stage_of(entry: Entry) -> str | None:
    value = entry.raw.get("stage")
    return str(value) if value else None


def diff_stages(
    old: Mapping[str, Entry],
    new: Mapping[str, Entry],
    changes: list[Change],
    *,
    pi_list_read: bool,
) -> list[Change]:
    """The plain incremental diff (`changes`) with public-inspection stages reconciled."""
    pending = _pending_by_document(old)
    out: list[Change] = []
    for change in changes:
        after = change.after
        if after is None or after.list_code != "EL":
            out.append(change)
        elif change.before is None:
            out.append(_first_seen(change, after, pending))
        elif stage_of(change.before) == PI and stage_of(after) == PUBLISHED:
            marker = FieldChange("stage", before=PI, after=PUBLISHED)
            fields = (marker, *substantive_changes(change.before, after))
            out.append(Change("modified", change.key, change.before, after, fields))
        else:
            out.append(change)
    published_docs = {_document(e) for e in new.values() if stage_of(e) == PUBLISHED}
    for doc, entries in sorted(pending.items()):
        if doc in published_docs:
            gone = [e for e in entries if e.key not in new]
            out += [_retire(e, DROPPED) for e in gone]
        elif pi_list_read and _withdrawn(doc, entries, new):
            out += [_retire(e, WITHDRAWN) for e in entries]
    return out


def alertable(change: Change) -> bool:
    """False for a publication that only confirms what public inspection already said."""
    fields = [f.field for f in change.field_changes]
    return not (
        change.kind == "modified"
        and fields == ["stage"]
        and change.field_changes[0].after == PUBLISHED
    )


def substantive_changes(before: Entry, after: Entry) -> tuple[FieldChange, ...]:
    """What a reader would call a different entry; typography and citations do not count."""
    out: list[FieldChange] = []
    if _norm(before.name) != _norm(after.name):
        out.append(FieldChange("name", before=before.name, after=after.name))
    for field in ("aliases", "addresses"):
        old = _members(before, field)
        new = _members(after, field)
        added = tuple(v for k, v in new.items() if k not in old)
        removed = tuple(v for k, v in old.items() if k not in new)
        if added or removed:
            out.append(FieldChange(field, added=added, removed=removed))
    for key in ("license_requirement", "license_policy", "action"):
        a, b = before.raw.get(key), after.raw.get(key)
        if _norm(_LICENSE_FOOTNOTE.sub("", str(a or ""))) != _norm(
            _LICENSE_FOOTNOTE.sub("", str(b or ""))
        ):
            out.append(FieldChange(f"raw.{key}", before=a, after=b))
    return tuple(out)


def _first_seen(change: Change, after: Entry, pending: Mapping[str, list[Entry]]) -> Change:
    stage = stage_of(after)
    if stage == PI:
        marker = FieldChange("stage", before=None, after=PI)
    elif stage == PUBLISHED and _document(after) in pending:
        marker = FieldChange("stage", before=NOT_ON_PI, after=PUBLISHED)
    else:
        return change
    return Change(change.kind, change.key, None, after, (marker, *change.field_changes))


def _retire(entry: Entry, why: str) -> Change:
    return Change("removed", entry.key, entry, None, (FieldChange("stage", before=PI, after=why),))


def _pending_by_document(old: Mapping[str, Entry]) -> dict[str, list[Entry]]:
    out: dict[str, list[Entry]] = defaultdict(list)
    for entry in old.values():
        if entry.list_code == "EL" and stage_of(entry) == PI:
            out[_document(entry)].append(entry)
    return out


def _withdrawn(doc: str, entries: list[Entry], new: Mapping[str, Entry]) -> bool:
    """Gone from public inspection, unpublished, and the window is past its scheduled date."""
    if doc in new:
        return False
    scheduled = max((str(e.dates.get("publication_date") or "") for e in entries), default="")
    newest = max(
        (
            str(e.dates.get("publication_date") or "")
            for e in new.values()
            if e.list_code == "FR" and not e.raw.get("public_inspection")
        ),
        default="",
    )
    return bool(scheduled and newest and newest > scheduled)


def _document(entry: Entry) -> str:
    number = entry.raw.get("document_number")
    return str(number) if number else entry.key.split(":", 1)[0]


def _members(entry: Entry, field: str) -> dict[str, str]:
    values = entry.aliases if field == "aliases" else tuple(a.text() for a in entry.addresses)
    return {_norm(v): v for v in values if _norm(v)}


def _norm(text: str) -> str:
    return name_key(_FOOTNOTE_NUMBER.sub("", text))

"""Federal Register entity actions linked to the lists that carry them out (CSL, eCFR).

The Federal Register says first what BIS adds, removes or revises; the CSL and the eCFR follow
days later. This module runs inside each pipeline transaction (`after_apply`):
- federal_register: store the documents and their extracted actions (`store.documents`), and
  tell operators (once per document) of an Entity List rule whose text gave no action;
- trade_csl / ecfr_entity_list: link each Entity List change to the FR action it carries out
  (added -> "add", removed -> "remove", modified -> "revise"), matched by normalized name and
  country. A change links to the newest rule with matching actions not yet linked for that
  list (to each of that rule's actions naming the party, one per country);
- both: report to operators every FR action the CSL still does not reflect `csl_lag` after
  publication (`[sources.federal_register] csl_lag`, default 72h), one incident per action.

Matching rule: the action's name (normalized as `watcher.keys.name_key`) is the entry's
name or one of its aliases, or the entry's name is one of the action's aliases; and, when both
sides have a country, the countries agree (ISO code, so "CHINA, PEOPLE'S REPUBLIC OF" in a rule
and "CN" in the CSL are one country).

"Reflected" is judged on the current CSL, not only on changes: an "add" or "revise" is reflected
once the CSL Entity List holds the party, a "remove" once it does not. Only actions whose
deadline (publication day 00:00 UTC + csl_lag) falls after the CSL's first good snapshot are
checked: before that nobody was watching the CSL, so history is not reported as an outage.
"""

from __future__ import annotations

import hashlib
import logging
from collections import defaultdict
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, time, timedelta

from sqlalchemy import Connection

from watcher.config import Settings, parse_duration
from watcher.errors import ConfigError
from watcher.keys import name_key
from watcher.matching.normalize import country_code
from watcher.models import Change, Entry, ParseResult
from watcher.store import alerting, links
from watcher.store import documents as docs
from watcher.store.records import SnapshotInfo

log = logging.getLogger(__name__)

FR = "federal_register"
CSL = "trade_csl"
ECFR = "ecfr_entity_list"
LINKED_SOURCES = (CSL, ECFR)
KIND_TO_ACTION = {"added": "add", "removed": "remove", "modified": "revise"}
DEFAULT_CSL_LAG = 72 * 3600.0
INCIDENT_KIND = "fr_not_in_csl"
INCIDENT_TITLE = "published in the Federal Register, not yet in the CSL"
# Long forms the rules use that ICU's English country names do not know.
_COUNTRY_FORMS = {
    "china peoples republic of": "CN",
    "korea democratic peoples republic of": "KP",
    "korea republic of": "KR",
    "iran islamic republic of": "IR",
    "taiwan": "TW",
}


@dataclass(frozen=True)
class Party:
    """The identifying facts of a list entry: names (normalized) and countries (ISO)."""

    main: str
    names: frozenset[str]
    countries: frozenset[str]


def after_apply(
    conn: Connection,
    settings: Settings,
    source: str,
    snapshot: SnapshotInfo,
    changes: Sequence[Change],
    ids: Sequence[int],
    parsed: ParseResult,
    *,
    now: datetime,
) -> None:
    """The pipeline hook: documents for the FR, links for the lists, then the lag check."""
    if source == FR:
        actions = parsed.extras.get("entity_actions") or {}
        docs.record_documents(
            conn,
            parsed.entries,
            actions,
            now=now,
            snapshot_id=snapshot.id,
            country_code=country_key,
        )
        for change in changes:
            stage = next((f.after for f in change.field_changes if f.field == "stage"), None)
            if change.kind == "removed" and change.before is not None and stage:
                docs.set_stage(conn, change.key, str(stage), now=now)  # dropped / withdrawn
        unread = parsed.extras.get("unread_texts") or {}
        report_unread(conn, settings, unread, [n for n in actions if n not in unread], now=now)
        check_unreflected(conn, settings, now)
    elif source in LINKED_SOURCES:
        # Baseline snapshots store no change rows (ids is empty): nothing to link.
        link_changes(conn, settings, source, list(zip(ids, changes, strict=False)), now=now)
        if source == CSL:
            check_unreflected(conn, settings, now)


def report_unread(
    conn: Connection,
    settings: Settings,
    unread: Mapping[str, str],
    read: Iterable[str],
    *,
    now: datetime,
) -> None:
    """An Entity List rule whose text gave no action would reach no subscriber: operators hear
    once per document (its text is fetched again each poll); reading it later closes that."""
    for number, problem in sorted(unread.items()):
        alerting.open_incident(
            conn,
            settings,
            f"unread_text:{number}",
            source=FR,
            kind="unread_full_text",
            title=f"{FR}: no Entity List actions read from {number}",
            detail=f"{problem}. Subscribers hear nothing of this rule's entries until its "
            f"text is read; it is fetched again at each poll (`watcher fr extract {number}` "
            "shows what is read).",
            now=now,
        )
    for number in read:
        alerting.close_incident(conn, settings, f"unread_text:{number}", now=now, recovered=False)


def follow_hints(conn: Connection, source: str) -> frozenset[str]:
    """Extra known keys for a source's `follow`: FR documents still awaiting publication."""
    if source != FR:
        return frozenset()
    from watcher.sources.federal_register import AWAITING

    return frozenset(f"{n}{AWAITING}" for n in docs.awaiting_publication(conn))


def country_key(country: str | None) -> str | None:
    """ISO code of a country as a rule, the eCFR or the CSL spells it; None if unknown."""
    if not country or not country.strip():
        return None
    form = _COUNTRY_FORMS.get(name_key(country))
    if form:
        return form
    code = country_code(country)
    if code is None and "," in country:
        code = country_code(country.split(",", 1)[0])
    return code


def party(entry: Entry) -> Party:
    names = {name_key(n) for n in (entry.name, *entry.aliases) if n}
    countries = {c for c in (country_key(x) for x in entry.countries()) if c}
    return Party(name_key(entry.name), frozenset(names), frozenset(countries))


def same_party(action: docs.ActionInfo, listed: Party) -> str | None:
    """How an action names a listed party ("name+country" / "name"), or None if it does not."""
    if name_key(action.name) not in listed.names and listed.main not in action.names:
        return None
    if action.country_code and listed.countries:
        return "name+country" if action.country_code in listed.countries else None
    return "name"


def link_changes(
    conn: Connection,
    settings: Settings,
    source: str,
    stored: Sequence[tuple[int, Change]],
    *,
    now: datetime,
) -> int:
    """Link each stored Entity List change of `source` to the FR action it carries out."""
    relevant = [(i, c) for i, c in stored if c.entry.list_code == "EL"]
    if not relevant:
        return 0
    wanted = sorted({KIND_TO_ACTION[c.kind] for _, c in relevant})
    pool = docs.actions(conn, kinds=wanted)  # newest publication first
    index = _index(pool)
    done = links.linked_sources(conn, [a.key for a in pool])
    linked = 0
    for change_id, change in relevant:
        document: str | None = None
        for action, method in _candidates(index, change):
            # The newest matching rule wins; all its actions naming the party link (one CSL
            # row may carry the party's entries under several countries).
            if (action.key, source) in done or document not in (None, action.document_number):
                continue
            document = action.document_number
            links.add_link(
                conn,
                action,
                target_source=source,
                change_id=change_id,
                target_key=change.key,
                target_kind=change.kind,
                method=method,
                now=now,
            )
            done.add((action.key, source))
            linked += 1
            if source == CSL:
                _settle(conn, settings, action, now, f"{CSL} change {change_id}")
    return linked


def _index(pool: Iterable[docs.ActionInfo]) -> dict[str, list[docs.ActionInfo]]:
    index: dict[str, list[docs.ActionInfo]] = defaultdict(list)
    for action in pool:
        for name in action.names:
            index[name].append(action)
    return index


def _candidates(
    index: dict[str, list[docs.ActionInfo]], change: Change
) -> list[tuple[docs.ActionInfo, str]]:
    """Actions of the change's kind naming its party (before or after a rename), newest first."""
    kind = KIND_TO_ACTION[change.kind]
    parties = [party(e) for e in (change.before, change.after) if e is not None]
    seen: dict[str, tuple[docs.ActionInfo, str]] = {}
    for p in parties:
        for name in p.names:
            for action in index.get(name, ()):
                method = same_party(action, p)
                if action.action == kind and method and action.key not in seen:
                    seen[action.key] = (action, method)
    return sorted(
        seen.values(),
        key=lambda am: am[0].publication_date.isoformat() if am[0].publication_date else "",
        reverse=True,
    )


def csl_lag(settings: Settings) -> float:
    """Seconds the CSL may take to reflect an FR action before operators hear of it."""
    value = settings.source(FR).options.get("csl_lag")
    if value is None:
        return DEFAULT_CSL_LAG
    try:
        return parse_duration(value, "sources.federal_register.csl_lag")
    except ConfigError as exc:
        log.warning("%s; using the default of 72h", exc)
        return DEFAULT_CSL_LAG


def deadline(action: docs.ActionInfo, lag: float) -> datetime | None:
    if action.publication_date is None:
        return None
    start = datetime.combine(action.publication_date, time(), UTC)
    return start + timedelta(seconds=lag)


def check_unreflected(conn: Connection, settings: Settings, now: datetime) -> int:
    """One operator incident per FR action the CSL does not reflect `csl_lag` after publication.

    Returns the number of incidents opened now (an incident already open stays quiet); actions
    found reflected are settled and their incident closed.
    """
    watched_since = docs.first_good_snapshot_at(conn, CSL)
    if watched_since is None:
        return 0  # the CSL is not watched (yet): nothing to compare with
    lag = csl_lag(settings)
    due = []
    for action in docs.actions(conn, kinds=tuple(KIND_TO_ACTION.values()), pending_only=True):
        when = deadline(action, lag)
        if when is not None and watched_since <= when <= now:
            due.append(action)
    if not due:
        return 0
    listed = _listed_index(docs.current_list(conn, CSL, "EL"))
    opened = 0
    for action in due:
        if _is_listed(action, listed) == (action.action != "remove"):
            _settle(conn, settings, action, now, f"{CSL} list")
            continue
        opened += alerting.open_incident(
            conn,
            settings,
            incident_key(action.key),
            source=FR,
            kind=INCIDENT_KIND,
            title=INCIDENT_TITLE,
            detail=_detail(action, lag),
            now=now,
        )
    return opened


def _listed_index(entries: Iterable[Entry]) -> dict[str, list[Party]]:
    index: dict[str, list[Party]] = defaultdict(list)
    for entry in entries:
        p = party(entry)
        for name in p.names:
            index[name].append(p)
    return index


def _is_listed(action: docs.ActionInfo, listed: dict[str, list[Party]]) -> bool:
    return any(
        same_party(action, p) is not None for name in action.names for p in listed.get(name, ())
    )


def _settle(
    conn: Connection, settings: Settings, action: docs.ActionInfo, now: datetime, by: str
) -> None:
    if docs.mark_reflected(conn, action.key, now=now, by=by):
        alerting.close_incident(conn, settings, incident_key(action.key), now=now, recovered=True)


def incident_key(action_key: str) -> str:
    """`fr_not_in_csl:{action key}`, hashed when too long for the incidents table."""
    key = f"{INCIDENT_KIND}:{action_key}"
    if len(key) <= 256:
        return key
    digest = hashlib.sha256(action_key.encode()).hexdigest()[:24]
    return f"{INCIDENT_KIND}:{action_key.split(':', 1)[0]}:{digest}"


def _detail(action: docs.ActionInfo, lag: float) -> str:
    verb = {"add": "adds", "remove": "removes", "revise": "revises"}.get(action.action, "changes")
    where = f" ({action.country})" if action.country else ""
    state = "still lists it" if action.action == "remove" else "does not list it"
    return (
        f"FR {action.document_number} (published {action.publication_date}) {verb} "
        f"{action.name!r}{where} on the Entity List; {lag / 3600:g}h later the CSL Entity "
        f"List {state}"
    )

"""Topic rules: match a listed party by place and role instead of by name.

A topic is data (place phrases, role phrases) plus the code below. Evidence comes from three
places of an entry, never from personal data:
- the party's names (not for individuals: a person's name is not a location),
- its addresses (street names like "Urumqi Road, Shanghai" are not a location in Xinjiang),
- the organisations it is "Linked To:" in the remarks.
Place of birth, nationality and citizenship are never read: remarks contribute only their
"Linked To:" and "a.k.a." segments.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass

from watcher.matching.normalize import country_code, has_han, text_tokens, to_simplified

_CHINA = frozenset({"CN", "HK", "MO"})
_STREET = frozenset(
    {"road", "rd", "street", "st", "lu", "jie", "avenue", "ave", "lane", "ln", "blvd", "boulevard"}
)
_DIRECTION = frozenset({"north", "south", "east", "west", "middle", "bei", "nan", "dong", "xi"})
_HAN_STREET = ("路", "街", "大道")
_LINKED = re.compile(r"^\s*linked to\s*:\s*(?P<target>.+?)\s*\.?\s*$", re.IGNORECASE)
_AKA = re.compile(r"^\s*[afn]\.k\.a\.?,?\s*['\"]?(?P<name>.+?)['\"]?\s*\.?\s*$", re.IGNORECASE)


@dataclass(frozen=True)
class Topic:
    """A rule that matches by place (and, if `roles` is set, by role in the same name)."""

    name: str
    description: str
    places: tuple[str, ...]
    ambiguous_places: tuple[str, ...] = ()
    roles: tuple[str, ...] = ()
    tags: tuple[str, ...] = ()


@dataclass(frozen=True)
class Phrase:
    """One place or role phrase, ready to search: whole tokens, or literal simplified Han."""

    text: str
    tokens: tuple[str, ...]
    han: str | None


@dataclass(frozen=True)
class PhraseSet:
    """Phrases indexed by first token, so a text is scanned once, not once per phrase."""

    by_first: Mapping[str, tuple[Phrase, ...]]
    han: tuple[Phrase, ...]


def compile_phrases(phrases: Iterable[str]) -> PhraseSet:
    by_first: dict[str, list[Phrase]] = {}
    han: list[Phrase] = []
    for phrase in phrases:
        if has_han(phrase):
            han.append(Phrase(phrase, (), to_simplified(phrase)))
            continue
        tokens = text_tokens(phrase)
        if tokens:
            by_first.setdefault(tokens[0], []).append(Phrase(phrase, tokens, None))
    return PhraseSet({k: tuple(v) for k, v in by_first.items()}, tuple(han))


@dataclass(frozen=True)
class Text:
    """A piece of evidence prepared once: its tokens and its simplified Han form."""

    raw: str
    tokens: tuple[str, ...]
    han: str


def prepare(raw: str) -> Text:
    return Text(raw, text_tokens(raw), to_simplified(raw) if has_han(raw) else "")


def find_phrase(text: Text, phrases: PhraseSet, address: bool = False) -> Phrase | None:
    """First phrase found in `text` as whole tokens; in addresses, street names do not count."""
    tokens = text.tokens
    for i, token in enumerate(tokens):
        for phrase in phrases.by_first.get(token, ()):
            end = i + len(phrase.tokens)
            if tokens[i:end] == phrase.tokens and not (address and _street_at(tokens, end)):
                return phrase
    if text.han:
        for phrase in phrases.han:
            assert phrase.han is not None
            at = text.han.find(phrase.han)
            if at >= 0 and not (address and _han_street_at(text.han, at + len(phrase.han))):
                return phrase
    return None


def _street_at(tokens: tuple[str, ...], i: int) -> bool:
    nxt = tokens[i : i + 2]
    if nxt and nxt[0] in _STREET:
        return True
    return len(nxt) == 2 and nxt[0] in _DIRECTION and nxt[1] in _STREET


def _han_street_at(han: str, i: int) -> bool:
    return han.startswith(_HAN_STREET, i)


def remark_parts(remarks: str | None) -> tuple[list[str], list[str]]:
    """("Linked To:" targets, "a.k.a." names) of OFAC remarks; everything else is ignored."""
    linked: list[str] = []
    akas: list[str] = []
    for segment in (remarks or "").split(";"):
        if m := _LINKED.match(segment):
            linked.append(m.group("target"))
        elif m := _AKA.match(segment):
            akas.append(m.group("name"))
    return linked, akas


def is_china_or_unknown(countries: Iterable[str | None]) -> bool:
    """True unless some address is outside China: ambiguous place names need this."""
    return all(code is None or code in _CHINA for code in countries)


# Sanctions programs named after a country other than China: a party listed under one of them
# is located by that program (RUSSIA-EO14024's "Altay" is in Altai Krai, not Xinjiang).
_FOREIGN_PROGRAMS = (
    "RUSSIA", "UKRAINE", "BELARUS", "IRAN", "SYRIA", "DPRK", "NKOREA", "VENEZUELA", "CUBA",
    "BURMA", "LIBYA", "SUDAN", "SOMALIA", "YEMEN", "LEBANON", "IRAQ", "MALI", "CAR",
    "DRCONGO", "BALKANS", "NICARAGUA", "ZIMBABWE", "ETHIOPIA", "CAATSA-RUSSIA",
)  # fmt: skip
# Administrative words of other countries' regions ("Altai Krai", "Almaty Oblast").
_FOREIGN_REGION = frozenset({"krai", "kray", "oblast", "okrug", "respublika"})
_PARENTHESIS = re.compile(r"\(([^()]{2,40})\)")


def points_elsewhere(
    programs: Iterable[str],
    id_countries: Iterable[str | None],
    remarks: str | None,
    texts: Iterable[Text],
) -> bool:
    """Evidence besides addresses that a party is outside China: a country program, an id
    issued elsewhere (also as written in remarks: "Tax ID No. 2224083790 (Russia)"), or a
    foreign region word next to the place. Ambiguous place names then do not count."""
    if any(p.upper().startswith(_FOREIGN_PROGRAMS) for p in programs):
        return True
    countries = [country_code(c) for c in id_countries]
    countries += [country_code(m) for m in _PARENTHESIS.findall(remarks or "")]
    if not is_china_or_unknown(countries):
        return True
    return any(_foreign_region(t.tokens) for t in texts)


def _foreign_region(tokens: tuple[str, ...]) -> bool:
    return any(t in _FOREIGN_REGION for t in tokens[1:])


@dataclass(frozen=True)
class CompiledTopic:
    topic: Topic
    places: PhraseSet
    ambiguous: PhraseSet
    roles: PhraseSet | None


def compile_topic(topic: Topic) -> CompiledTopic:
    roles = compile_phrases(topic.roles) if topic.roles else None
    return CompiledTopic(
        topic, compile_phrases(topic.places), compile_phrases(topic.ambiguous_places), roles
    )


@dataclass(frozen=True)
class Evidence:
    """What topics may look at: party names (none for individuals), addresses, linked names."""

    names: tuple[Text, ...]
    addresses: tuple[Text, ...]
    linked: tuple[Text, ...]
    china_or_unknown: bool


@dataclass(frozen=True)
class TopicHit:
    topic: Topic
    matched_text: str
    reason: str
    place: str
    role: str | None = None


def _place(ct: CompiledTopic, ev: Evidence, text: Text, address: bool = False) -> Phrase | None:
    found = find_phrase(text, ct.places, address)
    if found is None and ev.china_or_unknown:
        found = find_phrase(text, ct.ambiguous, address)
    return found


def evaluate(ct: CompiledTopic, ev: Evidence) -> TopicHit | None:
    """The first piece of evidence that satisfies the topic, or None."""
    if ct.roles is None:
        return _evaluate_place(ct, ev)
    return _evaluate_role(ct, ct.roles, ev)


def _evaluate_place(ct: CompiledTopic, ev: Evidence) -> TopicHit | None:
    for name in ev.names:
        if place := _place(ct, ev, name):
            reason = f"name '{name.raw}' has place '{place.text}'"
            return TopicHit(ct.topic, name.raw, reason, place.text)
    for addr in ev.addresses:
        if place := _place(ct, ev, addr, address=True):
            reason = f"address '{addr.raw}' has place '{place.text}'"
            return TopicHit(ct.topic, addr.raw, reason, place.text)
    for link in ev.linked:
        if place := _place(ct, ev, link):
            reason = f"linked to '{link.raw}', which has place '{place.text}'"
            return TopicHit(ct.topic, f"Linked To: {link.raw}", reason, place.text)
    return None


def _evaluate_role(ct: CompiledTopic, roles: PhraseSet, ev: Evidence) -> TopicHit | None:
    located = next((a for a in ev.addresses if _place(ct, ev, a, address=True)), None)
    for name in ev.names:
        if (role := find_phrase(name, roles)) is None:
            continue
        if place := _place(ct, ev, name):
            reason = f"name '{name.raw}' has role '{role.text}' and place '{place.text}'"
            return TopicHit(ct.topic, name.raw, reason, place.text, role.text)
        if located is not None:
            reason = f"name '{name.raw}' has role '{role.text}'; address '{located.raw}'"
            return TopicHit(ct.topic, name.raw, reason, "", role.text)
    for link in ev.linked:
        role = find_phrase(link, roles)
        place = _place(ct, ev, link) if role else None
        if role and place:
            reason = f"linked to '{link.raw}' (role '{role.text}', place '{place.text}')"
            return TopicHit(ct.topic, f"Linked To: {link.raw}", reason, place.text, role.text)
    return None

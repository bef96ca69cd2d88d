"""Name normalization shared by the matcher and the topic rules.

One pipeline turns any name into comparable ASCII tokens:
NFKC -> traditional to simplified Han (zhconv) -> Han legal forms stripped (fingerprints' own
type table) -> each Han run to pinyin, syllables joined into one word (pypinyin) -> other scripts
transliterated (normality/ICU) -> casefold -> punctuation to spaces -> Latin legal forms removed
(`fingerprints.remove_types`) -> tokens.

A Han run becomes one word because Chinese writes no spaces and dictionary segmentation splits
place names wrongly (和田 -> 和 / 田地); the space-free `compact` form then compares a run with
any spelling of the same syllables ("Xinjiang", "Xin Jiang").
Tokens are only ever compared whole, so "Xinrong" or "Xinhua" never contain "Xinjiang".
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Mapping
from dataclasses import dataclass
from functools import lru_cache

# pypinyin's phrase tables (~55 MB), ICU transliterators and fingerprints' type tables are
# imported where first used, not here: an idle daemon that has not matched anything yet (and
# any CLI command that never normalizes a name) does not pay for them.

_HAN = r"\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff"
HAN_RUN = re.compile(f"[{_HAN}]+")
_NON_WORD = re.compile(r"[^a-z0-9]+")
# Not legal forms, so fingerprints keeps them; they name a corporate family, not a party.
# Han "group" and bare "company": fingerprints drops the Latin words but has no Han entry.
_NOISE_WORDS = frozenset({"group", "holding", "holdings", "the"})
_HAN_NOISE = ("集团", "公司")


@dataclass(frozen=True)
class NormName:
    """A name in every form the matcher compares."""

    raw: str
    folded: str  # NFKC + casefold + collapsed whitespace: the "exact" form
    tokens: tuple[str, ...]
    key: str  # tokens in their order
    sorted_key: str  # tokens sorted: word order does not matter
    compact: str  # tokens joined without spaces: spacing/segmentation does not matter


def has_han(text: str) -> bool:
    return HAN_RUN.search(text) is not None


def to_simplified(text: str) -> str:
    """NFKC, then traditional Han to simplified so 商湯 and 商汤 compare equal."""
    text = unicodedata.normalize("NFKC", text)
    if not has_han(text):
        return text
    import zhconv

    return str(zhconv.convert(text, "zh-hans"))


@lru_cache(maxsize=1)
def _han_legal_forms() -> tuple[str, ...]:
    """Han legal forms (有限公司, 股份有限公司 ...) from fingerprints' type table, longest first."""
    import zhconv
    from fingerprints.types.data import TYPES

    forms: set[str] = set(_HAN_NOISE)
    for company_type in TYPES["types"]:
        for form in company_type["forms"]:
            if HAN_RUN.fullmatch(form):
                forms.add(zhconv.convert(form, "zh-hans"))
    return tuple(sorted(forms, key=len, reverse=True))


def _strip_han_suffix(run: str) -> str:
    """Drop trailing legal forms from one Han run (they are glued on, no word boundary)."""
    changed = True
    while changed:
        changed = False
        for form in _han_legal_forms():
            if run.endswith(form) and len(run) > len(form):
                run, changed = run[: -len(form)], True
                break
    return run


def _han_to_pinyin(text: str) -> str:
    if not has_han(text):
        return text
    from pypinyin import lazy_pinyin

    def word(match: re.Match[str]) -> str:
        return " " + "".join(lazy_pinyin(_strip_han_suffix(match.group(0)))) + " "

    return HAN_RUN.sub(word, text)


def ascii_words(text: str) -> str:
    """Any script to lower-case ASCII words separated by single spaces (no legal-form removal)."""
    text = _han_to_pinyin(to_simplified(text))
    text = text.replace("'", "").replace("\u2019", "")  # People's -> peoples
    if not text.isascii():  # normality returns ASCII text unchanged: skip loading ICU for it
        from normality import ascii_text

        text = ascii_text(text) or ""
    return _NON_WORD.sub(" ", text.casefold()).strip()


# Tokens of names normalized by an earlier process (`remember`): a screening command reads them
# from its cache instead of loading pypinyin, ICU and fingerprints for the same names again.
_KNOWN: dict[str, tuple[str, ...]] = {}


def remember(tokens: Mapping[str, tuple[str, ...]]) -> None:
    """Take `normalize(name).tokens` as computed elsewhere by this same normalizer version."""
    _KNOWN.update(tokens)


@lru_cache(maxsize=65536)
def normalize(text: str) -> NormName:
    """Normalize one name; cached because the same names recur across snapshots."""
    folded = " ".join(unicodedata.normalize("NFKC", text).casefold().split())
    tokens = _KNOWN.get(text)
    if tokens is None:
        words = ascii_words(text)
        removed = _remove_types(words) if words else ""
        tokens = tuple(t for t in _NON_WORD.split(removed or "") if t and t not in _NOISE_WORDS)
        if not tokens:  # a name that is only a legal form ("Limited") keeps its words
            tokens = tuple(t for t in words.split() if t)
    return NormName(
        raw=text,
        folded=folded,
        tokens=tokens,
        key=" ".join(tokens),
        sorted_key=" ".join(sorted(tokens)),
        compact="".join(tokens),
    )


def _remove_types(words: str) -> str:
    import fingerprints

    return str(fingerprints.remove_types(words))


def text_tokens(text: str) -> tuple[str, ...]:
    """Tokens of free text (news, addresses): same transliteration, legal forms kept."""
    return tuple(ascii_words(text).split())


def icu_country_names() -> dict[str, str]:
    """ICU's English country names -> ISO code: what data/country_names.toml was generated from."""
    import icu  # pyicu

    english = icu.Locale("en")
    return {
        ascii_words(icu.Locale("", code).getDisplayCountry(english)): code
        for code in icu.Locale.getISOCountries()
    }


@lru_cache(maxsize=1)
def _country_names() -> dict[str, str]:
    """English country names -> ISO code, plus the forms the lists use.

    Read from the bundled table rather than ICU itself: loading ICU costs a daemon 12 MB for
    the first non-ASCII country name it meets.
    """
    import tomllib
    from importlib import resources

    table = resources.files("watcher.matching").joinpath("data/country_names.toml")
    names: dict[str, str] = dict(tomllib.loads(table.read_text(encoding="utf-8"))["names"])
    names.update(
        {
            "hong kong": "HK",
            "hong kong sar": "HK",
            "macau": "MO",
            "macao": "MO",
            "korea north": "KP",
            "korea south": "KR",
            "burma": "MM",
            "russia": "RU",
            "iran": "IR",
            "syria": "SY",
            "usa": "US",
            "united states of america": "US",
        }
    )
    return names


@lru_cache(maxsize=4096)
def country_code(country: str | None) -> str | None:
    """ISO 3166 alpha-2 code of a country as lists spell it ("China", "CN", "Hong Kong SAR")."""
    if not country:
        return None
    stripped = country.strip()
    if len(stripped) == 2 and stripped.isalpha():
        return stripped.upper()
    return _country_names().get(ascii_words(stripped))

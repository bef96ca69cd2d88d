"""The config validator's own rules (watcher/config/validation.py), beyond the key tables of
test_config.py: strict scalars, every problem of a document on one line, optional arrays,
tables of tables, and annotations it cannot check refused when first used."""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Annotated, Any

import pytest

from watcher.config import SourceSettings, settings_from_dict
from watcher.config.validation import Problem, check, checker
from watcher.config.values import Count, OneOf, Percent, Range
from watcher.errors import ConfigError


def _error(data: dict[str, Any]) -> str:
    with pytest.raises(ConfigError) as caught:
        settings_from_dict(data, {})
    return str(caught.value)


@pytest.mark.parametrize(
    ("data", "message"),
    [
        ({"http": {"port": True}}, "config: http.port: expected an integer (got True)"),
        ({"fetch": {"retries": False}}, "config: fetch.retries: expected an integer (got False)"),
        ({"alerts": {"max_attempts": 2.0}}, "expected an integer (got 2.0)"),
        ({"match": {"threshold": True}}, "config: match.threshold: expected a number (got True)"),
        ({"match": {"threshold": math.nan}}, "config: match.threshold: must be >= 0 (got nan)"),
        ({"include_default_watchlist": 1}, "expected true or false (got 1)"),
        ({"sources": {"news": {"max_records": True}}}, "expected an integer (got True)"),
        (
            {"sources": {"federal_register": {"per_page": True}}},
            "config: sources.federal_register.per_page: expected an integer (got True)",
        ),
        ({"watchlist": [{"name": b"A"}]}, "config: watchlist[0].name: expected a string"),
    ],
)
def test_scalars_are_strict(data: dict[str, Any], message: str) -> None:
    assert message in _error(data)


def test_a_float_takes_an_integer_and_holds_a_float() -> None:
    s = settings_from_dict({"match": {"threshold": 90}, "sources": {"news": {"interval": 60}}}, {})
    assert s.match.threshold == 90.0 and isinstance(s.match.threshold, float)
    assert isinstance(s.source("news").interval, float)


def test_every_problem_of_a_document_is_listed_in_order_on_one_line() -> None:
    message = _error(
        {
            "http": {"port": "x", "hots": "h"},
            "sources": {"news": {"interval": True}, "ofac_sdn": {"min_records": -1}},
            "watchlist": [{"name": "A", "aliases": ["B", 5]}, {"aliases": []}],
            "subscribers": [{"name": "s", "url_env": "H", "kinds": ["added", "gone"]}, {}],
        }
    )
    assert "\n" not in message
    assert message.split("; ") == [
        "config: http.port: expected an integer (got 'x')",
        "http.hots: unknown key (allowed: host, port, token_env, token_file)",
        "sources.news.interval: expected a duration like '30s', '15m', '6h', '2d', got True",
        "sources.ofac_sdn.min_records: must be >= 0 (got -1)",
        "watchlist[0].aliases[1]: expected a string (got 5)",
        "watchlist[1].name: missing",
        "subscribers[0].kinds[1]: expected one of: added, removed, modified (got 'gone')",
        "subscribers[1].name: missing",
    ]


def test_an_optional_array_is_none_or_checked_item_by_item() -> None:
    assert settings_from_dict({}, {}).source("ofac_sdn").companions is None
    s = settings_from_dict({"sources": {"ofac_sdn": {"companions": ["a.csv", "b.csv"]}}}, {})
    assert s.source("ofac_sdn").companions == ("a.csv", "b.csv")
    message = _error({"sources": {"ofac_sdn": {"companions": ["a.csv", 5, None]}}})
    assert message == (
        "config: sources.ofac_sdn.companions[1]: expected a string (got 5); "
        "sources.ofac_sdn.companions[2]: expected a string (got None)"
    )


@dataclass(frozen=True)
class _Feed:
    url: str
    every: Count = 1


@dataclass(frozen=True)
class _Feeds:
    feeds: Mapping[str, _Feed] = field(default_factory=dict)
    tags: tuple[str, ...] | None = None


def test_a_table_of_tables_checks_each_under_its_name() -> None:
    doc, problems = check(_Feeds, {"feeds": {"a": {"url": "u"}, "b": {"url": "v", "every": 3}}})
    assert problems == []
    assert doc == _Feeds(feeds={"a": _Feed("u"), "b": _Feed("v", 3)})
    doc, problems = check(_Feeds, {"feeds": {"a": 5, "b": {"every": -1}, "c": {"url": "w"}}})
    assert doc is None
    assert [(p.loc, p.reason) for p in problems] == [
        (("feeds", "a"), "expected a table"),
        (("feeds", "b", "every"), "must be >= 0"),
        (("feeds", "b", "url"), "missing"),  # a table's given keys first, then what it lacks
    ]
    _, problems = check(_Feeds, {"feeds": ["a"], "tags": "t"})
    assert problems == [
        Problem(("feeds",), "expected a table", ["a"]),
        Problem(("tags",), "expected a list", "t"),
    ]


def test_rules_apply_in_annotated_order_to_the_typed_value() -> None:
    word = Annotated[str, OneOf(("a", "b"))]
    assert check(word, "a") == ("a", [])
    assert check(word, "c")[1] == [Problem((), "expected one of: a, b", "c")]
    assert check(word, 1)[1] == [Problem((), "expected a string", 1)]  # type before rule
    assert check(Percent, 100) == (100.0, [])
    assert check(Percent, 100.5)[1] == [Problem((), "must be <= 100", 100.5)]
    assert check(Annotated[float, Range(gt=0.5)], 0.5)[1] == [Problem((), "must be > 0.5", 0.5)]


def test_an_instance_is_taken_as_it_is_and_defaults_fill_the_rest() -> None:
    given = SourceSettings(name="news", interval=5.0)
    assert check(Mapping[str, SourceSettings], {"news": given}) == ({"news": given}, [])
    assert check(_Feeds, {}) == (_Feeds(), [])


@pytest.mark.parametrize("kind", [int | str, dict[str, int], tuple[int, str], set[str]])
def test_an_annotation_it_cannot_check_is_refused_when_first_used(kind: Any) -> None:
    with pytest.raises(TypeError, match="config cannot check"):
        checker(kind)


def test_each_annotation_is_compiled_once() -> None:
    assert checker(SourceSettings) is checker(SourceSettings)
    assert checker(tuple[str, ...] | None) is checker(tuple[str, ...] | None)

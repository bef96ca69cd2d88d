"""The validator config's annotations are read by: it walks a frozen dataclass's fields and
checks a parsed TOML document against them, collecting every problem with the key path it is at.

It knows: nested dataclasses (tables: unknown keys refused, fields without a default required),
`X | None`, `tuple[T, ...]` and `list[T]` (arrays), `Mapping[str, T]` (tables of tables), strict
`bool` / `int` / `float` / `str` (a float takes an integer; `true` is no integer), `Any`, and
`Annotated[T, ...]` with `values`' Parse, Range, OneOf and Check. Each annotation is compiled
once into a checker (type hints resolved once per class), so a load is a walk of closures.
"""

from __future__ import annotations

import types
from collections.abc import Callable, Mapping
from dataclasses import MISSING, dataclass, fields, is_dataclass
from functools import cache
from typing import Annotated, Any, Union, get_args, get_origin, get_type_hints

from watcher.config.values import Check, OneOf, Parse, Range

Loc = tuple[int | str, ...]
UNSEEN: Any = object()  # a problem without a value to show (a missing or unknown key)
_BAD: Any = object()  # what a checker returns exactly when it reported a problem


@dataclass(frozen=True)
class Problem:
    """One bad value: where (`("subscribers", 1, "name")`), why, and what was given."""

    loc: Loc
    reason: str
    value: Any = UNSEEN


# A checker returns the value as the settings hold it, or reports to the list and returns _BAD.
Checker = Callable[[Any, Loc, list[Problem]], Any]
# Strict scalars: the Python types each takes, and the reason it gives for anything else.
_SCALARS: Mapping[Any, tuple[tuple[type, ...], str]] = {
    bool: ((bool,), "expected true or false"),
    int: ((int,), "expected an integer"),
    float: ((int, float), "expected a number"),
    str: ((str,), "expected a string"),
}


@cache
def checker(kind: Any) -> Checker:
    """The checker for one annotation, built once (dataclass hints are resolved here, once)."""
    origin, args = get_origin(kind), get_args(kind)
    if origin is Annotated:
        return _annotated(checker(args[0]), kind.__metadata__)
    if origin in (Union, types.UnionType) and len(args) == 2 and type(None) in args:
        inner = checker(next(a for a in args if a is not type(None)))
        return lambda v, loc, out: None if v is None else inner(v, loc, out)
    if (origin is tuple and len(args) == 2 and args[1] is Ellipsis) or origin is list:
        return _sequence(checker(args[0]), origin)
    if origin is Mapping and args[0] is str:
        return _mapping(checker(args[1]))
    if isinstance(kind, type) and is_dataclass(kind):
        return _dataclass(kind)
    if kind in _SCALARS:
        return _scalar(kind)
    if kind is Any:
        return lambda v, loc, out: v
    raise TypeError(f"config cannot check {kind!r}")


def _scalar(kind: type) -> Checker:
    """bool, int, float or str, strictly (a float takes an integer and holds it as a float)."""
    accepts, reason = _SCALARS[kind]
    refuse_bool = kind is not bool  # bool is an int to Python, never to config
    convert = float if kind is float else None

    def scalar(v: Any, loc: Loc, out: list[Problem]) -> Any:
        good = isinstance(v, accepts) and not (refuse_bool and isinstance(v, bool))
        if good:  # (a flag, not the test itself: narrowing by a tuple of types gives `object`)
            return convert(v) if convert else v
        out.append(Problem(loc, reason, v))
        return _BAD

    return scalar


def _annotated(inner: Checker, meta: tuple[Any, ...]) -> Checker:
    """The type (or a Parse reading the raw value), then each rule on what it gave."""
    read = next((m.read for m in meta if isinstance(m, Parse)), None)
    rules = [m for m in meta if isinstance(m, Range | OneOf | Check)]

    def annotated(v: Any, loc: Loc, out: list[Problem]) -> Any:
        if read is None:
            value = inner(v, loc, out)
            if value is _BAD:
                return _BAD
        else:
            try:
                value = read(v)
            except ValueError as exc:
                out.append(Problem(loc, str(exc), v))
                return _BAD
        try:
            for rule in rules:
                rule.check(value)
        except ValueError as exc:
            out.append(Problem(loc, str(exc), v))
            return _BAD
        return value

    return annotated


def _sequence(item: Checker, kind: type) -> Checker:
    """A TOML array as a tuple (or list), each item checked where it stands: `key[0]`."""

    def array(v: Any, loc: Loc, out: list[Problem]) -> Any:
        if not isinstance(v, list | tuple):
            out.append(Problem(loc, "expected a list", v))
            return _BAD
        before = len(out)
        items = [item(x, (*loc, i), out) for i, x in enumerate(v)]
        return kind(items) if len(out) == before else _BAD

    return array


def _mapping(item: Checker) -> Checker:
    """A table of tables keyed by name (`[sources.NAME]`), each checked under its name."""

    def tables(v: Any, loc: Loc, out: list[Problem]) -> Any:
        if not isinstance(v, dict | Mapping):
            out.append(Problem(loc, "expected a table", v))
            return _BAD
        before = len(out)
        items = {k: item(x, (*loc, str(k)), out) for k, x in v.items()}
        return items if len(out) == before else _BAD

    return tables


def _dataclass(cls: type) -> Checker:
    """A table as `cls`: its keys checked in the order given, others refused, missing ones
    defaulted (by the dataclass) or reported."""
    hints = get_type_hints(cls, include_extras=True)
    known = [f for f in fields(cls) if f.init]
    specs = {f.name: checker(hints[f.name]) for f in known}
    required = [f.name for f in known if f.default is MISSING and f.default_factory is MISSING]
    unknown = f"unknown key (allowed: {', '.join(sorted(specs))})"

    def table(v: Any, loc: Loc, out: list[Problem]) -> Any:
        if isinstance(v, cls):
            return v
        if not isinstance(v, dict | Mapping):  # dict first: an ABC check is slow
            out.append(Problem(loc, "expected a table", v))
            return _BAD
        before = len(out)
        values: dict[str, Any] = {}
        for key, value in v.items():
            check_value = specs.get(key)
            if check_value is None:
                out.append(Problem((*loc, str(key)), unknown))
            else:
                values[key] = check_value(value, (*loc, key), out)
        out.extend(Problem((*loc, name), "missing") for name in required if name not in v)
        return cls(**values) if len(out) == before else _BAD

    return table


def check(kind: Any, data: Any, loc: Loc = ()) -> tuple[Any, list[Problem]]:
    """`data` as `kind` (or None) and every problem found in it, each at its key path."""
    problems: list[Problem] = []
    value = checker(kind)(data, loc, problems)
    return (None if problems else value), problems

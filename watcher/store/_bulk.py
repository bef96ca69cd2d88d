"""Writing a whole list's versions fast: each database's own bulk path, the same rows.

A first snapshot writes ~15,000 versions. Through SQLAlchemy's typed executemany most of that
time goes to per-row parameter processing and JSON encoding, so this module hands the driver
plain tuples (SQLite: `executemany`; PostgreSQL with psycopg: `COPY`) with the `data` column
already written as the text SQLAlchemy's JSON type would have written (`version_json`, held
equal to `json.dumps(entry.to_dict())` by tests/store/test_bulk.py). Other drivers take the
typed path.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable, Iterator, Sequence
from itertools import islice
from typing import Any, cast

from sqlalchemy import Connection, insert, select

from watcher.models import Address, Entry, Identifier
from watcher.store.tables import ENTRY_VERSIONS

_COLUMNS = ("source", "key", "list_code", "name", "content_hash", "data", "valid_from_snapshot")
_TABLE = ENTRY_VERSIONS.name

# Rows per executemany on SQLite: bounds what is held at once, not the statements sent.
_BATCH = 2000

# json.dumps(value) with its defaults: insertion order, ASCII only, ", " and ": ".
_PLAIN = json.JSONEncoder()
_encode_ascii: Callable[[str], str] = json.encoder.encode_basestring_ascii


def write_versions(conn: Connection, snapshot_id: int, entries: Sequence[Entry]) -> None:
    """Insert one open version per entry, in order (ids ascend with `entries`)."""
    if not entries:
        return
    dialect = conn.dialect
    if dialect.name == "sqlite":
        sql = f"INSERT INTO {_TABLE} ({', '.join(_COLUMNS)}) VALUES ({', '.join('?' * 7)})"
        rows = _rows(entries, snapshot_id)
        while batch := list(islice(rows, _BATCH)):
            conn.exec_driver_sql(sql, batch)
    elif dialect.name == "postgresql" and dialect.driver == "psycopg":
        raw: Any = conn.connection.driver_connection
        with (
            raw.cursor() as cur,
            cur.copy(f"COPY {_TABLE} ({', '.join(_COLUMNS)}) FROM STDIN") as copy,
        ):
            for row in _rows(entries, snapshot_id):
                copy.write_row(row)
    else:
        write_typed(conn, snapshot_id, entries)


def write_typed(conn: Connection, snapshot_id: int, entries: Sequence[Entry]) -> None:
    """The same rows through SQLAlchemy's typed executemany (any driver)."""
    for start in range(0, len(entries), _BATCH):
        rows = [
            {
                "source": e.source,
                "key": e.key,
                "list_code": e.list_code,
                "name": e.name,
                "content_hash": e.content_hash(),
                "data": e.to_dict(),
                "valid_from_snapshot": snapshot_id,
            }
            for e in entries[start : start + _BATCH]
        ]
        conn.execute(insert(ENTRY_VERSIONS), rows)


def open_versions(conn: Connection, source: str) -> Iterable[tuple[str, int, str]]:
    """(key, version id, content hash) of a source's open versions, straight from the driver:
    SQLAlchemy's result rows cost more than the query for 15,000 rows of three columns."""
    dialect = conn.dialect
    if dialect.name == "sqlite" or (dialect.name == "postgresql" and dialect.driver == "psycopg"):
        mark = "?" if dialect.name == "sqlite" else "%s"
        raw: Any = conn.connection.driver_connection
        cursor = raw.execute(
            f"SELECT key, id, content_hash FROM {_TABLE} "
            f"WHERE source = {mark} AND valid_to_snapshot IS NULL",
            (source,),
        )
        return cast(list[tuple[str, int, str]], cursor.fetchall())
    query = select(ENTRY_VERSIONS.c.key, ENTRY_VERSIONS.c.id, ENTRY_VERSIONS.c.content_hash).where(
        ENTRY_VERSIONS.c.source == source, ENTRY_VERSIONS.c.valid_to_snapshot.is_(None)
    )
    return [
        (key, version_id, content_hash) for key, version_id, content_hash in conn.execute(query)
    ]


def _rows(entries: Sequence[Entry], snapshot_id: int) -> Iterator[tuple[Any, ...]]:
    for e in entries:
        yield (
            e.source,
            e.key,
            e.list_code,
            e.name,
            e.content_hash(),
            version_json(e),
            snapshot_id,
        )


def version_json(e: Entry) -> str:
    """Exactly `json.dumps(e.to_dict())`: the text SQLAlchemy's JSON type stores for `data`."""
    dates = _PLAIN.encode(dict(sorted(e.dates.items()))) if e.dates else "{}"
    raw = _PLAIN.encode(dict(sorted(e.raw.items()))) if e.raw else "{}"
    return (
        f'{{"source": {_value(e.source)}, "key": {_value(e.key)}, '
        f'"list_code": {_value(e.list_code)}, "name": {_value(e.name)}, '
        f'"entity_type": {_value(e.entity_type)}, "aliases": {_list(e.aliases)}, '
        f'"addresses": [{", ".join(map(_address, e.addresses))}], '
        f'"programs": {_list(e.programs)}, "ids": [{", ".join(map(_identifier, e.ids))}], '
        f'"remarks": {_value(e.remarks)}, "citations": {_list(e.citations)}, '
        f'"dates": {dates}, "raw": {raw}}}'
    )


def _value(value: object) -> str:
    if type(value) is str:
        return _encode_ascii(value)
    return "null" if value is None else _PLAIN.encode(value)


def _list(values: tuple[Any, ...]) -> str:
    return f"[{', '.join(map(_value, values))}]" if values else "[]"


def _address(a: Address) -> str:
    return (
        f'{{"address": {_value(a.address)}, "city": {_value(a.city)}, '
        f'"state": {_value(a.state)}, "postal_code": {_value(a.postal_code)}, '
        f'"country": {_value(a.country)}}}'
    )


def _identifier(i: Identifier) -> str:
    return (
        f'{{"type": {_value(i.type)}, "value": {_value(i.value)}, "country": {_value(i.country)}}}'
    )

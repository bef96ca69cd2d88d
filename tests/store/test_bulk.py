"""The bulk version writer stores exactly what SQLAlchemy's typed insert stores: same columns,
same `data` text byte for byte (SQLite keeps it as TEXT, PostgreSQL's `json` keeps it verbatim),
ids ascending in the order given."""

from __future__ import annotations

import json
from datetime import UTC, datetime

from sqlalchemy import text

from tests.conftest import fixture_bytes
from tests.helpers import make_runtime
from watcher.models import Address, Entry, FetchedFile, Identifier
from watcher.sources.ofac import OfacConsolidated, OfacSdn
from watcher.store import snapshots
from watcher.store._bulk import version_json, write_typed, write_versions
from watcher.store.engine import transaction

ODD = 'Qu"ote \\ tab\t nl\n \x01 ÄÖ 北京 \u2028 😀'


def entries() -> list[Entry]:
    sdn = OfacSdn().parse({"primary": fixture_bytes("ofac_sdn/sdn_2021-12-09.csv")}).entries
    xml = fixture_bytes("ofac_consolidated/cons_advanced_2020-03-17.xml")
    advanced = OfacConsolidated().parse({"primary": xml}).entries
    odd = Entry(
        source="ofac_sdn",
        key="odd",
        list_code="SDN",
        name=ODD,
        aliases=(ODD,),
        addresses=(Address(ODD, "c", None, "1", "CN"),),
        ids=(Identifier("t", ODD),),
        dates={"z": "1", "a": ODD},
        raw={"n": 1, "f": 0.5, "l": [ODD, {"b": 1, "a": [True, None]}]},
    )
    return [*sdn[:3000], *advanced, odd]


def stored(conn: object, snapshot_id: int, pg: bool) -> list[tuple[object, ...]]:
    data = "data::text" if pg else "data"
    rows = conn.execute(  # type: ignore[attr-defined]
        text(
            f"SELECT id, source, key, list_code, name, content_hash, {data}, valid_to_snapshot "
            "FROM entry_versions WHERE valid_from_snapshot = :s ORDER BY id"
        ),
        {"s": snapshot_id},
    )
    return [tuple(r) for r in rows]


def test_bulk_rows_equal_typed_rows(db_url: str) -> None:
    rt = make_runtime(db_url)
    pg = db_url.startswith("postgresql")
    batch = entries()
    when = datetime(2024, 1, 1, tzinfo=UTC)
    with transaction(rt.engine) as conn:
        ids = []
        for n in range(2):
            snap = snapshots.add_snapshot(
                conn, "ofac_sdn", files=[FetchedFile("primary", "u", b"x", 200)],
                sha256=str(n), fetched_at=when, published_at=None, effective_at=when,
                record_count=len(batch), status="ok",
            )  # fmt: skip
            ids.append(snap.id)
        write_versions(conn, ids[0], batch)
        write_typed(conn, ids[1], batch)
        fast, typed = stored(conn, ids[0], pg), stored(conn, ids[1], pg)
    assert len(fast) == len(typed) == len(batch) > 3000
    assert [r[1:] for r in fast] == [r[1:] for r in typed]
    assert [r[2] for r in fast] == [e.key for e in batch]  # ids ascend in the order given
    assert [r[6] for r in fast] == [json.dumps(e.to_dict()) for e in batch]
    assert [r[5] for r in fast] == [e.content_hash() for e in batch]
    assert fast[-1][6] == version_json(batch[-1]) and "\\u00c4" in version_json(batch[-1])

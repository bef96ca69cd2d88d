"""The optimized ingest writes exactly the rows the original code wrote, on the real fixtures.

The digests below were computed with the unoptimized ingest (before issue 11) from every stored
row of `entry_versions`, `changes` and `snapshots`, minus ids and wall-clock timestamps
(references between rows are rewritten as snapshot ordinals and version keys).
"""

from __future__ import annotations

import hashlib
import json
from typing import Any

from sqlalchemy import select

from tests.conftest import fixture_bytes
from tests.helpers import at, make_runtime
from watcher.pipeline.run import replay
from watcher.store.engine import transaction
from watcher.store.snapshots import unpack_files
from watcher.store.tables import CHANGES, ENTRY_VERSIONS, SNAPSHOTS

SDN_DAYS = [
    ("2021-12-09", "ofac_sdn/sdn_2021-12-09.csv"),
    ("2021-12-10", "ofac_sdn/sdn_2021-12-10.csv"),
    ("2021-12-16", "ofac_sdn/sdn_2021-12-16.csv"),
    ("2024-05-03", "ofac_sdn/sdn_2024-05-03.csv"),
]
TRIOS = [
    ("2019-01-31", "2019-01"),
    ("2021-07-01", "2021-07"),
]
# Pinned from the unoptimized code path (commit 2a5446a): table -> (rows, sha256 of the rows).
EXPECTED: dict[str, tuple[int, str]] = {
    "snapshots": (6, "97243f8cce9736f6954f69de77751c8b40b66b073906d3d718ca50007bb41d18"),
    "entry_versions": (25020, "c30e5bed02f95ed95eaba8473c29ba8d98b7bf1697b3439ecd4f3d645762ebaa"),
    "changes": (18785, "672759fde3bf75dd2d2089e12ee20faf99108335c2e283930f9e4e3b9a8950b5"),
}


def _iso(value: Any) -> str | None:
    return value.replace(tzinfo=None).isoformat() if value is not None else None


def _canon(value: Any) -> str:
    return json.dumps(value, sort_keys=True, ensure_ascii=False)


def stored_rows(db_url: str, source: str) -> dict[str, list[str]]:
    """Every row of one source, ids replaced by stable references, as canonical JSON lines."""
    rt = make_runtime(db_url)
    with transaction(rt.engine) as s:
        snaps = list(
            s.execute(
                select(SNAPSHOTS).where(SNAPSHOTS.c.source == source).order_by(SNAPSHOTS.c.id)
            )
        )
        ordinal = {r.id: i for i, r in enumerate(snaps)}
        versions = list(
            s.execute(
                select(ENTRY_VERSIONS)
                .where(ENTRY_VERSIONS.c.source == source)
                .order_by(ENTRY_VERSIONS.c.id)
            )
        )
        vref = {v.id: [v.key, ordinal[v.valid_from_snapshot]] for v in versions}
        changes = list(
            s.execute(select(CHANGES).where(CHANGES.c.source == source).order_by(CHANGES.c.id))
        )
        out: dict[str, list[str]] = {"snapshots": [], "entry_versions": [], "changes": []}
        for r in snaps:
            files = {n: hashlib.sha256(b).hexdigest() for n, b in unpack_files(r.raw).items()}
            out["snapshots"].append(
                _canon(
                    [r.source, _iso(r.published_at), _iso(r.effective_at), r.sha256, files]
                    + [r.raw_size, r.files, r.record_count, r.status, r.reason, r.warnings]
                    + [r.origin]
                )
            )
        for v in versions:
            to = ordinal[v.valid_to_snapshot] if v.valid_to_snapshot is not None else None
            out["entry_versions"].append(
                _canon(
                    [v.source, v.key, v.list_code, v.name, v.content_hash, v.data]
                    + [ordinal[v.valid_from_snapshot], to]
                )
            )
        for c in changes:
            before = vref[c.before_version_id] if c.before_version_id else None
            after = vref[c.after_version_id] if c.after_version_id else None
            out["changes"].append(
                _canon(
                    [c.source, ordinal[c.snapshot_id], c.key, c.kind, c.list_code, c.name]
                    + [before, after, c.field_changes, _iso(c.effective_at), c.source_url]
                )
            )
    return out


def ingest_fixtures(db_url: str) -> dict[str, list[str]]:
    """Replay the 2019-01 and 2021-07 trios (aliases, addresses), then the real SDN days."""
    rt = make_runtime(
        db_url,
        {
            "sources": {
                "ofac_sdn": {"companions": [], "max_removed_share": 1.0, "max_modified_share": 1.0}
            }
        },
    )
    for day, tag in TRIOS:
        files = [
            (name, fixture_bytes(f"ofac_sdn/moov_{part}_{tag}.csv"), part)
            for name, part in (("primary", "sdn"), ("add.csv", "add"), ("alt.csv", "alt"))
        ]
        assert replay(rt, "ofac_sdn", at(day), files).ok
    for day, path in SDN_DAYS:
        assert replay(rt, "ofac_sdn", at(day), [("primary", fixture_bytes(path), path)]).ok
    return stored_rows(db_url, "ofac_sdn")


def digest(lines: list[str]) -> str:
    return hashlib.sha256("\n".join(lines).encode()).hexdigest()


def test_ingest_writes_the_same_rows_as_before(db_url: str) -> None:
    rows = ingest_fixtures(db_url)
    got = {table: (len(lines), digest(lines)) for table, lines in rows.items()}
    assert got == EXPECTED

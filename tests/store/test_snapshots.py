"""Snapshots keep the exact bytes fetched, so any snapshot can be re-parsed later."""

from __future__ import annotations

from sqlalchemy import select

from tests.conftest import fixture_bytes
from tests.helpers import at, make_runtime
from watcher.pipeline.run import replay
from watcher.store.engine import transaction
from watcher.store.queries import entries_as_of
from watcher.store.snapshots import unpack_files
from watcher.store.tables import SNAPSHOTS


def test_raw_bytes_round_trip_for_good_and_rejected_snapshots(db_url: str) -> None:
    rt = make_runtime(db_url, {"sources": {"ofac_sdn": {"companions": []}}})
    good = fixture_bytes("ofac_sdn/sdn_2021-12-09.csv")
    bad = b"<html><body>maintenance</body></html>"  # derived: an HTML error page
    assert replay(rt, "ofac_sdn", at("2021-12-09"), [("primary", good, "a")]).ok
    assert not replay(rt, "ofac_sdn", at("2021-12-10"), [("primary", bad, "b")]).ok
    with transaction(rt.engine) as conn:
        rows = list(conn.execute(select(SNAPSHOTS).order_by(SNAPSHOTS.c.id)))
        assert [r.status for r in rows] == ["ok", "rejected"]
        assert unpack_files(rows[0].raw) == {"primary": good}
        assert unpack_files(rows[1].raw) == {"primary": bad}
        assert rows[0].raw_size == len(good) and len(rows[0].raw) < len(good) / 3


def test_keep_raw_prunes_old_bytes_and_keeps_rows_and_history(db_url: str) -> None:
    """`keep_raw = "6d"`: after the 2021-12-16 file, the 12-09 bytes go, 12-10 and 12-16 stay."""
    rt = make_runtime(db_url, {"sources": {"ofac_sdn": {"companions": [], "keep_raw": "6d"}}})
    days = ("2021-12-09", "2021-12-10", "2021-12-16")
    files = {d: fixture_bytes(f"ofac_sdn/sdn_{d}.csv") for d in days}
    for day in days[:2]:
        assert replay(rt, "ofac_sdn", at(day), [("primary", files[day], day)]).ok
    with transaction(rt.engine) as conn:  # nothing is 6 days older than 12-10
        assert all(r.raw for r in conn.execute(select(SNAPSHOTS)))
    assert replay(rt, "ofac_sdn", at(days[2]), [("primary", files[days[2]], days[2])]).ok
    with transaction(rt.engine) as conn:
        rows = list(conn.execute(select(SNAPSHOTS).order_by(SNAPSHOTS.c.id)))
        assert [unpack_files(r.raw) for r in rows] == [
            {},
            {"primary": files[days[1]]},
            {"primary": files[days[2]]},
        ]
        assert [r.raw_size for r in rows] == [len(files[d]) for d in days]
        assert rows[0].sha256 and rows[0].status == "ok" and rows[0].record_count == 9121
        as_of = entries_as_of(conn, "ofac_sdn", at("2021-12-09T12:00"))
        assert len(as_of) == 9121  # history derived from the pruned snapshot is intact

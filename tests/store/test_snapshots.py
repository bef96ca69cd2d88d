"""Snapshots keep the exact bytes fetched, so any snapshot can be re-parsed later."""

from __future__ import annotations

from sqlalchemy import select

from tests.conftest import fixture_bytes
from tests.helpers import at, make_runtime
from watcher.pipeline.run import replay
from watcher.store.engine import transaction
from watcher.store.snapshots import unpack_files
from watcher.store.tables import SnapshotRow


def test_raw_bytes_round_trip_for_good_and_rejected_snapshots(db_url: str) -> None:
    rt = make_runtime(db_url, {"sources": {"ofac_sdn": {"companions": []}}})
    good = fixture_bytes("ofac_sdn/sdn_2021-12-09.csv")
    bad = b"<html><body>maintenance</body></html>"  # derived: an HTML error page
    assert replay(rt, "ofac_sdn", at("2021-12-09"), [("primary", good, "a")]).ok
    assert not replay(rt, "ofac_sdn", at("2021-12-10"), [("primary", bad, "b")]).ok
    with transaction(rt.sessions) as session:
        rows = list(session.scalars(select(SnapshotRow).order_by(SnapshotRow.id)))
        assert [r.status for r in rows] == ["ok", "rejected"]
        assert unpack_files(rows[0].raw) == {"primary": good}
        assert unpack_files(rows[1].raw) == {"primary": bad}
        assert rows[0].raw_size == len(good) and len(rows[0].raw) < len(good) / 3

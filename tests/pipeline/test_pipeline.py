"""The real pipeline on real OFAC files: replays, polls over a local HTTP server, guards."""

from __future__ import annotations

from datetime import timedelta

import pytest

from tests.conftest import LocalServer, fixture_bytes, fixture_path
from tests.helpers import at, make_runtime
from watcher.pipeline.run import replay, run_source
from watcher.store import queries
from watcher.store import snapshots as store
from watcher.store.engine import transaction

SDN = "ofac_sdn/sdn_{}.csv"


def _replay(rt, source: str, day: str, *paths: str):  # type: ignore[no-untyped-def]
    files = [
        ("primary" if i == 0 else fixture_path(p).name, fixture_bytes(p), p)
        for i, p in enumerate(paths)
    ]
    return replay(rt, source, at(day), files)


def _changes(rt, **kw):  # type: ignore[no-untyped-def]
    with transaction(rt.engine) as conn:
        return queries.list_changes(conn, limit=None, **kw)


def test_sdn_2021_12_09_to_10_adds_25_including_xinjiang_psb_links(db_url: str) -> None:
    rt = make_runtime(db_url, {"sources": {"ofac_sdn": {"companions": []}}})
    first = _replay(rt, "ofac_sdn", "2021-12-09", SDN.format("2021-12-09"))
    assert first.outcome == "baseline" and first.record_count == 9121
    second = _replay(rt, "ofac_sdn", "2021-12-10", SDN.format("2021-12-10"))
    assert (second.added, second.removed, second.modified) == (25, 0, 0)
    found = {c.key: c for c in _changes(rt, source="ofac_sdn")}
    assert len(found) == 25
    for key, name in (("34079", "ZAKIR, Shohrat"), ("34119", "TUNIYAZ, Erken")):
        assert found[key].kind == "added" and found[key].name == name
        assert "Linked To: XINJIANG PUBLIC SECURITY BUREAU" in (found[key].entry.remarks or "")
        assert found[key].to_dict()["key"] == key


def test_programs_gaining_illicit_drugs_eo_are_modifications(db_url: str) -> None:
    rt = make_runtime(db_url, {"sources": {"ofac_sdn": {"companions": []}}})
    _replay(rt, "ofac_sdn", "2021-12-10", SDN.format("2021-12-10"))
    result = _replay(rt, "ofac_sdn", "2021-12-16", SDN.format("2021-12-16"))
    assert result.added == 8 and result.removed == 0
    modified = _changes(rt, kind="modified")
    gained = [
        c
        for c in modified
        if {"field": "programs", "added": ["ILLICIT-DRUGS-EO"], "removed": []} in c.field_changes
    ]
    assert len(gained) == 17
    assert all(
        "ILLICIT-DRUGS-EO" in c.entry.programs and "SDNTK" in c.entry.programs for c in gained
    )


def test_empty_download_is_rejected_and_history_survives(db_url: str) -> None:
    rt = make_runtime(db_url, {"sources": {"ofac_sdn": {"companions": []}}})
    assert _replay(rt, "ofac_sdn", "2024-05-03", SDN.format("2024-05-03")).record_count == 14965
    bad = _replay(rt, "ofac_sdn", "2024-05-04", SDN.format("2024-05-04"))
    assert bad.outcome == "rejected" and "empty" in (bad.error or "")
    assert _changes(rt) == []
    with transaction(rt.engine) as conn:
        as_of = queries.entries_as_of(conn, "ofac_sdn", at("2024-05-05"))
        assert len(as_of) == 14965
        snaps = store.list_snapshots(conn, "ofac_sdn")
        assert [s.status for s in snaps] == ["rejected", "ok"]
    # The next good snapshot diffs against 2024-05-03, not against the empty one.
    derived = fixture_bytes(SDN.format("2024-05-03")).replace(
        b'"AEROCARIBBEAN AIRLINES"', b'"AEROCARIBBEAN AIRLINES S.A."'
    )
    good = replay(rt, "ofac_sdn", at("2024-05-05"), [("primary", derived, "derived")])
    assert (good.added, good.removed, good.modified) == (0, 0, 1)


def test_mass_removal_is_quarantined(db_url: str) -> None:
    rt = make_runtime(db_url, {"sources": {"ofac_sdn": {"companions": [], "min_records": 100}}})
    full = fixture_bytes(SDN.format("2021-12-09"))
    replay(rt, "ofac_sdn", at("2021-12-09"), [("primary", full, "x")])
    # Derived: keep the first 70% of rows (a download cut at a row boundary).
    lines = full.split(b"\r\n")
    cut = b"\r\n".join(lines[: int(len(lines) * 0.7)]) + b"\r\n"
    result = replay(rt, "ofac_sdn", at("2021-12-10"), [("primary", cut, "cut")])
    assert result.outcome == "quarantined" and "max_removed_share" in (result.error or "")
    assert _changes(rt) == []
    with transaction(rt.engine) as conn:
        assert store.count_current(conn, "ofac_sdn") == 9121


def test_html_error_page_and_truncated_file_never_diff(db_url: str) -> None:
    rt = make_runtime(db_url, {"sources": {"ofac_sdn": {"companions": []}}})
    full = fixture_bytes(SDN.format("2021-12-09"))
    replay(rt, "ofac_sdn", at("2021-12-09"), [("primary", full, "x")])
    html = b"<!DOCTYPE html><html><body><h1>Service Unavailable</h1></body></html>"
    assert (
        replay(rt, "ofac_sdn", at("2021-12-10"), [("primary", html, "html")]).outcome == "rejected"
    )
    truncated = full[: len(full) // 2]  # derived: cut mid-row
    assert replay(rt, "ofac_sdn", at("2021-12-11"), [("primary", truncated, "cut")]).outcome in (
        "rejected",
        "quarantined",
    )
    assert _changes(rt) == []


def test_replay_out_of_order_is_refused(db_url: str) -> None:
    rt = make_runtime(db_url, {"sources": {"ofac_sdn": {"companions": []}}})
    _replay(rt, "ofac_sdn", "2021-12-10", SDN.format("2021-12-10"))
    result = _replay(rt, "ofac_sdn", "2021-12-09", SDN.format("2021-12-09"))
    assert result.outcome == "error" and "append-only" in (result.error or "")


def test_consolidated_2018_to_2025_cmic_additions(db_url: str) -> None:
    rt = make_runtime(db_url)
    _replay(
        rt,
        "ofac_consolidated",
        "2018-04-06",
        "ofac_consolidated/cons_prim_2018-04-06.csv",
        "ofac_consolidated/cons_add_2018-04-06.csv",
        "ofac_consolidated/cons_alt_2018-04-06.csv",
    )
    seven_years = {"max_removed_share": 1.0, "max_modified_share": 1.0}
    rt2 = make_runtime(db_url, {"sources": {"ofac_consolidated": seven_years}})
    result = _replay(
        rt2,
        "ofac_consolidated",
        "2025-04-21",
        "ofac_consolidated/cons_prim_2025-04-21.csv",
        "ofac_consolidated/cons_add_2025-04-21.csv",
    )
    assert result.ok
    added = {c.key: c for c in _changes(rt2, kind="added")}
    for key in ("33114", "33091", "30946"):
        assert "CMIC-EO13959" in added[key].entry.programs and added[key].list_code == "CMIC"
    assert "SENSETIME" in added["33114"].name


def test_poll_over_http_conditional_get_and_unchanged(
    db_url: str, http_server: LocalServer
) -> None:
    body = fixture_bytes(SDN.format("2021-12-09"))
    url = http_server.serve("live/sdn.csv", body, headers={"ETag": '"v1"'})
    rt = make_runtime(db_url, {"sources": {"ofac_sdn": {"url": url, "companions": []}}})
    assert run_source(rt, "ofac_sdn").outcome == "baseline"
    again = run_source(rt, "ofac_sdn")
    assert again.outcome == "unchanged"
    assert http_server.requests[-1][1].get("If-None-Match") == '"v1"'
    # Same bytes without validators: the hash says unchanged; a check is recorded, no snapshot.
    http_server.serve("live/sdn.csv", body)
    rt.clock = lambda: at("2030-01-01")
    assert run_source(rt, "ofac_sdn").outcome == "unchanged"
    with transaction(rt.engine) as conn:
        assert len(store.list_snapshots(conn, "ofac_sdn")) == 1
    http_server.serve("live/sdn.csv", fixture_bytes(SDN.format("2021-12-10")))
    rt.clock = lambda: at("2030-01-01") + timedelta(hours=1)
    changed = run_source(rt, "ofac_sdn")
    assert changed.outcome == "new_snapshot" and changed.added == 25


def test_companion_files_fetched_from_the_same_directory(
    db_url: str, http_server: LocalServer
) -> None:
    for name, path in (
        ("sdn.csv", "moov_sdn_2021-07.csv"),
        ("add.csv", "moov_add_2021-07.csv"),
        ("alt.csv", "moov_alt_2021-07.csv"),
    ):
        http_server.serve(f"trio/{name}", fixture_bytes(f"ofac_sdn/{path}"))
    rt = make_runtime(
        db_url,
        {
            "sources": {
                "ofac_sdn": {
                    "url": http_server.url("trio/sdn.csv"),
                    "companions": ["add.csv", "alt.csv"],
                }
            }
        },
    )
    result = run_source(rt, "ofac_sdn")
    assert result.outcome == "baseline" and result.record_count == 8976
    with transaction(rt.engine) as conn:
        xpsb = queries.entries_as_of(conn, "ofac_sdn", search="XINJIANG PUBLIC SECURITY BUREAU")
        entry = next(r.entry for r in xpsb if r.entry.key == "29159")
        assert entry.addresses and any(a.country == "China" for a in entry.addresses)


def test_server_errors_are_recorded_not_raised(db_url: str, http_server: LocalServer) -> None:
    url = http_server.serve("down/sdn.csv", b"nope", status=404)
    rt = make_runtime(db_url, {"sources": {"ofac_sdn": {"url": url, "companions": []}}})
    result = run_source(rt, "ofac_sdn")
    assert result.outcome == "error" and "404" in (result.error or "")
    with transaction(rt.engine) as conn:
        state = store.get_state(conn, "ofac_sdn")
        assert state.consecutive_failures == 1 and "404" in (state.last_error or "")


@pytest.mark.parametrize("newline", [b"\n", b"\r\n"])
def test_line_endings_alone_never_change_anything(db_url: str, newline: bytes) -> None:
    rt = make_runtime(db_url, {"sources": {"ofac_sdn": {"companions": []}}})
    body = fixture_bytes(SDN.format("2021-12-09"))
    replay(rt, "ofac_sdn", at("2021-12-09"), [("primary", body, "x")])
    variant = body.replace(b"\r\n", b"\n").replace(b"\n", newline).rstrip(b"\x1a")
    result = replay(rt, "ofac_sdn", at("2021-12-10"), [("primary", variant, "variant")])
    assert result.ok and (result.added, result.removed, result.modified) == (0, 0, 0)

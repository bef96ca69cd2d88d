"""The screen cache behind `watcher screen`: candidates come from every current entry's keys kept
on disk, so a command normalizes only what changed. It must give exactly what the daemon's
index gives, follow list changes, drop itself when normalizing changes, and never stand in the
way (a broken file is screened around)."""

from __future__ import annotations

import json
import subprocess
import sys
from importlib import metadata
from pathlib import Path

import pytest

from tests.conftest import fixture_bytes
from tests.helpers import at, make_runtime
from watcher.matching.screening import _NORMALIZING_LIBRARIES, _installed_version, keys_version
from watcher.pipeline.run import replay
from watcher.pipeline.screen import ScreenResult, current_index, screen_name
from watcher.runtime import Runtime
from watcher.store import screen_cache
from watcher.store.engine import make_engine, transaction, upgrade

QUERIES = ("Hikvision", "海康威视", "Hǎikāng Wēishì", "BANK MELLAT", "Bank Melli Iran", "Ürümchi")
GUARDS = {"max_removed_share": 1.0, "max_modified_share": 1.0}
CONFIG = {"sources": {"ofac_consolidated": {"companions": []}}}


def _replay(rt: Runtime, day: str) -> None:
    path = f"ofac_consolidated/cons_prim_{day}.csv"
    files = [("primary", fixture_bytes(path), path)]
    assert replay(rt, "ofac_consolidated", at(day), files, GUARDS).ok


def _rows(found: list[ScreenResult]) -> list[tuple[str, str, float, str, str]]:
    return [(r.entry.key, r.entry.name, r.hit.match.score, r.hit.path, r.hit.via) for r in found]


def _screen_both_ways(rt: Runtime) -> dict[str, set[str]]:
    """Keys found per query through the cache, checked equal to the daemon's indexed rows."""
    out = {}
    with transaction(rt.engine) as conn:
        index = current_index(conn)
        for query in QUERIES:
            cached = screen_name(conn, query, 88.0)
            assert _rows(cached) == _rows(screen_name(conn, query, 88.0, index)), query
            out[query] = {r.entry.key for r in cached}
    return out


def _sqlite(tmp_path: Path) -> str:
    url = f"sqlite:///{tmp_path / 'w.db'}"
    upgrade(make_engine(url))
    return url


def _cache_file(db_url: str) -> Path:
    path = screen_cache.cache_path(make_engine(db_url).url)
    assert path is not None
    return path


def test_cached_screening_equals_the_index_and_follows_list_changes(db_url: str) -> None:
    rt = make_runtime(db_url, CONFIG)
    _replay(rt, "2018-04-06")
    before = _screen_both_ways(rt)
    assert "10571" in before["BANK MELLAT"] and "30946" not in before["Hikvision"]
    _replay(rt, "2025-04-21")  # Bank Mellat leaves the list, Hikvision joins it
    after = _screen_both_ways(rt)
    assert "10571" not in after["BANK MELLAT"]
    assert {"30946"} <= after["Hikvision"] & after["海康威视"] & after["Hǎikāng Wēishì"]

    cache = screen_cache.ScreenCache(_cache_file(db_url), keys_version())
    with transaction(rt.engine) as conn:
        current = {h for _id, h in screen_cache.current_versions(conn)}
    assert current <= cache.entries()  # both snapshots' entries: normalized once each
    assert set(cache.tokens(["Hikvision", "海康威视"])) == {"Hikvision", "海康威视"}
    cache.close()


def test_a_warm_cache_spares_the_romanisation_libraries(tmp_path: Path) -> None:
    """The second command loads neither pypinyin, zhconv nor fingerprints (0.8 s of imports)."""
    url = _sqlite(tmp_path)
    rt = make_runtime(url, CONFIG)
    _replay(rt, "2025-04-21")
    with transaction(rt.engine) as conn:
        first = _rows(screen_name(conn, "海康威视", 88.0))
    script = (
        "import json, sys\n"
        "from watcher.pipeline.screen import screen_name\n"
        "from watcher.store.engine import make_engine, transaction\n"
        f"with transaction(make_engine({url!r})) as s:\n"
        "    rows = [[r.entry.key, r.entry.name, r.hit.match.score, r.hit.path, r.hit.via]\n"
        "            for r in screen_name(s, '海康威视', 88.0)]\n"
        "heavy = sorted(m for m in ('pypinyin', 'zhconv', 'fingerprints', 'icu')\n"
        "               if m in sys.modules)\n"
        "print(json.dumps([rows, heavy]))\n"
    )
    run = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True)
    assert run.returncode == 0, run.stderr
    rows, heavy = json.loads(run.stdout)
    assert [tuple(r) for r in rows] == first and first
    assert heavy == []


def test_commands_filling_an_empty_cache_at_once_all_answer_right(tmp_path: Path) -> None:
    """Three `watcher screen` processes start on a database no command has screened yet: each
    normalizes and writes the same entries, one writer at a time, and all print the listing."""
    url = _sqlite(tmp_path)
    _replay(make_runtime(url, CONFIG), "2025-04-21")
    config = tmp_path / "config.toml"
    config.write_text(f'[database]\nurl = "{url}"\n')
    argv = [sys.executable, "-m", "watcher", "--config", str(config), "screen", "海康威视"]
    procs = [
        subprocess.Popen([*argv, "--format", "json"], stdout=subprocess.PIPE, text=True)
        for _ in range(3)
    ]
    outputs = [p.communicate(timeout=120)[0] for p in procs]
    assert [p.returncode for p in procs] == [0, 0, 0]
    rows = [json.loads(out) for out in outputs]
    assert rows[0] == rows[1] == rows[2] and "30946" in {r["key"] for r in rows[0]}
    cache = screen_cache.ScreenCache(_cache_file(url), keys_version())
    rt = make_runtime(url, CONFIG)
    with transaction(rt.engine) as conn:
        assert cache.entries() == {h for _id, h in screen_cache.current_versions(conn)}
    cache.close()


def test_a_broken_cache_file_is_screened_around(tmp_path: Path) -> None:
    url = _sqlite(tmp_path)
    rt = make_runtime(url, CONFIG)
    _replay(rt, "2025-04-21")
    _cache_file(url).write_bytes(b"not a database at all" * 100)
    assert "30946" in _screen_both_ways(rt)["Hikvision"]


HIK = {"Hikvision": ("hikvision",), "HIK VISION": ("hik", "vision")}
HIK_KEYS = {"Hikvision": {"t:hikvision", "p:hikv"}, "HIK VISION": {"t:hik", "t:vision"}}


def test_a_changed_normalizer_empties_the_cache(tmp_path: Path) -> None:
    path = tmp_path / "c.screen-cache"
    cache = screen_cache.ScreenCache(path, "v1")
    cache.add({"h1": ("Hikvision", "HIK VISION")}, HIK, HIK_KEYS)
    cache.close()
    same = screen_cache.ScreenCache(path, "v1")
    assert same.entries() == {"h1"}
    assert same.names_with(["p:hikv", "t:other"]) == {"Hikvision": ("hikvision",)}
    assert same.entries_named(["HIK VISION"]) == {"h1"}
    assert same.tokens(["Hikvision", "other"]) == {"Hikvision": ("hikvision",)}
    same.close()
    changed = screen_cache.ScreenCache(path, "v2")
    assert changed.entries() == set() and changed.tokens(["Hikvision"]) == {}
    assert changed.names_with(["p:hikv"]) == {} and changed.entries_named(["Hikvision"]) == set()
    changed.close()


def test_two_commands_filling_at_once_store_each_entry_once(tmp_path: Path) -> None:
    path = tmp_path / "c.screen-cache"
    one, two = screen_cache.ScreenCache(path, "v"), screen_cache.ScreenCache(path, "v")
    one.add({"h1": ("Hikvision",)}, HIK, HIK_KEYS)
    two.add({"h1": ("Hikvision",), "h2": ("Hikvision", "HIK VISION")}, HIK, HIK_KEYS)
    assert one.entries() == {"h1", "h2"}
    assert one.entries_named(["Hikvision"]) == {"h1", "h2"}
    assert one.entries_named(["HIK VISION"]) == {"h2"}
    assert set(one.names_with(["t:hik", "p:hikv"])) == {"Hikvision", "HIK VISION"}
    one.close()
    two.close()


def test_a_cache_emptied_by_another_command_is_not_read_as_complete(tmp_path: Path) -> None:
    """Another command may empty the cache (a newer normalizer, or mostly unlisted entries)
    between this one bringing it up to date and reading it: the read says so (the command then
    prefilters) instead of returning too few candidates."""
    path = tmp_path / "c.screen-cache"
    one = screen_cache.ScreenCache(path, "v")
    one.add({"h1": ("Hikvision",)}, HIK, HIK_KEYS)
    with one.consistent():
        assert one.entries_named(["Hikvision"]) == {"h1"}
    other = screen_cache.ScreenCache(path, "v")
    other.clear()
    with pytest.raises(screen_cache.CacheCleared), one.consistent():
        pytest.fail("read a cache another command emptied")
    assert isinstance(screen_cache.CacheCleared(), screen_cache.CACHE_ERRORS)
    one.close()
    other.close()


@pytest.mark.parametrize(("dist", "module"), _NORMALIZING_LIBRARIES)
def test_the_cache_version_reads_the_installed_library_versions(dist: str, module: str) -> None:
    assert _installed_version(dist, module) == metadata.version(dist)


def test_an_in_memory_database_has_no_cache_and_postgresql_one_per_database() -> None:
    assert screen_cache.cache_path(make_engine("sqlite://").url) is None
    a = screen_cache.cache_path(make_engine("postgresql://u:secret@h/a").url)
    b = screen_cache.cache_path(make_engine("postgresql://u:other@h/b").url)
    assert a is not None and b is not None and a != b and "secret" not in str(a)

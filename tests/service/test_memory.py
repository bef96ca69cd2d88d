"""An idle daemon gives the memory of a finished poll back to the operating system."""

from __future__ import annotations

import platform
from pathlib import Path

import pytest

from watcher.service.memory import release_memory


def _rss_mb() -> float:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    raise AssertionError("no VmRSS")


@pytest.mark.skipif(platform.libc_ver()[0] != "glibc", reason="malloc_trim is glibc's")
def test_freed_small_objects_leave_the_resident_set() -> None:
    release_memory()
    # Remarks-sized strings come from malloc; a few survivors pin the heap top, so freeing
    # the rest does not lower RSS until the heap is trimmed.
    garbage = [("x" * 600) + str(i) for i in range(300_000)]
    survivors = garbage[::1000]
    del garbage
    before = _rss_mb()
    assert release_memory()
    assert _rss_mb() < before - 100
    assert len(survivors) == 300

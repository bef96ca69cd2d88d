"""Keep an idle daemon lean: give a poll's memory back, and never load what it does not use.

Parsing a 15,000-entry list allocates a few hundred thousand small objects; once freed, glibc
keeps the pages in its arenas and the process's RSS stays at the peak for hours. `malloc_trim`
returns them. Elsewhere than glibc this only collects garbage.
"""

from __future__ import annotations

import ctypes
import ctypes.util
import gc
import sys
from functools import lru_cache
from typing import Any


@lru_cache(maxsize=1)
def _libc() -> Any:
    name = ctypes.util.find_library("c")
    if name is None:
        return None
    try:
        libc = ctypes.CDLL(name)
        return libc if hasattr(libc, "malloc_trim") else None
    except OSError:
        return None


def release_memory() -> bool:
    """Collect garbage and trim the C heap; True when the heap was trimmed."""
    gc.collect()
    libc = _libc()
    return bool(libc is not None and libc.malloc_trim(0))


# Imported only because they are installed, never used by the daemon: httpx imports its own
# command line (`httpx._main`, which pulls in rich and pygments), and httpcore probes for trio
# (here from the test extras). Measured with every source polled: ~12 MB of idle RSS.
_UNUSED_IN_DAEMON = ("httpx._main", "trio")
_M_ARENA_MAX = -8  # mallopt parameter (glibc malloc.h)


def lean_process() -> None:
    """Before the daemon imports its modules and starts its threads: skip the unused imports
    above (httpx and httpcore fall back as they do without them) and cap glibc's malloc arenas
    at two, so polls in several scheduler threads do not each keep an arena's worth of pages
    (~12 MB of idle RSS, measured)."""
    if "httpx" not in sys.modules:
        for name in _UNUSED_IN_DAEMON:
            sys.modules.setdefault(name, None)  # type: ignore[arg-type]
    libc = _libc()
    if libc is not None and hasattr(libc, "mallopt"):
        libc.mallopt(_M_ARENA_MAX, 2)

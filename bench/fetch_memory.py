"""Peak memory of refusing an oversized download (issue 13): a 2 GiB chunked stream and a gzip
bomb against the default 200 MiB cap, each in a fresh process; prints peak RSS (ru_maxrss)
above the process's start, and how the fetch failed.

    .venv/bin/python bench/fetch_memory.py
"""

from __future__ import annotations

import resource
import subprocess
import sys
import zlib
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

MiB = 1024 * 1024


def one(kind: str) -> None:
    from tests.hostile import HostileServer, Reply
    from watcher.config import FetchSettings
    from watcher.http import fetch, make_client

    settings = FetchSettings(retries=0)
    with HostileServer() as server:
        if kind == "stream":
            reply = Reply(200, b"A" * MiB, repeat=2048, length=-1)  # 2 GiB, no Content-Length
        else:
            packer = zlib.compressobj(9, zlib.DEFLATED, 31)  # gzip, built 1 MiB at a time
            zero = b"\0" * MiB
            bomb = b"".join(packer.compress(zero) for _ in range(1024)) + packer.flush()
            reply = Reply(200, bomb, (("Content-Encoding", "gzip"),))
        url = server.serve("x", reply)
        before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
        try:
            with make_client(settings) as client:
                fetch(client, url, settings)
            outcome = "accepted?!"
        except Exception as exc:  # noqa: BLE001 - printed
            outcome = f"{type(exc).__name__}: {exc}"
        peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(f"{kind}: peak RSS {peak:.0f} MiB ({peak - before:+.0f} MiB during the fetch); {outcome}")


if __name__ == "__main__":
    if len(sys.argv) > 1:
        one(sys.argv[1])
    else:
        for kind in ("stream", "gzip-bomb"):
            subprocess.run([sys.executable, __file__, kind], check=True)

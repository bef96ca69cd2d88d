"""The shapes of the hostile-input corpus: a source family (the paths its source asks for, with
their good bytes) and a case (the bad reply on one of those paths, and what must come of it).

Shared by the per-family modules (corpus.py: OFAC, CSL, RSS; corpus_fr.py; corpus_ecfr.py;
corpus_atom.py); nothing here is fixture data.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from tests.conftest import fixture_bytes
from tests.hostile import Reply
from tests.reliability.variants import Ctx

MiB = 1024 * 1024
CAP = 16 * MiB  # fetch.max_bytes in the corpus: oversized cases stream far past it
Files = dict[str, bytes]  # served path -> good bytes


def _same(data: bytes) -> bytes:
    return data


def _unchanged(files: Files) -> Files:
    return files


@dataclass(frozen=True)
class Family:
    """A source fed from a loopback server. One file (`fixture` at `live/<family>`), or
    several (`files`: every path the source asks for, given the server in `Ctx`), of which
    `target` is the one a case corrupts unless it names another."""

    source: str
    fixture: str
    settings: dict[str, Any]
    next_good: Callable[[bytes, Ctx], bytes]  # target's next real-looking day: one known change
    next_changes: tuple[int, int, int]  # what that day must diff to: added, removed, modified
    to_body: Callable[[bytes], bytes] = _same  # fixture bytes -> served bytes
    files: Callable[[Ctx], Files] | None = None
    url: str = ""  # the path configured as the source's url (default: the target)
    target: str = ""
    baseline: Callable[[Files], Files] = _unchanged  # the first day's files, if they differ

    def served(self, family: str, ctx: Ctx) -> Files:
        """Every path the source asks for on the day under test, with its good bytes."""
        if self.files is not None:
            return self.files(ctx)
        return {self.target_of(family): self.to_body(fixture_bytes(self.fixture))}

    def target_of(self, family: str) -> str:
        return self.target or f"live/{family}"


@dataclass(frozen=True)
class Case:
    """A bad reply and its outcome: `rejected` / `quarantined` (a stored snapshot, one operator
    message), `error` (a fetch failure: no snapshot, `watcher sources` shows it at once), or
    `ok` (plausible, accepted and diffed: `changes` = added, removed, modified)."""

    id: str
    family: str
    reply: Callable[[bytes, Ctx], Reply]  # (good bytes, context) -> what is served
    outcome: str
    problem: str = ""  # must appear in the one error line (case-insensitive)
    changes: tuple[int, int, int] = (0, 0, 0)  # for `ok`: added, removed, modified
    memory_bound: bool = field(default=False)  # peak Python memory checked against CAP
    path: str = ""  # the path served badly (default: the family's target)
    warning: str = ""  # for `ok`: must appear in the stored snapshot's warnings
    back: tuple[int, int, int] | None = None  # for `ok`, the good bytes again (default: reverse)
    next_changes: tuple[int, int, int] | None = None  # the next good day (default: the family's)
    operators: int = 0  # for `ok`: operator messages (an Entity List rule read without actions)


def ok(body: bytes) -> Reply:
    return Reply(200, body)


HTML = b"<!DOCTYPE html><html><head><title>Error</title></head><body>Service unavailable</body>"
GZ = (("Content-Encoding", "gzip"),)
GZIP_GARBAGE = Reply(200, b"\x1f\x8bnot gzip", GZ)


def cut(share: float) -> Callable[[bytes, Ctx], Reply]:
    return lambda b, _s: ok(b[: int(len(b) * share)])


def statuses(
    family: str,
    prefix: str,
    *,
    path: str = "",
    codes: tuple[int, ...] = (404, 403, 429, 500, 503),
    next_changes: tuple[int, int, int] | None = None,
) -> list[Case]:
    """HTTP error statuses on one path: a fetch failure, no snapshot, no operator message."""
    return [
        Case(
            f"{prefix}-http-{code}",
            family,
            _status(code),
            "error",
            f"HTTP {code}",
            path=path,
            next_changes=next_changes,
        )
        for code in codes
    ]


def _status(code: int) -> Callable[[bytes, Ctx], Reply]:
    headers = (("Retry-After", "1"),) if code == 429 else ()
    return lambda _b, _s: Reply(code, b"error", headers)

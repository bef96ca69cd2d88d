"""Shared test plumbing: the real fixtures (read in place), databases, a local HTTP server."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
FIXTURES = Path(os.environ.get("WATCHER_FIXTURES", ROOT.parent / "shared" / "fixtures"))


def fixture_path(relative: str) -> Path:
    """Path of a real fixture; missing means skip locally, fail under CI=true."""
    path = FIXTURES / relative
    if not path.exists():
        message = f"fixture missing: {path}"
        if os.environ.get("CI", "").lower() == "true":
            pytest.fail(message)
        pytest.skip(message)
    return path


def fixture_bytes(relative: str) -> bytes:
    return fixture_path(relative).read_bytes()

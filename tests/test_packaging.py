"""Packaging: every data directory inside watcher/ is declared as a package with package data,
so `pip install` copies it and setuptools has nothing to warn about ("Package ... is absent from
the `packages` configuration")."""

from __future__ import annotations

import tomllib
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def test_every_directory_with_files_is_a_declared_package() -> None:
    config = tomllib.loads((ROOT / "pyproject.toml").read_text("utf-8"))["tool"]["setuptools"]
    packages = set(config["packages"])
    data = config["package-data"]
    found = {
        ".".join(d.relative_to(ROOT).parts)
        for d in (ROOT / "watcher").rglob("*")
        if d.is_dir() and d.name != "__pycache__" and any(f.is_file() for f in d.iterdir())
    } | {"watcher"}
    assert found <= packages, sorted(found - packages)
    for name in found:
        directory = ROOT.joinpath(*name.split("."))
        files = [f for f in directory.iterdir() if f.is_file()]
        if not any(f.suffix == ".py" for f in files):  # a data directory
            patterns = data.get(name, [])
            assert files and all(any(f.match(p) for p in patterns) for f in files), name

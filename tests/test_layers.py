"""The layers as ARCHITECTURE.md draws them: every `watcher.*` import in the package (lazy ones
inside functions too) is checked against the rooms table, and SQL stays inside `store/`."""

from __future__ import annotations

import ast
import re
from collections.abc import Iterator
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
PACKAGE = ROOT / "watcher"
# Imports the table does not allow yet, each with the reason it is tolerated.
_REGISTRY = "option keys and names of [sources.X] (lazy: sources.names, sources.options)"
EXCEPTIONS = {("watcher.config.load", "watcher.sources"): _REGISTRY}
SQLALCHEMY_OUTSIDE_STORE = {"Connection", "Engine", "IntegrityError"}


def rooms_table() -> tuple[dict[str, str], dict[str, set[str]]]:
    """(member -> room, room -> rooms it may import) from ARCHITECTURE.md's table."""
    text = (ROOT / "ARCHITECTURE.md").read_text(encoding="utf-8")
    section = text.split("## Rooms", 1)[1].split("\n## ", 1)[0]
    rows = [
        [c.strip() for c in line.strip().strip("|").split("|")]
        for line in section.splitlines()
        if line.startswith("| `")
    ]
    member_of: dict[str, str] = {}
    order: list[str] = []
    for cells in rows:
        names = [n.rstrip("/") for n in re.findall(r"`([^`]+)`", cells[0])]
        label = names[0] if order else "base"  # the first row is the base modules
        order.append(label)
        member_of.update((n, label) for n in names)
    allowed: dict[str, set[str]] = {}
    for i, cells in enumerate(rows):
        room = order[i]
        ok = {room, "base"} if "base" in cells[2] else {room}
        if "everything above" in cells[2]:
            ok |= set(order[:i])
        tokens = (n.rstrip("/") for n in re.findall(r"`([^`]+)`", cells[2]))
        ok |= {member_of[n] for n in tokens if n in member_of}
        allowed[room] = ok
    return member_of, allowed


def modules() -> Iterator[tuple[str, Path]]:
    for path in sorted(PACKAGE.rglob("*.py")):
        parts = path.relative_to(ROOT).with_suffix("").parts
        yield ".".join(parts[:-1] if parts[-1] == "__init__" else parts), path


def imports(path: Path) -> Iterator[tuple[int, str, tuple[str, ...]]]:
    """(line, module, imported names) of every import, at any depth."""
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            for alias in node.names:
                yield node.lineno, alias.name, ()
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            names = tuple(a.name for a in node.names)
            if node.module == "watcher":  # `from watcher import diff` imports watcher.diff
                for name in names:
                    yield node.lineno, f"watcher.{name}", ()
            else:
                yield node.lineno, node.module, names


def room(module: str, member_of: dict[str, str]) -> str | None:
    parts = module.split(".")
    return member_of.get(parts[1]) if len(parts) > 1 else None


def test_the_table_names_every_module() -> None:
    member_of, _ = rooms_table()
    unplaced = [m for m, _ in modules() if m != "watcher" and room(m, member_of) is None]
    assert unplaced == [], "add these to ARCHITECTURE.md's rooms table"


def test_no_import_climbs_the_layers() -> None:
    member_of, allowed = rooms_table()
    offending = []
    for module, path in modules():
        here = room(module, member_of)
        for line, target, _names in imports(path):
            there = room(target, member_of) if target.startswith("watcher.") else None
            if here is None or there is None or there in allowed[here]:
                continue
            if (module, target) not in EXCEPTIONS:
                rel = path.relative_to(ROOT)
                offending.append(f"{rel}:{line}: {here} imports {target} ({there})")
    assert offending == []


def test_sql_stays_in_the_store() -> None:
    offending = []
    for module, path in modules():
        if module.startswith("watcher.store"):
            continue
        for line, target, names in imports(path):
            rel = path.relative_to(ROOT)
            if target == "watcher.store.tables":
                offending.append(f"{rel}:{line}: imports the store's private tables")
            elif target.split(".")[0] == "sqlalchemy" and (
                not names or set(names) - SQLALCHEMY_OUTSIDE_STORE
            ):
                offending.append(f"{rel}:{line}: {target} {', '.join(names)}")
    assert offending == []


def test_the_check_catches_a_climbing_import(tmp_path: Path) -> None:
    """The walker sees lazy imports inside functions, where climbing ones like to hide."""
    source = tmp_path / "example.py"
    source.write_text("def f():\n    from watcher.cli.main import main\n    return main\n")
    member_of, allowed = rooms_table()
    (found,) = list(imports(source))
    assert found[:2] == (2, "watcher.cli.main")
    assert room(found[1], member_of) == "cli" and "cli" not in allowed["store"]

"""Migrations run only when needed: the head is read from the version files' text (no alembic
import) and must be the revision alembic itself calls head."""

from __future__ import annotations

from pathlib import Path

from alembic.script import ScriptDirectory
from sqlalchemy import text

from watcher.store.engine import (
    alembic_config,
    at_head,
    ensure_schema,
    head_revision,
    make_engine,
)


def test_head_revision_is_alembics_head(tmp_path: Path) -> None:
    engine = make_engine(f"sqlite:///{tmp_path / 'w.db'}")
    script = ScriptDirectory.from_config(alembic_config(engine))
    assert head_revision() == script.get_current_head()


def test_ensure_schema_migrates_a_new_database_once(tmp_path: Path) -> None:
    engine = make_engine(f"sqlite:///{tmp_path / 'w.db'}")
    assert not at_head(engine)  # no alembic_version table yet
    ensure_schema(engine)
    assert at_head(engine)
    with engine.begin() as conn:
        conn.execute(text("UPDATE alembic_version SET version_num = '0001'"))
    assert not at_head(engine)  # an older schema is migrated again

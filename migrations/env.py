"""Alembic environment: the engine comes from watcher (never from alembic.ini)."""

from __future__ import annotations

from alembic import context
from sqlalchemy import Engine

from watcher.store.engine import make_engine
from watcher.store.tables import metadata

config = context.config
target_metadata = metadata


def run_migrations_online() -> None:
    engine: Engine | None = config.attributes.get("engine")
    if engine is None:
        engine = make_engine(config.get_main_option("sqlalchemy.url") or "sqlite:///watcher.db")
    with engine.connect() as connection:
        context.configure(
            connection=connection,
            target_metadata=target_metadata,
            render_as_batch=connection.dialect.name == "sqlite",
            compare_type=True,
        )
        with context.begin_transaction():
            context.run_migrations()
        connection.commit()


run_migrations_online()

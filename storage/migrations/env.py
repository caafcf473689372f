"""Alembic environment: migrations run synchronously on the URL the caller passes in."""

from __future__ import annotations

import os

from alembic import context
from sqlalchemy import create_engine, pool
from sqlmodel import SQLModel

import storage.models  # noqa: F401  (registers the tables on SQLModel.metadata)
from storage.db import install_sqlite_pragmas, sync_url

config = context.config
url = config.attributes.get("database_url") or os.environ.get("DATABASE_URL", "sqlite:///okrbot.db")
target_metadata = SQLModel.metadata


def run_migrations_offline() -> None:
    context.configure(
        url=str(sync_url(url)),
        target_metadata=target_metadata,
        literal_binds=True,
        render_as_batch=True,
    )
    with context.begin_transaction():
        context.run_migrations()


def run_migrations_online() -> None:
    engine = create_engine(sync_url(url), poolclass=pool.NullPool)
    install_sqlite_pragmas(engine)
    with engine.connect() as connection:
        context.configure(
            connection=connection, target_metadata=target_metadata, render_as_batch=True
        )
        with context.begin_transaction():
            context.run_migrations()
    engine.dispose()


if context.is_offline_mode():
    run_migrations_offline()
else:
    run_migrations_online()

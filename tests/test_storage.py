"""The store itself, on SQLite and PostgreSQL: migrations, time stamps, SQLite settings."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import create_engine, select, text
from sqlmodel import SQLModel

import storage.models  # noqa: F401
from storage.db import Database, DatabaseError, async_url, sync_url, upgrade
from storage.models import Person, RawReply


def test_migrations_create_exactly_the_tables_of_the_models(db_url):
    upgrade(db_url)
    upgrade(db_url)  # a second run has nothing to do
    engine = create_engine(sync_url(db_url))
    try:
        with engine.connect() as conn:
            diff = compare_metadata(MigrationContext.configure(conn), SQLModel.metadata)
            version = conn.execute(text("SELECT version_num FROM alembic_version")).scalar_one()
    finally:
        engine.dispose()
    assert diff == []
    assert version == "0005"


async def test_timestamps_come_back_as_aware_utc(db):
    moment = datetime(2026, 11, 22, 10, 15, tzinfo=timezone(timedelta(hours=1)))
    async with db.transaction() as session:
        session.add(RawReply(platform="console", text="hej", received_at=moment))
    async with db.session() as session:
        row = (await session.execute(select(RawReply))).scalar_one()
    assert row.received_at == moment
    assert row.received_at.tzinfo is not None
    assert row.received_at.utcoffset() == timedelta(0)
    assert row.received_at.hour == 9


async def test_naive_timestamps_are_refused(db):
    with pytest.raises(Exception, match="naive datetime"):
        async with db.transaction() as session:
            session.add(RawReply(platform="console", text="x", received_at=datetime(2026, 1, 1)))
    async with db.session() as session:
        assert (await session.execute(select(RawReply))).first() is None


async def test_a_failed_transaction_leaves_nothing_behind(db):
    with pytest.raises(RuntimeError):
        async with db.transaction() as session:
            session.add(Person(handle="anna", name="Anna Holm"))
            await session.flush()
            raise RuntimeError("boom")
    async with db.session() as session:
        assert (await session.execute(select(Person))).first() is None


async def test_sessions_do_not_expire_rows_on_commit(db):
    async with db.transaction() as session:
        person = Person(handle="jonas", name="Jonas Krogh")
        session.add(person)
    # read after the commit and outside the session: no lazy load, no MissingGreenlet
    assert person.name == "Jonas Krogh" and person.id is not None


async def test_sqlite_runs_in_wal_mode_with_a_busy_timeout(tmp_path):
    url = f"sqlite:///{tmp_path / 'wal.db'}"
    upgrade(url)
    db = Database(url)
    try:
        async with db.engine.connect() as conn:
            mode = (await conn.execute(text("PRAGMA journal_mode"))).scalar_one()
            timeout = (await conn.execute(text("PRAGMA busy_timeout"))).scalar_one()
            keys = (await conn.execute(text("PRAGMA foreign_keys"))).scalar_one()
    finally:
        await db.dispose()
    assert (mode, timeout, keys) == ("wal", 5000, 1)


async def test_ping(db, tmp_path):
    assert await db.ping()
    broken = Database("postgresql+psycopg://nobody@127.0.0.1:1/none")
    try:
        assert not await broken.ping()
    finally:
        await broken.dispose()


def test_urls_pick_the_drivers():
    assert str(async_url("sqlite:///okrbot.db")) == "sqlite+aiosqlite:///okrbot.db"
    assert str(sync_url("sqlite:///okrbot.db")) == "sqlite:///okrbot.db"
    assert async_url("postgresql://u@h/db").drivername == "postgresql+psycopg"
    assert sync_url("postgresql+psycopg://u@h/db").drivername == "postgresql+psycopg"
    with pytest.raises(DatabaseError, match="unsupported database"):
        async_url("mysql://u@h/db")
    with pytest.raises(DatabaseError, match="not a database URL"):
        async_url("okrbot.db")


def test_an_unreachable_database_is_a_one_line_error():
    with pytest.raises(DatabaseError, match="cannot migrate postgresql"):
        upgrade("postgresql+psycopg://nobody@127.0.0.1:1/none")

"""Shared fixtures. Storage tests take `db_url` / `db` and run on SQLite and on PostgreSQL.

PostgreSQL runs when `TEST_DATABASE_URL` is set (CI sets it and then requires it: an
unreachable server fails the run instead of skipping). Each test gets its own schema.
"""

from __future__ import annotations

import os
import uuid
from datetime import UTC, datetime
from urllib.parse import quote

import pytest

from bot.clock import fixed_clock
from storage.db import Database, upgrade

PG_URL = os.environ.get("TEST_DATABASE_URL")
# Sunday 22 November 2026, 12:00 in Copenhagen: week 47 of 2026-Q4 (57% of it elapsed)
NOW = datetime(2026, 11, 22, 11, 0, tzinfo=UTC)


@pytest.fixture
def now() -> datetime:
    return NOW


@pytest.fixture
def clock():
    return fixed_clock(NOW)


def _pg_schema_url(schema: str) -> str:
    separator = "&" if "?" in PG_URL else "?"
    return f"{PG_URL}{separator}options={quote(f'-csearch_path={schema}')}"


@pytest.fixture(params=["sqlite", "postgresql"])
def db_url(request, tmp_path):
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path / 'okrbot.db'}"
        return
    if not PG_URL:
        if os.environ.get("OKRBOT_REQUIRE_POSTGRES"):
            pytest.fail("OKRBOT_REQUIRE_POSTGRES is set but TEST_DATABASE_URL is not")
        pytest.skip("TEST_DATABASE_URL is not set: PostgreSQL tests skipped")
    import psycopg

    schema = f"t_{uuid.uuid4().hex[:12]}"
    plain = PG_URL.replace("postgresql+psycopg://", "postgresql://")
    with psycopg.connect(plain, autocommit=True) as conn:
        conn.execute(f'CREATE SCHEMA "{schema}"')
    try:
        yield _pg_schema_url(schema)
    finally:
        with psycopg.connect(plain, autocommit=True) as conn:
            conn.execute(f'DROP SCHEMA "{schema}" CASCADE')


@pytest.fixture
async def db(db_url):
    upgrade(db_url)
    database = Database(db_url)
    try:
        yield database
    finally:
        await database.dispose()


@pytest.fixture
async def sqlite_db(tmp_path):
    """For tests of the core that need a database but not both backends."""
    url = f"sqlite:///{tmp_path / 'core.db'}"
    upgrade(url)
    database = Database(url)
    try:
        yield database
    finally:
        await database.dispose()


_CORPUS_LINES: list[str] = []


def pytest_runtest_logreport(report):
    """Gather the reply corpus' figures, which a test records as a property of its report (so
    that they reach this process from the workers of a parallel run too)."""
    if report.when != "call" or not report.user_properties:
        return  # (so that a run without the corpus test never imports it)
    from tests.test_parser_corpus import CORPUS_REPORT

    for name, lines in report.user_properties:
        if name == CORPUS_REPORT:
            _CORPUS_LINES.extend(lines)


def pytest_terminal_summary(terminalreporter):
    """Print the reply corpus' accuracy per category when that test ran."""
    if _CORPUS_LINES:
        terminalreporter.section("reply corpus")
        for line in _CORPUS_LINES:
            terminalreporter.write_line(line)

"""A landed export imported into a real database (SQLite file and PostgreSQL): the check-ins
become history with their own dates in one transaction, again is a no-op, and a later check-in
is never overwritten by importing the same export once more."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from sqlalchemy import func, select

from bot.okrfile.dump import dump_okr_document
from bot.okrfile.export import export_document
from bot.okrfile.importer import import_landing
from bot.okrfile.landing import Settings, land
from bot.okrfile.viva import read_viva
from bot.updates import record_update
from storage.models import KeyResult, KeyResultUpdate
from tests.landing_samples import viva_zip


def landed(tmp_path):
    data = viva_zip(tmp_path / "viva.zip").read_bytes()
    return land(read_viva(data, "viva.zip"), Settings(organization="Nordlys Retail"))


async def updates_of(session, title: str) -> list[tuple]:
    kr = (await session.execute(select(KeyResult).where(KeyResult.title == title))).scalar_one()
    rows = await session.execute(
        select(KeyResultUpdate)
        .where(KeyResultUpdate.key_result_id == kr.id)
        .order_by(KeyResultUpdate.created_at, KeyResultUpdate.id)
    )
    return [(u.created_at, u.old_value, u.new_value, u.source) for u in rows.scalars()]


async def test_history_lands_once_with_its_dates(db, now, tmp_path):
    landing = landed(tmp_path)
    async with db.transaction() as session:
        report = await import_landing(session, landing, now=now)
    assert (report.history, report.key_results) == (10, 5)
    async with db.session() as session:
        assert await updates_of(session, "Online omsætning") == [
            (datetime(2026, 8, 3, 12, tzinfo=UTC), None, 3_400_000, "import"),
            (datetime(2026, 9, 28, 12, tzinfo=UTC), 3_400_000, 3_800_000, "import"),
        ]
        assert dump_okr_document(await export_document(session)) == landing.text
        total = (await session.execute(select(func.count(KeyResultUpdate.id)))).scalar()
    async with db.transaction() as session:
        again = await import_landing(session, landing, now=now + timedelta(days=1))
    assert (again.summary, again.history) == ("nothing changed", 0)
    async with db.session() as session:
        assert (await session.execute(select(func.count(KeyResultUpdate.id)))).scalar() == total


async def test_a_later_check_in_survives_importing_the_same_export(db, now, tmp_path):
    landing = landed(tmp_path)
    async with db.transaction() as session:
        await import_landing(session, landing, now=now)
    async with db.transaction() as session:
        kr = (
            await session.execute(select(KeyResult).where(KeyResult.title == "Annual revenue"))
        ).scalar_one()
        record_update(session, kr, 54_000_000, at=now + timedelta(hours=1), source="dm")
    async with db.transaction() as session:
        await import_landing(session, landing, now=now + timedelta(days=1))
    async with db.session() as session:
        kr = (
            await session.execute(select(KeyResult).where(KeyResult.title == "Annual revenue"))
        ).scalar_one()
        assert kr.current == 54_000_000
        assert [u[3] for u in await updates_of(session, "Annual revenue")] == [
            "import", "import", "import", "dm",
        ]  # fmt: skip

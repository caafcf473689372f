"""The memory of signed requests already taken, shared by every replica through the database:
the first sighting of a key wins, a second one within the window is a replay."""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import delete
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.ext.asyncio import AsyncSession

from storage.models import SeenRequest


async def first_sighting(
    session: AsyncSession, key: str, now: datetime, *, window: timedelta
) -> bool:
    """Record `key`; False when it was recorded already within `window`. Keys older than the
    window are forgotten (a request that old is refused by its timestamp anyway)."""
    await session.execute(delete(SeenRequest).where(SeenRequest.seen_at < now - window))
    insert = pg_insert if session.bind.dialect.name == "postgresql" else sqlite_insert
    statement = (
        insert(SeenRequest)
        .values(key=key, seen_at=now)
        .on_conflict_do_nothing()
        .returning(SeenRequest.key)
    )
    return (await session.execute(statement)).first() is not None

"""The shared pace of sends (`send_pace`): one row per platform scope, changed by compare and
set so that any number of processes on one database can each read it, decide, and write it
back without losing each other's changes or holding a lock while they decide.

A change reads the row (its own short read), computes the new state, then writes it only if the
row's version is still the one read; if another process wrote in between, it reads again after
a short random pause (so that writers racing for the row do not keep colliding). The write is a
single conditional UPDATE (or an INSERT that does nothing on conflict), which SQLite
serialises under its write lock and PostgreSQL under the row lock: no read is ever upgraded to
a write inside one transaction, so SQLite's "database is locked" on upgrade cannot happen.
"""

from __future__ import annotations

import asyncio
import random
from collections.abc import Callable
from datetime import datetime
from typing import TypeVar

from sqlalchemy import select, update
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert

from storage.db import Database
from storage.models import SendPace

T = TypeVar("T")
ATTEMPTS = 50

# the state read (None: no row yet) -> (rate, the state to write, what the caller gets back)
Change = Callable[[dict | None], tuple[float, dict, T]]


class PaceConflict(Exception):
    """The row kept changing under us (more writers than attempts)."""


class PaceStore:
    def __init__(self, db: Database) -> None:
        self.db = db

    async def change(self, scope: str, change: Change[T], now: datetime) -> T:
        for attempt in range(ATTEMPTS):
            if attempt:  # another writer won: step aside a random moment, longer each time
                await asyncio.sleep(random.uniform(0, 0.001 * min(attempt, 20)))
            async with self.db.session() as session:
                found = (
                    await session.execute(
                        select(SendPace.state, SendPace.version).where(SendPace.scope == scope)
                    )
                ).first()
            rate, state, result = change(dict(found.state) if found is not None else None)
            async with self.db.transaction() as session:
                if found is None:
                    postgres = session.bind.dialect.name == "postgresql"
                    insert = pg_insert if postgres else sqlite_insert
                    statement = insert(SendPace).values(
                        scope=scope, rate=rate, state=state, version=1, updated_at=now
                    )
                    statement = statement.on_conflict_do_nothing().returning(SendPace.scope)
                    written = (await session.execute(statement)).first() is not None
                else:
                    outcome = await session.execute(
                        update(SendPace)
                        .where(SendPace.scope == scope, SendPace.version == found.version)
                        .values(rate=rate, state=state, version=found.version + 1, updated_at=now)
                        .execution_options(synchronize_session=False)
                    )
                    written = outcome.rowcount == 1
            if written:
                return result
        raise PaceConflict(f"the pace of {scope} kept changing under this process")

    async def rates(self) -> dict[str, float]:
        """The learned rate of every scope (for `okrbot doctor` and the logs)."""
        async with self.db.session() as session:
            rows = await session.execute(select(SendPace.scope, SendPace.rate))
            return {scope: rate for scope, rate in rows}

"""The tick: read what the schedule depends on, ask the core what is due, enqueue it.

A fixed number of statements per tick whatever the size of the organisation. The outbox's
unique key makes enqueueing idempotent, so ticks may overlap across replicas.
"""

from __future__ import annotations

from datetime import datetime

from bot.checkin.due import Due, due, read_situation
from scheduler.outbox import OutboxStore


async def tick(store: OutboxStore, now: datetime) -> list[Due]:
    async with store.db.session() as session:
        state = await read_situation(session, now, store)
    dues = due(state, now)
    await store.enqueue(dues)
    return dues

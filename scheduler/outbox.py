"""The outbox: every prompt, reminder and digest is a row with a unique key (kind, target,
period), written before anything is sent.

Claims are exclusive across workers and processes: a conditional UPDATE takes rows that are
pending and due, or whose sender's lease ran out (it died or hung), and marks them with the
worker's name. On PostgreSQL the candidate rows are locked with `FOR UPDATE SKIP LOCKED`, so
replicas never wait on each other; on SQLite the UPDATE runs under the database's one write
lock. Every later change is conditional on the claim still being ours, so a worker whose lease
expired cannot overwrite the row another worker took over.

A row taken back from a dead sender is marked `uncertain`: the platform may have the message
already, so the sender reconciles before sending again (SPEC §8).
"""

from __future__ import annotations

import uuid
from collections.abc import Collection, Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import and_, bindparam, case, func, or_, select, update
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert

from bot.batches import Batched
from bot.checkin.due import Due
from bot.clock import Clock
from storage.db import Database
from storage.models import OUTBOX_FAILED, OUTBOX_PENDING, OUTBOX_SENDING, OUTBOX_SENT, Outbox

PENDING, SENDING, SENT, FAILED = OUTBOX_PENDING, OUTBOX_SENDING, OUTBOX_SENT, OUTBOX_FAILED
LEASE_SECONDS = 30.0


@dataclass(frozen=True)
class _Sent:
    """A row the platform accepted, to be marked sent."""

    id: int
    worker: str | None
    result: dict
    platform: str
    at: datetime


def key_of(row: Outbox | Due) -> str:
    """The key a message carries on the platform, e.g. `prompt/anna/2026-W47`."""
    return f"{row.kind}/{row.target}/{row.period}"


_OUTBOX = Outbox.__table__
_MARK_SENT = (
    update(_OUTBOX)
    .where(
        _OUTBOX.c.id == bindparam("b_id"),
        _OUTBOX.c.claimed_by == bindparam("b_worker"),
        _OUTBOX.c.state == SENDING,
    )
    .values(
        state=SENT,
        result=bindparam("b_result", type_=_OUTBOX.c.result.type),
        platform=bindparam("b_platform"),
        sent_at=bindparam("b_at", type_=_OUTBOX.c.sent_at.type),
        lease_until=None,
        uncertain=False,
        last_error=None,
    )
)
_SENT_BY = select(_OUTBOX.c.id, _OUTBOX.c.claimed_by).where(
    _OUTBOX.c.id.in_(bindparam("ids", expanding=True)), _OUTBOX.c.state == SENT
)


class OutboxStore:
    def __init__(self, db: Database, clock: Clock, *, lease_seconds: float = LEASE_SECONDS):
        self.db = db
        self.clock = clock
        self.lease = timedelta(seconds=lease_seconds)
        self._sent: Batched[_Sent, bool] = Batched(self._mark_sent, most=100)

    # -- writing what is due -------------------------------------------------------------------
    async def enqueue(self, dues: Iterable[Due]) -> list[int]:
        """Rows for these keys, created when missing (never twice, whoever else enqueues at
        the same moment); returns the ids of all of them, new or not."""
        wanted = list(dict.fromkeys(dues))
        if not wanted:
            return []
        now = self.clock()
        values = [
            dict(
                kind=d.kind,
                target=d.target,
                period=d.period,
                state=PENDING,
                next_attempt_at=now,
                created_at=now,
                attempts=0,
                uncertain=False,
            )
            for d in wanted
        ]
        async with self.db.transaction() as session:
            dialect = session.bind.dialect.name
            insert = pg_insert if dialect == "postgresql" else sqlite_insert
            statement = insert(Outbox).on_conflict_do_nothing(
                index_elements=["kind", "target", "period"]
            )
            await session.execute(statement, values)
        return await self.ids_of(wanted)

    async def ids_of(self, dues: Iterable[Due]) -> list[int]:
        keys = {(d.kind, d.target, d.period) for d in dues}
        if not keys:
            return []
        periods = {p for _, _, p in keys}
        async with self.db.session() as session:
            rows = await session.execute(
                select(Outbox.id, Outbox.kind, Outbox.target, Outbox.period).where(
                    Outbox.period.in_(periods)
                )
            )
            return [r.id for r in rows if (r.kind, r.target, r.period) in keys]

    async def existing(self, periods: Collection[str]) -> dict[tuple[str, str, str], Any]:
        """The rows of these periods by key, as light rows (state, sent_at): for the tick,
        what is already done or queued."""
        if not periods:
            return {}
        query = select(
            Outbox.kind, Outbox.target, Outbox.period, Outbox.state, Outbox.sent_at
        ).where(Outbox.period.in_(set(periods)))
        async with self.db.session() as session:
            rows = await session.execute(query)
            return {(r.kind, r.target, r.period): r for r in rows}

    # -- claiming ------------------------------------------------------------------------------
    async def claim(
        self, worker: str, limit: int, *, ids: Collection[int] | None = None
    ) -> list[Outbox]:
        """Up to `limit` rows for this worker: pending and due, or abandoned by a dead sender."""
        if limit <= 0:
            return []
        now = self.clock()
        claimable = or_(
            and_(
                Outbox.state == PENDING,
                or_(Outbox.next_attempt_at.is_(None), Outbox.next_attempt_at <= now),
            ),
            and_(Outbox.state == SENDING, Outbox.lease_until < now),
        )
        async with self.db.transaction() as session:
            candidates = select(Outbox.id).where(claimable).order_by(Outbox.id).limit(limit)
            if ids is not None:
                candidates = candidates.where(Outbox.id.in_(list(ids)))
            if session.bind.dialect.name == "postgresql":
                candidates = candidates.with_for_update(skip_locked=True)
            statement = (
                update(Outbox)
                .where(Outbox.id.in_(candidates.scalar_subquery()), claimable)
                .values(
                    state=SENDING,
                    claimed_by=worker,
                    lease_until=now + self.lease,
                    attempts=Outbox.attempts + 1,
                    uncertain=case((Outbox.state == SENDING, True), else_=Outbox.uncertain),
                )
                .returning(Outbox)
                .execution_options(synchronize_session=False)
            )
            rows = list((await session.execute(statement)).scalars())
        return sorted(rows, key=lambda r: r.id)

    async def renew(self, worker: str, ids: Collection[int]) -> None:
        """Keep the leases of rows still being sent (a slow send is not a dead sender)."""
        if not ids:
            return
        async with self.db.transaction() as session:
            await session.execute(
                update(Outbox)
                .where(Outbox.id.in_(list(ids)), Outbox.claimed_by == worker)
                .where(Outbox.state == SENDING)
                .values(lease_until=self.clock() + self.lease)
                .execution_options(synchronize_session=False)
            )

    # -- outcomes (each only while the claim is still ours) --------------------------------------
    async def _ours(self, row: Outbox, **values) -> bool:
        async with self.db.transaction() as session:
            result = await session.execute(
                update(Outbox)
                .where(
                    Outbox.id == row.id,
                    Outbox.claimed_by == row.claimed_by,
                    Outbox.state == SENDING,
                )
                .values(**values)
                .execution_options(synchronize_session=False)
            )
            return result.rowcount == 1

    async def checkpoint(self, row: Outbox, result: dict, *, platform: str | None = None) -> None:
        """Progress of a message sent in parts (a digest's headline, its thread replies)."""
        row.result = dict(result)
        await self._ours(row, result=row.result, platform=platform or row.platform)

    async def sent(self, row: Outbox, result: dict, *, platform: str) -> bool:
        """Sent (if the claim is still ours). The rows sent at the same moment are marked
        together, in one statement, as soon as the marking in front of them is done."""
        return await self._sent(_Sent(row.id, row.claimed_by, result, platform, self.clock()))

    async def _mark_sent(self, sent: list[_Sent]) -> list[bool]:
        """Many rows in one transaction, each only while its claim is ours: one UPDATE run for
        every row (a statement built once), then which of them are ours now, sent."""
        async with self.db.transaction() as session:
            await session.execute(
                _MARK_SENT,
                [
                    {"b_id": s.id, "b_worker": s.worker, "b_result": s.result,
                     "b_platform": s.platform, "b_at": s.at}
                    for s in sent
                ],
            )  # fmt: skip
            found = await session.execute(_SENT_BY, {"ids": [s.id for s in sent]})
            now_sent = {row_id: worker for row_id, worker in found}
        return [s.id in now_sent and now_sent[s.id] == s.worker for s in sent]

    async def retry(
        self, row: Outbox, *, delay: float, error: str, uncertain: bool, platform: str | None
    ) -> bool:
        return await self._ours(
            row,
            state=PENDING,
            next_attempt_at=self.clock() + timedelta(seconds=delay),
            lease_until=None,
            uncertain=row.uncertain or uncertain,
            last_error=error,
            platform=platform or row.platform,
        )

    async def failed(self, row: Outbox, *, error: str, platform: str | None) -> bool:
        """Failed for good: kept with its error for `okrbot doctor` and the exec digest."""
        return await self._ours(
            row,
            state=FAILED,
            lease_until=None,
            last_error=error,
            platform=platform or row.platform,
        )

    async def retry_failed(self, ids: Collection[int]) -> int:
        """Give rows that failed for good another go (after their cause was fixed)."""
        if not ids:
            return 0
        async with self.db.transaction() as session:
            result = await session.execute(
                update(Outbox)
                .where(Outbox.id.in_(list(ids)), Outbox.state == FAILED)
                .values(state=PENDING, next_attempt_at=self.clock(), attempts=0)
                .execution_options(synchronize_session=False)
            )
            return result.rowcount

    # -- reading -------------------------------------------------------------------------------
    async def rows(self, ids: Collection[int]) -> list[Outbox]:
        async with self.db.session() as session:
            found = await session.execute(
                select(Outbox).where(Outbox.id.in_(list(ids))).order_by(Outbox.id)
            )
            return list(found.scalars())

    async def states(self, ids: Collection[int]) -> dict[int, str]:
        """The state of each of these rows (in chunks: a round may be thousands)."""
        ids = list(ids)
        found: dict[int, str] = {}
        async with self.db.session() as session:
            for start in range(0, len(ids), 1000):
                chunk = ids[start : start + 1000]
                rows = await session.execute(
                    select(Outbox.id, Outbox.state).where(Outbox.id.in_(chunk))
                )
                found.update({row_id: state for row_id, state in rows})
        return found

    async def next_due(self, ids: Collection[int] | None = None) -> datetime | None:
        """When the earliest pending row (or expiring lease) becomes claimable."""
        async with self.db.session() as session:
            pending = select(func.min(Outbox.next_attempt_at)).where(Outbox.state == PENDING)
            leased = select(func.min(Outbox.lease_until)).where(Outbox.state == SENDING)
            if ids is not None:
                pending = pending.where(Outbox.id.in_(list(ids)))
                leased = leased.where(Outbox.id.in_(list(ids)))
            moments = [
                (await session.execute(pending)).scalar(),
                (await session.execute(leased)).scalar(),
            ]
        moments = [m for m in moments if m is not None]
        return min(moments) if moments else None

    async def depth(self) -> dict[str, int]:
        async with self.db.session() as session:
            rows = await session.execute(select(Outbox.state, func.count()).group_by(Outbox.state))
            return {state: count for state, count in rows}


def worker_name() -> str:
    return f"w-{uuid.uuid4().hex[:12]}"

"""The scheduler inside `okrbot run` / `serve`: APScheduler as a clock, the outbox as the state.

Two in-memory jobs with explicit ids: `okrbot.tick` every minute (enqueue what is due, wake the
delivery worker) and `okrbot.retention` once a day (raw replies older than the retention
setting). No APScheduler job store holds anything we need: after a restart the first tick
finds what is still due this period, whatever firings were missed.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable
from datetime import timedelta

from apscheduler.schedulers.asyncio import AsyncIOScheduler

from bot.clock import Clock
from scheduler.outbox import OutboxStore
from scheduler.tick import tick
from scheduler.worker import DeliveryWorker

log = logging.getLogger("okrbot.scheduler")
TICK_SECONDS = 60
TICK_JOB, RETENTION_JOB = "okrbot.tick", "okrbot.retention"


class Scheduler:
    def __init__(
        self,
        store: OutboxStore,
        worker: DeliveryWorker,
        clock: Clock,
        *,
        retention: Callable[[], Awaitable[int]] | None = None,
        tick_seconds: float = TICK_SECONDS,
    ) -> None:
        self.store = store
        self.worker = worker
        self.clock = clock
        self.retention = retention
        self.tick_seconds = tick_seconds
        self._aps: AsyncIOScheduler | None = None
        self._stop = asyncio.Event()
        self._worker_task: asyncio.Task | None = None

    async def tick(self) -> None:
        try:
            dues = await tick(self.store, self.clock())
        except Exception:
            log.exception("the scheduler tick failed; the next one tries again")
            return
        if dues:
            log.info("enqueued %d message(s): %s", len(dues), _summary(dues))
            self.worker.wake()

    async def purge(self) -> None:
        if self.retention is None:
            return
        try:
            removed = await self.retention()
        except Exception:
            log.exception("the raw-reply retention job failed")
            return
        if removed:
            log.info("retention: removed %d old raw replies", removed)

    def start(self) -> None:
        aps = AsyncIOScheduler(timezone="UTC")
        first = self.clock()
        common = dict(
            replace_existing=True, coalesce=True, max_instances=1, misfire_grace_time=None
        )
        aps.add_job(
            self.tick,
            "interval",
            seconds=self.tick_seconds,
            id=TICK_JOB,
            next_run_time=first,
            **common,
        )
        if self.retention is not None:
            aps.add_job(
                self.purge,
                "interval",
                hours=24,
                id=RETENTION_JOB,
                next_run_time=first + timedelta(seconds=30),
                **common,
            )
        aps.start()
        self._aps = aps
        self._worker_task = asyncio.create_task(self.worker.run(self._stop), name="outbox")
        log.info("scheduler started: a tick every %s s", self.tick_seconds)

    async def shutdown(self) -> None:
        """Stop ticking, let the worker finish the sends in flight, then return."""
        if self._aps is not None:
            self._aps.shutdown(wait=False)
            self._aps = None
        self._stop.set()
        if self._worker_task is not None:
            await self._worker_task
            self._worker_task = None
        await self.worker.senders.close()
        log.info("scheduler stopped")


def _summary(dues) -> str:
    counts: dict[str, int] = {}
    for due in dues:
        counts[due.kind] = counts.get(due.kind, 0) + 1
    return ", ".join(f"{n} {kind}" for kind, n in sorted(counts.items()))

"""Many concurrent callers, one round trip: a call that waits for a batch of its kind.

`Batched(run)` is awaited like a function of one item. The calls made at the same moment (the
same turn of the event loop) go together to one call of `run` with the list of their items;
calls made while a batch is being run wait for the next one, which takes all of them (up to
`most`). So a few concurrent callers cost a few round trips, and many cost one each batch,
with no timer: nobody waits longer than the batch in front of them (group commit).

`run` returns one result per item, in order; a result that is an exception is raised to that
item's caller only. An exception raised by `run` itself goes to every caller of that batch.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, Sequence
from typing import Generic, TypeVar

K = TypeVar("K")
V = TypeVar("V")


class Batched(Generic[K, V]):
    def __init__(
        self, run: Callable[[list[K]], Awaitable[Sequence[V | BaseException]]], *, most: int = 200
    ) -> None:
        self._run, self.most = run, most
        self._queue: list[tuple[K, asyncio.Future]] = []
        self._task: asyncio.Task | None = None

    async def __call__(self, item: K) -> V:
        loop = asyncio.get_running_loop()
        future = loop.create_future()
        self._queue.append((item, future))
        if self._task is None or self._task.done() or self._task.get_loop() is not loop:
            self._task = loop.create_task(self._drain())
        return await future

    async def _drain(self) -> None:
        batch: list[tuple[K, asyncio.Future]] = []
        try:
            await asyncio.sleep(0)  # the callers of this moment join the first batch
            while self._queue:
                batch, self._queue = self._queue[: self.most], self._queue[self.most :]
                batch = [(item, future) for item, future in batch if not future.done()]
                if not batch:
                    continue
                try:
                    results = await self._run([item for item, _ in batch])
                except Exception as exc:
                    results = [exc] * len(batch)
                for (_, future), result in zip(batch, results, strict=True):
                    if future.done():
                        continue
                    if isinstance(result, BaseException):
                        future.set_exception(result)
                    else:
                        future.set_result(result)
                batch = []
        finally:
            for _, future in batch + self._queue:  # cancelled mid-batch: nobody waits forever
                if not future.done():
                    future.cancel()
            if self._task is asyncio.current_task():
                self._task = None

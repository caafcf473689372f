"""Batched: concurrent calls share one run, calls during a run share the next one, and a
failure reaches only the callers it belongs to."""

from __future__ import annotations

import asyncio

import pytest

from bot.batches import Batched


class Doubler:
    def __init__(self) -> None:
        self.runs: list[list[int]] = []
        self.release = asyncio.Event()
        self.release.set()

    async def __call__(self, items: list[int]) -> list:
        self.runs.append(list(items))
        await self.release.wait()
        return [ValueError(f"bad {i}") if i < 0 else i * 2 for i in items]


async def test_calls_of_the_same_moment_go_in_one_run():
    run = Doubler()
    double = Batched(run)
    assert await asyncio.gather(*(double(i) for i in range(5))) == [0, 2, 4, 6, 8]
    assert run.runs == [[0, 1, 2, 3, 4]]


async def test_calls_made_during_a_run_wait_for_the_next_one_together():
    run = Doubler()
    run.release.clear()
    double = Batched(run)
    first = asyncio.ensure_future(double(1))
    await asyncio.sleep(0.01)  # the first run has started and is waiting
    later = [asyncio.ensure_future(double(i)) for i in (2, 3, 4)]
    await asyncio.sleep(0.01)
    assert run.runs == [[1]]
    run.release.set()
    assert await first == 2
    assert await asyncio.gather(*later) == [4, 6, 8]
    assert run.runs == [[1], [2, 3, 4]]


async def test_a_run_takes_at_most_its_share():
    run = Doubler()
    double = Batched(run, most=2)
    assert await asyncio.gather(*(double(i) for i in range(5))) == [0, 2, 4, 6, 8]
    assert run.runs == [[0, 1], [2, 3], [4]]


async def test_a_failed_item_fails_only_its_caller():
    double = Batched(Doubler())
    results = await asyncio.gather(double(1), double(-1), double(3), return_exceptions=True)
    assert results[0] == 2 and results[2] == 6
    assert isinstance(results[1], ValueError)


async def test_a_failed_run_fails_every_caller_of_it_and_the_next_one_runs_again():
    calls = []

    async def flaky(items: list[int]) -> list[int]:
        calls.append(items)
        if len(calls) == 1:
            raise RuntimeError("database gone")
        return items

    echo = Batched(flaky)
    results = await asyncio.gather(echo(1), echo(2), return_exceptions=True)
    assert all(isinstance(r, RuntimeError) for r in results)
    assert await echo(3) == 3


async def test_a_caller_that_gives_up_does_not_disturb_the_others():
    run = Doubler()
    run.release.clear()
    double = Batched(run)
    first = asyncio.ensure_future(double(1))
    await asyncio.sleep(0.01)
    gone, stays = asyncio.ensure_future(double(2)), asyncio.ensure_future(double(3))
    await asyncio.sleep(0)
    gone.cancel()
    run.release.set()
    assert await first == 2
    assert await stays == 6
    with pytest.raises(asyncio.CancelledError):
        await gone
    assert run.runs == [[1], [3]]

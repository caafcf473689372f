"""The pacing of outbound sends: a rate per platform and per channel, first come first served."""

from __future__ import annotations

import asyncio
import time

from adapters.pacing import KeyedRateLimiter, RateLimiter


async def test_acquisitions_are_paced_at_the_rate_after_the_burst():
    limiter = RateLimiter(20, burst=1)
    started = time.monotonic()
    for _ in range(11):
        await limiter.acquire()
    # the first is free, the next ten are 50 ms apart
    assert time.monotonic() - started >= 0.45


async def test_a_burst_passes_at_once_and_waiters_are_served_in_order():
    limiter = RateLimiter(100, burst=5)
    order: list[int] = []

    async def take(n: int) -> None:
        await limiter.acquire()
        order.append(n)

    started = time.monotonic()
    await asyncio.gather(*(take(n) for n in range(5)))
    assert time.monotonic() - started < 0.04  # the burst
    await asyncio.gather(*(take(n) for n in range(5, 15)))
    assert order == list(range(15))


async def test_each_channel_has_its_own_pace():
    limiter = KeyedRateLimiter(2)
    started = time.monotonic()
    await asyncio.gather(*(limiter.acquire(f"C{n}") for n in range(20)))
    assert time.monotonic() - started < 0.2  # twenty channels, one message each: no waiting
    await limiter.acquire("C0")
    assert time.monotonic() - started >= 0.45  # the second in the same channel waits


def test_the_rate_must_be_positive():
    import pytest

    with pytest.raises(ValueError):
        RateLimiter(0)

"""The pacing of outbound sends: a fixed rate per channel, first come first served, and the adaptive
pace per platform scope that the processes on one database share."""

from __future__ import annotations

import asyncio
import time
from datetime import UTC, datetime

import pytest

from adapters.pace_policy import Policy
from adapters.pacing import AdaptivePacer, KeyedRateLimiter, RateLimiter

pytestmark = pytest.mark.paced  # rates against the clock: run alone (see Makefile)


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


# -- the adaptive pace, shared through the database ------------------------------------------


async def test_changes_to_a_shared_pace_are_never_lost(db):
    from storage.db import Database
    from storage.pace import PaceStore

    other = Database(db.url)  # another process's engine on the same database
    try:
        stores = [PaceStore(db), PaceStore(other)]

        def plus_one(state):
            count = (state or {}).get("n", 0) + 1
            return float(count), {"n": count}, count

        async def bump(store):
            for _ in range(25):
                await store.change("slack:T1", plus_one, datetime.now(UTC))

        await asyncio.gather(*(bump(s) for s in stores for _ in range(2)))
        assert await stores[0].rates() == {"slack:T1": 100.0}
    finally:
        await other.dispose()


async def _send_for(pacers, seconds: float, platform=None) -> list[int]:
    """Every pacer's senders take tokens as fast as they are given for `seconds`; each send is
    answered by `platform(now) -> accepted?` when given. Returns the sends per pacer."""
    counts = [0] * len(pacers)
    end = time.monotonic() + seconds

    async def sender(n, pacer):
        while time.monotonic() < end:
            await pacer.acquire()
            counts[n] += 1
            if platform is not None:
                if platform(time.time()):
                    pacer.accepted()
                else:
                    pacer.refused(1.0)

    await asyncio.gather(*(sender(n, p) for n, p in enumerate(pacers) for _ in range(8)))
    return counts


async def _two_processes(db):
    from storage.db import Database
    from storage.pace import PaceStore

    other = Database(db.url)
    return other, [PaceStore(db), PaceStore(other)]


async def test_two_processes_sharing_a_database_keep_to_one_ceiling_together(db):
    other, stores = await _two_processes(db)
    try:
        policy = Policy(start=20, ceiling=20)
        pacers = [AdaptivePacer("slack:T1", policy, shared=store) for store in stores]
        started = time.monotonic()
        counts = await _send_for(pacers, 2.0)
        elapsed = time.monotonic() - started
        assert sum(counts) <= 20 * elapsed * 1.1 + 4  # not twice that: one pace for both
        assert min(counts) >= 5  # both sent
    finally:
        await other.dispose()


async def test_two_processes_find_an_unknown_limit_together_and_stay_near_it(db):
    """A platform that accepts 40 sends per whole second and refuses the rest: once the two
    processes' common pace has found the limit (after a few seconds), together they offer
    about that many, not each of them."""
    other, stores = await _two_processes(db)
    windows: dict[int, int] = {}

    def platform(now: float) -> bool:
        second = int(now)
        windows[second] = windows.get(second, 0) + 1
        return windows[second] <= 40

    try:
        pacers = [AdaptivePacer("slack:T1", Policy(), shared=store) for store in stores]
        counts = await _send_for(pacers, 7.0, platform)
        settled = [windows[s] for s in sorted(windows)[4:-1]]  # whole seconds after the climb
        assert settled and all(20 <= n <= 60 for n in settled), list(windows.values())
        assert min(counts) >= 20
        await asyncio.gather(*(p.flush() for p in pacers))
        (rate,) = (await stores[0].rates()).values()
        assert 25 <= rate <= 60
    finally:
        await other.dispose()


async def test_the_pace_goes_on_alone_when_the_database_is_unreachable():
    class Broken:
        async def change(self, scope, change, now):
            raise ConnectionError("no database")

    pacer = AdaptivePacer("slack:T1", Policy(start=50), shared=Broken())
    started = time.monotonic()
    for _ in range(10):
        await pacer.acquire()
    assert time.monotonic() - started < 1.0 and pacer.rate >= 50

"""Pacing of outbound sends: a rate per platform, and per channel where the platform has one
(Slack: about one message per second per channel). Waiting is per caller: a slow or refused
send never holds up the others beyond its own place in the queue."""

from __future__ import annotations

import asyncio
import time
from collections import OrderedDict


class RateLimiter:
    """At most `rate` acquisitions per second on average, with a burst of `burst` (by default
    a tenth of a second's worth, so that a busy event loop waking a waiter late does not lose
    the time it was late by)."""

    def __init__(self, rate: float, *, burst: float | None = None) -> None:
        if rate <= 0:
            raise ValueError("rate must be positive")
        self.rate = rate
        self.burst = max(burst if burst is not None else rate / 10, 1.0)
        self._tokens = self.burst
        self._stamp = time.monotonic()
        self._lock = asyncio.Lock()

    async def acquire(self) -> None:
        async with self._lock:  # first come, first served
            while True:
                now = time.monotonic()
                self._tokens = min(self.burst, self._tokens + (now - self._stamp) * self.rate)
                self._stamp = now
                if self._tokens >= 1.0:
                    self._tokens -= 1.0
                    return
                await asyncio.sleep((1.0 - self._tokens) / self.rate)


class KeyedRateLimiter:
    """One `RateLimiter` per key (e.g. a channel), forgetting the least recently used."""

    def __init__(self, rate: float, *, burst: float | None = 1.0, keep: int = 10_000) -> None:
        self.rate, self.burst, self.keep = rate, burst, keep
        self._limiters: OrderedDict[str, RateLimiter] = OrderedDict()

    async def acquire(self, key: str) -> None:
        limiter = self._limiters.pop(key, None) or RateLimiter(self.rate, burst=self.burst)
        self._limiters[key] = limiter
        while len(self._limiters) > self.keep:
            self._limiters.popitem(last=False)
        await limiter.acquire()

"""Pacing of outbound sends: an adaptive pace per platform scope (a Slack workspace, a Teams
tenant) that finds the platform's limit from its answers and is shared through the database by
every process, and a fixed rate per channel where the platform has one (Slack: about one
message per second per channel). Waiting is per caller: a slow or refused send never holds up
the others beyond its own place in the queue."""

from __future__ import annotations

import asyncio
import logging
import math
import time
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import asdict
from datetime import UTC, datetime
from typing import Any, Protocol

from adapters import pace_policy as pacing
from adapters.pace_policy import Pace, Policy

log = logging.getLogger("okrbot.pace")


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


class SharedPace(Protocol):
    """Where the processes on one database keep a scope's pace (`storage.pace.PaceStore`)."""

    async def change(self, scope: str, change: Callable, now: datetime) -> Any: ...


class AdaptivePacer:
    """The pace of one platform scope: `acquire()` before each send, then report the send's
    outcome with `accepted()` or `refused(retry_after)`.

    Tokens are taken in batches from the pace (at most a tenth of a second's worth), in the
    database when `shared` is given, so that the processes on one database together send at
    the one pace; the outcomes reported since the last exchange go with each exchange. If the
    database cannot be reached, the process goes on with the last pace it saw, alone."""

    def __init__(
        self,
        scope: str,
        policy: Policy,
        *,
        shared: SharedPace | None = None,
        timer: Callable[[], float] = time.time,
    ) -> None:
        self.scope, self.policy, self.shared, self.timer = scope, policy, shared, timer
        self._pace: Pace | None = None
        self._tokens = 0
        self._granted_at = 0.0
        self._logged = self.policy.clamp(self.policy.start)
        self._waiting = 0
        self._outcomes = [0, 0, 0.0]  # accepted, refused, longest Retry-After
        self._lock = asyncio.Lock()
        self._warned = False

    @property
    def rate(self) -> float:
        """The current pace in messages per second (as this process last saw it)."""
        return self._pace.rate if self._pace is not None else self.policy.clamp(self.policy.start)

    def accepted(self) -> None:
        self._outcomes[0] += 1

    def refused(self, retry_after: float) -> None:
        self._outcomes[1] += 1
        self._outcomes[2] = max(self._outcomes[2], retry_after)

    async def acquire(self) -> None:
        self._waiting += 1
        try:
            async with self._lock:  # first come, first served
                if self._tokens and self.timer() - self._granted_at > 2 * self.policy.burst:
                    self._tokens = 0  # tokens kept unused would add up to a burst: let them go
                while self._tokens < 1:
                    # a batch at a time, so that an exchange serves many sends
                    batch = math.floor(self.policy.burst_tokens(self.rate))
                    wait = await self._exchange(max(self._waiting, batch))
                    if self._tokens < 1:
                        await asyncio.sleep(min(max(wait, 0.002), 0.25))
                self._tokens -= 1
        finally:
            self._waiting -= 1

    async def flush(self) -> None:
        """Hand in the outcomes not reported yet (before the process stops sending)."""
        if self._outcomes[0] or self._outcomes[1]:
            await self._exchange(0)

    async def _exchange(self, want: int) -> float:
        accepted, refused, retry_after = self._outcomes
        self._outcomes = [0, 0, 0.0]
        now = self.timer()

        def change(state: dict | None) -> tuple[float, dict, tuple[Pace, int, float]]:
            pace = Pace(**state) if state else None
            pace, granted, wait = pacing.step(
                pace, self.policy, now, want=want, accepted=accepted, refused=refused,
                retry_after=retry_after,
            )  # fmt: skip
            return pace.rate, asdict(pace), (pace, granted, wait)

        result = None
        if self.shared is not None:
            try:
                result = await self.shared.change(self.scope, change, datetime.now(UTC))
            except Exception as exc:
                if not self._warned:
                    log.warning("the shared pace of %s is not available (%s): going on alone",
                                self.scope, exc)  # fmt: skip
                    self._warned = True
        if result is None:
            _, _, result = change(asdict(self._pace) if self._pace is not None else None)
        self._pace, granted, wait = result
        if abs(self._pace.rate - self._logged) >= max(1.0, 0.2 * self._logged):
            self._logged = self._pace.rate
            log.info("pace of %s: %.1f messages/s", self.scope, self._logged)
        self._tokens += granted
        if granted:
            self._granted_at = now
        return wait


class Pacers:
    """One `AdaptivePacer` per scope, made on first use with the platform's policy."""

    def __init__(
        self,
        policies: dict[str, Policy] | None = None,
        *,
        shared: SharedPace | None = None,
        timer: Callable[[], float] = time.time,
    ) -> None:
        self.policies = dict(policies or {})
        self.shared, self.timer = shared, timer
        self._pacers: dict[str, AdaptivePacer] = {}

    def get(self, platform: str, scope: str) -> AdaptivePacer:
        key = f"{platform}:{scope}"
        pacer = self._pacers.get(key)
        if pacer is None:
            policy = self.policies.get(platform, Policy())
            pacer = AdaptivePacer(key, policy, shared=self.shared, timer=self.timer)
            self._pacers[key] = pacer
        return pacer

    def rates(self) -> dict[str, float]:
        return {key: pacer.rate for key, pacer in self._pacers.items()}

    def total(self) -> float | None:
        """Messages per second over every scope in use (None before the first send)."""
        return sum(self.rates().values()) if self._pacers else None

    async def flush(self) -> None:
        for pacer in self._pacers.values():
            try:
                await pacer.flush()
            except Exception:
                log.exception("handing in the outcomes of %s failed", pacer.scope)

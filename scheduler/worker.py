"""The delivery worker: claims outbox rows and sends them, a bounded number at a time.

Each row is retried on its own: a 429 waits its own Retry-After, a send with an unknown outcome
is marked uncertain (the next attempt reconciles first), a send that cannot succeed fails for
good at once with its error kept. Leases of rows in flight are renewed while they are sent, so
only a dead worker's rows are taken over.
"""

from __future__ import annotations

import asyncio
import logging
import math
import time
from collections import deque
from collections.abc import Awaitable, Callable, Collection
from dataclasses import dataclass, field
from itertools import islice

from bot.checkin.due import EXEC_DIGEST, PROMPT, REMINDER
from bot.delivery import (
    DigestParts,
    OutcomeUnknown,
    PermanentFailure,
    RateLimited,
    Sender,
    Unreachable,
)
from scheduler.outbox import FAILED, SENT, OutboxStore, key_of, worker_name
from storage import repo
from storage.models import OUTBOX_FINISHED, Outbox, Person

log = logging.getLogger("okrbot.delivery")
MAX_ATTEMPTS = 16  # failed sends with an unknown outcome: about an hour and a half of retries
BACKOFF_CAP = 600.0
STALL_SECONDS = 120.0  # a CLI round stops when no message was finished for this long
PROGRESS_EVERY = 0.5  # seconds between two reports of how a round stands
RATE_SPAN = 5.0  # seconds of finished sends the current rate is measured over
AHEAD_SECONDS = 1.0  # rows in flight: about this many seconds of sending at the pace

# (kind, target) -> (channel, the digest's parts), or None when there is nothing to post
DigestSource = Callable[[str, str], Awaitable[tuple[str, DigestParts] | None]]


@dataclass
class Senders:
    """The configured platforms, in the order a person's platform is looked for."""

    by_platform: dict[str, Sender] = field(default_factory=dict)

    async def for_person(self, person: Person) -> Sender | None:
        for sender in self.by_platform.values():
            if await sender.reaches(person):
                return sender
        return None

    async def close(self) -> None:
        """Release the senders' connections."""
        for sender in self.by_platform.values():
            closing = getattr(sender, "close", None)
            if closing is not None:
                await closing()

    def for_channel(self, channel: str) -> tuple[Sender | None, str]:
        """`teams:<conversation id>` is a Teams channel; anything else a Slack channel id."""
        if channel.startswith("teams:"):
            return self.by_platform.get("teams"), channel.removeprefix("teams:")
        return self.by_platform.get("slack"), channel


@dataclass(frozen=True)
class RoundProgress:
    """How a CLI round stands: its rows sent, failed for good, and still waiting."""

    total: int
    sent: int
    failed: int
    seconds: float  # since the round began
    rate: float  # messages sent per second lately
    done: bool = False  # the round is over (this is the last report)

    @property
    def waiting(self) -> int:
        return self.total - self.sent - self.failed


class _Tracker:
    """Counts a round's finished rows, notes when the last one finished, and reports."""

    def __init__(self, total: int, started: float, report) -> None:
        self.total, self.started, self.report = total, started, report
        self.moved = started  # when a row was last finished
        self._finished = 0
        self._told = -math.inf
        self._sent_at: deque[tuple[float, int]] = deque([(started, 0)])

    def tell(self, final: dict[int, str], now: float) -> None:
        done = now == math.inf
        now = time.monotonic() if done else now
        if len(final) > self._finished:
            self._finished, self.moved = len(final), now
        if self.report is None or (not done and now - self._told < PROGRESS_EVERY):
            return
        self._told = now
        sent = sum(1 for state in final.values() if state == SENT)
        self._sent_at.append((now, sent))
        while len(self._sent_at) > 2 and now - self._sent_at[1][0] >= RATE_SPAN:
            self._sent_at.popleft()
        since, before = self._sent_at[0]
        rate = (sent - before) / (now - since) if now > since else 0.0
        failed = len(final) - sent
        self.report(RoundProgress(self.total, sent, failed, now - self.started, rate, done))


def backoff(attempts: int) -> float:
    return min(2.0 ** max(attempts - 1, 0), BACKOFF_CAP)


class DeliveryWorker:
    def __init__(
        self,
        store: OutboxStore,
        senders: Senders,
        *,
        digests: DigestSource | None = None,
        concurrency: int = 8,
        max_attempts: int = MAX_ATTEMPTS,
        metrics=None,
        name: str | None = None,
        pace: Callable[[], float | None] | None = None,
    ) -> None:
        """`pace`: the messages per second the platforms take now (None: not known yet); rows
        are claimed only about a second of sending ahead of it, so that a round that ends or a
        process that dies leaves few rows claimed but not sent."""
        self.store = store
        self.senders = senders
        self.digests = digests
        self.concurrency = concurrency
        self.max_attempts = max_attempts
        self.metrics = metrics
        self.name = name or worker_name()
        self.pace = pace
        self._inflight: dict[int, asyncio.Task] = {}
        self._wake = asyncio.Event()

    # -- loops ---------------------------------------------------------------------------------
    def wake(self) -> None:
        self._wake.set()

    def room(self) -> int:
        """How many more rows may be in flight: up to `concurrency`, and about a second's
        worth at the current pace."""
        limit = self.concurrency
        rate = self.pace() if self.pace is not None else None
        if rate is not None:
            limit = min(limit, max(2, math.ceil(rate * AHEAD_SECONDS)))
        return limit - len(self._inflight)

    async def pump(self, ids: Collection[int] | None = None) -> int:
        """Claim what fits in the free slots and start sending it; returns how many."""
        free = self.room()
        rows = await self.store.claim(self.name, free, ids=ids)
        people = await self._people([r.target for r in rows if r.kind in (PROMPT, REMINDER)])
        for row in rows:
            person = people.get(row.target) if row.kind in (PROMPT, REMINDER) else None
            task = asyncio.create_task(self._deliver(row, person), name=f"outbox-{row.id}")
            self._inflight[row.id] = task
            task.add_done_callback(lambda _t, row_id=row.id: self._inflight.pop(row_id, None))
        return len(rows)

    async def run(self, stop: asyncio.Event, *, poll: float = 1.0) -> None:
        """The server's loop: deliver whatever is due until `stop`, then finish what is in
        flight (graceful shutdown never abandons a half-sent row)."""
        renewing = asyncio.create_task(self._renew_leases(stop))
        try:
            while not stop.is_set():
                try:
                    await self.pump()
                except Exception:
                    log.exception("outbox claim failed; trying again")
                await self._sleep(poll, stop)
        finally:
            await self.finish()
            renewing.cancel()

    async def deliver(
        self,
        ids: Collection[int],
        *,
        within: float | None = None,
        stall: float = STALL_SECONDS,
        progress: Callable[[RoundProgress], None] | None = None,
    ) -> list[Outbox]:
        """Deliver these rows now (the CLI), with retries as they come due, until every one is
        sent or failed for good, or no row was finished for `stall` seconds, or `within`
        seconds have passed (when given); rows another process is sending are waited for.
        `progress` is told how the round stands about twice a second. Returns the rows as
        left.

        Claims go through a window of the rows not known to be finished, so that a round of
        thousands costs small claims; rows another process holds are passed over until the
        next look at the database."""
        wanted = sorted(set(ids))
        final: dict[int, str] = {}  # sent or failed for good
        open_ = dict.fromkeys(wanted)  # not finished yet, in order
        elsewhere: set[int] = set()  # not claimable just now (another process, or waiting)
        window = max(4 * self.concurrency, 32)
        started = time.monotonic()
        deadline = started + within if within is not None else math.inf
        tracker = _Tracker(len(wanted), started, progress)
        stop = asyncio.Event()
        renewing = asyncio.create_task(self._renew_leases(stop))
        try:
            while (now := time.monotonic()) < deadline and now - tracker.moved < stall:
                tracker.tell(final, now)
                free = self.room()
                # the rows not finished yet, in order (finished ones leave `open_`, so this
                # looks at no more than the rows in flight or elsewhere and the window)
                candidates = list(
                    islice(
                        (i for i in open_ if i not in elsewhere and i not in self._inflight),
                        window,
                    )
                )
                if free > 0 and candidates:
                    claimed = await self.pump(candidates)
                    if claimed < min(free, len(candidates)):
                        elsewhere.update(i for i in candidates if i not in self._inflight)
                if self._inflight:
                    done, _ = await asyncio.wait(
                        set(self._inflight.values()),
                        timeout=0.5,
                        return_when=asyncio.FIRST_COMPLETED,
                    )
                    finished = [t.result() for t in done if not t.cancelled() and t.result()]
                    final.update(finished)
                    for i, _ in finished:
                        open_.pop(i, None)
                    continue
                if any(i not in elsewhere for i in open_):
                    continue  # more to claim
                states = await self.store.states(list(open_))
                for i, state in states.items():
                    if state in OUTBOX_FINISHED:
                        final[i] = state
                        open_.pop(i, None)
                elsewhere.clear()
                if not open_:
                    break
                due = await self.store.next_due(list(open_))
                wait = 0.5
                if due is not None:
                    wait = max(0.05, (due - self.store.clock()).total_seconds())
                await asyncio.sleep(min(wait, 1.0, max(0.0, deadline - time.monotonic())))
        finally:
            await self.finish()
            stop.set()
            renewing.cancel()
        rows = await self.store.rows(wanted)
        tracker.tell({r.id: r.state for r in rows if r.state in OUTBOX_FINISHED}, math.inf)
        return rows

    async def drain(self) -> None:
        """Send everything claimable now, until nothing is (what the server's loop does over
        one quiet moment)."""
        while await self.pump() or self._inflight:
            if self._inflight:
                await asyncio.wait(set(self._inflight.values()), timeout=0.5)

    async def finish(self) -> None:
        if self._inflight:
            await asyncio.gather(*self._inflight.values(), return_exceptions=True)

    async def _sleep(self, seconds: float, stop: asyncio.Event) -> None:
        self._wake.clear()
        waits = [asyncio.ensure_future(self._wake.wait()), asyncio.ensure_future(stop.wait())]
        try:
            await asyncio.wait(waits, timeout=seconds, return_when=asyncio.FIRST_COMPLETED)
        finally:
            for waiter in waits:
                waiter.cancel()

    async def _renew_leases(self, stop: asyncio.Event) -> None:
        period = self.store.lease.total_seconds() / 3
        while not stop.is_set():
            await asyncio.sleep(period)
            try:
                await self.store.renew(self.name, list(self._inflight))
            except Exception:
                log.exception("renewing outbox leases failed")

    async def _people(self, handles: list[str]) -> dict[str, Person]:
        """The people the claimed prompts go to, in one statement (a row whose person is not
        found looks again on its own)."""
        if not handles:
            return {}
        try:
            async with self.store.db.session() as session:
                return await repo.people_by_handles(session, handles)
        except Exception:
            log.exception("looking up the people of %d prompts failed", len(handles))
            return {}

    # -- one row -------------------------------------------------------------------------------
    async def _deliver(self, row: Outbox, person: Person | None = None) -> tuple[int, str] | None:
        """Send one row (to `person`, when a prompt's person was looked up already); returns
        its id and state when it is finished (sent or failed for good)."""
        platform = row.platform
        try:
            platform, result = await self._send(row, person)
        except RateLimited as exc:  # never accepted: always safe to retry, whatever the count
            await self.store.retry(
                row, delay=exc.retry_after, error=str(exc), uncertain=False, platform=platform
            )
        except OutcomeUnknown as exc:
            return await self._again(row, backoff(row.attempts), str(exc), True, platform)
        except PermanentFailure as exc:
            return await self._fail(row, str(exc), platform)
        except Exception as exc:
            log.exception("sending %s failed unexpectedly", key_of(row))
            return await self._again(row, backoff(row.attempts), _describe(exc), True, platform)
        else:
            if await self.store.sent(row, result, platform=platform):
                log.info("sent %s via %s", key_of(row), platform)
                self._count("prompt_sent", platform, row.kind)
            else:
                log.warning("%s was sent but its claim had passed to another worker", key_of(row))
            return row.id, SENT
        return None

    async def _send(self, row: Outbox, person: Person | None) -> tuple[str | None, dict]:
        key = key_of(row)
        if row.kind in (PROMPT, REMINDER):
            if person is None:
                async with self.store.db.session() as session:
                    person = await repo.person_by_handle(session, row.target)
            if person is None:
                raise PermanentFailure(f"no person {row.target!r} in the OKRs")
            sender = await self.senders.for_person(person)
            if sender is None:
                raise Unreachable(f"{row.target} has no Slack or Teams account the bot can use")
            row.platform = sender.platform
            result = await sender.send_prompt(
                person, key=key, reminder=row.kind == REMINDER, uncertain=row.uncertain
            )
            return sender.platform, result
        if self.digests is None:
            raise PermanentFailure("digests are not available in this process")
        found = await self.digests(row.kind, row.target)
        if found is None:
            what = "exec_channel" if row.kind == EXEC_DIGEST else f"team {row.target!r}"
            raise PermanentFailure(f"nothing to post: no channel for {what}")
        channel, parts = found
        sender, channel_id = self.senders.for_channel(channel)
        if sender is None:
            raise PermanentFailure(f"no platform configured for channel {channel}")
        row.platform = sender.platform

        async def checkpoint(progress: dict) -> None:
            await self.store.checkpoint(row, progress, platform=sender.platform)

        result = await sender.send_digest(
            channel_id,
            parts,
            key=key,
            uncertain=row.uncertain,
            progress=dict(row.result or {}),
            checkpoint=checkpoint,
        )
        return sender.platform, result

    async def _again(self, row, delay, error, uncertain, platform) -> tuple[int, str] | None:
        if row.attempts >= self.max_attempts:
            return await self._fail(
                row, f"gave up after {row.attempts} attempts: {error}", platform
            )
        log.warning(
            "%s: attempt %d failed (%s); retrying in %.1f s",
            key_of(row),
            row.attempts,
            error,
            delay,
        )
        await self.store.retry(
            row, delay=delay, error=error, uncertain=uncertain, platform=platform
        )
        return None

    async def _fail(self, row, error, platform) -> tuple[int, str]:
        log.error("%s failed for good: %s", key_of(row), error)
        await self.store.failed(row, error=error, platform=platform)
        self._count("prompt_failed", platform or "none", row.kind)
        return row.id, FAILED

    def _count(self, name: str, platform: str | None, kind: str) -> None:
        if self.metrics is not None:
            getattr(self.metrics, name)(platform or "none", kind)


def _describe(exc: BaseException) -> str:
    text = str(exc).strip().splitlines()
    return f"{type(exc).__name__}: {text[0]}" if text else type(exc).__name__

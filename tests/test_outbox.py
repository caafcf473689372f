"""The outbox's claims on both databases: unique keys, exclusive claims, leases taken over
from a dead sender (and then marked uncertain), outcomes only while the claim is ours."""

from __future__ import annotations

import asyncio
from datetime import timedelta

from bot.checkin.due import Due
from bot.clock import MovableClock
from scheduler.outbox import FAILED, PENDING, SENDING, SENT, OutboxStore

Clock = MovableClock


DUES = [Due("prompt", h, "2026-W48") for h in ("anna", "bob", "kenji")]


async def test_enqueue_is_idempotent_and_returns_the_rows_of_the_keys(db, now):
    store = OutboxStore(db, Clock(now))
    first = await store.enqueue(DUES)
    again = await store.enqueue(DUES + [Due("prompt", "pia", "2026-W48")])
    assert len(first) == 3 and len(again) == 4 and set(first) < set(again)
    assert await store.depth() == {PENDING: 4}


async def test_two_workers_never_hold_the_same_row(db, now):
    clock = Clock(now)
    one, two = OutboxStore(db, clock), OutboxStore(db, clock)
    ids = await one.enqueue([Due("prompt", f"p{n}", "2026-W48") for n in range(40)])
    claims = await asyncio.gather(
        *(store.claim(f"w{n}", 7) for n in range(6) for store in (one, two))
    )
    taken = [row.id for rows in claims for row in rows]
    assert len(taken) == len(set(taken)) == 40
    assert sorted(taken) == sorted(ids)
    assert await one.claim("late", 10) == []


async def test_claims_can_be_limited_to_given_rows(db, now):
    store = OutboxStore(db, Clock(now))
    ids = await store.enqueue(DUES)
    rows = await store.claim("w", 10, ids=[ids[1]])
    assert [r.id for r in rows] == [ids[1]] and rows[0].state == SENDING
    assert rows[0].attempts == 1 and rows[0].claimed_by == "w" and not rows[0].uncertain


async def test_a_dead_senders_row_is_taken_over_after_its_lease_and_marked_uncertain(db, now):
    clock = Clock(now)
    store = OutboxStore(db, clock, lease_seconds=30)
    await store.enqueue(DUES[:1])
    (dead,) = await store.claim("dead", 5)
    clock.now = now + timedelta(seconds=20)
    assert await store.claim("alive", 5) == []  # the lease still holds
    clock.now = now + timedelta(seconds=31)
    (taken,) = await store.claim("alive", 5)
    assert taken.id == dead.id and taken.uncertain and taken.attempts == 2
    # the dead sender's late outcome does not overwrite the new claim
    assert not await store.sent(dead, {"ts": "1"}, platform="slack")
    assert await store.sent(taken, {"ts": "2"}, platform="slack")
    (row,) = await store.rows([taken.id])
    assert row.state == SENT and row.result == {"ts": "2"} and not row.uncertain


async def test_renewed_leases_are_not_taken_over(db, now):
    clock = Clock(now)
    store = OutboxStore(db, clock, lease_seconds=30)
    await store.enqueue(DUES[:1])
    (row,) = await store.claim("slow", 5)
    clock.now = now + timedelta(seconds=25)
    await store.renew("slow", [row.id])
    clock.now = now + timedelta(seconds=40)
    assert await store.claim("other", 5) == []


async def test_a_retry_waits_and_keeps_the_error_and_a_failure_is_final(db, now):
    clock = Clock(now)
    store = OutboxStore(db, clock)
    await store.enqueue(DUES[:2])
    first, second = await store.claim("w", 5)
    assert await store.retry(first, delay=10, error="429", uncertain=False, platform="slack")
    assert await store.failed(second, error="Slack: user_not_found", platform="slack")
    assert await store.claim("w", 5) == []
    clock.now = now + timedelta(seconds=11)
    (again,) = await store.claim("w", 5)
    assert again.id == first.id and again.attempts == 2 and again.last_error == "429"
    (gone,) = await store.rows([second.id])
    assert gone.state == FAILED and gone.last_error == "Slack: user_not_found"

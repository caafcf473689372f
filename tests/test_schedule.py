"""The schedule over time: prompts in each member's own time zone across daylight-saving
changes, one reminder, quiet hours, away members, restarts. Pure planning is checked minute by
minute; the whole path (tick -> outbox -> worker -> fake Slack) with a moving clock."""

from __future__ import annotations

import asyncio
from datetime import UTC, date, datetime, time, timedelta

import pytest
from sqlalchemy import update

from adapters.slack.app import SlackAdapter, slack_client
from adapters.slack.outbox import EVENT_TYPE, SlackSender
from bot.checkin.due import (
    MemberState,
    Schedule,
    due_for_member,
    in_window,
    next_prompt,
    next_window,
    scheduled_moment,
)
from bot.clock import MovableClock
from bot.core import Core
from bot.digest.source import digest_source
from scheduler.outbox import OutboxStore
from scheduler.tick import tick
from scheduler.worker import DeliveryWorker, Senders
from storage.models import Person
from tests.fake_slack import FakeSlack
from tests.schedule_world import SLACK_USERS, load_world

MONDAY_0930 = Schedule("mon", time(9, 30), 24)


Clock = MovableClock


def utc(*args) -> datetime:
    return datetime(*args, tzinfo=UTC)


def first_prompt_in_week(zone: str, monday_utc: datetime) -> datetime | None:
    """Minute by minute over a week: when the plan first says a prompt is due."""
    member = MemberState("x", zone, MONDAY_0930)
    moment = monday_utc - timedelta(days=1)
    for _ in range(8 * 24 * 60):
        if due_for_member(member, moment):
            return moment
        moment += timedelta(minutes=1)
    return None


@pytest.mark.parametrize(
    ("zone", "monday", "expected"),
    [
        # Copenhagen: CEST (UTC+2) until 25 October 2026, then CET (UTC+1)
        ("Europe/Copenhagen", utc(2026, 10, 19), utc(2026, 10, 19, 7, 30)),
        ("Europe/Copenhagen", utc(2026, 10, 26), utc(2026, 10, 26, 8, 30)),
        ("Europe/Copenhagen", utc(2027, 3, 22), utc(2027, 3, 22, 8, 30)),
        ("Europe/Copenhagen", utc(2027, 3, 29), utc(2027, 3, 29, 7, 30)),
        # New York: EDT (UTC-4) until 1 November 2026; EST (UTC-5) until 14 March 2027
        ("America/New_York", utc(2026, 10, 26), utc(2026, 10, 26, 13, 30)),
        ("America/New_York", utc(2026, 11, 2), utc(2026, 11, 2, 14, 30)),
        ("America/New_York", utc(2027, 3, 8), utc(2027, 3, 8, 14, 30)),
        ("America/New_York", utc(2027, 3, 15), utc(2027, 3, 15, 13, 30)),
        # Tokyo: no daylight saving; Monday 09:30 there is Monday 00:30 UTC
        ("Asia/Tokyo", utc(2026, 10, 26), utc(2026, 10, 26, 0, 30)),
        ("Asia/Tokyo", utc(2026, 11, 2), utc(2026, 11, 2, 0, 30)),
    ],
)
def test_the_prompt_is_due_at_0930_local_across_daylight_saving(zone, monday, expected):
    assert first_prompt_in_week(zone, monday) == expected


def test_quiet_hours_hold_a_prompt_until_0800_on_a_working_day():
    early = MemberState("x", "Europe/Copenhagen", Schedule("mon", time(6, 0), 24))
    assert not due_for_member(early, utc(2026, 11, 23, 6, 59))  # 07:59 local
    assert due_for_member(early, utc(2026, 11, 23, 7, 0))  # 08:00 local
    weekend = MemberState("x", "Europe/Copenhagen", Schedule("sat", time(10, 0), 24))
    assert not any(
        due_for_member(weekend, utc(2026, 11, 28) + timedelta(minutes=m))
        for m in range(0, 2 * 24 * 60, 10)
    )
    assert not in_window(utc(2026, 11, 23, 17, 0), "Europe/Copenhagen")  # 18:00 local
    assert next_window(utc(2026, 11, 27, 17, 30), "Europe/Copenhagen") == utc(2026, 11, 30, 7)


def test_one_reminder_after_remind_after_hours_inside_the_window():
    member = MemberState("x", "America/New_York", MONDAY_0930)
    sent = utc(2026, 11, 2, 14, 30)
    member.prompt_sent_at["2026-W45"] = sent
    assert not due_for_member(member, sent + timedelta(hours=23, minutes=59))
    (due,) = due_for_member(member, sent + timedelta(hours=24))
    assert (due.kind, due.period) == ("reminder", "2026-W45")
    member.reminded.add("2026-W45")
    assert not due_for_member(member, sent + timedelta(hours=30))
    # a reminder that falls after 18:00 waits for the next morning
    late = MemberState("y", "America/New_York", Schedule("mon", time(17, 0), 24))
    late.prompt_sent_at["2026-W45"] = utc(2026, 11, 2, 22, 0)  # 17:00 local
    assert not due_for_member(late, utc(2026, 11, 3, 23, 30))  # 18:30 local Tuesday
    assert due_for_member(late, utc(2026, 11, 4, 13, 0))  # 08:00 local Wednesday


def test_away_and_answered_members_are_not_prompted():
    monday = utc(2026, 11, 23, 9)
    away = MemberState("x", "Europe/Copenhagen", MONDAY_0930, away_until=date(2026, 11, 27))
    assert not due_for_member(away, monday)
    assert due_for_member(away, utc(2026, 11, 30, 9))  # back the next week
    done = MemberState("y", "Europe/Copenhagen", MONDAY_0930, round_status={"2026-W48": "done"})
    assert not due_for_member(done, monday)
    updated = MemberState("z", "Europe/Copenhagen", MONDAY_0930)
    updated.owned_updated_at = [utc(2026, 11, 23, 7), utc(2026, 11, 22, 23, 30)]  # Monday local
    assert not due_for_member(updated, monday)
    updated.owned_updated_at = [utc(2026, 11, 23, 7), utc(2026, 11, 20, 12)]  # one is older
    assert due_for_member(updated, monday)


def test_a_wall_time_in_the_spring_gap_moves_an_hour_later():
    gap = Schedule("sun", time(2, 30), None)
    moment = scheduled_moment(utc(2027, 3, 26, 12), "Europe/Copenhagen", gap)
    assert moment.astimezone(UTC) == utc(2027, 3, 28, 1, 30)  # 03:30 CEST


# -- the whole path, with a moving clock -----------------------------------------------------


class World:
    def __init__(self, db, slack, clock, store, worker):
        self.db, self.slack, self.clock, self.store, self.worker = db, slack, clock, store, worker

    def prompts(self) -> list[tuple[str, str, str]]:
        """(channel, outbox key, when) of every prompt or reminder Slack received."""
        out = []
        for call in self.slack.calls_to("chat.postMessage"):
            meta = call.params.get("metadata") or {}
            direct = str(call.params["channel"]).startswith(("U0", "DU0"))
            if call.ok and direct and meta.get("event_type") == EVENT_TYPE:
                out.append((call.params["channel"], meta["event_payload"]["key"]))
        return out

    async def run(self, start: datetime, end: datetime, step=timedelta(minutes=15), log=None):
        self.clock.now = start
        while self.clock.now <= end:
            dues = await tick(self.store, self.clock.now)
            await self.worker.drain()  # as the server's worker loop does
            if dues and log is not None:
                log.extend((d.kind, d.target, d.period, self.clock.now) for d in dues)
            self.clock.now += step


_OPEN: list[DeliveryWorker] = []


@pytest.fixture(autouse=True)
async def _close_senders():
    yield
    while _OPEN:
        await _OPEN.pop().senders.close()


def make_world(db, slack, clock) -> World:
    core = Core(db, clock)
    adapter = SlackAdapter(core, slack_client("xoxb-test", slack.url), signing_secret="s")
    sender = SlackSender(adapter, rate=1000, channel_rate=1000)
    store = OutboxStore(db, clock)
    worker = DeliveryWorker(
        store, Senders({"slack": sender}), digests=digest_source(db, clock), concurrency=4
    )
    _OPEN.append(worker)
    return World(db, slack, clock, store, worker)


WEEKS = {
    # the week after the EU change (Sunday 25 October 2026): Copenhagen is on CET (UTC+1),
    # New York still on EDT (UTC-4)
    "2026-W44": (
        utc(2026, 10, 24, 12),
        date(2026, 10, 26),
        {"kenji": (0, 30), "anna": (8, 30), "ceo": (8, 30), "bob": (13, 30)},
    ),
    # the week of the US change (Sunday 1 November 2026): New York on EST (UTC-5)
    "2026-W45": (
        utc(2026, 10, 31, 12),
        date(2026, 11, 2),
        {"kenji": (0, 30), "anna": (8, 30), "ceo": (8, 30), "bob": (14, 30)},
    ),
}


@pytest.mark.parametrize("week", sorted(WEEKS))
async def test_a_week_of_prompts_and_reminders_in_three_time_zones(db, week):
    start, monday, times = WEEKS[week]
    clock = Clock(utc(2026, 10, 1))
    await load_world(db, utc(2026, 10, 1))
    async with db.transaction() as session:
        await session.execute(
            update(Person).where(Person.handle == "pia").values(away_until=date(2026, 11, 6))
        )
    async with FakeSlack(users=SLACK_USERS) as slack:
        world = make_world(db, slack, clock)
        log: list = []
        await world.run(start, start + timedelta(days=7), log=log)
    sent = {(kind, who): when for kind, who, _, when in log if kind in ("prompt", "reminder")}
    expected = {}
    for who, (hour, minute) in times.items():
        at = utc(monday.year, monday.month, monday.day, hour, minute)  # 09:30 local
        expected[("prompt", who)] = at
        expected[("reminder", who)] = at + timedelta(hours=24)
    assert sent == expected
    keys = sorted(key for _, key in world.prompts())
    assert keys == sorted(
        f"{kind}/{who}/{week}"
        for kind in ("prompt", "reminder")
        for who in ("anna", "bob", "ceo", "kenji")
    )
    assert all(channel.startswith("U0") for channel, _ in world.prompts())  # their DMs


async def test_a_restart_in_the_middle_of_a_round_misses_nothing_and_doubles_nothing(db):
    clock = Clock(utc(2026, 11, 1))
    await load_world(db, utc(2026, 10, 1))
    async with FakeSlack(users=SLACK_USERS) as slack:
        first = make_world(db, slack, clock)
        # Monday: Tokyo's prompt goes out at 00:30 UTC, then the process dies at 08:00 UTC,
        # in the middle of sending Copenhagen's prompts (one claimed, never finished)
        await first.run(utc(2026, 11, 2, 0), utc(2026, 11, 2, 8, 15))
        assert sorted(k for _, k in first.prompts()) == ["prompt/kenji/2026-W45"]
        clock.now = utc(2026, 11, 2, 8, 30)
        await tick(first.store, clock.now)
        (claimed, *_) = await first.store.claim("died", 1)
        # down for two hours; a new process (new worker) starts and carries on
        second = make_world(db, slack, clock)
        await second.run(utc(2026, 11, 2, 10, 30), utc(2026, 11, 3, 18))
    keys = sorted(k for _, k in second.prompts())
    everyone = ("anna", "bob", "ceo", "kenji", "pia")
    assert keys == sorted(
        [f"prompt/{w}/2026-W45" for w in everyone] + [f"reminder/{w}/2026-W45" for w in everyone]
    )
    assert claimed.target in ("anna", "ceo")


async def test_a_bot_down_over_fridays_digest_sends_it_once_on_return_same_week_only(db):
    clock = Clock(utc(2026, 11, 1))
    await load_world(db, utc(2026, 10, 1))
    async with FakeSlack(users=SLACK_USERS) as slack:
        world = make_world(db, slack, clock)
        log: list = []
        # down from Friday 13:00 to Saturday 10:00 Copenhagen time (digest time: Fri 15:00)
        await world.run(utc(2026, 11, 6, 9), utc(2026, 11, 6, 12), log=log)
        assert not [e for e in log if e[0].endswith("digest")]
        await world.run(utc(2026, 11, 7, 9), utc(2026, 11, 8, 22), log=log)
        digests = [
            (kind, target, period, when)
            for kind, target, period, when in log
            if kind.endswith("digest")
        ]
        assert digests == [
            ("exec_digest", "exec", "2026-W45", utc(2026, 11, 7, 9)),
            ("team_digest", "marketing", "2026-W45", utc(2026, 11, 7, 9)),
        ]
        # down over the whole of the next Friday and back on Monday: that week's digest is
        # not sent late into the following week
        await world.run(utc(2026, 11, 16, 7), utc(2026, 11, 16, 9), log=log)
        assert [e for e in log if e[0].endswith("digest")] == [
            (k, t, p, w) for k, t, p, w in digests
        ]
        heads = [m for m in slack.messages["C0EXEC"] if "thread_ts" not in m]
        assert len(heads) == 1
        assert len(slack.messages["C0MKT"]) == 1


async def test_two_schedulers_and_two_workers_on_one_database_send_everything_once(db, db_url):
    from storage.db import Database

    clock = Clock(utc(2026, 11, 1))
    await load_world(db, utc(2026, 10, 1))
    other_db = Database(db_url)
    try:
        async with FakeSlack(users=SLACK_USERS, latency=0.01) as slack:
            one, two = make_world(db, slack, clock), make_world(other_db, slack, clock)
            moment = utc(2026, 11, 1, 23)
            while moment <= utc(2026, 11, 7, 12):
                clock.now = moment
                await asyncio.gather(tick(one.store, moment), tick(two.store, moment))
                await asyncio.gather(one.worker.drain(), two.worker.drain())
                moment += timedelta(minutes=30)
        keys = sorted(k for _, k in one.prompts())
        assert keys == sorted(
            [
                f"{kind}/{w}/2026-W45"
                for kind in ("prompt", "reminder")
                for w in ("anna", "bob", "ceo", "kenji", "pia")
            ]
        )
        heads = [m for m in slack.messages["C0EXEC"] if "thread_ts" not in m]
        assert len(heads) == 1 and len(slack.messages["C0MKT"]) == 1
    finally:
        await other_db.dispose()


def test_the_next_prompt_is_the_first_moment_the_plan_would_send_it():
    member = MemberState("x", "Europe/Copenhagen", MONDAY_0930)
    friday = utc(2026, 11, 27, 12)
    assert next_prompt(member, friday) == friday  # not sent this week yet: due now
    member.prompt_sent_at["2026-W48"] = utc(2026, 11, 23, 8, 30)
    assert next_prompt(member, utc(2026, 11, 23, 9)) == utc(2026, 11, 30, 8, 30)
    # not sent this week and the check-in time is still ahead
    fresh = MemberState("y", "America/New_York", MONDAY_0930)
    assert next_prompt(fresh, utc(2026, 11, 23, 9)) == utc(2026, 11, 23, 14, 30)
    # away over next Monday: the Monday after
    fresh.away_until = date(2026, 12, 2)
    assert next_prompt(fresh, utc(2026, 11, 27, 12)) == utc(2026, 12, 7, 14, 30)
    # a weekend check-in day never fits the quiet-hours window
    weekend = MemberState("z", "Europe/Copenhagen", Schedule("sat", time(10, 0), 24))
    assert next_prompt(weekend, friday) is None
    # the plan agrees: minute by minute, the first due moment is the predicted one
    member = MemberState("w", "Asia/Tokyo", MONDAY_0930)
    start = utc(2026, 11, 24, 3)  # Tuesday in Tokyo, no prompt sent this week yet
    moment = start
    while not due_for_member(member, moment):
        moment += timedelta(minutes=1)
    assert next_prompt(member, start) == moment

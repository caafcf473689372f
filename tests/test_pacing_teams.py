"""Teams delivery finds the Bot Connector's limit by itself: a round of prompts through the
outbox, the worker and the Teams sender as `okrbot serve` builds them (default settings, the
pace shared through the database), against a fake Bot Connector that throttles at a rate
okrbot is not told. Every prompt arrives exactly once, the 429s stay few, each refused
conversation waits out its Retry-After, and the pace learned for the tenant is kept."""

from __future__ import annotations

import time
from collections import Counter
from datetime import UTC, datetime, timedelta

import pytest

from adapters.pace_policy import Policy
from adapters.teams.app import TeamsAdapter
from bot.checkin.due import Due
from bot.cli.wiring import delivery_stack
from bot.clock import iso_week, system_clock
from bot.config import Settings
from bot.core import Core
from scheduler.outbox import SENT
from storage import repo
from storage.models import ConversationReference
from storage.pace import PaceStore
from tests.fake_connector import BOT_ID, TENANT_ID, FakeConnector
from tests.schedule_world import around, crowd, load_world

pytestmark = pytest.mark.paced  # rates against the clock: run alone (see Makefile)

MEMBERS = 300
LIMIT = 30  # sends per second the fake connector accepts in the tenant


def teams_crowd(members: int) -> str:
    """The crowd of `schedule_world`, on Teams: person pN has the AAD id aad-pN."""
    text = crowd(members, around(datetime.now(UTC).date()))
    for n in range(members):
        text = text.replace(f"slack: U{n:06d}}}", f"teams: aad-p{n}}}")
    return text


async def installed_for_everyone(
    db, connector: FakeConnector, members: int, tenant=lambda n: TENANT_ID
) -> None:
    """Every member has the app and a 1:1 chat with the bot, its reference stored as the Teams
    adapter stores it (botbuilder keeps no tenant in it: the row has it), as after each of
    them opened the chat once. Member n is in `tenant(n)`."""
    handles = [f"p{n}" for n in range(members)]
    async with db.transaction() as session:
        people = await repo.people_by_handles(session, handles)
        for n, handle in enumerate(handles):
            conversation = f"a:{handle}"
            reference = {
                "channelId": "msteams",
                "serviceUrl": connector.url,
                "conversation": {"id": conversation, "conversationType": "personal"},
                "bot": {"id": BOT_ID, "name": "okrbot"},
                "user": {"id": f"29:{handle}", "aadObjectId": f"aad-{handle}"},
            }
            await repo.save_reference(
                session,
                ConversationReference(
                    platform="teams",
                    conversation_id=conversation,
                    conversation_type="personal",
                    person_id=people[handle].id,
                    tenant_id=tenant(n),
                    reference=reference,
                    updated_at=datetime.now(UTC),
                ),
            )


async def deliver_round(db, members: int):
    """This week's prompts to the crowd through the delivery stack of `okrbot serve` at its
    default settings; the rows when the round is over."""
    core = Core(db, system_clock)
    settings = Settings.model_construct()  # the defaults, whatever the environment says
    assert settings.teams_rate is None  # no ceiling: the pace has to find the limit
    delivery = delivery_stack(settings, core, teams=TeamsAdapter(core, emulator=True))
    week = iso_week(datetime.now(UTC), "Europe/Copenhagen")
    ids = await delivery.store.enqueue([Due("prompt", f"p{n}", week) for n in range(members)])
    try:
        return await delivery.worker.deliver(ids, within=90)
    finally:
        await delivery.worker.senders.close()  # hands in the last outcomes to the pace


async def test_at_default_settings_the_teams_pace_finds_the_connectors_limit(db):
    await load_world(db, datetime.now(UTC) - timedelta(days=1), teams_crowd(MEMBERS))
    async with FakeConnector(send_rate=LIMIT) as connector:
        await installed_for_everyone(db, connector, MEMBERS)
        rows = await deliver_round(db, MEMBERS)

        assert {r.state for r in rows} == {SENT}, Counter(r.last_error for r in rows)
        # each prompt exactly once: one activity in each member's chat, none elsewhere
        received = Counter(a.conversation_id for a in connector.activities)
        assert received == {f"a:p{n}": 1 for n in range(MEMBERS)}
        assert connector.sends_accepted == MEMBERS
        # it found the limit by going past it, and did not keep hammering it (15 to 45 of
        # them in trial rounds)
        assert 0 < connector.sends_throttled < MEMBERS // 2
        assert sum(r.attempts for r in rows) == MEMBERS + connector.sends_throttled
        # no conversation was sent to again before its Retry-After had passed
        assert connector.early_sends == []
        # the pace learned for the tenant is stored, above the safe start and near the limit
        rates = await PaceStore(db).rates()
        assert list(rates) == [f"teams:{TENANT_ID}"]
        assert Policy().start < LIMIT / 2 <= rates[f"teams:{TENANT_ID}"] < 2 * LIMIT, rates


async def test_each_tenant_has_a_pace_of_its_own(db):
    await load_world(db, datetime.now(UTC) - timedelta(days=1), teams_crowd(4))
    async with FakeConnector() as connector:
        await installed_for_everyone(db, connector, 4, tenant=lambda n: f"t{n % 2 + 1}")
        rows = await deliver_round(db, 4)
        assert {r.state for r in rows} == {SENT}
        assert len(connector.activities) == 4
    assert set(await PaceStore(db).rates()) == {"teams:t1", "teams:t2"}


class SecondsFromFirstSend:
    """A clock for the fake whose whole seconds start at the first send it throttles, so the
    cards sent right after it fall in that second (on the wall clock a second's end could fall
    between two cards, and neither would be refused)."""

    def __init__(self) -> None:
        self.start: float | None = None

    def __call__(self) -> float:
        now = time.monotonic()
        if self.start is None:
            self.start = now
        return now - self.start


def one_member_owning(key_results: int) -> str:
    """p0 owns `key_results` key results: a prompt long enough for several cards."""
    lines = [
        "organization: One",
        f"period: {around(datetime.now(UTC).date())}",
        "timezone: Europe/Copenhagen",
        "locale: en",
        "people:",
        "  - {id: p0, name: Person 0, teams: aad-p0}",
        "teams:",
        "  - {slug: t0, name: Team 0, members: [p0]}",
        "objectives:",
        "  - {id: O0, team: t0, title: Objective 0, key_results: [",
    ]
    lines += [
        f"      {{id: KR{n}, title: Result number {n} of the quarter for the team, start: 0,"
        f" target: 10, owner: p0}},"
        for n in range(key_results)
    ]
    return "\n".join(lines) + "\n    ]}\n"


async def test_a_prompt_of_several_cards_refused_midway_is_continued_not_repeated(db):
    """The connector accepts one send per second in a conversation: the second card of a
    long prompt gets a 429. The first is in the chat already, so the rest follows it after the
    Retry-After; sending the row again would put the first card there twice."""
    await load_world(db, datetime.now(UTC) - timedelta(days=1), one_member_owning(20))
    async with FakeConnector(conversation_rate=1, timer=SecondsFromFirstSend()) as connector:
        await installed_for_everyone(db, connector, 1)
        (row,) = await deliver_round(db, 1)
        assert row.state == SENT and row.attempts == 1, row.last_error
        cards = [a.cards for a in connector.activities_in("a:p0")]
        assert len(cards) >= 2 and all(card not in cards[:n] for n, card in enumerate(cards))
        assert connector.sends_throttled >= 1 and connector.early_sends == []

"""Outbox delivery to Teams over the Bot Connector API (a fake on 127.0.0.1): proactive prompts,
throttling, a lost answer re-sent and counted as a possible duplicate (Teams cannot read a
chat's history), unreachable members, and the exec digest threaded in a channel with its chart
served by okrbot."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from aiohttp.test_utils import TestClient, TestServer

from adapters.charts import ChartRoutes
from adapters.server import build_app
from adapters.teams.app import TeamsAdapter
from adapters.teams.outbox import TeamsSender
from bot.checkin.due import Due
from bot.clock import iso_week, system_clock
from bot.core import Core
from bot.digest.source import digest_source
from bot.metrics import Metrics
from scheduler.outbox import FAILED, SENT, OutboxStore
from scheduler.worker import DeliveryWorker, Senders
from tests.fake_connector import (
    TEAM_ID,
    FakeConnector,
    conversation_update_activity,
    installation_update_activity,
)
from tests.schedule_world import OKRS, around, load_world

ROSTER = {
    "29:1anna": {
        "aadObjectId": "aad-anna",
        "email": "anna@nordlys.example",
        "userPrincipalName": "anna@nordlys.example",
        "name": "Anna Holm",
        "tenantId": "t1",
    },
    "29:1bob": {
        "aadObjectId": "aad-bob",
        "email": "bob@nordlys.example",
        "userPrincipalName": "bob@nordlys.example",
        "name": "Bob Stone",
        "tenantId": "t1",
    },
}
# the same organisation on Teams: no Slack ids, Bob known by AAD id, the digest in a channel
TEAMS_OKRS = (
    OKRS.replace(", slack: U0ANNA", "")
    .replace("slack: U0BOB", "teams: aad-bob")
    .replace(", slack: U0KENJI", "")
    .replace(", slack: U0PIA", "")
    .replace(", slack: U0CEO", "")
    .replace('exec_channel: "C0EXEC"', f'exec_channel: "teams:{TEAM_ID}"')
    .replace('channel: "C0MKT", ', "")
)


class World:
    def __init__(self, db, connector, http, store, worker, metrics):
        self.db, self.connector, self.http = db, connector, http
        self.store, self.worker, self.metrics = store, worker, metrics

    async def deliver(self, *dues: Due):
        return await self.worker.deliver(await self.store.enqueue(dues), within=20)


@pytest.fixture
async def world(db):
    today = datetime.now(UTC).date()
    await load_world(db, datetime.now(UTC) - timedelta(days=30), TEAMS_OKRS, around(today))
    metrics = Metrics()
    async with FakeConnector(roster=ROSTER) as connector:
        core = Core(db, system_clock, metrics)
        teams = TeamsAdapter(core, emulator=True)
        async with TestClient(TestServer(build_app(db, teams, ChartRoutes(db)))) as http:
            sender = TeamsSender(teams, rate=50, public_url=str(http.make_url("")), metrics=metrics)
            store = OutboxStore(db, system_clock)
            worker = DeliveryWorker(
                store,
                Senders({"teams": sender}),
                digests=digest_source(db, system_clock),
                metrics=metrics,
            )
            w = World(db, connector, http, store, worker, metrics)
            # Anna installs the app: the bot now has her 1:1 conversation and the tenant
            response = await http.post(
                "/api/messages", json=installation_update_activity(service_url=connector.url)
            )
            assert response.status in (200, 201)
            yield w


def prompt(who: str, zone: str = "Europe/Copenhagen") -> Due:
    return Due("prompt", who, iso_week(datetime.now(UTC), zone))


def metric(world: World, name: str, **labels) -> float:
    value = world.metrics.registry.get_sample_value(name, labels)
    return value or 0.0


async def test_a_prompt_goes_to_the_members_chat_as_a_card_with_inputs(world):
    (row,) = await world.deliver(prompt("anna"))
    assert row.state == SENT and row.platform == "teams"
    (sent,) = world.connector.activities_in("a:1anna")
    inputs = str(sent.cards)
    assert "MKT-1.1|value" in inputs and "Input.Number" in inputs
    assert metric(world, "okrbot_prompts_sent_total", platform="teams", kind="prompt") == 1


async def test_a_throttled_send_is_retried_after_its_retry_after(world):
    world.connector.fail("activities", status=429, retry_after=1, times=2)
    (row,) = await world.deliver(prompt("anna"))
    assert row.state == SENT and row.attempts == 3
    assert len(world.connector.activities_in("a:1anna")) == 1


async def test_a_lost_answer_is_re_sent_and_counted_as_a_possible_duplicate(world):
    world.connector.fail("activities", status=502, accepted=True)
    (row,) = await world.deliver(prompt("anna"))
    assert row.state == SENT and row.attempts == 2
    assert len(world.connector.activities_in("a:1anna")) == 2  # Teams cannot be asked
    assert metric(world, "okrbot_possible_duplicates_total", platform="teams") == 1


async def test_a_member_with_an_aad_id_gets_a_new_chat_in_the_tenant_seen(world):
    (row,) = await world.deliver(prompt("bob", "America/New_York"))
    assert row.state == SENT, row.last_error
    assert world.connector.calls_to("create_conversation")


async def test_a_member_the_bot_cannot_reach_fails_as_unreachable(world):
    (row,) = await world.deliver(prompt("kenji", "Asia/Tokyo"))
    assert row.state == FAILED and row.last_error.startswith("unreachable:")
    assert row.attempts == 1


async def test_the_exec_digest_is_threaded_under_its_headline_with_the_chart(world):
    added = conversation_update_activity(
        service_url=world.connector.url, conversation_type="channel"
    )
    assert (await world.http.post("/api/messages", json=added)).status in (200, 201)
    week = iso_week(datetime.now(UTC), "Europe/Copenhagen")
    (row,) = await world.deliver(Due("exec_digest", "exec", week))
    assert row.state == SENT, row.last_error
    head, *replies = world.connector.activities_in(TEAM_ID)
    assert head.reply_to_id is None and replies
    assert {r.reply_to_id for r in replies} == {head.id}
    images = [e for e in head.cards[0]["body"] if e.get("type") == "Image"]
    (image,) = images
    path = "/" + image["url"].split("/", 3)[3]
    chart = await world.http.get(path)
    assert chart.status == 200 and chart.content_type == "image/png"
    assert (await chart.read()).startswith(b"\x89PNG")
    assert (await world.http.get("/charts/nope.png")).status == 404


async def test_a_digest_for_a_channel_the_bot_never_saw_fails_for_good(world):
    week = iso_week(datetime.now(UTC), "Europe/Copenhagen")
    (row,) = await world.deliver(Due("exec_digest", "exec", week))
    assert row.state == FAILED and "has not seen Teams channel" in row.last_error

"""Microsoft Teams over its real protocol: activities POSTed to `/api/messages` with a
`serviceUrl` pointing at a fake Bot Connector on 127.0.0.1 that receives every reply."""

from __future__ import annotations

import asyncio

import pytest
from aiohttp.test_utils import TestClient, TestServer
from botbuilder.schema import Activity
from sqlalchemy import text

from adapters.server import build_app
from adapters.teams.app import ANSWER_BUDGET, TeamsAdapter
from adapters.teams.cards import attachment, message_cards
from adapters.teams.connector import Authentication
from adapters.teams.outbox import TeamsSender
from bot.core import Core
from bot.delivery import Unreachable
from bot.okrfile.demo import load_demo
from tests.fake_connector import (
    ANNA,
    BOT_ID,
    FakeConnector,
    conversation_update_activity,
    installation_update_activity,
    message_activity,
)

ROSTER = {
    **ANNA,
    "29:1mette": {
        "aadObjectId": "aad-mette",
        "email": "mette@nordlys.example",
        "userPrincipalName": "mette@nordlys.example",
        "name": "Mette Lund",
        "tenantId": "t1",
    },
    "29:1x": {
        "aadObjectId": "aad-x",
        "email": "x@elsewhere.example",
        "userPrincipalName": "x@elsewhere.example",
        "name": "X",
        "tenantId": "t1",
    },
}


class World:
    def __init__(self, connector, db, http, teams):
        self.connector, self.db, self.http, self.teams = connector, db, http, teams

    async def post(self, activity: dict, headers: dict | None = None):
        return await self.http.post("/api/messages", json=activity, headers=headers or {})

    async def say(self, text_: str, count: int, **kwargs):
        response = await self.post(
            message_activity(text_, service_url=self.connector.url, **kwargs)
        )
        assert response.status in (200, 201), await response.text()
        sent = await self.connector.wait_for_activities(count)
        return sent[-1]

    async def scalar(self, sql: str):
        async with self.db.engine.connect() as conn:
            return (await conn.execute(text(sql))).scalar()


@pytest.fixture
async def world(db, now, clock):
    async with db.transaction() as session:
        await load_demo(session, now)
    async with FakeConnector(roster=ROSTER) as connector:
        teams = TeamsAdapter(Core(db, clock), emulator=True)
        async with TestClient(TestServer(build_app(db, teams))) as http:
            yield World(connector, db, http, teams)


def card_text(sent) -> str:
    out = []

    def walk(node):
        if isinstance(node, dict):
            for key, value in node.items():
                if key in ("text", "title", "value") and isinstance(value, str):
                    out.append(value)
                walk(value)
        elif isinstance(node, list):
            for value in node:
                walk(value)

    walk(sent.cards)
    return "\n".join(out)


async def test_install_stores_the_conversation_reference(world):
    activity = installation_update_activity(service_url=world.connector.url)
    response = await world.post(activity)
    assert response.status in (200, 201)
    assert (
        await world.scalar(
            "SELECT count(*) FROM conversation_reference WHERE platform = 'teams' "
            "AND conversation_type = 'personal' AND tenant_id = 't1'"
        )
        == 1
    )
    # the installer was found in the roster by email and is kept by AAD object id
    assert await world.scalar("SELECT teams_aad_id FROM person WHERE handle = 'anna'") == "aad-anna"


async def test_the_bot_added_to_a_team_channel_stores_that_conversation(world):
    activity = conversation_update_activity(
        service_url=world.connector.url,
        conversation_type="channel",
        from_id="29:1mette",
        aad="aad-mette",
        name="Mette Lund",
    )
    assert (await world.post(activity)).status in (200, 201)
    assert (
        await world.scalar(
            "SELECT count(*) FROM conversation_reference WHERE conversation_type = 'channel' "
            "AND person_id IS NULL"
        )
        == 1
    )


async def test_okr_team_in_a_personal_chat(world):
    sent = await world.say("okr marketing", 1)
    assert sent.conversation_id == "a:1anna"
    shown = card_text(sent)
    assert "Marketing · 2026-Q4 · 31 %" in shown  # Anna reads Danish
    assert "5 / 12 campaigns" in shown


async def test_a_card_goes_out_as_built_in_a_reply_to_the_message(world):
    activity = message_activity("okr marketing", service_url=world.connector.url)
    assert (await world.post(activity)).status in (200, 201)
    (sent,) = await world.connector.wait_for_activities(1)
    anna = await world.teams.core.person(handle="anna")
    answer = await world.teams.core.command(anna, "okr marketing")
    assert sent.attachments == [attachment(card) for card in message_cards(answer, locale="da")]
    out = sent.activity
    assert sent.reply_to_id == activity["id"] == out["replyToId"]
    assert (out["type"], out["inputHint"], out["channelId"]) == (
        "message",
        "acceptingInput",
        "msteams",
    )
    assert out["from"]["id"] == BOT_ID and out["recipient"]["id"] == "29:1anna"
    assert out["conversation"]["id"] == "a:1anna" and out["serviceUrl"] == world.connector.url
    assert out["summary"] == answer.title and "text" not in out


async def test_connector_clients_are_kept_per_service_url():
    class Config:
        APP_ID, APP_PASSWORD, APP_TYPE, APP_TENANTID = "", "", "MultiTenant", ""

    auth = Authentication(Config())
    url = "http://127.0.0.1:1/"
    incoming = Activity().deserialize(message_activity("okr", service_url=url))
    turn = await auth.authenticate_request(incoming, "")  # authentication off: anonymous
    client = await turn.connector_factory.create(url)
    proactive = auth.create_connector_factory(turn.claims_identity)
    assert await proactive.create(url) is client
    assert await proactive.create("http://127.0.0.1:2/") is not client
    tokens = await auth.create_user_token_client(turn.claims_identity)
    assert await auth.create_user_token_client(turn.claims_identity) is tokens


async def test_a_turn_waiting_for_teams_does_not_hold_up_the_others(world):
    world.teams.turns = asyncio.Semaphore(1)  # one turn works on its answer at a time
    world.connector.fail("activities", status=429, retry_after=1, conversation_id="a:1anna")
    first = asyncio.create_task(
        world.post(message_activity("okr marketing", service_url=world.connector.url))
    )
    await world.connector.wait_for("activities", 1)  # Anna's reply was throttled
    mette = message_activity(
        "okr marketing",
        service_url=world.connector.url,
        from_id="29:1mette",
        aad="aad-mette",
        name="Mette Lund",
    )
    assert (await world.post(mette)).status in (200, 201)
    assert not first.done()  # Mette was answered while Anna's reply waits for its retry
    assert (await first).status in (200, 201)
    sent = await world.connector.wait_for_activities(2)
    assert [a.conversation_id for a in sent] == ["a:1mette", "a:1anna"]


async def test_okr_team_with_a_mention_in_a_channel(world):
    sent = await world.say(
        "marketing",
        1,
        conversation_type="channel",
        from_id="29:1mette",
        aad="aad-mette",
        name="Mette Lund",
    )
    assert "Marketing · 2026-Q4 · 31%" in card_text(sent)


async def test_a_text_reply_is_saved_and_confirmed_and_undone(world):
    sent = await world.say("kampagner 6, på sporet", 1)
    shown = card_text(sent)
    assert "MKT-1.1" in shown and "6 / 12 campaigns" in shown
    assert await world.scalar("SELECT current FROM key_result WHERE key = 'MKT-1.1'") == 6
    undo = next(
        a
        for c in sent.cards
        for a in c.get("actions", [])
        if a.get("data", {}).get("okrbot") == "checkin.undo"
    )
    await world.say(None, 2, value=undo["data"])
    assert await world.scalar("SELECT current FROM key_result WHERE key = 'MKT-1.1'") == 5


async def test_a_card_submission_is_saved(world):
    value = {
        "okrbot": "checkin.submit",
        "value": "2026-W47",
        "MKT-1.1|value": "7",
        "MKT-1.3|value": "145",
        "MKT-1.3|health": "at_risk",
    }
    sent = await world.say(None, 1, value=value)
    assert "MKT-1.3" in card_text(sent)
    assert await world.scalar("SELECT current FROM key_result WHERE key = 'MKT-1.3'") == 145
    assert await world.scalar("SELECT health FROM key_result WHERE key = 'MKT-1.3'") == "at_risk"
    assert await world.scalar("SELECT count(*) FROM key_result_update WHERE source = 'form'") == 2


async def test_a_proactive_prompt_reaches_the_member(world):
    await world.post(installation_update_activity(service_url=world.connector.url))
    anna = await world.teams.core.person(handle="anna")
    sender = TeamsSender(world.teams, rate=50)
    sent_to = await sender.send_prompt(anna, key="prompt/anna/W", reminder=False, uncertain=False)
    assert sent_to["conversation"] == "a:1anna"
    (sent,) = await world.connector.wait_for_activities(1)
    assert sent.conversation_id == "a:1anna" and sent.reply_to_id is None
    card = sent.cards[0]
    ids = [i.get("id") for i in _inputs(card)]
    assert "MKT-1.1|value" in ids and "MKT-1.1|health" in ids and "MKT-1.1|comment" in ids


def _inputs(node):
    if isinstance(node, dict):
        if str(node.get("type", "")).startswith("Input."):
            yield node
        for value in node.values():
            yield from _inputs(value)
    elif isinstance(node, list):
        for value in node:
            yield from _inputs(value)


async def test_a_member_never_seen_is_unreachable_not_skipped_silently(world):
    jonas = await world.teams.core.person(handle="jonas")
    sender = TeamsSender(world.teams, rate=50)
    assert not await sender.reaches(jonas)  # no conversation and no AAD id
    with pytest.raises(Unreachable, match="no Teams conversation"):
        await sender.send_prompt(jonas, key="prompt/jonas/W", reminder=False, uncertain=False)


async def test_an_unknown_member_gets_an_explanation(world):
    sent = await world.say(
        "hello", 1, from_id="29:1x", aad="aad-x", name="X", conversation_id="a:1x"
    )
    assert "OKR file" in sent.activity.get("text", "") + card_text(sent)
    assert await world.scalar("SELECT status FROM raw_reply") == "stranger"


async def test_a_429_is_retried(world):
    world.connector.fail("activities", status=429, retry_after=1, times=2)
    sent = await world.say("okr marketing", 1)
    assert "Marketing" in card_text(sent)
    statuses = [c.status for c in world.connector.calls if c.kind in ("send", "reply")]
    assert statuses == [429, 429, statuses[-1]] and statuses[-1] in (200, 201)


async def test_a_reply_never_sleeps_past_the_answer_budget(world, caplog):
    """Teams waits about 15 s for the answer to an activity: a Retry-After that does not fit
    in the turn's budget is not slept through (the reply is given up, and said in the log)."""
    world.connector.fail("activities", status=429, retry_after=60, times=3)
    activity = message_activity("okr marketing", service_url=world.connector.url)
    started = asyncio.get_running_loop().time()
    response = await asyncio.wait_for(world.post(activity), timeout=14)
    assert response.status in (200, 201)
    assert asyncio.get_running_loop().time() - started < ANSWER_BUDGET + 2
    assert [c.status for c in world.connector.calls if c.kind in ("send", "reply")] == [429]
    assert "not sent within the answer budget" in caplog.text


async def test_with_an_app_id_unsigned_requests_get_401(db, clock):
    async with FakeConnector(roster=ROSTER) as connector:
        teams = TeamsAdapter(
            Core(db, clock), app_id="00000000-0000-0000-0000-000000000001", app_password="secret"
        )
        async with TestClient(TestServer(build_app(db, teams))) as http:
            activity = message_activity("okr marketing", service_url=connector.url)
            for headers in (
                {},
                {"Authorization": "Bearer not-a-jwt"},
                {"Authorization": "Basic x"},
            ):
                response = await http.post("/api/messages", json=activity, headers=headers)
                assert response.status == 401, headers
        assert connector.calls == []


async def test_with_auth_off_a_malformed_header_is_401_not_500(world):
    activity = message_activity("okr marketing", service_url=world.connector.url)
    response = await world.post(activity, headers={"Authorization": "garbage"})
    assert response.status == 401
    assert world.connector.calls == []


def test_auth_off_is_said_at_start(db, clock, caplog):
    TeamsAdapter(Core(db, clock), emulator=True)
    assert "Teams authentication is OFF" in caplog.text

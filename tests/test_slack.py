"""The Slack app over its real protocol: requests signed as Slack signs them, POSTed to
`/slack/events` on the aiohttp server, and every Web API call answered by a fake Slack on
127.0.0.1. Nothing of bolt is mocked."""

from __future__ import annotations

import asyncio
import json
import time

import pytest
from aiohttp.test_utils import TestClient, TestServer

from adapters.server import build_app
from adapters.slack.app import (
    SlackAdapter,
    SlackConfigError,
    check_settings,
    slack_client,
    verify_token,
)
from adapters.slack.outbox import SlackSender
from bot.core import Core
from bot.okrfile.demo import load_demo
from tests.fake_slack import (
    FakeSlack,
    app_home_opened_event,
    block_actions_body,
    event_body,
    im_message_event,
    signed_headers,
    slash_command_body,
    socket_envelope,
    view_submission_body,
)

SECRET = "8f742231b10e8888abcd99yyyzzz85a5"
USERS = {
    "U0MET": {"email": "mette@nordlys.example", "tz": "Europe/Copenhagen"},
    "U0ANNA": {"email": "anna@nordlys.example", "tz": "Europe/Copenhagen"},
    "U0JONAS": {"email": "jonas@nordlys.example", "tz": "Europe/London"},
    "U0STRANGER": {"email": "someone@else.example"},
}


class World:
    """The fake Slack, the core on a real database, and an HTTP client for /slack/events."""

    def __init__(self, slack: FakeSlack, db, http: TestClient, adapter: SlackAdapter):
        self.slack, self.db, self.http, self.adapter = slack, db, http, adapter

    async def send(self, body: bytes, *, secret: str = SECRET, timestamp: int | None = None):
        return await self.http.post(
            "/slack/events", data=body, headers=signed_headers(body, secret, timestamp)
        )

    async def command(self, text: str, user: str = "U0MET", name: str = "cmd"):
        body = slash_command_body(text, user_id=user, response_url=self.slack.response_url(name))
        started = time.perf_counter()
        response = await self.send(body)
        elapsed = time.perf_counter() - started
        assert response.status == 200
        posts = await self.slack.wait_for_response(name)
        return posts[-1].body, elapsed

    async def dm(self, text: str, user: str, event_id: str, count: int):
        event = im_message_event(text, user_id=user)
        response = await self.send(event_body(event, event_id=event_id))
        assert response.status == 200
        calls = await self.slack.wait_for("chat.postMessage", count=count, timeout=20)
        return calls[-1].params

    async def scalar(self, sql: str, *args):
        async with self.db.engine.connect() as conn:
            from sqlalchemy import text

            return (await conn.execute(text(sql), dict(enumerate(args)))).scalar()


@pytest.fixture
async def world(db, now, clock):
    async with db.transaction() as session:
        await load_demo(session, now)
    async with FakeSlack(users=USERS) as slack:
        client = slack_client("xoxb-test", slack.url.rstrip("/"))  # works without the slash too
        adapter = SlackAdapter(Core(db, clock), client, signing_secret=SECRET)
        async with TestClient(TestServer(build_app(db, adapter))) as http:
            yield World(slack, db, http, adapter)
        await client.close() if hasattr(client, "close") else None


def texts(blocks: list[dict]) -> str:
    """Every piece of text in a list of blocks, joined: what a person reads."""
    out = []

    def walk(node):
        if isinstance(node, dict):
            if isinstance(node.get("text"), str):
                out.append(node["text"])
            for value in node.values():
                walk(value)
        elif isinstance(node, list):
            for value in node:
                walk(value)

    walk(blocks)
    return "\n".join(out)


async def test_okr_team_is_acked_at_once_and_answered_privately(world):
    answer, elapsed = await world.command("marketing")
    assert elapsed < 3  # Slack's limit for the acknowledgement
    assert answer["response_type"] == "ephemeral"
    shown = texts(answer["blocks"])
    assert "Marketing · 2026-Q4 · 31%" in shown
    assert "5 / 12 campaigns" in shown and "42%" in shown
    assert "4,100 / 10,000" in shown
    assert answer["text"]  # the notification fallback


async def test_okr_team_share_goes_to_the_channel(world):
    answer, _ = await world.command("marketing share")
    assert answer["response_type"] == "in_channel"


async def test_unknown_team_suggests_and_changes_nothing(world):
    before = await world.scalar("SELECT count(*) FROM key_result_update")
    answer, _ = await world.command("markting")
    shown = texts(answer["blocks"])
    assert "markting" in shown and "marketing" in shown
    assert answer["response_type"] == "ephemeral"
    assert await world.scalar("SELECT count(*) FROM key_result_update") == before


async def test_okr_me_maps_the_person_by_email_once(world):
    answer, _ = await world.command("me", user="U0ANNA")
    assert "Anna Holm: dine nøgleresultater" in texts(answer["blocks"])
    assert await world.scalar("SELECT slack_id FROM person WHERE handle = 'anna'") == "U0ANNA"
    await world.command("me", user="U0ANNA", name="again")
    assert len(world.slack.calls_to("users.info")) == 1  # stored: no second lookup


async def test_a_dm_reply_is_saved_and_confirmed(world):
    posted = await world.dm("kampagner 6, på sporet", "U0ANNA", "Ev1", count=1)
    assert posted["channel"] == "DU0ANNA"  # the DM the event came from
    shown = texts(posted["blocks"])
    assert "MKT-1.1" in shown and "6 / 12 campaigns" in shown and "50 %" in shown
    assert "på sporet" in shown
    undo = [e for b in posted["blocks"] if b["type"] == "actions" for e in b["elements"]]
    assert [e["action_id"].split(":")[0] for e in undo] == ["checkin.undo"]
    assert await world.scalar("SELECT current FROM key_result WHERE key = 'MKT-1.1'") == 6
    assert (
        await world.scalar(
            "SELECT count(*) FROM key_result_update WHERE source = 'dm' AND raw_reply_id IS NOT NULL"
        )
        == 1
    )


async def test_a_retried_event_is_applied_once(world):
    await world.dm("kampagner 6", "U0ANNA", "Ev42", count=1)
    event = im_message_event("kampagner 6", user_id="U0ANNA")
    retry = event_body(event, event_id="Ev42")
    headers = {
        **signed_headers(retry, SECRET),
        "X-Slack-Retry-Num": "1",
        "X-Slack-Retry-Reason": "http_timeout",
    }
    response = await world.http.post("/slack/events", data=retry, headers=headers)
    assert response.status == 200
    await asyncio.sleep(0.3)
    assert len(world.slack.calls_to("chat.postMessage")) == 1
    assert await world.scalar("SELECT count(*) FROM raw_reply WHERE external_id = 'Ev42'") == 1
    assert (
        await world.scalar("SELECT count(*) FROM key_result_update WHERE raw_reply_id IS NOT NULL")
        == 1
    )


async def test_bot_messages_and_edits_are_ignored(world):
    edit = {**im_message_event("kampagner 9", user_id="U0ANNA"), "subtype": "message_changed"}
    bot = {**im_message_event("hello", user_id="UBOT"), "bot_id": "BBOT"}
    for n, event in enumerate((edit, bot)):
        assert (await world.send(event_body(event, event_id=f"EvX{n}"))).status == 200
    await asyncio.sleep(0.3)
    assert world.slack.calls_to("chat.postMessage") == []
    assert await world.scalar("SELECT count(*) FROM raw_reply") == 0


async def test_a_stranger_gets_a_polite_answer(world):
    posted = await world.dm("hi", "U0STRANGER", "Ev7", count=1)
    assert "okrbot only knows the people in the company's OKR file" in texts(posted["blocks"])
    assert await world.scalar("SELECT status FROM raw_reply") == "stranger"


async def test_buttons_no_change_skip_and_undo(world):
    posted = await world.dm("subscribers 4.5k", "U0JONAS", "Ev1", count=1)
    undo = next(e for b in posted["blocks"] if b["type"] == "actions" for e in b["elements"])
    body = block_actions_body(undo["action_id"], undo["value"], user_id="U0JONAS")
    assert (await world.send(body)).status == 200
    calls = await world.slack.wait_for("chat.postMessage", count=2)
    assert "MKT-1.2" in texts(calls[-1].params["blocks"])
    assert await world.scalar("SELECT current FROM key_result WHERE key = 'MKT-1.2'") == 4100

    for action, status, n in (
        ("checkin.no_change", "no_change", 3),
        ("checkin.skip", "skipped", 4),
    ):
        body = block_actions_body(action, "2026-W47", user_id="U0JONAS")
        assert (await world.send(body)).status == 200
        await world.slack.wait_for("chat.postMessage", count=n)
        round_status = await world.scalar(
            "SELECT status FROM checkin_round JOIN person ON person.id = checkin_round.person_id "
            "WHERE handle = 'jonas' AND period = '2026-W47'"
        )
        assert round_status in (status, "done")  # an update this week keeps the round done


async def test_the_form_opens_as_a_modal_and_refuses_an_invalid_field(world):
    answer = await world.send(
        slash_command_body("checkin", user_id="U0ANNA", response_url=world.slack.response_url("x"))
    )
    assert answer.status == 200
    (opened,) = await world.slack.wait_for("views.open")
    view = opened.params["view"]
    assert view["type"] == "modal" and view["callback_id"] == "checkin.form"
    values = {
        "MKT-1.1|value": {"value": {"type": "number_input", "value": "7"}},
        "MKT-1.3|value": {"value": {"type": "number_input", "value": "abc"}},
    }
    response = await world.send(view_submission_body(view, user_id="U0ANNA", values=values))
    assert response.status == 200
    errors = json.loads(await response.text())
    assert errors["response_action"] == "errors"
    assert "MKT-1.3|value" in errors["errors"]
    assert await world.scalar("SELECT current FROM key_result WHERE key = 'MKT-1.1'") == 5

    values["MKT-1.3|value"] = {"value": {"type": "number_input", "value": "145"}}
    response = await world.send(view_submission_body(view, user_id="U0ANNA", values=values))
    assert response.status == 200
    await world.slack.wait_for("chat.postMessage")
    assert await world.scalar("SELECT current FROM key_result WHERE key = 'MKT-1.1'") == 7
    assert await world.scalar("SELECT current FROM key_result WHERE key = 'MKT-1.3'") == 145
    assert await world.scalar("SELECT count(*) FROM key_result_update WHERE source = 'form'") == 2


async def test_a_prompt_reaches_the_member_with_its_buttons(world):
    anna = await world.adapter.core.person(handle="anna")
    sender = SlackSender(world.adapter, rate=100)
    try:  # no Slack id in the file: found by email
        sent = await sender.send_prompt(anna, key="prompt/anna/W", reminder=False, uncertain=False)
    finally:
        await sender.close()
    ts = sent["ts"]
    (lookup,) = world.slack.calls_to("users.lookupByEmail")
    assert lookup.params["email"] == "anna@nordlys.example"
    assert await world.scalar("SELECT slack_id FROM person WHERE handle = 'anna'") == "U0ANNA"
    (call,) = world.slack.calls_to("chat.postMessage")
    assert ts == call.response["ts"]
    assert call.params["channel"] == "U0ANNA" and sent["channel"] == "DU0ANNA"
    assert call.params["metadata"]["event_payload"]["key"] == "prompt/anna/W"
    blocks = call.params["blocks"]
    assert blocks[0]["type"] == "header"
    shown = texts(blocks)
    assert "MKT-1.1" in shown and "5 / 12 campaigns" in shown and "░" in shown
    buttons = [e["action_id"] for b in blocks if b["type"] == "actions" for e in b["elements"]]
    assert buttons == ["checkin.no_change", "checkin.skip", "checkin.form"]
    assert len(blocks) <= 50


async def test_someone_slack_does_not_know_gets_no_prompt(world):
    ceo = await world.adapter.core.person(handle="ceo")  # kirsten@ is not in the fake workspace
    assert await SlackSender(world.adapter, rate=100).reaches(ceo) is False
    assert world.slack.calls_to("chat.postMessage") == []


async def test_the_url_verification_challenge_is_answered(world):
    body = json.dumps({"type": "url_verification", "challenge": "abc123", "token": "t"}).encode()
    response = await world.send(body)
    assert response.status == 200
    assert "abc123" in await response.text()


async def test_app_home_is_published(world):
    body = event_body(app_home_opened_event(user_id="U0ANNA"), event_id="EvH")
    assert (await world.send(body)).status == 200
    (published,) = await world.slack.wait_for("views.publish")
    assert published.params["user_id"] == "U0ANNA"
    view = published.params["view"]
    assert view["type"] == "home"
    shown = texts(view["blocks"])
    assert "MKT-1.1" in shown and "Marketing" in shown


async def test_a_bad_signature_and_a_stale_timestamp_are_refused(world):
    body = slash_command_body("marketing", response_url=world.slack.response_url("no"))
    assert (await world.send(body, secret="wrong")).status == 401
    stale = int(time.time()) - 600
    assert (await world.send(body, timestamp=stale)).status == 401
    dm = event_body(im_message_event("kampagner 9", user_id="U0ANNA"), event_id="EvBad")
    assert (await world.send(dm, secret="wrong")).status == 401
    await asyncio.sleep(0.2)
    assert world.slack.responses == [] and world.slack.calls_to("chat.postMessage") == []
    assert await world.scalar("SELECT count(*) FROM raw_reply") == 0


async def test_a_429_storm_is_retried_to_success(world):
    world.slack.fail("chat.postMessage", status=429, retry_after=1, times=3)
    posted = await world.dm("kampagner 6", "U0ANNA", "Ev9", count=4)  # 3 refused + 1 accepted
    assert "6 / 12 campaigns" in texts(posted["blocks"])
    assert [c.status for c in world.slack.calls_to("chat.postMessage")] == [429, 429, 429, 200]


async def test_a_post_whose_connection_was_lost_is_not_sent_again_blindly():
    """Slack has no idempotency key: after a dropped connection the message may be stored
    already, so the interactive client does not repeat a post; reads are still retried."""
    from slack_sdk.errors import SlackApiError

    async with FakeSlack(users=USERS) as slack:
        client = slack_client("xoxb-test", slack.url)
        slack.fail("chat.postMessage", disconnect=True, accepted=True)
        with pytest.raises(Exception) as raised:
            await client.chat_postMessage(channel="U0ANNA", text="Hi")
        assert not isinstance(raised.value, SlackApiError)
        assert len(slack.calls_to("chat.postMessage")) == 1
        assert len(slack.messages["DU0ANNA"]) == 1
        slack.fail("chat.postMessage", status=503, times=1)
        with pytest.raises(SlackApiError):
            await client.chat_postMessage(channel="U0ANNA", text="Hi again")
        assert len(slack.calls_to("chat.postMessage")) == 2
        slack.fail("users.info", disconnect=True)
        user = await client.users_info(user="U0ANNA")
        assert user["user"]["id"] == "U0ANNA" and len(slack.calls_to("users.info")) == 2
        slack.fail("chat.postMessage", status=429, retry_after=1)
        await client.chat_postMessage(channel="U0ANNA", text="after a 429")
        assert [c.status for c in slack.calls_to("chat.postMessage")][-2:] == [429, 200]


def test_settings_are_checked_at_start():
    with pytest.raises(SlackConfigError, match="xoxb"):
        check_settings("nope", "secret", None)
    with pytest.raises(SlackConfigError, match="SLACK_SIGNING_SECRET"):
        check_settings("xoxb-1", None, None)
    with pytest.raises(SlackConfigError, match="xapp"):
        check_settings("xoxb-1", None, "nope")
    check_settings("xoxb-1", None, "xapp-1")  # Socket Mode needs no signing secret


async def test_a_refused_token_fails_at_start():
    async with FakeSlack() as slack:
        with pytest.raises(SlackConfigError, match="invalid_auth"):
            await verify_token(slack_client("xoxb-bad", slack.url))
        identity = await verify_token(slack_client("xoxb-good", slack.url))
        assert identity["user_id"] == "UBOT"


async def test_socket_mode_receives_a_slash_command(world):
    from slack_bolt.adapter.socket_mode.aiohttp import AsyncSocketModeHandler

    handler = AsyncSocketModeHandler(world.adapter.app, "xapp-test")
    await handler.connect_async()
    try:
        payload = dict(
            token="t",
            team_id="T1",
            user_id="U0MET",
            command="/okr",
            text="marketing",
            channel_id="C0MKT",
            response_url=world.slack.response_url("socket"),
            trigger_id="1.2.3",
        )
        envelope_id = await world.slack.socket_send(socket_envelope("slash_commands", payload))
        ack = await world.slack.wait_for_ack(envelope_id)
        assert ack.envelope_id == envelope_id
        (post,) = await world.slack.wait_for_response("socket")
        assert "Marketing · 2026-Q4 · 31%" in texts(post.body["blocks"])
    finally:
        await handler.close_async()


def test_run_with_slack_needs_a_signing_secret(tmp_path):
    """`okrbot run` with a bot token but no secret or app token fails with one line."""
    import os
    import subprocess
    import sys
    from pathlib import Path

    env = {k: v for k, v in os.environ.items() if not k.startswith(("SLACK_", "MICROSOFT_"))}
    env.update(SLACK_BOT_TOKEN="xoxb-secret-value", DATABASE_URL=f"sqlite:///{tmp_path / 'x.db'}")
    result = subprocess.run(
        [str(Path(sys.executable).parent / "okrbot"), "run"],
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
        cwd=tmp_path,
    )
    assert result.returncode == 1
    assert result.stderr.strip().endswith("(or set SLACK_APP_TOKEN for Socket Mode)")
    assert "xoxb-secret-value" not in result.stderr
    assert not (tmp_path / "x.db").exists()  # refused before the database was touched

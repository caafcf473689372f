"""The fake Slack speaks Slack's protocol: driven here by the real slack_sdk clients and bolt."""

from __future__ import annotations

import asyncio
import json
import random
import time
from pathlib import Path
from urllib.parse import parse_qs

import pytest
import yaml
from slack_bolt.app.async_app import AsyncApp
from slack_bolt.request.async_request import AsyncBoltRequest
from slack_sdk.errors import SlackApiError
from slack_sdk.http_retry.builtin_async_handlers import (
    AsyncConnectionErrorRetryHandler,
    AsyncRateLimitErrorRetryHandler,
    AsyncServerErrorRetryHandler,
)
from slack_sdk.http_retry.builtin_interval_calculators import FixedValueRetryIntervalCalculator
from slack_sdk.signature import SignatureVerifier
from slack_sdk.socket_mode.aiohttp import SocketModeClient
from slack_sdk.socket_mode.request import SocketModeRequest
from slack_sdk.socket_mode.response import SocketModeResponse
from slack_sdk.web.async_client import AsyncWebClient
from slack_sdk.webhook.async_client import AsyncWebhookClient

from tests.fake_slack import (
    DEFAULT_SCOPES,
    FakeSlack,
    SlackError,
    app_home_opened_event,
    block_actions_body,
    event_body,
    im_message_event,
    signed_headers,
    slash_command_body,
    slash_command_payload,
    socket_envelope,
    view_submission_body,
)

SECRET = "test-signing-secret"
USERS = {
    "U0ANNA": {
        "email": "anna@nordlys.example",
        "tz": "Europe/Copenhagen",
        "tz_offset": 3600,
        "name": "anna",
        "real_name": "Anna Holm",
        "locale": "da-DK",
        "is_bot": False,
    },
    "U0MET": {"email": "mette@nordlys.example", "name": "mette", "tz": "UTC"},
}
MANIFEST = Path(__file__).resolve().parent.parent / "adapters" / "slack" / "manifest.yaml"
FAST = FixedValueRetryIntervalCalculator(0.01)


@pytest.fixture
async def slack():
    async with FakeSlack(users=USERS) as fake:
        yield fake


@pytest.fixture
def client(slack):
    # Without a session of its own, AsyncWebClient opens and closes one per request.
    return AsyncWebClient(token="xoxb-test", base_url=slack.url)


async def test_url_and_auth_test_with_scopes_header(slack, client):
    assert slack.url == f"http://127.0.0.1:{slack.port}/api/"
    response = await client.auth_test()
    assert response["user_id"] == "UBOT"
    assert response["bot_id"] == "BBOT"
    assert (response["team_id"], response["team"]) == ("T1", "Nordlys")
    assert response.headers["x-oauth-scopes"].split(",") == list(DEFAULT_SCOPES)
    (call,) = slack.calls_to("auth.test")
    assert call.headers["authorization"] == "Bearer xoxb-test"
    assert call.token == "xoxb-test" and call.ok


async def test_configured_scopes_and_missing_scope():
    async with FakeSlack(users=USERS, scopes=["chat:write", "users:read"]) as slack:
        client = AsyncWebClient(token="xoxb-test", base_url=slack.url)
        response = await client.auth_test()
        assert response.headers["x-oauth-scopes"] == "chat:write,users:read"
        user = (await client.users_info(user="U0ANNA"))["user"]
        assert "email" not in user["profile"]  # no users:read.email
        with pytest.raises(SlackApiError) as err:
            await client.users_lookupByEmail(email="anna@nordlys.example")
        assert err.value.response["error"] == "missing_scope"
        assert err.value.response["needed"] == "users:read.email"


async def test_post_message_to_user_update_and_ephemeral(slack, client):
    first = await client.chat_postMessage(channel="U0ANNA", text="Time for your check-in")
    second = await client.chat_postMessage(channel="C0MKT", text="Digest", blocks=[])
    assert first["channel"] == "DU0ANNA" == slack.dm_channel("U0ANNA")
    assert (first["ts"], second["ts"]) == ("1700000000.000100", "1700000000.000200")
    assert first["message"]["text"] == "Time for your check-in"

    updated = await client.chat_update(channel="DU0ANNA", ts=first["ts"], text="Thanks!")
    assert updated["ts"] == first["ts"]
    assert slack.messages["DU0ANNA"][0]["text"] == "Thanks!"

    ephemeral = await client.chat_postEphemeral(channel="C0MKT", user="U0MET", text="Only you")
    assert ephemeral["message_ts"] == "1700000000.000400"
    assert slack.ephemeral[0]["user"] == "U0MET"

    with pytest.raises(SlackApiError) as err, pytest.warns(UserWarning, match="text"):
        await client.chat_postMessage(channel="C0MKT")
    assert err.value.response["error"] == "no_text"
    with pytest.raises(SlackApiError) as err:
        await client.chat_update(channel="DU0ANNA", ts="1.2", text="x")
    assert err.value.response["error"] == "message_not_found"

    calls = await slack.wait_for("chat.postMessage", count=3)
    assert calls[0].params["channel"] == "U0ANNA"
    assert calls[0].headers["content-type"].startswith("application/json")
    assert [c.ok for c in calls] == [True, True, False]


async def test_history_returns_posted_messages_with_metadata(slack, client):
    metadata = {"event_type": "okr_prompt", "event_payload": {"outbox_id": "42"}}
    posted = await client.chat_postMessage(channel="U0ANNA", text="Prompt", metadata=metadata)
    reply = slack.add_message("DU0ANNA", "kampagner 6", user="U0ANNA")

    history = await client.conversations_history(channel="DU0ANNA", include_all_metadata=True)
    assert [m["ts"] for m in history["messages"]] == [reply["ts"], posted["ts"]]  # newest first
    assert history["messages"][1]["metadata"] == metadata
    assert history["has_more"] is False

    plain = await client.conversations_history(channel="DU0ANNA", limit=1)
    assert "metadata" not in plain["messages"][0]
    assert plain["has_more"] is True
    rest = await client.conversations_history(
        channel="DU0ANNA", limit=1, cursor=plain["response_metadata"]["next_cursor"]
    )
    assert rest["messages"][0]["ts"] == posted["ts"]

    since = await client.conversations_history(channel="DU0ANNA", oldest=posted["ts"])
    assert [m["ts"] for m in since["messages"]] == [reply["ts"]]


async def test_views_open_update_publish(slack, client):
    modal = {
        "type": "modal",
        "callback_id": "checkin.form",
        "title": {"type": "plain_text", "text": "Check-in"},
        "blocks": [],
    }
    opened = (await client.views_open(trigger_id="123.456.abc", view=modal))["view"]
    assert opened["id"].startswith("V") and opened["callback_id"] == "checkin.form"
    assert opened["state"] == {"values": {}}
    modal["blocks"] = [{"type": "section", "text": {"type": "mrkdwn", "text": "Saved"}}]
    updated = await client.views_update(view_id=opened["id"], hash=opened["hash"], view=modal)
    assert updated["view"]["id"] == opened["id"] and updated["view"]["hash"] != opened["hash"]
    with pytest.raises(SlackApiError) as err:
        await client.views_update(view_id=opened["id"], hash=opened["hash"], view=modal)
    assert err.value.response["error"] == "hash_conflict"

    home = {"type": "home", "blocks": []}
    first = (await client.views_publish(user_id="U0ANNA", view=home))["view"]
    again = (await client.views_publish(user_id="U0ANNA", view=home))["view"]
    assert first["id"] == again["id"] and first["type"] == "home"
    assert slack.home_views["U0ANNA"]["id"] == first["id"]


async def test_users_info_lookup_and_conversations_open(slack, client):
    anna = (await client.users_info(user="U0ANNA", include_locale=True))["user"]
    assert anna["profile"]["email"] == "anna@nordlys.example"
    assert (anna["tz"], anna["tz_offset"], anna["locale"]) == ("Europe/Copenhagen", 3600, "da-DK")
    assert anna["real_name"] == "Anna Holm" and anna["is_bot"] is False
    mette = (await client.users_info(user="U0MET"))["user"]
    assert (mette["tz"], mette["tz_offset"]) == ("UTC", 0) and "locale" not in mette
    bot = (await client.users_info(user="UBOT"))["user"]
    assert bot["is_bot"] is True

    found = await client.users_lookupByEmail(email="Anna@Nordlys.example")
    assert found["user"]["id"] == "U0ANNA"
    with pytest.raises(SlackApiError) as err:
        await client.users_lookupByEmail(email="nobody@nordlys.example")
    assert err.value.response["error"] == "users_not_found"
    with pytest.raises(SlackApiError) as err:
        await client.users_info(user="U0NOBODY")
    assert err.value.response["error"] == "user_not_found"

    opened = await client.conversations_open(users="U0ANNA")
    assert opened["channel"]["id"] == "DU0ANNA"
    assert slack.calls_to("users.info")[0].http_method == "GET"


async def test_file_upload_v2(slack, client):
    result = await client.files_upload_v2(
        channel="DU0ANNA",
        filename="okrs.csv",
        content="kr,value\nMKT-1.1,6\n",
        initial_comment="Your export",
    )
    file_id = result["file"]["id"]
    assert slack.files[file_id]["content"] == b"kr,value\nMKT-1.1,6\n"
    assert slack.messages["DU0ANNA"][0]["text"] == "Your export"
    assert slack.calls_to("files.completeUploadExternal")[0].params["files"][0]["id"] == file_id


async def test_rate_limit_retried_after_retry_after(slack, monkeypatch):
    monkeypatch.setattr(random, "random", lambda: 0.0)  # slack_sdk adds up to 1 s of jitter
    slack.fail("chat.postMessage", status=429, retry_after=1, times=1)
    slack.fail("chat.postMessage", status=429, retry_after=0, times=1)
    client = AsyncWebClient(
        token="xoxb-test",
        base_url=slack.url,
        retry_handlers=[AsyncRateLimitErrorRetryHandler(max_retry_count=3)],
    )
    started = time.monotonic()
    response = await client.chat_postMessage(channel="U0ANNA", text="Hi")
    elapsed = time.monotonic() - started

    assert response["ok"] and response["ts"] == "1700000000.000100"
    calls = slack.calls_to("chat.postMessage")
    assert [c.status for c in calls] == [429, 429, 200]
    assert calls[0].response == {"ok": False, "error": "ratelimited"}
    assert 1.0 <= elapsed < 2.5  # waited Retry-After: 1, then 0
    assert len(slack.messages["DU0ANNA"]) == 1


async def test_rate_limit_without_retry_handler_raises(slack, client):
    slack.fail("users.info", status=429, retry_after=30)
    with pytest.raises(SlackApiError) as err:
        await client.users_info(user="U0ANNA")
    assert err.value.response.status_code == 429
    assert err.value.response.headers["Retry-After"] == "30"
    assert (await client.users_info(user="U0ANNA"))["ok"]  # consumed


async def test_server_error_retried(slack):
    slack.fail("views.publish", status=500, times=1)
    client = AsyncWebClient(
        token="xoxb-test",
        base_url=slack.url,
        retry_handlers=[AsyncServerErrorRetryHandler(max_retry_count=1, interval_calculator=FAST)],
    )
    response = await client.views_publish(user_id="U0ANNA", view={"type": "home", "blocks": []})
    assert response["ok"]
    assert [c.status for c in slack.calls_to("views.publish")] == [500, 200]


async def test_accepted_failures_model_a_lost_answer(slack, client):
    """Slack stored the message but the answer was lost: only history can tell."""
    slack.fail("chat.postMessage", status=500, accepted=True)
    with pytest.raises(SlackApiError):
        await client.chat_postMessage(
            channel="U0ANNA",
            text="Prompt",
            metadata={"event_type": "okr_prompt", "event_payload": {"outbox_id": "7"}},
        )
    history = await client.conversations_history(channel="DU0ANNA", include_all_metadata=True)
    assert history["messages"][0]["metadata"]["event_payload"] == {"outbox_id": "7"}

    slack.fail("chat.postMessage", disconnect=True, accepted=True)
    retrying = AsyncWebClient(
        token="xoxb-test",
        base_url=slack.url,
        retry_handlers=[
            AsyncConnectionErrorRetryHandler(max_retry_count=1, interval_calculator=FAST)
        ],
    )
    await retrying.chat_postMessage(channel="U0ANNA", text="Again")
    assert [m["text"] for m in slack.messages["DU0ANNA"]] == ["Prompt", "Again", "Again"]
    assert slack.calls_to("chat.postMessage")[1].status is None


async def test_error_answers_and_wildcard(slack, client):
    slack.fail("users.info", error="user_not_found")
    with pytest.raises(SlackApiError) as err:
        await client.users_info(user="U0ANNA")
    assert err.value.response.status_code == 200
    assert err.value.response["error"] == "user_not_found"

    bad = AsyncWebClient(token="xoxb-bad", base_url=slack.url)
    with pytest.raises(SlackApiError) as err:
        await bad.chat_postMessage(channel="C0MKT", text="x")
    assert err.value.response["error"] == "invalid_auth"

    with pytest.raises(SlackApiError) as err:
        await client.api_call("okr.doesNotExist")
    assert err.value.response["error"] == "unknown_method"

    slack.fail("*", status=503, times=2)
    for _ in range(2):
        with pytest.raises(SlackApiError):
            await client.auth_test()
    assert (await client.auth_test())["ok"]


async def test_custom_handler(slack, client):
    def team_info(call):
        if call.params.get("team") == "T2":
            raise SlackError("team_not_found")
        return {"team": {"id": "T1", "name": "Nordlys"}}

    slack.handle("team.info", team_info)
    assert (await client.team_info())["team"]["name"] == "Nordlys"
    with pytest.raises(SlackApiError) as err:
        await client.team_info(team="T2")
    assert err.value.response["error"] == "team_not_found"


async def test_wait_for_waits_for_later_calls_and_times_out(slack, client):
    async def later():
        await asyncio.sleep(0.05)
        await client.chat_postMessage(channel="U0MET", text="later")

    task = asyncio.create_task(later())
    (call,) = await slack.wait_for("chat.postMessage", timeout=2)
    assert call.params["text"] == "later" and call.ok
    await task
    with pytest.raises(AssertionError, match="expected 2 call"):
        await slack.wait_for("chat.postMessage", count=2, timeout=0.05)


async def test_response_url_records_posts(slack):
    webhook = AsyncWebhookClient(url=slack.response_url("cmd1"))
    response = await webhook.send(text="Marketing · 31%", response_type="ephemeral")
    assert response.status_code == 200
    (post,) = await slack.wait_for_response("cmd1")
    assert post.body == {"text": "Marketing · 31%", "response_type": "ephemeral"}


def test_signed_headers_match_slack_signature_verifier():
    body = slash_command_body("marketing")
    headers = signed_headers(body, SECRET)
    verifier = SignatureVerifier(SECRET)
    ts, signature = headers["X-Slack-Request-Timestamp"], headers["X-Slack-Signature"]
    assert verifier.is_valid(body, ts, signature)
    assert verifier.is_valid_request(body, headers)
    assert headers["Content-Type"] == "application/x-www-form-urlencoded"
    assert not SignatureVerifier("other-secret").is_valid(body, ts, signature)
    assert not verifier.is_valid(body + b"x", ts, signature)

    old = signed_headers(body, SECRET, timestamp=1_700_000_000)
    assert old["X-Slack-Request-Timestamp"] == "1700000000"
    assert old["X-Slack-Signature"] == verifier.generate_signature(
        timestamp="1700000000", body=body
    )
    assert not verifier.is_valid(body, "1700000000", old["X-Slack-Signature"])  # too old
    assert signed_headers(event_body({}), SECRET)["Content-Type"] == "application/json"


def test_request_bodies_look_like_slacks():
    form = parse_qs(slash_command_body("me", response_url="http://x/r").decode())
    assert form["command"] == ["/okr"] and form["text"] == ["me"]
    assert (form["user_id"], form["channel_id"]) == (["U0MET"], ["C0MKT"])
    assert form["response_url"] == ["http://x/r"] and form["team_id"] == ["T1"]

    event = json.loads(event_body(im_message_event("hej", "U0ANNA"), event_id="Ev9"))
    assert event["type"] == "event_callback" and event["event_id"] == "Ev9"
    assert (event["team_id"], event["api_app_id"]) == ("T1", "A1")
    assert event["event"]["channel"] == "DU0ANNA" and event["event"]["channel_type"] == "im"

    payload = json.loads(
        parse_qs(block_actions_body("checkin.open", "1", "U0ANNA").decode())["payload"][0]
    )
    assert payload["type"] == "block_actions" and payload["user"]["id"] == "U0ANNA"
    assert payload["actions"][0] == payload["actions"][0] | {
        "action_id": "checkin.open",
        "value": "1",
    }
    assert payload["container"]["type"] == "message"

    values = {"kr1": {"value": {"type": "plain_text_input", "value": "6"}}}
    payload = json.loads(
        parse_qs(
            view_submission_body(
                {"id": "V9", "callback_id": "checkin.form"}, "U0ANNA", values
            ).decode()
        )["payload"][0]
    )
    assert payload["type"] == "view_submission"
    assert payload["view"]["id"] == "V9" and payload["view"]["state"]["values"] == values


async def test_bodies_drive_bolt_with_signature_checks(slack):
    """The builders parse in slack-bolt, and a bad signature is answered 401."""
    app = AsyncApp(
        client=AsyncWebClient(token="xoxb-test", base_url=slack.url), signing_secret=SECRET
    )
    seen: list[tuple[str, str]] = []

    @app.command("/okr")
    async def okr(ack, command, respond):
        await ack()
        await respond(f"you said {command['text']}")

    @app.action("checkin.open")
    async def opened(ack, body, action):
        await ack()
        seen.append(("action", f"{body['view']['id']}:{action['value']}"))

    @app.view("checkin.form")
    async def submitted(ack, view):
        await ack()
        seen.append(("view", view["state"]["values"]["kr1"]["value"]["value"]))

    @app.event("app_home_opened")
    async def home(event):
        seen.append(("home", event["user"]))

    async def dispatch(body: bytes, headers: dict | None = None):
        request = AsyncBoltRequest(
            body=body.decode(), headers=headers or signed_headers(body, SECRET)
        )
        return await app.async_dispatch(request)

    command = slash_command_body("marketing", response_url=slack.response_url("c1"))
    assert (await dispatch(command)).status == 200
    (post,) = await slack.wait_for_response("c1")
    assert post.body["text"] == "you said marketing"
    assert (await dispatch(command, signed_headers(command, "wrong"))).status == 401

    view = {"id": "V7", "callback_id": "checkin.form", "type": "modal"}
    assert (await dispatch(block_actions_body("checkin.open", "go", view=view))).status == 200
    values = {"kr1": {"value": {"type": "plain_text_input", "value": "6"}}}
    assert (await dispatch(view_submission_body(view, "U0ANNA", values))).status == 200
    assert (await dispatch(event_body(app_home_opened_event("U0ANNA")))).status == 200
    for _ in range(100):
        if len(seen) == 3:
            break
        await asyncio.sleep(0.01)
    assert seen == [("action", "V7:go"), ("view", "6"), ("home", "U0ANNA")]
    assert slack.calls_to("auth.test")


async def test_socket_mode_round_trip(slack):
    web_client = AsyncWebClient(base_url=slack.url)
    client = SocketModeClient(app_token="xapp-test", web_client=web_client, ping_interval=1)
    received: list[SocketModeRequest] = []

    async def listener(client: SocketModeClient, request: SocketModeRequest) -> None:
        received.append(request)
        await client.send_socket_mode_response(
            SocketModeResponse(request.envelope_id, payload={"text": "ok"})
        )

    client.socket_mode_request_listeners.append(listener)
    try:
        await client.connect()
        await slack.wait_for_socket()
        (opened,) = slack.calls_to("apps.connections.open")
        assert opened.token == "xapp-test" and opened.ok
        assert opened.response["url"].startswith(f"ws://127.0.0.1:{slack.port}/socket")

        payload = slash_command_payload("marketing", response_url=slack.response_url())
        envelope_id = await slack.socket_send(socket_envelope("slash_commands", payload, "e1"))
        ack = await slack.wait_for_ack(envelope_id)
        assert ack.envelope_id == "e1" and ack.payload == {"text": "ok"}
        assert received[0].type == "slash_commands"
        assert received[0].payload["command"] == "/okr"
        assert received[0].accepts_response_payload is True

        generated = await slack.socket_send(
            {"type": "events_api", "payload": {"event": {"type": "app_home_opened"}}}
        )
        assert (await slack.wait_for_ack(generated)).payload == {"text": "ok"}

        await slack.socket_disconnect()  # the client asks for a new URL and reconnects
        await slack.wait_for("apps.connections.open", count=2)
        for _ in range(200):
            if slack.socket_connections == 2 and await client.is_connected():
                break
            await asyncio.sleep(0.01)
        assert slack.socket_connections == 2
        third = await slack.socket_send(socket_envelope("interactive", {"type": "block_actions"}))
        await slack.wait_for_ack(third)
    finally:
        await client.close()


async def test_app_token_only_for_socket_mode(slack, client):
    with pytest.raises(SlackApiError) as err:
        await client.apps_connections_open(app_token="xoxb-test")
    assert err.value.response["error"] == "not_allowed_token_type"
    app_client = AsyncWebClient(token="xapp-test", base_url=slack.url)
    with pytest.raises(SlackApiError) as err:
        await app_client.chat_postMessage(channel="C0MKT", text="x")
    assert err.value.response["error"] == "not_allowed_token_type"


def test_manifest_parses_and_matches_the_fake():
    manifest = yaml.safe_load(MANIFEST.read_text())
    features, settings = manifest["features"], manifest["settings"]
    assert features["app_home"] == {
        "home_tab_enabled": True,
        "messages_tab_enabled": True,
        "messages_tab_read_only_enabled": False,
    }
    (command,) = features["slash_commands"]
    assert command["command"] == "/okr" and command["should_escape"] is False
    assert sorted(manifest["oauth_config"]["scopes"]["bot"]) == sorted(DEFAULT_SCOPES)
    assert sorted(settings["event_subscriptions"]["bot_events"]) == [
        "app_home_opened",
        "message.im",
    ]
    assert settings["interactivity"]["is_enabled"] is True
    assert settings["socket_mode_enabled"] is True

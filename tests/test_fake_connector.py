"""The fake Bot Connector speaks the real protocol: botbuilder's own CloudAdapter drives it.

An echo bot runs behind a real aiohttp server with authentication off (empty app id); the
activities Teams would send are POSTed to it with `serviceUrl` = the fake, and botbuilder's
connector client sends its replies, proactive messages, roster reads and updates there.

What botbuilder 4.17 does with failures (its connector client is msrest over `requests` in a
worker thread, with msrest's urllib3 `Retry`: total 3, backoff 0.8, every status >= 500 but
501/505 forced, plus 408; urllib3 2 ignores msrest's `method_whitelist`, so its default allowed
methods apply, and they leave POST out):
- POST (send, reply, create conversation): never retried. A 429 or a 5xx raises
  `ErrorResponseException` at once (`.response.status_code`, `.response.headers["Retry-After"]`,
  `.error.error.code`); Retry-After is not waited for.
- GET and PUT (roster reads, updates): a 5xx is retried up to 3 times (after 0, 1.6, 3.2 s), a
  429 or 503 with Retry-After after sleeping that long (uncapped), all inside the one call; when
  the retries run out msrest raises `ClientRequestError` (a `RetryError` inside, no status).
  A 429 without Retry-After is not retried.
So retrying sends (SPEC §8: 429 honours Retry-After, 5xx re-sent as a possible duplicate) is ours.
"""

from __future__ import annotations

import json
import struct
import time
import uuid
import zipfile
import zlib
from pathlib import Path
from types import SimpleNamespace

import pytest
from aiohttp import web
from aiohttp.test_utils import TestClient, TestServer
from botbuilder.core import (
    ActivityHandler,
    InvokeResponse,
    MessageFactory,
    TurnContext,
)
from botbuilder.core.teams import TeamsInfo
from botbuilder.integration.aiohttp import (
    CloudAdapter,
    ConfigurationBotFrameworkAuthentication,
)
from botbuilder.schema import (
    Activity,
    ActivityTypes,
    AdaptiveCardInvokeResponse,
    ChannelAccount,
    ConversationParameters,
    ConversationReference,
)
from botbuilder.schema import ErrorResponseException as SchemaErrorResponse
from botframework.connector.models import ErrorResponseException
from msrest.exceptions import ClientRequestError
from msrest.serialization import Model

from adapters.teams.package import build_package
from tests.fake_connector import (
    ANNA,
    BOT_ID,
    CHANNEL_ID,
    TEAM_ID,
    FakeConnector,
    conversation_update_activity,
    installation_update_activity,
    invoke_adaptive_card_action,
    message_activity,
)

ROSTER = {
    **ANNA,
    "29:1jonas": {
        "aadObjectId": "aad-jonas",
        "email": "jonas@nordlys.example",
        "userPrincipalName": "jonas@nordlys.example",
        "name": "Jonas Berg",
        "tenantId": "t1",
    },
}
SAVED_CARD = {
    "type": "AdaptiveCard",
    "version": "1.5",
    "body": [{"type": "TextBlock", "text": "Saved"}],
}
SEND_ERRORS = (ErrorResponseException, SchemaErrorResponse)


def _config(app_id: str = "", password: str = "") -> SimpleNamespace:
    return SimpleNamespace(
        APP_ID=app_id, APP_PASSWORD=password, APP_TYPE="MultiTenant", APP_TENANTID=""
    )


class EchoBot(ActivityHandler):
    """Echoes messages; records what it saw so tests can look."""

    def __init__(self) -> None:
        self.references: list[dict] = []
        self.members_added: list[str] = []
        self.installs: list[str] = []
        self.card_actions: list[tuple[str, dict]] = []

    async def on_turn(self, turn_context: TurnContext) -> None:
        reference = TurnContext.get_conversation_reference(turn_context.activity)
        self.references.append(reference.serialize())  # portable JSON (STYLE 8)
        await super().on_turn(turn_context)

    async def on_message_activity(self, turn_context: TurnContext) -> None:
        text = TurnContext.remove_recipient_mention(turn_context.activity) or ""
        text = text.strip()
        if text == "whoami":
            member = await TeamsInfo.get_member(
                turn_context, turn_context.activity.from_property.id
            )
            await turn_context.send_activity(f"you are {member.email}")
            return
        await turn_context.send_activity(MessageFactory.text(f"echo: {text}"))

    async def on_members_added_activity(self, members_added, turn_context: TurnContext) -> None:
        self.members_added.extend(m.id for m in members_added)

    async def on_installation_update_add(self, turn_context: TurnContext) -> None:
        self.installs.append(turn_context.activity.conversation.id)

    async def on_invoke_activity(self, turn_context: TurnContext) -> InvokeResponse:
        # Not ActivityHandler.on_adaptive_card_invoke: it serializes the answer once and
        # CloudAdapter.process a second time, which fails (HTTP 500). The body of an
        # InvokeResponse must be an msrest Model: CloudAdapter.process serializes it.
        activity = turn_context.activity
        if activity.name != "adaptiveCard/action":
            return await super().on_invoke_activity(turn_context)
        action = activity.value["action"]
        self.card_actions.append((action["verb"], action["data"]))
        if action["verb"] == "refresh":  # answer with a card that replaces the one clicked
            body = AdaptiveCardInvokeResponse(
                status_code=200, type="application/vnd.microsoft.card.adaptive", value=SAVED_CARD
            )
        else:  # answer with a short message (AdaptiveCardInvokeResponse wants an object value)
            body = MessageInvokeBody(
                status_code=200, type="application/vnd.microsoft.activity.message", value="Saved"
            )
        return InvokeResponse(status=200, body=body)


class MessageInvokeBody(Model):
    """The Action.Execute answer that shows a message (`value` is a string)."""

    _attribute_map = {
        "status_code": {"key": "statusCode", "type": "int"},
        "type": {"key": "type", "type": "str"},
        "value": {"key": "value", "type": "str"},
    }

    def __init__(self, *, status_code: int, type: str, value: str, **kwargs) -> None:
        super().__init__(**kwargs)
        self.status_code, self.type, self.value = status_code, type, value


class DictInvokeBot(ActivityHandler):
    async def on_invoke_activity(self, turn_context: TurnContext) -> InvokeResponse:
        return InvokeResponse(status=200, body={"statusCode": 200, "type": "x", "value": "y"})


@pytest.fixture
async def connector():
    async with FakeConnector(roster=ROSTER) as fake:
        yield fake


@pytest.fixture
def bot() -> EchoBot:
    return EchoBot()


@pytest.fixture
def adapter() -> CloudAdapter:
    return CloudAdapter(ConfigurationBotFrameworkAuthentication(_config()))


async def _client(adapter: CloudAdapter, bot: EchoBot):
    async def messages(request: web.Request) -> web.StreamResponse:
        return await adapter.process(request, bot)

    app = web.Application()
    app.router.add_post("/api/messages", messages)
    client = TestClient(TestServer(app))
    await client.start_server()
    return client


@pytest.fixture
async def client(adapter, bot):
    client = await _client(adapter, bot)
    try:
        yield client
    finally:
        await client.close()


async def _proactive(adapter: CloudAdapter, reference: dict, logic) -> None:
    await adapter.continue_conversation(ConversationReference().deserialize(reference), logic, "")


def _reference(connector: FakeConnector) -> dict:
    """A stored reference to Anna's 1:1 chat."""
    return {
        "channelId": "msteams",
        "serviceUrl": connector.url,
        "conversation": {"id": "a:1anna", "conversationType": "personal", "tenantId": "t1"},
        "bot": {"id": BOT_ID},
        "user": {"id": "29:1anna"},
    }


# -- replies ---------------------------------------------------------------------------------


async def test_echo_reply_reaches_the_connector(connector, client):
    activity = message_activity("hello", service_url=connector.url)
    response = await client.post("/api/messages", json=activity)
    assert response.status == 201

    (sent,) = await connector.wait_for_activities(1)
    assert sent.conversation_id == "a:1anna"
    assert sent.reply_to_id == activity["id"]
    assert sent.text == "echo: hello"
    assert sent.activity["recipient"]["id"] == "29:1anna"
    assert sent.activity["from"]["id"] == BOT_ID
    (call,) = connector.calls_to("reply")
    assert call.method == "POST"
    assert call.path == f"/v3/conversations/a:1anna/activities/{activity['id']}"
    assert call.status == 201 and call.response == {"id": sent.id}
    assert "Authorization" not in call.headers  # authentication is off


async def test_channel_message_is_answered_in_its_thread(connector, client):
    activity = message_activity(
        "okr marketing", service_url=connector.url, conversation_type="channel"
    )
    assert activity["text"] == "<at>okrbot</at> okr marketing"
    assert activity["channelData"]["team"]["id"] == TEAM_ID
    assert activity["channelData"]["channel"]["id"] == CHANNEL_ID
    assert activity["conversation"]["conversationType"] == "channel"
    await client.post("/api/messages", json=activity)

    (sent,) = await connector.wait_for_activities(1)
    assert sent.text == "echo: okr marketing"  # the bot removed its @mention
    assert sent.conversation_id == f"{CHANNEL_ID};messageid={activity['id']}"
    assert sent.reply_to_id == activity["id"]


# -- proactive messages and new conversations --------------------------------------------------


async def test_proactive_message_reaches_the_connector(connector, client, adapter, bot):
    await client.post("/api/messages", json=message_activity("hi", service_url=connector.url))
    await connector.wait_for_activities(1)
    reference = json.loads(json.dumps(bot.references[0]))  # stored as JSON, read back later

    async def remind(context: TurnContext) -> None:
        await context.send_activity("Time for your check-in")

    await _proactive(adapter, reference, remind)
    sent = connector.activities[-1]
    assert (sent.conversation_id, sent.text) == ("a:1anna", "Time for your check-in")
    # continue_conversation makes a continuation activity with a fresh uuid1 id, and
    # send_activity replies to it: a POST to .../activities/<that uuid>, not the stored id.
    assert sent.reply_to_id != reference["activityId"]
    assert uuid.UUID(sent.reply_to_id).version == 1
    assert connector.calls[-1].kind == "reply"

    async def post_new(context: TurnContext) -> None:
        connector_client = context.turn_state[context.adapter.BOT_CONNECTOR_CLIENT_KEY]
        message = MessageFactory.text("A new message")
        message.conversation = context.activity.conversation
        await connector_client.conversations.send_to_conversation(
            context.activity.conversation.id, message
        )

    await _proactive(adapter, reference, post_new)  # the connector client sends, no reply
    assert connector.activities[-1].reply_to_id is None
    assert connector.calls[-1].kind == "send"
    assert connector.calls[-1].path == "/v3/conversations/a:1anna/activities"


async def test_create_conversation_and_update_the_prompt(connector, adapter):
    sent_ids: list[str] = []

    async def prompt(context: TurnContext) -> None:
        assert context.activity.conversation.id == "a:1jonas"
        response = await context.send_activity("Your check-in for week 47")
        sent_ids.append(response.id)
        done = Activity(
            type=ActivityTypes.message,
            id=response.id,
            text="Check-in done",
            conversation=context.activity.conversation,
        )
        await context.update_activity(done)

    parameters = ConversationParameters(
        is_group=False,
        bot=ChannelAccount(id=BOT_ID),
        members=[ChannelAccount(id="aad-jonas")],  # the AAD object id works as in Teams
        tenant_id="t1",
        channel_data={"tenant": {"id": "t1"}},
    )
    await adapter.create_conversation("", prompt, parameters, "msteams", connector.url)

    (created,) = connector.created
    assert created.id == "a:1jonas"
    assert created.parameters["members"] == [{"id": "aad-jonas"}]
    (update,) = connector.updates
    assert update.id == sent_ids[0]
    assert connector.activity("a:1jonas", sent_ids[0])["text"] == "Check-in done"
    assert connector.calls[-1].method == "PUT"


async def test_create_conversation_outside_the_roster_is_forbidden(connector, adapter):
    parameters = ConversationParameters(
        bot=ChannelAccount(id=BOT_ID), members=[ChannelAccount(id="29:1stranger")], tenant_id="t1"
    )
    with pytest.raises(SEND_ERRORS) as raised:
        await adapter.create_conversation("", _noop, parameters, "msteams", connector.url)
    assert raised.value.response.status_code == 403
    assert raised.value.error.error.code == "BotNotInConversationRoster"


async def _noop(context: TurnContext) -> None:
    return None


# -- the roster ----------------------------------------------------------------------------


async def test_get_member_reads_the_roster(connector, client):
    await client.post("/api/messages", json=message_activity("whoami", service_url=connector.url))
    (sent,) = await connector.wait_for_activities(1)
    assert sent.text == "you are anna@nordlys.example"
    (call,) = connector.calls_to("member")
    assert call.path == "/v3/conversations/a:1anna/members/29:1anna"


async def test_roster_reads_by_id_aad_and_paged(connector, adapter):
    seen: dict = {}

    async def read(context: TurnContext) -> None:
        # A continuation activity has no channelData, and TeamsInfo reads it: without this,
        # TypeError (TeamsChannelData(**None)).
        context.activity.channel_data = {"tenant": {"id": "t1"}}
        anna = await TeamsInfo.get_member(context, "29:1anna")
        seen["anna"] = (anna.aad_object_id, anna.email, anna.user_principal_name, anna.name)
        seen["by_aad"] = (await TeamsInfo.get_member(context, "aad-jonas")).id
        first = await TeamsInfo.get_paged_members(context, page_size=1)
        second = await TeamsInfo.get_paged_members(context, first.continuation_token, 1)
        seen["pages"] = [[m.id for m in first.members], [m.id for m in second.members]]
        seen["tokens"] = (first.continuation_token, second.continuation_token)
        seen["all"] = [m.email for m in await TeamsInfo.get_members(context)]
        with pytest.raises(SEND_ERRORS) as raised:
            await TeamsInfo.get_member(context, "29:1nobody")
        seen["unknown"] = raised.value.response.status_code

    await _proactive(adapter, _reference(connector), read)
    assert seen["anna"] == (
        "aad-anna",
        "anna@nordlys.example",
        "anna@nordlys.example",
        "Anna Holm",
    )
    assert seen["by_aad"] == "29:1jonas"
    assert seen["pages"] == [["29:1anna"], ["29:1jonas"]]
    assert seen["tokens"] == ("1", None)
    assert seen["all"] == ["anna@nordlys.example", "jonas@nordlys.example"]
    assert seen["unknown"] == 404
    assert connector.calls[-1].response["error"]["code"] == "MemberNotFoundInConversation"


# -- failures: what botbuilder does with them ------------------------------------------------


async def _send_text(adapter: CloudAdapter, connector: FakeConnector) -> None:
    async def send(context: TurnContext) -> None:
        await context.send_activity("prompt")

    await _proactive(adapter, _reference(connector), send)


async def test_a_429_on_send_is_raised_at_once_not_retried(connector, adapter):
    connector.fail("activities", status=429, retry_after=1, times=2)
    started = time.monotonic()
    with pytest.raises(SEND_ERRORS) as raised:
        await _send_text(adapter, connector)
    assert time.monotonic() - started < 1  # Retry-After was not waited for
    assert raised.value.response.status_code == 429
    assert raised.value.response.headers["Retry-After"] == "1"
    assert raised.value.error.error.code == "Throttled"
    assert len(connector.calls_to("activities")) == 1
    assert connector.activities == []

    with pytest.raises(SEND_ERRORS):  # the second programmed failure
        await _send_text(adapter, connector)
    await _send_text(adapter, connector)  # then it goes through
    assert [c.status for c in connector.calls_to("activities")] == [429, 429, 201]
    assert len(connector.activities) == 1


# -- throttling: a limit the bot is not told -------------------------------------------------


class _Clock:
    """The fake's clock, moved by the test."""

    def __init__(self, now: float = 1000.0) -> None:
        self.now = now

    def __call__(self) -> float:
        return self.now


async def _post_to(adapter: CloudAdapter, connector: FakeConnector, conversation: str):
    """One proactive send to `conversation`: the status the bot saw and the exception."""
    reference = _reference(connector)
    reference["conversation"] = dict(reference["conversation"], id=conversation)

    async def send(context: TurnContext) -> None:
        await context.send_activity("prompt")

    try:
        await _proactive(adapter, reference, send)
    except SEND_ERRORS as exc:
        return exc.response.status_code, exc
    return 201, None


async def test_without_a_limit_the_fake_throttles_nothing(connector, adapter):
    for _ in range(40):
        assert (await _post_to(adapter, connector, "a:1anna"))[0] == 201
    assert connector.sends_accepted == 40 and connector.sends_throttled == 0


async def test_sends_beyond_the_tenant_budget_of_a_second_get_429_with_retry_after(adapter):
    clock = _Clock()
    async with FakeConnector(roster=ROSTER, send_rate=3, timer=clock) as connector:
        # five conversations, one second
        statuses = [(await _post_to(adapter, connector, f"a:{n}"))[0] for n in range(5)]
        assert statuses == [201, 201, 201, 429, 429]
        _, refused = await _post_to(adapter, connector, "a:9")
        assert refused.response.headers["Retry-After"] == "1"
        assert refused.error.error.code == "Throttled"
        assert json.loads(refused.response.text)["error"]["code"] == "Throttled"
        assert len(connector.activities) == 3  # a refused send is not posted
        clock.now += 1  # the next whole second: a new budget
        assert (await _post_to(adapter, connector, "a:9"))[0] == 201
        assert (connector.sends_accepted, connector.sends_throttled) == (4, 3)


async def test_each_conversation_has_its_own_budget_too(adapter):
    clock = _Clock()
    async with FakeConnector(roster=ROSTER, conversation_rate=2, timer=clock) as connector:
        statuses = [(await _post_to(adapter, connector, "a:1anna"))[0] for _ in range(3)]
        assert statuses == [201, 201, 429]
        assert (await _post_to(adapter, connector, "a:1jonas"))[0] == 201
        assert [a.conversation_id for a in connector.activities].count("a:1anna") == 2


async def test_a_send_before_the_retry_after_has_passed_is_noted(adapter):
    clock = _Clock(1000.2)
    async with FakeConnector(roster=ROSTER, send_rate=1, timer=clock) as connector:
        await _post_to(adapter, connector, "a:1anna")
        assert (await _post_to(adapter, connector, "a:1anna"))[0] == 429
        clock.now += 0.9  # a new second, but not yet the Retry-After of 1 s
        assert (await _post_to(adapter, connector, "a:1anna"))[0] == 201
        ((conversation, early),) = connector.early_sends
        assert conversation == "a:1anna" and early == pytest.approx(0.1)
        clock.now += 0.1
        await _post_to(adapter, connector, "a:1jonas")  # refused (budget spent)...
        clock.now += 1.0  # ...and retried when its Retry-After has passed
        assert (await _post_to(adapter, connector, "a:1jonas"))[0] == 201
        assert len(connector.early_sends) == 1


async def test_a_500_on_send_is_raised_at_once_not_retried(connector, adapter):
    connector.fail("activities", status=500)
    with pytest.raises(SEND_ERRORS) as raised:
        await _send_text(adapter, connector)
    assert raised.value.response.status_code == 500
    assert len(connector.calls_to("activities")) == 1


async def test_an_accepted_500_leaves_the_message_posted(connector, adapter):
    connector.fail("activities", status=502, accepted=True)
    with pytest.raises(SEND_ERRORS):
        await _send_text(adapter, connector)
    assert [a.text for a in connector.activities] == ["prompt"]  # outcome unknown to the bot


async def test_a_dropped_connection_on_send_is_not_retried(connector, adapter):
    connector.fail("activities", disconnect=True, accepted=True)
    with pytest.raises(ClientRequestError):  # no status: the outcome is unknown
        await _send_text(adapter, connector)
    assert [a.text for a in connector.activities] == ["prompt"]
    assert len(connector.calls_to("activities")) == 1


@pytest.mark.parametrize(
    ("status", "code"), [(403, "ConversationBlockedByUser"), (404, "ConversationNotFound")]
)
async def test_403_and_404_carry_the_connector_error_code(connector, adapter, status, code):
    connector.fail("activities", status=status, conversation_id="a:1anna")
    with pytest.raises(SEND_ERRORS) as raised:
        await _send_text(adapter, connector)
    assert raised.value.response.status_code == status
    assert raised.value.error.error.code == code


async def test_reads_are_retried_by_botbuilder(connector, adapter):
    """GETs and PUTs go through urllib3's Retry: a 5xx is retried, a 429 after Retry-After."""
    emails: list[str] = []

    async def read(context: TurnContext) -> None:
        context.activity.channel_data = {"tenant": {"id": "t1"}}
        connector.fail("member", status=500)
        emails.append((await TeamsInfo.get_member(context, "29:1anna")).email)
        connector.fail("member", status=429, retry_after=1)
        started = time.monotonic()
        emails.append((await TeamsInfo.get_member(context, "29:1anna")).email)
        emails.append(f"{time.monotonic() - started:.1f}")

    await _proactive(adapter, _reference(connector), read)
    assert emails[:2] == ["anna@nordlys.example"] * 2
    assert float(emails[2]) >= 0.9  # slept for Retry-After
    assert [c.status for c in connector.calls_to("member")] == [500, 200, 429, 200]


async def test_a_failed_reply_reaches_on_turn_error(connector, adapter, client):
    errors: list[Exception] = []

    async def on_error(context: TurnContext, error: Exception) -> None:
        errors.append(error)

    adapter.on_turn_error = on_error
    connector.fail("reply", status=429)
    response = await client.post(
        "/api/messages", json=message_activity("hi", service_url=connector.url)
    )
    assert response.status == 201
    (error,) = errors
    assert isinstance(error, SEND_ERRORS) and error.response.status_code == 429


# -- other activities Teams sends --------------------------------------------------------------


async def test_install_and_membership_activities(connector, client, bot):
    update = conversation_update_activity(service_url=connector.url)
    assert (await client.post("/api/messages", json=update)).status == 201
    assert bot.members_added == [BOT_ID]
    team_update = conversation_update_activity(
        ["29:1jonas"], service_url=connector.url, conversation_type="channel"
    )
    assert team_update["channelData"]["eventType"] == "teamMemberAdded"
    await client.post("/api/messages", json=team_update)
    assert bot.members_added == [BOT_ID, "29:1jonas"]

    install = installation_update_activity("add", service_url=connector.url)
    await client.post("/api/messages", json=install)
    team_install = installation_update_activity(
        "add", service_url=connector.url, conversation_type="channel"
    )
    await client.post("/api/messages", json=team_install)
    assert bot.installs == ["a:1anna", TEAM_ID]
    conversations = [r["conversation"]["id"] for r in bot.references]
    assert conversations == ["a:1anna", TEAM_ID, "a:1anna", TEAM_ID]
    assert connector.calls == []  # none of them answers anything


@pytest.mark.parametrize(
    ("verb", "answer"),
    [
        (
            "checkin",
            {
                "statusCode": 200,
                "type": "application/vnd.microsoft.activity.message",
                "value": "Saved",
            },
        ),
        (
            "refresh",
            {
                "statusCode": 200,
                "type": "application/vnd.microsoft.card.adaptive",
                "value": SAVED_CARD,
            },
        ),
    ],
)
async def test_adaptive_card_action_is_answered_in_the_http_response(
    connector, client, bot, verb, answer
):
    invoke = invoke_adaptive_card_action(
        {"kr": "MKT-1.1", "value": "6"}, service_url=connector.url, verb=verb, reply_to_id="1"
    )
    response = await client.post("/api/messages", json=invoke)
    assert response.status == 200
    assert await response.json() == answer
    assert bot.card_actions == [(verb, {"kr": "MKT-1.1", "value": "6"})]
    assert connector.calls == []


async def test_a_dict_invoke_body_breaks_cloud_adapter_process(connector, adapter):
    """botbuilder 4.17: CloudAdapter.process runs msrest's serializer on the body: a dict fails."""
    client = await _client(adapter, DictInvokeBot())
    try:
        invoke = invoke_adaptive_card_action({}, service_url=connector.url)
        response = await client.post("/api/messages", json=invoke)
        assert response.status == 500
    finally:
        await client.close()


async def test_a_message_with_card_data_has_no_text(connector):
    activity = message_activity(None, service_url=connector.url, value={"action": "undo"})
    assert "text" not in activity and activity["value"] == {"action": "undo"}
    parsed = Activity().deserialize(activity)
    # Teams sends conversation.tenantId; botbuilder's model reads "tenantID", so the tenant
    # comes from channelData.tenant.id.
    assert parsed.conversation.tenant_id is None
    assert parsed.channel_data["tenant"]["id"] == "t1"
    assert parsed.from_property.aad_object_id == "aad-anna"
    assert parsed.timestamp is not None and parsed.timestamp.tzinfo is not None


async def test_with_an_app_id_an_unsigned_request_gets_401(connector, bot):
    adapter = CloudAdapter(
        ConfigurationBotFrameworkAuthentication(
            _config("00000000-0000-0000-0000-000000000001", "secret")
        )
    )
    client = await _client(adapter, bot)
    try:
        activity = message_activity("hello", service_url=connector.url)
        response = await client.post("/api/messages", json=activity)
        assert response.status == 401
    finally:
        await client.close()
    assert connector.calls == []


# -- the Teams app package -------------------------------------------------------------------

APP_ID = "6f1c2a9e-3b4d-4e5f-8a7b-9c0d1e2f3a4b"


def _png_size(data: bytes) -> tuple[int, int, int, int]:
    """(width, height, bit depth, colour type) from a PNG's IHDR."""
    assert data[:8] == b"\x89PNG\r\n\x1a\n"
    length, kind = struct.unpack(">I4s", data[8:16])
    assert kind == b"IHDR" and length == 13
    return struct.unpack(">IIBB", data[16:26])


def _png_pixels(data: bytes) -> list[bytes]:
    """RGBA rows of an 8-bit RGBA PNG without interlace whose rows use filter 0 (as ours do)."""
    width, height, depth, colour = _png_size(data)
    assert (depth, colour) == (8, 6)
    position, compressed = 8, b""
    while position < len(data):
        length, kind = struct.unpack(">I4s", data[position : position + 8])
        if kind == b"IDAT":
            compressed += data[position + 8 : position + 8 + length]
        position += 12 + length
    raw = zlib.decompress(compressed)
    stride = 1 + 4 * width
    rows = [raw[y * stride : (y + 1) * stride] for y in range(height)]
    assert all(row[0] == 0 for row in rows)
    return [row[1:] for row in rows]


def test_the_icons_follow_teams_rules():
    teams = Path(__file__).resolve().parent.parent / "adapters" / "teams" / "template"
    color = _png_pixels((teams / "color.png").read_bytes())
    assert all(row[3::4] == b"\xff" * 192 for row in color)  # full colour, opaque
    outline = _png_pixels((teams / "outline.png").read_bytes())
    pixels = [row[i : i + 4] for row in outline for i in range(0, len(row), 4)]
    assert all(p[:3] == b"\xff\xff\xff" for p in pixels if p[3])  # white...
    assert pixels[0][3] == 0 and any(p[3] == 255 for p in pixels)  # ...on transparent


def test_package_has_manifest_and_icons_at_its_root(tmp_path: Path):
    path = build_package(APP_ID.upper(), tmp_path / "out" / "okrbot-teams.zip")
    assert path == tmp_path / "out" / "okrbot-teams.zip"
    with zipfile.ZipFile(path) as package:
        assert sorted(package.namelist()) == ["color.png", "manifest.json", "outline.png"]
        manifest = json.loads(package.read("manifest.json"))
        color = package.read("color.png")
        outline = package.read("outline.png")
    assert "{{" not in json.dumps(manifest)
    assert manifest["id"] == APP_ID
    assert manifest["bots"][0]["botId"] == APP_ID
    assert manifest["version"] == "1.0.0"
    assert manifest["icons"] == {"color": "color.png", "outline": "outline.png"}
    assert manifest["bots"][0]["scopes"] == ["personal", "team"]
    titles = [c["title"] for c in manifest["bots"][0]["commandLists"][0]["commands"]]
    assert {"okr help", "okr me", "okr company", "okr checkin"} <= set(titles)
    assert _png_size(color) == (192, 192, 8, 6)
    assert _png_size(outline) == (32, 32, 8, 6)
    # Into an existing directory, under the default name; the same input, the same bytes.
    first = path.read_bytes()
    path.unlink()
    again = build_package(APP_ID, tmp_path / "out")
    assert again == path and again.read_bytes() == first


@pytest.mark.parametrize(
    "bad", ["", "my-bot", "6f1c2a9e-3b4d-4e5f-8a7b", APP_ID + "0", "{{APP_ID}}"]
)
def test_package_refuses_an_app_id_that_is_not_a_guid(tmp_path: Path, bad: str):
    with pytest.raises(ValueError) as raised:
        build_package(bad, tmp_path / "p.zip")
    assert "\n" not in str(raised.value) and "GUID" in str(raised.value)
    assert not (tmp_path / "p.zip").exists()

"""Slack: a slack-bolt AsyncApp that turns Slack's requests into core calls and the core's
messages into Block Kit. No business rules here: who may do what, and what a reply means,
is the core's.

HTTP mode mounts `POST /slack/events` on the one aiohttp server; Socket Mode (with an app
token) needs no public URL.
"""

from __future__ import annotations

import asyncio
import hashlib
import logging
import re
import time
from dataclasses import dataclass
from datetime import timedelta

from aiohttp import web
from slack_bolt.adapter.aiohttp import to_aiohttp_response, to_bolt_request
from slack_bolt.app.async_app import AsyncApp
from slack_sdk.errors import SlackApiError
from slack_sdk.http_retry.builtin_async_handlers import (
    AsyncConnectionErrorRetryHandler,
    AsyncRateLimitErrorRetryHandler,
    AsyncServerErrorRetryHandler,
)
from slack_sdk.http_retry.request import HttpRequest
from slack_sdk.signature import SignatureVerifier
from slack_sdk.web.async_client import AsyncWebClient

from adapters.slack.blocks import action_name, fallback_text, message_blocks
from adapters.slack.views import form_errors, form_view, home_view, view_state_values
from bot.checkin.views import OPEN_FORM
from bot.core import Core
from bot.messages import Message
from storage.models import Person

log = logging.getLogger("okrbot.slack")
PLATFORM = "slack"
FORM_CALLBACK = "checkin.form"
OPEN_HOME_CHECKIN = "checkin.open"
UNKNOWN_USER_TTL = 600  # seconds before asking Slack again about a user we could not map
# Answers worked on at once, after their ack. Acknowledgements never wait for answers: a burst
# of commands queues here instead of crowding the event loop that sends the acks.
ANSWER_CONCURRENCY = 4
# Slack refuses a request whose timestamp is more than five minutes away; within that window a
# replay of a signed request is recognised (by its signature) and not applied again
REPLAY_WINDOW = timedelta(minutes=5)


class SlackConfigError(Exception):
    """Slack settings that cannot work: one line, said at start."""


# Methods that post something new: Slack has no idempotency key, so after a lost connection or a
# 5xx the message may be there already. They are retried only after a 429 (never accepted).
POSTING_METHODS = frozenset(
    {
        "chat.postMessage",
        "chat.postEphemeral",
        "chat.scheduleMessage",
        "chat.meMessage",
        "files.completeUploadExternal",
    }
)


def _method_of(request: HttpRequest) -> str:
    return request.url.rstrip("/").rsplit("/", 1)[-1].split("?", 1)[0]


class _ReadsOnly:
    """Retries of a handler for unknown outcomes, kept to methods that do not post."""

    async def _can_retry_async(self, *, state, request, response=None, error=None) -> bool:
        if _method_of(request) in POSTING_METHODS:
            return False
        return await super()._can_retry_async(  # type: ignore[misc]
            state=state, request=request, response=response, error=error
        )


class _ConnectionRetries(_ReadsOnly, AsyncConnectionErrorRetryHandler):
    pass


class _ServerErrorRetries(_ReadsOnly, AsyncServerErrorRetryHandler):
    pass


def slack_client(token: str, api_url: str) -> AsyncWebClient:
    """The one Web API client of the interactive side: rate limits (429) are retried; lost
    connections and server errors only for calls that post nothing (SPEC §8: a message whose
    outcome is unknown is never sent again blindly)."""
    base_url = api_url if api_url.endswith("/") else api_url + "/"
    return AsyncWebClient(
        token=token,
        base_url=base_url,
        retry_handlers=[
            _ConnectionRetries(max_retry_count=2),
            AsyncRateLimitErrorRetryHandler(max_retry_count=5),
            _ServerErrorRetries(max_retry_count=2),
        ],
    )


def check_settings(
    bot_token: str | None, signing_secret: str | None, app_token: str | None
) -> None:
    if not bot_token or not bot_token.startswith("xoxb-"):
        raise SlackConfigError("SLACK_BOT_TOKEN must be a bot token (xoxb-...)")
    if app_token is not None and not app_token.startswith("xapp-"):
        raise SlackConfigError("SLACK_APP_TOKEN must be an app-level token (xapp-...)")
    if app_token is None and not signing_secret:
        raise SlackConfigError(
            "SLACK_SIGNING_SECRET is needed to verify Slack's requests (or set SLACK_APP_TOKEN "
            "for Socket Mode)"
        )


async def verify_token(client: AsyncWebClient) -> dict:
    """auth.test at start, so a wrong token fails now and not on the first request."""
    try:
        return (await client.auth_test()).data
    except SlackApiError as exc:
        raise SlackConfigError(
            f"Slack refused SLACK_BOT_TOKEN: {exc.response.get('error')}"
        ) from exc
    except Exception as exc:
        raise SlackConfigError(f"Slack is not reachable at {client.base_url}: {exc}") from exc


@dataclass
class SlackAnswer:
    """What one probing call found: the answer and the token's scopes, Slack's refusal, or
    why Slack could not be reached."""

    data: dict | None = None
    scopes: set[str] | None = None
    error: str | None = None
    unreachable: str | None = None


async def probe(token: str, url: str, method: str, *, seconds: float) -> SlackAnswer:
    """One Web API call without retries and with a short timeout (`okrbot doctor`)."""
    client = AsyncWebClient(token=token, base_url=url, timeout=seconds, retry_handlers=[])
    try:
        response = await asyncio.wait_for(client.api_call(method), seconds + 1)
    except SlackApiError as exc:
        data = exc.response.data if isinstance(exc.response.data, dict) else {}
        error, status = data.get("error"), exc.response.status_code
        if error and status == 200:  # Slack says what it refuses with HTTP 200
            return SlackAnswer(error=str(error))
        return SlackAnswer(unreachable=f"HTTP {status}" + (f" ({error})" if error else ""))
    except Exception as exc:
        if isinstance(exc, TimeoutError):
            return SlackAnswer(unreachable="timed out")
        lines = str(exc).strip().splitlines()
        return SlackAnswer(unreachable=lines[0] if lines else type(exc).__name__)
    headers = {k.lower(): v for k, v in (response.headers or {}).items()}
    raw = headers.get("x-oauth-scopes")
    scopes = {s.strip() for s in raw.split(",") if s.strip()} if raw is not None else None
    return SlackAnswer(data=dict(response.data), scopes=scopes)


class SlackAdapter:
    def __init__(
        self,
        core: Core,
        client: AsyncWebClient,
        *,
        signing_secret: str | None,
        bot_user_id=None,
        socket_mode: bool = False,
    ) -> None:
        self.core = core
        self.client = client
        self.bot_user_id = bot_user_id
        self.socket_mode = socket_mode
        self._verifier = SignatureVerifier(signing_secret) if signing_secret else None
        self._unknown: dict[str, float] = {}
        self._answering = asyncio.Semaphore(ANSWER_CONCURRENCY)
        bolt_log = logging.getLogger("okrbot.slack.bolt")
        # bolt reads SLACK_BOT_TOKEN itself and warns that our client's token wins: it does
        bolt_log.addFilter(lambda record: "will be unused" not in record.getMessage())
        self.app = AsyncApp(
            client=client,
            signing_secret=signing_secret or "",
            request_verification_enabled=bool(signing_secret),
            logger=bolt_log,
        )
        self.app.command("/okr")(self.on_command)
        self.app.event("message")(self.on_message)
        self.app.event("app_home_opened")(self.on_home)
        self.app.action(re.compile(r"^checkin\.[a-z_]+(:\d+)?$"))(self.on_action)
        self.app.view(FORM_CALLBACK)(self.on_form)

    # -- HTTP --------------------------------------------------------------------------------
    async def handle(self, request: web.Request) -> web.Response:
        """A request from Slack: its signature checked here, before anything else (bolt
        checks it again), then bolt's listeners."""
        body = await request.read()
        timestamp = request.headers.get("X-Slack-Request-Timestamp")
        signature = request.headers.get("X-Slack-Signature")
        if not self._verifier.is_valid(body, timestamp, signature):
            return web.json_response({"error": "invalid signature"}, status=401)
        response = await self.app.async_dispatch(await to_bolt_request(request))
        return await to_aiohttp_response(response)

    async def first_time(self, request) -> bool:
        """False for a replay of a signed command or interaction already taken (they carry no
        id of their own: the signature is the key, remembered in the database for as long as
        its timestamp is accepted). Asked after the ack, so that the ack waits for nothing.
        Events need no such key: they are applied once by their event id, which Slack's own
        retries (`X-Slack-Retry-Num`) keep. Socket Mode has no signed requests to replay."""
        if request.mode == "socket_mode":
            return True
        timestamp = _header(request, "x-slack-request-timestamp")
        signature = _header(request, "x-slack-signature")
        key = "slack:" + hashlib.sha256(f"{timestamp}:{signature}".encode()).hexdigest()
        if await self.core.first_sighting(key, window=REPLAY_WINDOW):
            return True
        log.warning("a replayed Slack request was ignored")
        return False

    def mount(self, http: web.Application) -> None:
        """`POST /slack/events`, for Slack over HTTP only, and only with a signing secret."""
        if self.socket_mode:
            raise SlackConfigError("in Socket Mode, /slack/events is not served over HTTP")
        if self._verifier is None:
            raise SlackConfigError("SLACK_SIGNING_SECRET is needed to serve /slack/events")
        http.router.add_post("/slack/events", self.handle)

    # -- who is speaking ------------------------------------------------------------------------
    async def person(self, user_id: str) -> Person | None:
        """By Slack id, else by the email Slack has for the user (stored once found)."""
        person = await self.core.person(slack_id=user_id)
        if person is not None:
            return person
        if time.monotonic() - self._unknown.get(user_id, -UNKNOWN_USER_TTL) < UNKNOWN_USER_TTL:
            return None
        try:
            user = (await self.client.users_info(user=user_id))["user"]
        except SlackApiError as exc:
            log.warning("users.info failed for a user: %s", exc.response.get("error"))
            return None
        email = (user.get("profile") or {}).get("email")
        person = await self.core.person(email=email) if email else None
        if person is None:
            self._unknown[user_id] = time.monotonic()
            return None
        return await self.core.remember(person, slack_id=user_id, timezone=user.get("tz"))

    # -- sending --------------------------------------------------------------------------------
    async def post(
        self, channel: str, message: Message, thread_ts: str | None = None
    ) -> str | None:
        """Post a message (split into several when long: the rest goes into its thread)."""
        first_ts = None
        for blocks in message_blocks(message):
            response = await self.client.chat_postMessage(
                channel=channel,
                blocks=blocks,
                text=fallback_text(message),
                thread_ts=thread_ts or first_ts,
            )
            first_ts = first_ts or response["ts"]
        return first_ts

    async def slack_id(self, person: Person) -> str | None:
        """The person's Slack user: from the OKR file, else found by email and kept."""
        if person.slack_id:
            return person.slack_id
        if not person.email:
            return None
        try:
            user = (await self.client.users_lookupByEmail(email=person.email))["user"]
        except SlackApiError as exc:
            log.warning("no Slack user for %s: %s", person.handle, exc.response.get("error"))
            return None
        await self.core.remember(person, slack_id=user["id"], timezone=user.get("tz"))
        return user["id"]

    async def respond_with(self, respond, message: Message) -> None:
        response_type = "ephemeral" if message.ephemeral else "in_channel"
        for blocks in message_blocks(message):
            await respond(
                blocks=blocks,
                text=fallback_text(message),
                response_type=response_type,
                replace_original=False,
            )

    # -- listeners ------------------------------------------------------------------------------
    async def on_command(self, ack, body, respond, client, request) -> None:
        await ack()  # at once: Slack gives us three seconds
        async with self._answering:
            if await self.first_time(request):
                await self._command(body, respond, client)

    async def _command(self, body, respond, client) -> None:
        person = await self.person(body["user_id"])
        words = (body.get("text") or "").split()
        if person is not None and words[:1] in (["checkin"], ["check-in"]):
            form = await self.core.press(person, OPEN_FORM)
            if form.form is not None:
                await client.views_open(
                    trigger_id=body["trigger_id"], view=form_view(form, locale=person.locale)
                )
                return
            await self.respond_with(respond, form)
            return
        await self.respond_with(respond, await self.core.command(person, body.get("text") or ""))

    async def on_message(self, ack, event, body) -> None:
        await ack()
        if event.get("channel_type") != "im" or event.get("subtype") or event.get("bot_id"):
            return  # only people's own new messages in the bot's DM; no edits, no bots
        async with self._answering:
            await self._message(event, body)

    async def _message(self, event, body) -> None:
        person = await self.person(event["user"])
        answer = await self.core.direct_message(
            person,
            event.get("text") or "",
            platform=PLATFORM,
            platform_user_id=event["user"],
            external_id=body.get("event_id") or event.get("client_msg_id") or event.get("ts"),
        )
        if answer is not None:  # None: Slack delivered this event before
            await self.post(event["channel"], answer)

    async def on_action(self, ack, body, action, client, request) -> None:
        await ack()
        async with self._answering:
            if await self.first_time(request):
                await self._action(body, action, client)

    async def _action(self, body, action, client) -> None:
        user_id = body["user"]["id"]
        person = await self.person(user_id)
        if person is None:
            return
        action_id = action_name(action["action_id"])
        if action_id in (OPEN_FORM, OPEN_HOME_CHECKIN):
            form = await self.core.press(person, OPEN_FORM)
            if form.form is not None:
                await client.views_open(
                    trigger_id=body["trigger_id"], view=form_view(form, locale=person.locale)
                )
            else:
                await self.post(user_id, form)
            return
        answer = await self.core.press(person, action_id, action.get("value") or "")
        channel = (body.get("channel") or {}).get("id") or user_id
        await self.post(channel, answer)

    async def on_form(self, ack, body, view, request) -> None:
        user_id = body["user"]["id"]
        person = await self.person(user_id)
        if person is None or not await self.first_time(request):
            await ack()
            return
        values = view_state_values(view["state"]["values"])
        outcome = await self.core.submit_form(person, values, machine_numbers=True)
        if outcome.errors:
            await ack(response_action="errors", errors=form_errors(outcome.errors))
            return
        await ack()
        if outcome.message is not None:
            await self.post(user_id, outcome.message)

    async def on_home(self, ack, event, client) -> None:
        await ack()
        if event.get("tab", "home") != "home":
            return
        person = await self.person(event["user"])
        if person is None:
            return
        mine, team = await self.core.home(person)
        await client.views_publish(
            user_id=event["user"], view=home_view(mine, team, locale=person.locale)
        )


def _header(request, name: str) -> str:
    values = request.headers.get(name) or [""]
    return values[0] if isinstance(values, list | tuple) else str(values)

"""Microsoft Teams over botbuilder-core: `POST /api/messages` into the core, Adaptive Cards out.

Every import of botbuilder is in the `adapters.teams` package (here, `connector` for the
connector clients and the turns' places, `outbox`), so the Teams edge can move to Microsoft's
successor SDK in one place; `cards` builds plain dicts. No business rules here.
"""

from __future__ import annotations

import asyncio
import ipaddress
import json
import logging
import re
import time
from urllib.parse import urlsplit

import jwt
from aiohttp import web
from botbuilder.core import ActivityHandler, InvokeResponse, TurnContext
from botbuilder.core.teams import TeamsInfo
from botbuilder.integration.aiohttp import CloudAdapter
from botbuilder.schema import (
    Activity,
    ActivityTypes,
)
from botframework.connector.models import ErrorResponseException

from adapters.teams.cards import attachment, card_values, message_cards
from adapters.teams.connector import (
    TURNS_AT_ONCE,
    Authentication,
    IdentityUnavailable,
    Turn,
    shared,
)
from bot.core import Core
from bot.i18n import t
from bot.messages import Message
from storage.models import Person

log = logging.getLogger("okrbot.teams")
PLATFORM = "teams"
SUBMIT = "checkin.submit"
# The Bot Connector waits about 15 s for the answer to an activity: a turn's replies, with
# their retries, end within this many seconds of the turn's start
ANSWER_BUDGET = 10.0
_STARTED = "okrbot.started"


class AnswerBudgetSpent(Exception):
    """A reply to an inbound turn could not be sent within the turn's answer budget."""


def well_formed_bearer(header: str) -> bool:
    """`Bearer <JWT>` whose header and payload decode (PyJWT; the signature is the Bot
    Framework's to check, and nobody is asked here)."""
    scheme, _, token = header.partition(" ")
    if scheme.lower() != "bearer" or not token:
        return False
    try:
        jwt.get_unverified_header(token)
        jwt.decode(token, options={"verify_signature": False})
    except jwt.PyJWTError:
        return False
    return True


def is_loopback(host: str | None) -> bool:
    if not host:
        return False
    if host.lower() == "localhost":
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False


def loopback_url(url: object) -> bool:
    """An http(s) URL on this machine: what an emulator's serviceUrl must be."""
    if not isinstance(url, str):
        return False
    try:
        parts = urlsplit(url)
    except ValueError:
        return False
    return parts.scheme in ("http", "https") and is_loopback(parts.hostname)


async def send_with_retry(send, *, attempts: int = 5, deadline: float | None = None):
    """One send, retried on its own: a 429 is safe to retry (nothing was accepted) after its
    Retry-After; a 5xx leaves the outcome unknown, so a re-send is logged as a possible
    duplicate (SPEC §8). botbuilder itself never retries a POST. With a `deadline`
    (time.monotonic()), a retry that would wait past it is not made: `AnswerBudgetSpent`."""
    for attempt in range(1, attempts + 1):
        try:
            return await send()
        except ErrorResponseException as exc:
            status = exc.response.status_code if exc.response is not None else None
            if attempt == attempts or status is None or (status != 429 and status < 500):
                raise
            retry_after = min(
                float(exc.response.headers.get("Retry-After") or 2 ** (attempt - 1)), 60
            )
            if deadline is not None and time.monotonic() + retry_after > deadline:
                wait = f"Teams answered {status}, retry after {retry_after}s"
                raise AnswerBudgetSpent(wait) from exc
            if status >= 500:
                log.warning("Teams send failed with %s: re-sending (possible duplicate)", status)
            await asyncio.sleep(retry_after)
    return None


class _Config:
    """What ConfigurationBotFrameworkAuthentication reads: an empty app id = authentication off.
    `identity` adds botbuilder's parameterized settings (TO_BOT_FROM_CHANNEL_OPENID_METADATA_URL,
    TO_BOT_FROM_CHANNEL_TOKEN_ISSUER, ...) for a cloud other than the public one."""

    def __init__(self, app_id, password, app_type, tenant_id, identity=None) -> None:
        self.APP_ID = app_id or ""
        self.APP_PASSWORD = password or ""
        self.APP_TYPE = app_type or "MultiTenant"
        self.APP_TENANTID = tenant_id or ""
        for key, value in (identity or {}).items():
            setattr(self, key, value)


class TeamsConfigError(Exception):
    """Teams settings that cannot be served safely: one line, said at start."""


class TeamsAdapter:
    """`/api/messages` in one of two modes: authenticated (an app id: only activities whose
    Bot Framework token validates, and whose serviceUrl is the one the token names), or the
    emulator mode (`emulator=True`, no app id: unauthenticated, for this machine only: requests
    from loopback addresses whose serviceUrl is on loopback too). There is no third mode."""

    def __init__(
        self,
        core: Core,
        *,
        app_id: str | None = None,
        app_password: str | None = None,
        app_type: str | None = None,
        tenant_id: str | None = None,
        emulator: bool = False,
        turns_at_once: int = TURNS_AT_ONCE,
        identity: dict | None = None,
        credentials_factory=None,
    ) -> None:
        self.core = core
        self.app_id = app_id or ""
        if not self.app_id and not emulator:
            raise TeamsConfigError(
                "Teams needs MICROSOFT_APP_ID (or OKRBOT_TEAMS_EMULATOR=1 for local emulator use)"
            )
        self.emulator = not self.app_id
        config = _Config(app_id, app_password, app_type, tenant_id, identity)
        self.adapter = CloudAdapter(Authentication(config, credentials_factory))
        self.adapter.on_turn_error = self._on_error
        self.bot = _OkrBot(self)
        self._saved: dict[str, str] = {}  # conversation id -> what was stored last
        self.turns = asyncio.Semaphore(turns_at_once)
        if self.emulator:
            log.warning(
                "Teams authentication is OFF (OKRBOT_TEAMS_EMULATOR): /api/messages takes "
                "unauthenticated activities from this machine only; local emulator use, never "
                "production"
            )

    # -- HTTP --------------------------------------------------------------------------------
    def mount(self, http: web.Application) -> None:
        http.router.add_post("/api/messages", self.handle)

    async def handle(self, request: web.Request) -> web.Response:
        if self.emulator and not is_loopback(request.remote):
            return _refuse(403, "the Teams emulator mode answers this machine only")
        header = request.headers.get("Authorization")
        # SPEC §8: with an app id, no or a malformed token is 401 without asking anyone; with
        # authentication off a malformed header would make botbuilder fail with a 500
        if (self.app_id and not header) or (header is not None and not well_formed_bearer(header)):
            return _refuse(401, "unauthorized")
        if "application/json" not in request.headers.get("Content-Type", ""):
            return _refuse(415, "expected JSON")
        try:
            body = await request.json()
        except ValueError:
            return _refuse(400, "the body is not JSON")
        if not isinstance(body, dict) or not isinstance(body.get("type"), str):
            return _refuse(400, "expected an activity (a JSON object with a type)")
        if self.emulator and not loopback_url(body.get("serviceUrl")):
            # never call a serviceUrl that an unauthenticated request names, but on this machine
            return _refuse(403, "in the emulator mode the serviceUrl must be on this machine")
        try:
            response = await self.adapter.process(request, self.bot)
        except web.HTTPUnauthorized:
            return _refuse(401, "unauthorized")
        except IdentityUnavailable as exc:
            log.error("Teams: the Bot Framework's signing keys are unreachable: %s", exc)
            return _refuse(503, "cannot verify the token now")
        return response or web.Response(status=201)

    async def _on_error(self, context: TurnContext, error: Exception) -> None:
        log.exception("Teams turn failed", exc_info=error)
        await context.send_activity("Sorry, something went wrong on my side. Please try again.")

    # -- people and conversations --------------------------------------------------------------
    async def person(self, context: TurnContext) -> Person | None:
        """By AAD object id from the OKR file, else by email / UPN from the roster (kept)."""
        sender = context.activity.from_property
        aad = getattr(sender, "aad_object_id", None)
        if aad:
            person = await self.core.person(teams_aad_id=aad)
            if person is not None:
                return person
        Turn.done_in(context)  # a call to Teams
        try:
            member = await TeamsInfo.get_member(context, sender.id)
        except Exception as exc:  # the roster is not reachable: treat as unknown
            log.warning("Teams roster lookup failed: %s", exc)
            return None
        email = member.email or member.user_principal_name
        person = await self.core.person(email=email) if email else None
        if person is not None and (aad or member.aad_object_id):
            person = await self.core.remember(person, teams_aad_id=aad or member.aad_object_id)
        return person

    async def remember_conversation(self, context: TurnContext, person: Person | None) -> None:
        activity = context.activity
        reference = TurnContext.get_conversation_reference(activity)
        conversation = activity.conversation
        conversation_type = getattr(conversation, "conversation_type", None) or "personal"
        tenant = getattr(conversation, "tenant_id", None) or (
            (activity.channel_data or {}).get("tenant") or {}
        ).get("id")
        serialized = reference.serialize()
        serialized.pop("activityId", None)  # the conversation, not one message in it
        owner = person if conversation_type == "personal" else None
        fingerprint = json.dumps([serialized, owner.id if owner else None, tenant], sort_keys=True)
        if self._saved.get(conversation.id) == fingerprint:
            return  # stored already, unchanged: no write on every turn
        await self.core.save_conversation(
            PLATFORM,
            conversation.id,
            serialized,
            conversation_type=conversation_type,
            person=owner,
            tenant_id=tenant,
        )
        self._saved[conversation.id] = fingerprint

    # -- sending ------------------------------------------------------------------------------
    @staticmethod
    async def send(context: TurnContext, message: Message, locale: str | None = None) -> None:
        """One activity per card (a long answer is several cards); Teams shows a card's own
        text, so the activity carries none. The replies end within the turn's answer budget: a
        retry that would wait past it is given up (logged), never slept through."""
        cards = message_cards(message, locale=locale)
        Turn.done_in(context)  # the answer is ready: calls to Teams from here
        deadline = context.turn_state.get(_STARTED, time.monotonic()) + ANSWER_BUDGET
        for card in cards:
            activity = card_activity(card, message)
            try:
                await send_with_retry(
                    lambda activity=activity: context.send_activity(activity), deadline=deadline
                )
            except AnswerBudgetSpent as exc:
                log.warning("Teams reply not sent within the answer budget: %s", exc)
                return


def _refuse(status: int, error: str) -> web.Response:
    return web.json_response({"error": error}, status=status)


def _locale(person: Person | None) -> str | None:
    return person.locale if person else None


def card_activity(card: dict, message: Message, reply_to: str | None = None) -> Activity:
    """A message activity carrying one card (sent as the plain JSON it is)."""
    return Activity(
        type=ActivityTypes.message,
        summary=(message.title or message.text or "okrbot")[:200],
        attachments=[shared(attachment(card))],
        reply_to_id=reply_to,
    )


class _OkrBot(ActivityHandler):
    """Turns activities into core calls; every activity leaves its conversation reference."""

    def __init__(self, teams: TeamsAdapter) -> None:
        self.teams = teams

    async def on_turn(self, turn_context: TurnContext) -> None:
        turn_context.turn_state[_STARTED] = time.monotonic()
        async with Turn(self.teams.turns, turn_context):
            activity = turn_context.activity
            person = None
            if activity.from_property is not None and activity.type in (
                ActivityTypes.message,
                ActivityTypes.invoke,
                ActivityTypes.conversation_update,
                ActivityTypes.installation_update,
            ):
                person = await self.teams.person(turn_context)
            turn_context.turn_state["okrbot.person"] = person
            await self.teams.remember_conversation(turn_context, person)
            await super().on_turn(turn_context)

    async def on_message_activity(self, turn_context: TurnContext) -> None:
        activity = turn_context.activity
        person = turn_context.turn_state.get("okrbot.person")
        if activity.value:  # an Adaptive Card's Action.Submit
            answer = await self._card(person, activity.value)
            await self.teams.send(turn_context, answer, _locale(person))
            return
        text = TurnContext.remove_recipient_mention(activity) or activity.text or ""
        text = re.sub(r"<[^>]+>", " ", text).strip()
        personal = (activity.conversation.conversation_type or "personal") == "personal"
        if not personal or text.lower().split()[:1] == ["okr"]:
            answer = await self.teams.core.command(person, text)
        else:
            answer = await self.teams.core.direct_message(
                person,
                text,
                platform=PLATFORM,
                platform_user_id=activity.from_property.id,
                external_id=activity.id,
            )
        if answer is not None:
            await self.teams.send(turn_context, answer, _locale(person))

    async def on_invoke_activity(self, turn_context: TurnContext) -> InvokeResponse:
        if turn_context.activity.name != "adaptiveCard/action":
            return await super().on_invoke_activity(turn_context)
        person = turn_context.turn_state.get("okrbot.person")
        value = turn_context.activity.value or {}
        answer = await self._card(person, value)
        await self.teams.send(turn_context, answer, _locale(person))
        return InvokeResponse(
            status=200,
            body={
                "statusCode": 200,
                "type": "application/vnd.microsoft.activity.message",
                "value": answer.title or answer.text or "ok",
            },
        )

    async def _card(self, person: Person | None, value: dict) -> Message:
        core = self.teams.core
        if person is None:  # someone the OKR file does not know: how to be added
            return Message(text=t(None, "plain.stranger"))
        action, action_value, fields = card_values(value)
        if action == SUBMIT:
            outcome = await core.submit_form(person, fields, machine_numbers=True)
            if outcome.errors:
                lines = "\n".join(f"{key}: {error}" for key, error in outcome.errors.items())
                return Message(text=lines, error=True)
            return outcome.message
        return await core.press(person, action or "", action_value)

    async def on_members_added_activity(self, members_added, turn_context: TurnContext) -> None:
        return None  # the reference is stored in on_turn; prompts come on schedule

    async def on_installation_update(self, turn_context: TurnContext) -> None:
        return None

"""Microsoft Teams over botbuilder-core: `POST /api/messages` into the core, Adaptive Cards out.

Every import of botbuilder is in `adapters/teams*` (here, `teams_connector` for the connector
clients and the turns' places, `teams_outbox`), so the Teams edge can move to Microsoft's
successor SDK in one place; `teams_cards` builds plain dicts. No business rules here.
"""

from __future__ import annotations

import asyncio
import json
import logging
import re

from aiohttp import web
from botbuilder.core import ActivityHandler, InvokeResponse, TurnContext
from botbuilder.core.teams import TeamsInfo
from botbuilder.integration.aiohttp import CloudAdapter
from botbuilder.schema import (
    Activity,
    ActivityTypes,
)
from botframework.connector.models import ErrorResponseException

from adapters.teams_cards import attachment, card_values, message_cards
from adapters.teams_connector import TURNS_AT_ONCE, Authentication, Turn, shared
from bot.core import Core
from bot.i18n import t
from bot.messages import Message
from storage.models import Person

log = logging.getLogger("okrbot.teams")
PLATFORM = "teams"
SUBMIT = "checkin.submit"
_JWT = re.compile(r"^Bearer [A-Za-z0-9_-]+\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]*$")


async def send_with_retry(send, *, attempts: int = 5):
    """One send, retried on its own: a 429 is safe to retry (nothing was accepted) after its
    Retry-After; a 5xx leaves the outcome unknown, so a re-send is logged as a possible
    duplicate (SPEC §8). botbuilder itself never retries a POST."""
    for attempt in range(1, attempts + 1):
        try:
            return await send()
        except ErrorResponseException as exc:
            status = exc.response.status_code if exc.response is not None else None
            if attempt == attempts or status is None or (status != 429 and status < 500):
                raise
            retry_after = float(exc.response.headers.get("Retry-After") or 2 ** (attempt - 1))
            if status >= 500:
                log.warning("Teams send failed with %s: re-sending (possible duplicate)", status)
            await asyncio.sleep(min(retry_after, 60))
    return None


class _Config:
    """What ConfigurationBotFrameworkAuthentication reads: an empty app id = authentication off."""

    def __init__(self, app_id, password, app_type, tenant_id) -> None:
        self.APP_ID = app_id or ""
        self.APP_PASSWORD = password or ""
        self.APP_TYPE = app_type or "MultiTenant"
        self.APP_TENANTID = tenant_id or ""


class TeamsAdapter:
    def __init__(
        self,
        core: Core,
        *,
        app_id: str | None = None,
        app_password: str | None = None,
        app_type: str | None = None,
        tenant_id: str | None = None,
        turns_at_once: int = TURNS_AT_ONCE,
    ) -> None:
        self.core = core
        self.app_id = app_id or ""
        config = _Config(app_id, app_password, app_type, tenant_id)
        self.adapter = CloudAdapter(Authentication(config))
        self.adapter.on_turn_error = self._on_error
        self.bot = _OkrBot(self)
        self._saved: dict[str, str] = {}  # conversation id -> what was stored last
        self.turns = asyncio.Semaphore(turns_at_once)
        if not self.app_id:
            log.warning("Teams authentication is OFF: no MICROSOFT_APP_ID (local emulator use)")

    # -- HTTP --------------------------------------------------------------------------------
    def mount(self, http: web.Application) -> None:
        http.router.add_post("/api/messages", self.handle)

    async def handle(self, request: web.Request) -> web.Response:
        header = request.headers.get("Authorization")
        # SPEC §8: with an app id, no or a malformed token is 401 without asking anyone; with
        # authentication off a malformed header would make botbuilder fail with a 500
        if (self.app_id and not header) or (header is not None and not _JWT.match(header)):
            return web.json_response({"error": "unauthorized"}, status=401)
        if "application/json" not in request.headers.get("Content-Type", ""):
            return web.json_response({"error": "expected JSON"}, status=415)
        try:
            response = await self.adapter.process(request, self.bot)
        except web.HTTPUnauthorized:
            return web.json_response({"error": "unauthorized"}, status=401)
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
        text, so the activity carries none."""
        cards = message_cards(message, locale=locale)
        Turn.done_in(context)  # the answer is ready: calls to Teams from here
        for card in cards:
            activity = card_activity(card, message)
            await send_with_retry(lambda activity=activity: context.send_activity(activity))


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

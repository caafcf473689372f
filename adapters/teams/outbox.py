"""Teams' outbox sender: proactive prompts in members' 1:1 chats and digests in channels.

A bot cannot read a Teams chat's history, so a send whose outcome is unknown (a 5xx, a lost
connection, a worker that died mid-send) is sent again, logged and counted as a possible
duplicate: the one exception to exactly once (SPEC §8). A 429 was not accepted and is simply
retried after its Retry-After (a message of several cards refused after its first: the rest
after the Retry-After, in the same send); a connector 403/404 fails for good.

Sends are paced by the adaptive pace of the conversation's tenant (shared with the other
processes on the database, one per tenant), told of every accepted send and every 429.
"""

from __future__ import annotations

import asyncio
import logging

import aiohttp
from botbuilder.core import TurnContext
from botbuilder.schema import (
    Activity,
    ChannelAccount,
    ConversationParameters,
    ConversationReference,
)
from botframework.connector.models import ErrorResponseException

from adapters.charts import store_chart
from adapters.pace_policy import Policy
from adapters.pacing import AdaptivePacer, Pacers
from adapters.teams.app import TeamsAdapter, card_activity
from adapters.teams.cards import message_cards, prompt_cards
from bot.checkin.views import OPEN_FORM, as_reminder
from bot.delivery import (
    Checkpoint,
    DigestParts,
    OutcomeUnknown,
    PermanentFailure,
    RateLimited,
    Unreachable,
)
from storage import repo
from storage.models import Person

log = logging.getLogger("okrbot.teams.outbox")
PLATFORM = "teams"


class TeamsSender:
    platform = PLATFORM

    def __init__(
        self,
        teams: TeamsAdapter,
        *,
        pacers: Pacers | None = None,
        rate: float | None = None,
        public_url: str | None = None,
        metrics=None,
    ) -> None:
        """`pacers`: the paces shared by this process's senders (by default its own, with
        `rate` as the ceiling)."""
        self.teams = teams
        self.core = teams.core
        self.pacers = pacers or Pacers({PLATFORM: Policy(ceiling=rate)})
        self.public_url = public_url.rstrip("/") if public_url else None
        self.metrics = metrics

    async def reaches(self, person: Person) -> bool:
        if person.teams_aad_id:
            return True
        return await self.core.conversation_of(PLATFORM, person) is not None

    # -- prompts -------------------------------------------------------------------------------
    async def send_prompt(
        self, person: Person, *, key: str, reminder: bool, uncertain: bool
    ) -> dict:
        if uncertain:
            self._possible_duplicate(key)
        prompt = await self.core.checkins.prompt(person)
        if reminder:
            prompt = as_reminder(prompt)
        form = await self.core.press(person, OPEN_FORM)
        activities = [
            card_activity(card, prompt) for card in prompt_cards(prompt, form, locale=person.locale)
        ]
        async with self.core.db.session() as session:
            row = await repo.personal_reference(session, PLATFORM, person.id)
        if row is not None:
            known = ConversationReference().deserialize(row.reference)
            ids = await self._send(known, activities, tenant=row.tenant_id)
            return {"conversation": known.conversation.id, "activities": ids}
        return await self._new_conversation(person, activities)

    async def _new_conversation(self, person: Person, activities: list[Activity]) -> dict:
        """SPEC §8: a member in a tenant the bot has seen gets a new 1:1 conversation."""
        async with self.core.db.session() as session:
            known = await repo.any_reference(session, PLATFORM)
        if known is None or not person.teams_aad_id:
            raise Unreachable(f"{person.handle} has no Teams conversation with the bot yet")
        seen = ConversationReference().deserialize(known.reference)
        tenant = known.tenant_id or getattr(seen.conversation, "tenant_id", None)
        parameters = ConversationParameters(
            is_group=False,
            bot=seen.bot,
            tenant_id=tenant,
            members=[ChannelAccount(id=person.teams_aad_id)],
            channel_data={"tenant": {"id": tenant}} if tenant else None,
        )
        pace = self._pace(tenant)
        deliver, ids, failures = self._deliverer(activities, pace)
        try:
            await pace.acquire()
            await self.teams.adapter.create_conversation(
                self.teams.app_id, deliver, parameters, "msteams", seen.service_url
            )
        except Exception as exc:
            failures.append(exc)
        if failures:
            error = _classify(failures[0])
            if isinstance(error, PermanentFailure) and not ids:
                raise Unreachable(f"{person.handle}: Teams refused a new chat ({error})")
            raise error from failures[0]
        return {"conversation": "new", "activities": ids}

    # -- digests -------------------------------------------------------------------------------
    async def send_digest(
        self,
        channel: str,
        parts: DigestParts,
        *,
        key: str,
        uncertain: bool,
        progress: dict,
        checkpoint: Checkpoint,
    ) -> dict:
        async with self.core.db.session() as session:
            row = await repo.conversation_reference(session, PLATFORM, channel)
        if row is None:
            raise PermanentFailure(
                f"the bot has not seen Teams channel {channel}: add it to the team first"
            )
        reference = ConversationReference().deserialize(row.reference)
        progress = dict(progress)
        if uncertain:
            self._possible_duplicate(key)
        head = progress.get("activity")
        if head is None:
            cards = message_cards(parts.headline)
            if parts.chart_png and self.public_url:
                chart_id = await store_chart(self.core.db, self.core.clock, parts.chart_png)
                url = f"{self.public_url}/charts/{chart_id}.png"
                cards[0]["body"].append(
                    {"type": "Image", "url": url, "altText": parts.chart_title, "size": "Stretch"}
                )
                progress["chart"] = url
            headline = [card_activity(c, parts.headline) for c in cards]
            ids = await self._send(reference, headline, tenant=row.tenant_id)
            head = ids[0]
            progress.update(channel=channel, activity=head)
            await checkpoint(progress)
        done = list(progress.get("replies", []))
        for name, message in parts.replies:
            if name in done:
                continue
            activities = [card_activity(c, message, reply_to=head) for c in message_cards(message)]
            await self._send(reference, activities, tenant=row.tenant_id)
            done.append(name)
            progress["replies"] = done
            await checkpoint(progress)
        return progress

    # -- the Bot Connector ---------------------------------------------------------------------
    async def close(self) -> None:
        await self.pacers.flush()

    def _pace(self, tenant: str | None) -> AdaptivePacer:
        return self.pacers.get(PLATFORM, tenant or "tenant")

    async def _send(
        self, reference: ConversationReference, activities: list[Activity], *, tenant: str | None
    ):
        """`tenant`: the conversation's tenant as stored with its reference (botbuilder reads
        no tenant id from Teams' JSON, whose key is `tenantId`, not its `tenantID`, so a
        stored reference does not carry it)."""
        tenant = tenant or getattr(reference.conversation, "tenant_id", None)
        deliver, ids, failures = self._deliverer(activities, self._pace(tenant))
        try:
            await self.teams.adapter.continue_conversation(reference, deliver, self.teams.app_id)
        except Exception as exc:
            failures.append(exc)
        if failures:
            raise _classify(failures[0]) from failures[0]
        return ids

    def _deliverer(self, activities: list[Activity], pace: AdaptivePacer):
        """The turn logic of a proactive send. Its errors are kept for the caller: inside a
        turn botbuilder would hand them to the turn-error handler, which answers the chat."""
        ids: list[str] = []
        failures: list[Exception] = []

        async def deliver(context: TurnContext) -> None:
            context.activity.id = None  # new messages, not replies to a turn
            try:
                for activity in activities:
                    ids.append(await _post(context, activity, pace, continuing=bool(ids)))
            except Exception as exc:
                failures.append(exc)

        return deliver, ids, failures

    def _possible_duplicate(self, key: str) -> None:
        log.warning("%s: the last send's outcome is unknown; re-sending (possible duplicate)", key)
        if self.metrics is not None:
            self.metrics.possible_duplicate(PLATFORM)


CONTINUE_BUDGET = 15.0  # seconds a message's remaining cards may wait out 429s (lease: 30)


async def _post(
    context: TurnContext, activity: Activity, pace: AdaptivePacer, *, continuing: bool
) -> str | None:
    """One activity, paced; the pace is told whether it was accepted or refused. A 429 is
    raised (the row is sent again after its Retry-After), except when the message's first
    cards are in the chat already (`continuing`): sending the row again would post them twice,
    so the rest waits out the Retry-After here and follows them, for up to `CONTINUE_BUDGET`
    seconds in all (well inside the row's lease); past that the 429 is raised like any other."""
    waited = 0.0
    while True:
        await pace.acquire()
        try:
            response = await context.send_activity(activity)
        except Exception as exc:
            error = _classify(exc)
            if not isinstance(error, RateLimited):
                raise
            pace.refused(error.retry_after)
            if not continuing or waited + error.retry_after > CONTINUE_BUDGET:
                raise
            waited += error.retry_after
            await asyncio.sleep(error.retry_after)
            continue
        pace.accepted()
        return getattr(response, "id", None)


def _classify(exc: Exception) -> Exception:
    if isinstance(exc, (TimeoutError, aiohttp.ClientError, ConnectionError)):
        return OutcomeUnknown(f"the Bot Connector did not answer: {exc}")
    if not isinstance(exc, ErrorResponseException):
        return OutcomeUnknown(f"{type(exc).__name__}: {exc}")
    response = exc.response
    status = response.status_code if response is not None else None
    if status == 429:
        retry_after = (response.headers or {}).get("Retry-After") or 1
        return RateLimited(float(retry_after), "the Bot Connector is throttling")
    if status in (400, 401, 403, 404):
        return PermanentFailure(f"the Bot Connector answered {status}")
    return OutcomeUnknown(f"the Bot Connector answered {status}")

"""The core's front door for adapters: who is speaking, commands, direct messages.

Errors are mapped here, once: an unexpected failure is logged with a short reference and the
person gets a polite answer carrying the same reference.
"""

from __future__ import annotations

import logging
import uuid
from collections.abc import Awaitable
from dataclasses import replace
from datetime import timedelta

from bot.checkin.service import Checkins, FormOutcome
from bot.clock import Clock
from bot.commands.router import Commands
from bot.i18n import t
from bot.messages import Message
from bot.metrics import Metrics
from storage import replay, repo
from storage.db import Database
from storage.models import ConversationReference, Person

log = logging.getLogger("okrbot.core")


class Core:
    def __init__(self, db: Database, clock: Clock, metrics: Metrics | None = None) -> None:
        self.db = db
        self.clock = clock
        self.metrics = metrics if metrics is not None else Metrics()
        self.checkins = Checkins(db, clock, self.metrics)
        self.commands = Commands(db, clock, self.checkins)

    async def person(self, **criteria: str) -> Person | None:
        """A live person by `handle`, `slack_id`, `teams_aad_id` or `email`."""
        async with self.db.session() as session:
            return await repo.person_by(session, **criteria)

    async def remember(self, person: Person, **values: str | None) -> Person:
        """Platform ids (and a time zone) found at run time, e.g. by email; kept once found.
        Values already set are not overwritten (the OKR file's word wins)."""
        async with self.db.transaction() as session:
            row = await session.get(Person, person.id)
            for name, value in values.items():
                if value and not getattr(row, name):
                    setattr(row, name, value)
            return row

    async def save_conversation(
        self,
        platform: str,
        conversation_id: str,
        reference: dict,
        *,
        conversation_type: str | None,
        person: Person | None = None,
        tenant_id: str | None = None,
    ) -> None:
        """Where the bot can reach someone later (a serialized platform reference)."""
        async with self.db.transaction() as session:
            await repo.save_reference(
                session,
                ConversationReference(
                    platform=platform,
                    conversation_id=conversation_id,
                    reference=reference,
                    conversation_type=conversation_type,
                    tenant_id=tenant_id,
                    person_id=person.id if person else None,
                    updated_at=self.clock(),
                ),
            )

    async def conversation_of(self, platform: str, person: Person) -> dict | None:
        async with self.db.session() as session:
            row = await repo.personal_reference(session, platform, person.id)
        return row.reference if row else None

    async def any_conversation(self, platform: str) -> dict | None:
        async with self.db.session() as session:
            row = await repo.any_reference(session, platform)
        return row.reference if row else None

    async def first_sighting(self, key: str, *, window: timedelta) -> bool:
        """True the first time a signed request's key is seen (by any replica) within
        `window`; a replay of it is then told apart, and not applied again."""
        async with self.db.transaction() as session:
            return await replay.first_sighting(session, key, self.clock(), window=window)

    async def home(self, person: Person) -> tuple[Message, Message | None]:
        """What a person's home screen shows: their key results and their team's progress."""
        async with self.db.session() as session:
            teams = await repo.teams_of(session, person.id)
        mine = await self.command(person, "okr me")
        team = await self.command(person, f"okr team {teams[0].slug}") if teams else None
        return mine, team

    async def command(self, person: Person | None, text: str) -> Message:
        return await self._answer(person, self.commands.handle(text, person))

    async def direct_message(
        self,
        person: Person | None,
        text: str,
        *,
        platform: str,
        platform_user_id: str | None = None,
        external_id: str | None = None,
    ) -> Message | None:
        """A plain message to the bot: a check-in reply, kept in the inbox first.
        None when the platform delivered the same message before."""
        locale = await self._default_locale() if person is None else "en"
        return await self._answer(
            person,
            self.checkins.reply(
                person,
                text,
                platform=platform,
                platform_user_id=platform_user_id,
                external_id=external_id,
                locale=locale,
            ),
        )

    async def press(self, person: Person, action: str, value: str = "") -> Message:
        """A button of a prompt or a confirmation."""
        return await self._answer(person, self.checkins.press(person, action, value))

    async def submit_form(
        self, person: Person, values: dict[str, dict], *, machine_numbers: bool = False
    ) -> FormOutcome:
        """A submitted check-in form. Slack's and Teams' number inputs send machine numbers;
        the console's are typed in the member's language."""
        return await self.checkins.submit_form(person, values, machine_numbers=machine_numbers)

    async def _default_locale(self) -> str:
        async with self.db.session() as session:
            org = await repo.organization(session)
        return org.locale if org else "en"

    async def _answer(self, person: Person | None, work: Awaitable[Message]) -> Message:
        try:
            message = await work
        except Exception:
            ref = uuid.uuid4().hex[:8]
            log.exception("unexpected error answering a message (ref %s)", ref)
            locale = person.locale if person and person.locale else "en"
            return Message(text=t(locale, "error.internal", ref=ref), error=True, locale=locale)
        if message is None or message.locale is not None:
            return message
        # the asker's language, as the answer was written in it
        locale = person.locale if person and person.locale else await self._default_locale()
        return replace(message, locale=locale)

"""The core's front door for adapters: who is speaking, commands, direct messages.

Errors are mapped here, once: an unexpected failure is logged with a short reference and the
person gets a polite answer carrying the same reference.
"""

from __future__ import annotations

import logging
import uuid
from collections.abc import Awaitable

from bot.clock import Clock
from bot.commands import Commands
from bot.i18n import t
from bot.messages import Message
from storage import repo
from storage.db import Database
from storage.models import Person, RawReply

log = logging.getLogger("okrbot.core")


class Core:
    def __init__(self, db: Database, clock: Clock) -> None:
        self.db = db
        self.clock = clock
        self.commands = Commands(db, clock)

    async def person(self, **criteria: str) -> Person | None:
        """A live person by `handle`, `slack_id`, `teams_aad_id` or `email`."""
        async with self.db.session() as session:
            return await repo.person_by(session, **criteria)

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
    ) -> Message:
        """A plain message to the bot: kept in the inbox first, whatever happens next."""
        return await self._answer(
            person, self._direct(person, text, platform, platform_user_id, external_id)
        )

    async def _direct(self, person, text, platform, platform_user_id, external_id) -> Message:
        async with self.db.transaction() as session:
            session.add(
                RawReply(
                    person_id=person.id if person else None,
                    platform=platform,
                    platform_user_id=platform_user_id,
                    external_id=external_id,
                    text=text,
                    received_at=self.clock(),
                    status="unsupported" if person else "stranger",
                )
            )
            org = await repo.organization(session)
        locale = (person.locale if person else None) or (org.locale if org else "en")
        if person is None:
            return Message(text=t(locale, "plain.stranger"))
        return Message(text=t(locale, "plain.unsupported"))

    async def _answer(self, person: Person | None, work: Awaitable[Message]) -> Message:
        try:
            return await work
        except Exception:
            ref = uuid.uuid4().hex[:8]
            log.exception("unexpected error answering a message (ref %s)", ref)
            locale = person.locale if person and person.locale else "en"
            return Message(text=t(locale, "error.internal", ref=ref), error=True)

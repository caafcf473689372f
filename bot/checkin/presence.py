"""Out of office: `okr away [until <date>]` and `okr back` (SPEC §4)."""

from __future__ import annotations

import re
from datetime import date, datetime

from bot.clock import Clock, local_date
from bot.i18n import t
from bot.messages import Message
from storage import repo
from storage.db import Database
from storage.models import Person


def is_away(away_until: date | None, now: datetime, timezone: str) -> bool:
    """The one definition: away on every day up to and including `away_until`, a date in the
    person's own time zone (`date.max`: until `okr back`)."""
    return away_until is not None and local_date(now, timezone) <= away_until


class Presence:
    """Away members get no prompts or reminders and are shown as away in digests."""

    def __init__(self, db: Database, clock: Clock) -> None:
        self.db = db
        self.clock = clock

    async def away(self, person: Person, until: date | None) -> Message:
        async with self.db.transaction() as session:
            row = await session.get(Person, person.id)
            org = await repo.organization(session)
            loc = person.locale or org.locale
            today = local_date(self.clock(), person.timezone or org.timezone)
            if until is not None and until < today:
                return Message(text=t(loc, "away.past", date=until.isoformat()), error=True)
            row.away_until = until or date.max
            if until is None:
                return Message(text=t(loc, "away.open"))
            return Message(text=t(loc, "away.until", date=until.isoformat()))

    async def back(self, person: Person) -> Message:
        async with self.db.transaction() as session:
            row = await session.get(Person, person.id)
            org = await repo.organization(session)
            loc = person.locale or org.locale
            was_away = is_away(row.away_until, self.clock(), person.timezone or org.timezone)
            row.away_until = None
            return Message(text=t(loc, "back.done" if was_away else "back.not_away"))


_DATE_FORMS = (
    re.compile(r"(?P<y>\d{4})-(?P<m>\d{1,2})-(?P<d>\d{1,2})"),
    re.compile(r"(?P<d>\d{1,2})[./](?P<m>\d{1,2})[./](?P<y>\d{4})"),
)


def parse_date(text: str) -> date | None:
    """`until 2026-12-31`, `til 31.12.2026`, `31/12/2026`."""
    words = text.strip().lower().split()
    if words and words[0] in ("until", "til", "to"):
        words = words[1:]
    if len(words) != 1:
        return None
    for form in _DATE_FORMS:
        m = form.fullmatch(words[0])
        if m:
            try:
                return date(int(m["y"]), int(m["m"]), int(m["d"]))
            except ValueError:
                return None
    return None

"""`okr history <kr>`: who changed a key result, when, from what to what."""

from __future__ import annotations

import difflib

from sqlalchemy.ext.asyncio import AsyncSession

from bot.commands.answers import View
from bot.i18n import health_label, t
from bot.i18n.formats import format_date, format_number, format_value
from bot.messages import Message
from storage import repo

HISTORY_LIMIT = 10


async def history(session: AsyncSession, view: View, words: list[str]) -> Message:
    """`okr history <kr>`: the last updates of a key result, newest first."""
    locale = view.locale
    keys = await repo.key_result_keys(session)
    if not words:
        return Message(
            text=t(locale, "history.usage", example=keys[0] if keys else "…"), error=True
        )
    key = words[0]
    kr = await repo.key_result_by_key(session, key)
    if kr is None:
        close = difflib.get_close_matches(key.upper(), keys, n=3, cutoff=0.5)
        context = (t(locale, "history.closest", keys=", ".join(close)),) if close else ()
        return Message(text=t(locale, "history.unknown", key=key), context=context, error=True)
    updates = await repo.history(session, kr.id, HISTORY_LIMIT)
    people = await repo.people_by_ids(session, [u.person_id for u in updates])
    lines = []
    for u in updates:
        source = t(locale, f"source.{u.source}")
        person = people.get(u.person_id)
        line = t(
            locale,
            "history.row",
            date=format_date(u.created_at, locale, view.timezone),
            who=person.name if person else source,
            old=format_number(u.old_value, locale) if u.old_value is not None else "–",
            new=format_value(u.new_value, kr.unit, locale),
        )
        extras = [health_label(locale, u.health), source if person else None]
        if u.comment:
            extras.append(f"“{u.comment}”")
        lines.append(line + " · " + " · ".join(e for e in extras if e))
    return Message(
        title=t(locale, "history.title", key=kr.key, title=kr.title),
        text="\n".join(lines) if lines else t(locale, "history.none"),
    )

"""Personal data (GDPR): everything stored about a person, erasing it, and raw-reply retention.

Erasing keeps the history that team numbers are made of: the person row stays, archived under
a pseudonym, and so do the key results they own and the values they reported (with their
times). What identifies or quotes them goes: name, email, platform ids, time zone and
language, the messages they sent (raw replies), where the bot could reach them (conversation
references), messages waiting for them (outbox) and the comments they wrote.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import delete, func, or_, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from storage.models import (
    CheckinRound,
    ConversationReference,
    KeyResult,
    KeyResultUpdate,
    Outbox,
    Person,
    RawReply,
    Team,
    TeamMember,
)

PSEUDONYM_PREFIX = "forgotten-"
# outbox rows that address a team or the company rather than one person
DIGEST_KINDS = ("team_digest", "exec_digest")


async def find_person(session: AsyncSession, handle: str) -> Person | None:
    """A person by handle, archived or not (people who left are the usual erasure requests)."""
    query = select(Person).where(func.lower(Person.handle) == handle.lower()).limit(1)
    return (await session.execute(query)).scalars().first()


# -- what is stored about a person ---------------------------------------------------------------


async def _all(session: AsyncSession, query) -> list:
    return list((await session.execute(query)).scalars())


async def _platform_user_ids(session: AsyncSession, person: Person) -> set[str]:
    """The person's ids on each platform, as messages from them carry it (Slack user id,
    Teams channel account id), so that messages sent before they were recognised count too."""
    ids = {i for i in (person.slack_id, person.teams_aad_id) if i}
    refs = await _all(
        session, select(ConversationReference).where(ConversationReference.person_id == person.id)
    )
    for ref in refs:
        user = (ref.reference or {}).get("user") or {}
        ids.update(i for i in (user.get("id"), user.get("aadObjectId")) if i)
    query = select(RawReply.platform_user_id).where(
        RawReply.person_id == person.id, RawReply.platform_user_id.is_not(None)
    )
    ids.update((await session.execute(query)).scalars())
    ids.discard(person.handle)  # the console files messages under the handle: not a platform id
    return ids


async def _raw_reply_filter(session: AsyncSession, person: Person):
    ids = await _platform_user_ids(session, person)
    mine = RawReply.person_id == person.id
    if not ids:
        return mine
    from_them = RawReply.platform_user_id.in_(ids) & RawReply.platform.in_(("slack", "teams"))
    return or_(mine, from_them)


def _outbox_filter(person: Person):
    return (Outbox.target == person.handle) & Outbox.kind.not_in(DIGEST_KINDS)


def _row(row: Any, **extra: Any) -> dict:
    data = row.model_dump(mode="json")
    data.update(extra)
    return data


async def export_person(session: AsyncSession, person: Person, *, now: datetime) -> dict:
    """Everything stored about the person, as plain JSON data."""
    teams = await session.execute(
        select(TeamMember, Team)
        .join(Team, TeamMember.team_id == Team.id)
        .where(TeamMember.person_id == person.id)
        .order_by(Team.position, TeamMember.role)
    )
    owned = await _all(
        session, select(KeyResult).where(KeyResult.owner_id == person.id).order_by(KeyResult.id)
    )
    updates = await session.execute(
        select(KeyResultUpdate, KeyResult.key)
        .join(KeyResult, KeyResultUpdate.key_result_id == KeyResult.id)
        .where(KeyResultUpdate.person_id == person.id)
        .order_by(KeyResultUpdate.created_at, KeyResultUpdate.id)
    )
    rounds = await _all(
        session,
        select(CheckinRound).where(CheckinRound.person_id == person.id).order_by(CheckinRound.id),
    )
    replies = await _all(
        session,
        select(RawReply).where(await _raw_reply_filter(session, person)).order_by(RawReply.id),
    )
    references = await _all(
        session,
        select(ConversationReference)
        .where(ConversationReference.person_id == person.id)
        .order_by(ConversationReference.id),
    )
    outbox = await _all(session, select(Outbox).where(_outbox_filter(person)).order_by(Outbox.id))
    return {
        "exported_at": now.isoformat(),
        "person": _row(person),
        "teams": [
            {"team": team.slug, "team_name": team.name, "role": member.role}
            for member, team in teams
        ],
        "key_results_owned": [_row(kr) for kr in owned],
        "updates": [_row(row, key_result=key) for row, key in updates],
        "checkin_rounds": [_row(r) for r in rounds],
        "raw_replies": [_row(r) for r in replies],
        "conversation_references": [_row(r) for r in references],
        "outbox": [_row(r) for r in outbox],
    }


# -- erasing ---------------------------------------------------------------------------------


@dataclass
class ForgetReport:
    """What an erasure removes (or removed) and what it keeps, anonymised."""

    handle: str
    name: str
    pseudonym: str
    raw_replies: int = 0
    conversation_references: int = 0
    outbox_rows: int = 0
    comments: int = 0
    updates_kept: int = 0
    key_results_kept: int = 0
    checkin_rounds_kept: int = 0
    memberships_kept: int = 0
    done: bool = False

    def lines(self) -> list[str]:
        removed = [
            "name, email, Slack and Teams ids, time zone and language",
            f"{self.raw_replies} raw replies (messages they sent)",
            f"{self.conversation_references} conversation references",
            f"{self.outbox_rows} outbox rows addressed to them",
            f"{self.comments} comments they wrote (the values stay)",
        ]
        kept = (
            f"{self.updates_kept} updates (values and times), "
            f"{self.key_results_kept} key results they own, "
            f"{self.checkin_rounds_kept} check-in rounds, {self.memberships_kept} team memberships"
        )
        if self.done:
            head = f"Erased the personal data of {self.handle}: they are now {self.pseudonym}."
            remove, keep = "removed", "kept"
        else:
            head = f"Erasing the personal data of {self.handle} ({self.name}) would:"
            remove, keep = "remove", "keep"
        return [
            head,
            *(f"  {remove}: {item}" for item in removed),
            f"  {keep}, anonymised as {self.pseudonym}: {kept}",
        ]


async def _pseudonym(session: AsyncSession, person: Person) -> str:
    if person.handle.startswith(PSEUDONYM_PREFIX) and person.name == person.handle:
        return person.handle  # forgotten before: forgetting again changes nothing
    candidate, n = f"{PSEUDONYM_PREFIX}{person.id}", 1
    while (await find_person(session, candidate)) not in (None, person):
        n += 1
        candidate = f"{PSEUDONYM_PREFIX}{person.id}-{n}"
    return candidate


async def _count(session: AsyncSession, model, condition) -> int:
    query = select(func.count()).select_from(model).where(condition)
    return (await session.execute(query)).scalar_one()


async def forget_person(
    session: AsyncSession, person: Person, *, dry_run: bool = False
) -> ForgetReport:
    """Erase the person's personal data and keep anonymised history (run in a transaction).
    With `dry_run`, only count what would go."""
    replies = await _raw_reply_filter(session, person)
    reply_ids = select(RawReply.id).where(replies)
    references = ConversationReference.person_id == person.id
    outbox = _outbox_filter(person)
    written = (KeyResultUpdate.person_id == person.id) & KeyResultUpdate.comment.is_not(None)
    report = ForgetReport(
        handle=person.handle,
        name=person.name,
        pseudonym=await _pseudonym(session, person),
        raw_replies=await _count(session, RawReply, replies),
        conversation_references=await _count(session, ConversationReference, references),
        outbox_rows=await _count(session, Outbox, outbox),
        comments=await _count(session, KeyResultUpdate, written),
        updates_kept=await _count(session, KeyResultUpdate, KeyResultUpdate.person_id == person.id),
        key_results_kept=await _count(session, KeyResult, KeyResult.owner_id == person.id),
        checkin_rounds_kept=await _count(
            session, CheckinRound, CheckinRound.person_id == person.id
        ),
        memberships_kept=await _count(session, TeamMember, TeamMember.person_id == person.id),
    )
    if dry_run:
        return report
    await session.execute(
        update(KeyResultUpdate)
        .where(KeyResultUpdate.raw_reply_id.in_(reply_ids))
        .values(raw_reply_id=None)
    )
    await session.execute(update(KeyResultUpdate).where(written).values(comment=None))
    await session.execute(delete(RawReply).where(replies))
    await session.execute(delete(ConversationReference).where(references))
    await session.execute(delete(Outbox).where(outbox))
    row = await session.get(Person, person.id)
    row.handle = row.name = report.pseudonym
    row.email = row.slack_id = row.teams_aad_id = None
    row.timezone = row.locale = None
    row.away_until = None
    row.archived = True
    await session.flush()
    report.done = True
    return report


# -- retention -------------------------------------------------------------------------------


async def purge_raw_replies(session: AsyncSession, *, before: datetime) -> int:
    """Delete raw replies received before `before` (history rows keep their values and lose
    only the link to the message). Returns how many were deleted. Run in a transaction."""
    old = RawReply.received_at < before
    await session.execute(
        update(KeyResultUpdate)
        .where(KeyResultUpdate.raw_reply_id.in_(select(RawReply.id).where(old)))
        .values(raw_reply_id=None)
    )
    result = await session.execute(delete(RawReply).where(old))
    return result.rowcount or 0

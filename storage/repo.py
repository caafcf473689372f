"""Read queries the core needs. Each is one statement whatever the number of rows, so an
answer's statement count does not grow with the organisation."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import date

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from storage.models import (
    CheckinRound,
    ConversationReference,
    KeyResult,
    KeyResultUpdate,
    Objective,
    Organization,
    Person,
    RawReply,
    Team,
    TeamMember,
)


async def _all(session: AsyncSession, query) -> list:
    return list((await session.execute(query)).scalars())


async def organization(session: AsyncSession) -> Organization | None:
    return await session.get(Organization, 1)


async def teams(session: AsyncSession) -> list[Team]:
    return await _all(
        session, select(Team).where(Team.archived.is_(False)).order_by(Team.position, Team.id)
    )


# what finding a team by its slug or name needs: light rows with the attributes of a Team
TEAM_INDEX_COLUMNS = (Team.id, Team.slug, Team.name, Team.parent_id, Team.position)


async def team_index(session: AsyncSession) -> list:
    """Every live team as a light row (id, slug, name, parent_id, position), in the order of
    `teams()`: an answer about one team finds it here without loading every team's whole row."""
    query = select(*TEAM_INDEX_COLUMNS).where(Team.archived.is_(False))
    return list(await session.execute(query.order_by(Team.position, Team.id)))


async def person_by(session: AsyncSession, **criteria: str) -> Person | None:
    """One live person by a unique attribute, e.g. `person_by(s, handle="anna")`."""
    ((name, value),) = criteria.items()
    column = getattr(Person, name)
    query = select(Person).where(Person.archived.is_(False))
    if name in ("handle", "email"):
        query = query.where(func.lower(column) == value.lower())
    else:
        query = query.where(column == value)
    return (await session.execute(query.limit(1))).scalars().first()


async def people_by_ids(session: AsyncSession, ids: Iterable[int | None]) -> dict[int, Person]:
    wanted = {i for i in ids if i is not None}
    if not wanted:
        return {}
    rows = await _all(session, select(Person).where(Person.id.in_(wanted)))
    return {p.id: p for p in rows}


def _active(query, today: date):
    return query.where(
        Objective.archived.is_(False),
        Objective.period_start <= today,
        Objective.period_end >= today,
    )


async def active_objectives(
    session: AsyncSession, today: date, *, team_id: int | None = None
) -> list[Objective]:
    query = _active(select(Objective), today)
    if team_id is not None:
        query = query.where(Objective.team_id == team_id)
    return await _all(session, query.order_by(Objective.position, Objective.id))


async def objectives_by_ids(session: AsyncSession, ids: Iterable[int | None]) -> list[Objective]:
    wanted = {i for i in ids if i is not None}
    if not wanted:
        return []
    return await _all(session, select(Objective).where(Objective.id.in_(wanted)))


async def key_results_of(session: AsyncSession, objective_ids: Iterable[int]) -> list[KeyResult]:
    wanted = set(objective_ids)
    if not wanted:
        return []
    query = (
        select(KeyResult)
        .where(KeyResult.objective_id.in_(wanted), KeyResult.archived.is_(False))
        .order_by(KeyResult.position, KeyResult.id)
    )
    return await _all(session, query)


# what progress arithmetic reads: enough for roll-ups without loading whole rows
PROGRESS_COLUMNS = (
    KeyResult.objective_id,
    KeyResult.type,
    KeyResult.start,
    KeyResult.target,
    KeyResult.current,
    KeyResult.min,
    KeyResult.max,
    KeyResult.weight,
    KeyResult.health,
)


async def active_key_result_values(session: AsyncSession, today: date) -> list:
    """The progress columns of every active key result, as light rows (the company tree)."""
    query = _active(
        select(*PROGRESS_COLUMNS).join(Objective, KeyResult.objective_id == Objective.id), today
    ).where(KeyResult.archived.is_(False))
    return list(await session.execute(query.order_by(KeyResult.position, KeyResult.id)))


async def owned_key_results(
    session: AsyncSession, person_id: int, today: date
) -> list[tuple[KeyResult, Objective]]:
    query = _active(
        select(KeyResult, Objective).join(Objective, KeyResult.objective_id == Objective.id), today
    ).where(KeyResult.owner_id == person_id, KeyResult.archived.is_(False))
    rows = await session.execute(query.order_by(KeyResult.position, KeyResult.id))
    return [(kr, obj) for kr, obj in rows]


async def key_result_by_key(session: AsyncSession, key: str) -> KeyResult | None:
    query = select(KeyResult).where(func.lower(KeyResult.key) == key.lower())
    return (await session.execute(query.limit(1))).scalars().first()


async def key_result_keys(session: AsyncSession) -> list[str]:
    query = select(KeyResult.key).where(KeyResult.archived.is_(False)).order_by(KeyResult.position)
    return list((await session.execute(query)).scalars())


async def history(session: AsyncSession, key_result_id: int, limit: int) -> list[KeyResultUpdate]:
    query = (
        select(KeyResultUpdate)
        .where(KeyResultUpdate.key_result_id == key_result_id)
        .order_by(KeyResultUpdate.created_at.desc(), KeyResultUpdate.id.desc())
        .limit(limit)
    )
    return await _all(session, query)


async def led_teams(session: AsyncSession, person_id: int) -> list[Team]:
    query = (
        select(Team)
        .join(TeamMember, TeamMember.team_id == Team.id)
        .where(TeamMember.person_id == person_id, TeamMember.role == "lead")
        .where(Team.archived.is_(False))
        .order_by(Team.position)
    )
    return await _all(session, query)


async def checkin_round(session: AsyncSession, person_id: int, period: str) -> CheckinRound | None:
    query = select(CheckinRound).where(
        CheckinRound.person_id == person_id, CheckinRound.period == period
    )
    return (await session.execute(query)).scalars().first()


async def previous_reply(session: AsyncSession, person_id: int, before_id: int) -> RawReply | None:
    """The member's message before this one (an open question lives on it)."""
    query = (
        select(RawReply)
        .where(RawReply.person_id == person_id, RawReply.id < before_id)
        .order_by(RawReply.id.desc())
        .limit(1)
    )
    return (await session.execute(query)).scalars().first()


async def key_results_for_update(session: AsyncSession, keys: Iterable[str]) -> list[KeyResult]:
    """The rows an answer changes, locked against concurrent answers (PostgreSQL)."""
    query = select(KeyResult).where(KeyResult.key.in_(set(keys))).with_for_update()
    return await _all(session, query)


async def batch(session: AsyncSession, batch_id: str) -> list[KeyResultUpdate]:
    query = select(KeyResultUpdate).where(KeyResultUpdate.batch_id == batch_id)
    return await _all(session, query.order_by(KeyResultUpdate.id))


async def undone(session: AsyncSession, batch_id: str) -> bool:
    query = select(KeyResultUpdate.id).where(KeyResultUpdate.undoes_batch == batch_id).limit(1)
    return (await session.execute(query)).first() is not None


async def latest_updates(
    session: AsyncSession, kr_ids: Iterable[int]
) -> dict[int, KeyResultUpdate]:
    """The newest history row of each key result."""
    wanted = set(kr_ids)
    if not wanted:
        return {}
    newest = (
        select(KeyResultUpdate.key_result_id, func.max(KeyResultUpdate.id).label("id"))
        .where(KeyResultUpdate.key_result_id.in_(wanted))
        .group_by(KeyResultUpdate.key_result_id)
        .subquery()
    )
    query = select(KeyResultUpdate).join(newest, KeyResultUpdate.id == newest.c.id)
    return {u.key_result_id: u for u in await _all(session, query)}


async def leads_of_teams(session: AsyncSession, team_ids: Iterable[int]) -> dict[int, set[int]]:
    wanted = set(team_ids)
    if not wanted:
        return {}
    query = select(TeamMember).where(TeamMember.team_id.in_(wanted), TeamMember.role == "lead")
    leads: dict[int, set[int]] = {}
    for member in await _all(session, query):
        leads.setdefault(member.team_id, set()).add(member.person_id)
    return leads


async def key_results_by_ids(session: AsyncSession, ids: Iterable[int]) -> dict[int, KeyResult]:
    """Key results by id, locked against concurrent answers (PostgreSQL)."""
    query = select(KeyResult).where(KeyResult.id.in_(set(ids))).with_for_update()
    return {kr.id: kr for kr in await _all(session, query)}


async def teams_of(session: AsyncSession, person_id: int) -> list[Team]:
    """The teams a person leads or belongs to, leading first."""
    query = (
        select(Team, TeamMember.role)
        .join(TeamMember, TeamMember.team_id == Team.id)
        .where(TeamMember.person_id == person_id, Team.archived.is_(False))
        .order_by(TeamMember.role, Team.position)
    )
    return [team for team, _ in await session.execute(query)]


async def save_reference(session: AsyncSession, row: ConversationReference) -> None:
    """Insert or refresh the reference of a conversation (one row per platform conversation)."""
    query = select(ConversationReference).where(
        ConversationReference.platform == row.platform,
        ConversationReference.conversation_id == row.conversation_id,
    )
    found = (await session.execute(query)).scalars().first()
    if found is None:
        session.add(row)
        return
    found.reference, found.updated_at = row.reference, row.updated_at
    found.conversation_type = row.conversation_type or found.conversation_type
    found.tenant_id = row.tenant_id or found.tenant_id
    found.person_id = row.person_id or found.person_id


async def personal_reference(
    session: AsyncSession, platform: str, person_id: int
) -> ConversationReference | None:
    """The newest 1:1 conversation the bot has with a person."""
    query = (
        select(ConversationReference)
        .where(
            ConversationReference.platform == platform,
            ConversationReference.person_id == person_id,
            ConversationReference.conversation_type == "personal",
        )
        .order_by(ConversationReference.updated_at.desc())
        .limit(1)
    )
    return (await session.execute(query)).scalars().first()


async def any_reference(session: AsyncSession, platform: str) -> ConversationReference | None:
    """Any conversation the bot has seen on a platform (its service URL and tenant)."""
    query = (
        select(ConversationReference)
        .where(ConversationReference.platform == platform)
        .order_by(ConversationReference.updated_at.desc())
        .limit(1)
    )
    return (await session.execute(query)).scalars().first()


async def conversation_reference(
    session: AsyncSession, platform: str, conversation_id: str
) -> ConversationReference | None:
    """A conversation the bot has seen, by its platform id (e.g. a Teams channel)."""
    query = select(ConversationReference).where(
        ConversationReference.platform == platform,
        ConversationReference.conversation_id == conversation_id,
    )
    return (await session.execute(query.limit(1))).scalars().first()

"""Read queries of `okrbot report`. Each is one statement whatever the number of rows, so a
report's statement count does not grow with the history it covers."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import or_, select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import aliased

from storage.models import CheckinRound, KeyResult, KeyResultUpdate, Objective, Person, Team


async def all_teams(session: AsyncSession) -> list[Team]:
    """Every team, archived ones too: history keeps pointing at them."""
    query = select(Team).order_by(Team.archived, Team.position, Team.id)
    return list((await session.execute(query)).scalars())


async def all_people(session: AsyncSession) -> list[Person]:
    """Everyone, archived people too (their history stays, anonymised)."""
    query = select(Person).order_by(Person.position, Person.id)
    return list((await session.execute(query)).scalars())


async def update_history(
    session: AsyncSession,
    *,
    team_id: int | None = None,
    person_id: int | None = None,
    start: datetime | None = None,
    end: datetime | None = None,
) -> list:
    """History rows with their key result, objective, team, owner and author, oldest first.

    `person_id` keeps the rows the person wrote or of key results they own; `start` is
    inclusive and `end` exclusive."""
    owner = aliased(Person)
    author = aliased(Person)
    query = (
        select(
            KeyResultUpdate.id,
            KeyResultUpdate.created_at,
            KeyResultUpdate.old_value,
            KeyResultUpdate.new_value,
            KeyResultUpdate.health,
            KeyResultUpdate.confidence,
            KeyResultUpdate.comment,
            KeyResultUpdate.source,
            Team.slug.label("team"),
            Objective.key.label("objective"),
            KeyResult.key.label("key_result"),
            KeyResult.title,
            KeyResult.unit,
            KeyResult.type,
            KeyResult.start,
            KeyResult.target,
            KeyResult.min,
            KeyResult.max,
            owner.handle.label("owner"),
            author.handle.label("person"),
        )
        .join(KeyResult, KeyResultUpdate.key_result_id == KeyResult.id)
        .join(Objective, KeyResult.objective_id == Objective.id)
        .join(Team, Objective.team_id == Team.id)
        .join(owner, KeyResult.owner_id == owner.id)
        .outerjoin(author, KeyResultUpdate.person_id == author.id)
    )
    if team_id is not None:
        query = query.where(Objective.team_id == team_id)
    if person_id is not None:
        query = query.where(
            or_(KeyResultUpdate.person_id == person_id, KeyResult.owner_id == person_id)
        )
    if start is not None:
        query = query.where(KeyResultUpdate.created_at >= start)
    if end is not None:
        query = query.where(KeyResultUpdate.created_at < end)
    query = query.order_by(KeyResultUpdate.created_at, KeyResultUpdate.id)
    return list(await session.execute(query))


async def ownership(session: AsyncSession, *, team_id: int | None = None) -> list:
    """Who owns live key results of which team, and the periods of their objectives:
    rows of (team_id, person_id, period_start, period_end), one per key result."""
    query = (
        select(
            Objective.team_id,
            KeyResult.owner_id.label("person_id"),
            Objective.period_start,
            Objective.period_end,
        )
        .join(Objective, KeyResult.objective_id == Objective.id)
        .where(KeyResult.archived.is_(False), Objective.archived.is_(False))
    )
    if team_id is not None:
        query = query.where(Objective.team_id == team_id)
    return list(await session.execute(query))


async def checkin_rounds(session: AsyncSession, first_week: str, last_week: str) -> list:
    """(person_id, period, status) of the rounds from one ISO week label to another."""
    query = select(CheckinRound.person_id, CheckinRound.period, CheckinRound.status).where(
        CheckinRound.period >= first_week, CheckinRound.period <= last_week
    )
    return list(await session.execute(query))


async def own_updates(session: AsyncSession, start: datetime, end: datetime) -> list:
    """(person_id, created_at) of updates people made to key results they own, undo excluded:
    a member's own update is a check-in even without a round row."""
    query = (
        select(KeyResultUpdate.person_id, KeyResultUpdate.created_at)
        .join(KeyResult, KeyResultUpdate.key_result_id == KeyResult.id)
        .where(
            KeyResultUpdate.person_id == KeyResult.owner_id,
            KeyResultUpdate.undoes_batch.is_(None),
            KeyResultUpdate.created_at >= start,
            KeyResultUpdate.created_at < end,
        )
    )
    return list(await session.execute(query))

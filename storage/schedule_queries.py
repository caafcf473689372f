"""What the schedule depends on, in a fixed number of statements whatever the size of the
organisation: the organisation, its live teams, the owners of active key results (when each of
their key results was last updated, and its team), those people, and their check-in rounds of
the weeks that are current in their time zones. `bot.checkin.due` decides from these rows."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from bot.clock import iso_week, local_date
from storage import repo
from storage.models import CheckinRound, KeyResult, Objective, Organization, Person, Team


@dataclass
class ScheduleRows:
    org: Organization | None
    teams: list[Team] = field(default_factory=list)  # live, in file order
    owned: list[tuple[int, datetime | None, int]] = field(default_factory=list)
    people: list[Person] = field(default_factory=list)  # the owners, live
    rounds: dict[int, dict[str, str]] = field(default_factory=dict)  # person -> week -> status
    periods: set[str] = field(default_factory=set)  # the weeks current in someone's zone


async def schedule_rows(session: AsyncSession, now: datetime) -> ScheduleRows:
    org = await repo.organization(session)
    if org is None:
        return ScheduleRows(org=None)
    today = local_date(now, org.timezone)
    teams = list(
        (
            await session.execute(
                select(Team).where(Team.archived.is_(False)).order_by(Team.position, Team.id)
            )
        ).scalars()
    )
    owned = list(
        await session.execute(
            select(KeyResult.owner_id, KeyResult.updated_at, Objective.team_id)
            .join(Objective, KeyResult.objective_id == Objective.id)
            .where(
                KeyResult.archived.is_(False),
                Objective.archived.is_(False),
                Objective.period_start <= today,
                Objective.period_end >= today,
            )
        )
    )
    owners = list({owner_id for owner_id, _, _ in owned})
    people = (
        list(
            (
                await session.execute(
                    select(Person).where(Person.id.in_(owners), Person.archived.is_(False))
                )
            ).scalars()
        )
        if owners
        else []
    )
    zones = {p.timezone or org.timezone for p in people} | {org.timezone}
    periods = {iso_week(now, zone) for zone in zones}
    rounds: dict[int, dict[str, str]] = {}
    if people:
        found = await session.execute(
            select(CheckinRound.person_id, CheckinRound.period, CheckinRound.status).where(
                CheckinRound.person_id.in_([p.id for p in people]),
                CheckinRound.period.in_(periods),
            )
        )
        for person_id, period, status in found:
            rounds.setdefault(person_id, {})[period] = status
    return ScheduleRows(org, teams, [tuple(r) for r in owned], people, rounds, periods)

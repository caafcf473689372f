"""The tick: read what the schedule depends on, ask `plan` what is due, enqueue it.

A fixed number of statements per tick whatever the size of the organisation. The outbox's
unique key makes enqueueing idempotent, so ticks may overlap across replicas.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from bot.clock import local_date
from scheduler.outbox import SENT, OutboxStore
from scheduler.plan import (
    DAYS,
    PROMPT,
    REMINDER,
    Due,
    MemberState,
    Schedule,
    TeamState,
    due_digests,
    due_for_member,
    iso_week,
)
from storage import repo
from storage.models import CheckinRound, KeyResult, Objective, Organization, Person, Team

DEFAULT_CHECKIN = Schedule(day="mon", at=datetime.strptime("09:30", "%H:%M").time())
DEFAULT_DIGEST = Schedule(day="fri", at=datetime.strptime("15:00", "%H:%M").time())


@dataclass
class Situation:
    """Everything the schedule depends on at one moment."""

    org: Organization | None
    members: list[MemberState] = field(default_factory=list)
    people: dict[str, Person] = field(default_factory=dict)  # handle -> person
    teams: list[TeamState] = field(default_factory=list)
    member_teams: dict[str, set[str]] = field(default_factory=dict)  # handle -> team slugs
    org_checkin: Schedule = DEFAULT_CHECKIN
    org_digest: Schedule = DEFAULT_DIGEST
    existing: set[tuple[str, str, str]] = field(default_factory=set)  # outbox keys

    @property
    def zone(self) -> str:
        return self.org.timezone if self.org else "UTC"


def _earliest(schedules: list[Schedule]) -> Schedule:
    return min(schedules, key=lambda s: (DAYS.index(s.day), s.at))


async def situation(session: AsyncSession, now: datetime, store: OutboxStore) -> Situation:
    org = await repo.organization(session)
    if org is None:
        return Situation(org=None)
    org_checkin = Schedule.of(org.checkin, DEFAULT_CHECKIN)
    org_digest = Schedule.of(org.digest, DEFAULT_DIGEST)
    today = local_date(now, org.timezone)
    teams = list(
        (
            await session.execute(
                select(Team).where(Team.archived.is_(False)).order_by(Team.position, Team.id)
            )
        ).scalars()
    )
    by_id = {t.id: t for t in teams}
    owned = await session.execute(
        select(KeyResult.owner_id, KeyResult.updated_at, Objective.team_id)
        .join(Objective, KeyResult.objective_id == Objective.id)
        .where(
            KeyResult.archived.is_(False),
            Objective.archived.is_(False),
            Objective.period_start <= today,
            Objective.period_end >= today,
        )
    )
    updated: dict[int, list] = {}
    team_ids: dict[int, set[int]] = {}
    for owner_id, updated_at, team_id in owned:
        updated.setdefault(owner_id, []).append(updated_at)
        team_ids.setdefault(owner_id, set()).add(team_id)
    people = (
        list(
            (
                await session.execute(
                    select(Person).where(Person.id.in_(list(updated)), Person.archived.is_(False))
                )
            ).scalars()
        )
        if updated
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
    rows = await store.existing(periods)
    by_target: dict[str, list] = {}
    for (kind, target, period), row in rows.items():
        by_target.setdefault(target, []).append((kind, period, row))
    result = Situation(org=org, org_checkin=org_checkin, org_digest=org_digest)
    for person in people:
        slugs = {by_id[t].slug for t in team_ids[person.id] if t in by_id}
        schedules = [
            Schedule.of(by_id[t].checkin, org_checkin) for t in team_ids[person.id] if t in by_id
        ]
        member = MemberState(
            handle=person.handle,
            timezone=person.timezone or org.timezone,
            checkin=_earliest(schedules or [org_checkin]),
            away_until=person.away_until,
            owned_updated_at=updated[person.id],
            round_status=rounds.get(person.id, {}),
        )
        for kind, period, row in by_target.get(person.handle, ()):
            if kind == PROMPT and row.state == SENT and row.sent_at is not None:
                member.prompt_sent_at[period] = row.sent_at
            elif kind == REMINDER:
                member.reminded.add(period)
        result.members.append(member)
        result.people[person.handle] = person
        result.member_teams[person.handle] = slugs
    active_teams = {t for ids in team_ids.values() for t in ids}
    result.teams = [
        TeamState(t.slug, t.channel, Schedule.of(t.digest, org_digest))
        for t in teams
        if t.id in active_teams
    ]
    result.existing = set(rows)
    return result


def due(state: Situation, now: datetime) -> list[Due]:
    """What the tick enqueues: due and not yet in the outbox."""
    if state.org is None:
        return []
    found: list[Due] = []
    for member in state.members:
        found.extend(due_for_member(member, now))
    found.extend(
        due_digests(
            state.teams,
            exec_channel=state.org.exec_channel,
            org_digest=state.org_digest,
            zone=state.zone,
            now=now,
        )
    )
    return [d for d in found if (d.kind, d.target, d.period) not in state.existing]


async def tick(store: OutboxStore, now: datetime) -> list[Due]:
    async with store.db.session() as session:
        state = await situation(session, now, store)
    dues = due(state, now)
    await store.enqueue(dues)
    return dues

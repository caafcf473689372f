"""One read of everything a digest needs (SPEC §6, §8 "Digest"), as plain dataclasses.

`digest_snapshot` sends the same eight statements whatever the size of the organisation: no
query per team, objective, key result or person. A key result's value a week ago comes from a
correlated subquery on the (key result, time) index of the history, inside the one statement
that reads the key results.

The snapshot is a picture, not live rows: `bot/digest/content.py` builds the digest from it without
I/O, and the same snapshot can serve the exec digest and every team digest of one run.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from bot.clock import iso_week, local_date
from storage.models import (
    CheckinRound,
    KeyResult,
    KeyResultUpdate,
    Objective,
    Organization,
    Outbox,
    Person,
    Team,
    TeamMember,
)

WEEK = timedelta(days=7)
CHECKIN_KINDS = ("prompt", "reminder")
UNREACHABLE = "unreachable"  # the start of an outbox error when the bot cannot reach a person


@dataclass(frozen=True, slots=True)
class OrgInfo:
    name: str
    timezone: str
    locale: str
    exec_channel: str | None
    period: str


@dataclass(frozen=True, slots=True)
class TeamInfo:
    id: int
    slug: str
    name: str
    channel: str | None
    parent_id: int | None
    position: int


@dataclass(frozen=True, slots=True)
class ObjectiveInfo:
    id: int
    key: str
    team_id: int
    title: str
    aligned_to_id: int | None
    period: str | None  # as written in the file; None = the organisation's
    period_start: date
    period_end: date


@dataclass(frozen=True, slots=True)
class KeyResultInfo:
    """An active key result, with its value a week ago (`KeyResultLike` for progress)."""

    id: int
    key: str
    objective_id: int
    title: str
    type: str
    unit: str | None
    start: float | None
    target: float | None
    current: float | None
    min: float | None
    max: float | None
    weight: float
    health: str | None
    updated_at: datetime | None
    owner_id: int
    # the newest history value at or before `snapshot.now - 7 days`; the start when none
    week_ago: float | None


@dataclass(frozen=True, slots=True)
class PersonInfo:
    """A person; `timezone` and `locale` already fall back to the organisation's."""

    id: int
    handle: str
    name: str
    timezone: str
    locale: str
    away_until: date | None


@dataclass(frozen=True, slots=True)
class Membership:
    team_id: int
    person_id: int
    role: str  # lead | member


@dataclass(frozen=True, slots=True)
class CheckinInfo:
    """A check-in round of the person's current ISO week (in their own time zone)."""

    person_id: int
    period: str
    status: str  # pending | done | no_change | skipped
    completed_at: datetime | None


@dataclass(frozen=True, slots=True)
class FailedDelivery:
    """A prompt or reminder of the person's current week that failed for good."""

    kind: str  # prompt | reminder
    handle: str
    person_id: int | None
    period: str
    last_error: str

    @property
    def unreachable(self) -> bool:
        return self.last_error.startswith(UNREACHABLE)


@dataclass(frozen=True)
class DigestSnapshot:
    now: datetime
    today: date  # in the organisation's time zone: which objectives are active
    organization: OrgInfo
    teams: tuple[TeamInfo, ...]  # file order, archived ones left out
    objectives: tuple[ObjectiveInfo, ...]  # active, file order
    key_results: tuple[KeyResultInfo, ...]  # of the active objectives, file order
    people: dict[int, PersonInfo]
    memberships: tuple[Membership, ...]
    checkins: tuple[CheckinInfo, ...]
    failed: tuple[FailedDelivery, ...]

    def week_of(self, person: PersonInfo) -> str:
        """The person's check-in period now: the ISO week in their own time zone."""
        return iso_week(self.now, person.timezone)


async def digest_snapshot(session: AsyncSession, now: datetime) -> DigestSnapshot:
    """Everything a digest shows, as of `now`, in a fixed number of statements."""
    org_row = await session.get(Organization, 1)
    if org_row is None:
        raise LookupError("no OKRs have been imported yet")
    org = OrgInfo(
        name=org_row.name,
        timezone=org_row.timezone,
        locale=org_row.locale,
        exec_channel=org_row.exec_channel,
        period=org_row.period,
    )
    today = local_date(now, org.timezone)
    conn = await session.connection()  # plain rows, without the ORM's per-row bookkeeping

    teams = tuple(
        TeamInfo(*row)
        for row in await conn.execute(
            select(Team.id, Team.slug, Team.name, Team.channel, Team.parent_id, Team.position)
            .where(Team.archived.is_(False))
            .order_by(Team.position, Team.id)
        )
    )
    active = (
        Objective.archived.is_(False),
        Objective.period_start <= today,
        Objective.period_end >= today,
    )
    objectives = tuple(
        ObjectiveInfo(*row)
        for row in await conn.execute(
            select(
                Objective.id,
                Objective.key,
                Objective.team_id,
                Objective.title,
                Objective.aligned_to_id,
                Objective.period,
                Objective.period_start,
                Objective.period_end,
            )
            .where(*active)
            .order_by(Objective.position, Objective.id)
        )
    )
    key_results = tuple(
        KeyResultInfo(*row[:-1], week_ago=row.start if row.week_ago is None else row.week_ago)
        for row in await conn.execute(_key_results_query(now - WEEK, active))
    )

    people = {
        row.id: PersonInfo(
            id=row.id,
            handle=row.handle,
            name=row.name,
            timezone=row.timezone or org.timezone,
            locale=row.locale or org.locale,
            away_until=row.away_until,
        )
        for row in await conn.execute(
            select(
                Person.id,
                Person.handle,
                Person.name,
                Person.timezone,
                Person.locale,
                Person.away_until,
            ).order_by(Person.position, Person.id)
        )
    }
    memberships = tuple(
        Membership(*row)
        for row in await conn.execute(
            select(TeamMember.team_id, TeamMember.person_id, TeamMember.role).order_by(
                TeamMember.team_id, TeamMember.position, TeamMember.id
            )
        )
    )

    # each person's current week; people in other zones may already (or still) be in another
    week_of = {pid: iso_week(now, p.timezone) for pid, p in people.items()}
    weeks = sorted(set(week_of.values()) | {iso_week(now, org.timezone)})
    checkins = tuple(
        CheckinInfo(*row)
        for row in await conn.execute(
            select(
                CheckinRound.person_id,
                CheckinRound.period,
                CheckinRound.status,
                CheckinRound.completed_at,
            )
            .where(CheckinRound.period.in_(weeks))
            .order_by(CheckinRound.person_id)
        )
        if week_of.get(row.person_id) == row.period
    )
    by_handle = {p.handle.casefold(): p for p in people.values()}
    failed = []
    for row in await conn.execute(
        select(Outbox.kind, Outbox.target, Outbox.period, Outbox.last_error)
        .where(
            Outbox.kind.in_(CHECKIN_KINDS),
            Outbox.state == "failed",
            Outbox.period.in_(weeks),
        )
        .order_by(Outbox.id)
    ):
        person = by_handle.get(row.target.casefold())
        # a row of a week the person has already left (or not reached yet) is not this week's
        week = week_of[person.id] if person else iso_week(now, org.timezone)
        if row.period == week:
            failed.append(
                FailedDelivery(
                    kind=row.kind,
                    handle=row.target,
                    person_id=person.id if person else None,
                    period=row.period,
                    last_error=row.last_error or "",
                )
            )

    return DigestSnapshot(
        now=now,
        today=today,
        organization=org,
        teams=teams,
        objectives=objectives,
        key_results=key_results,
        people=people,
        memberships=memberships,
        checkins=checkins,
        failed=tuple(failed),
    )


def _key_results_query(cutoff: datetime, active):
    """The active key results and, per row, the newest history value at or before `cutoff`
    (one index probe each on `ix_key_result_update_kr_time`; None when there is none, or when
    that row has no value: both count as the start, which gives the same progress)."""
    newest = (
        select(KeyResultUpdate.new_value)
        .where(
            KeyResultUpdate.key_result_id == KeyResult.id,
            KeyResultUpdate.created_at <= cutoff,
        )
        .order_by(KeyResultUpdate.created_at.desc(), KeyResultUpdate.id.desc())
        .limit(1)
        .correlate(KeyResult)
    )
    return (
        select(
            KeyResult.id,
            KeyResult.key,
            KeyResult.objective_id,
            KeyResult.title,
            KeyResult.type,
            KeyResult.unit,
            KeyResult.start,
            KeyResult.target,
            KeyResult.current,
            KeyResult.min,
            KeyResult.max,
            KeyResult.weight,
            KeyResult.health,
            KeyResult.updated_at,
            KeyResult.owner_id,
            newest.scalar_subquery().label("week_ago"),
        )
        .join(Objective, KeyResult.objective_id == Objective.id)
        .where(*active, KeyResult.archived.is_(False))
        .order_by(KeyResult.position, KeyResult.id)
    )

"""Who and what is due now: prompts, reminders and digests. A core rule: the scheduler is only
the clock that asks, the CLI and doctor ask too. Pure but for `read_situation`, which reads
the rows it decides from (storage's queries) in a fixed number of statements.

The scheduler's tick asks these functions what is due and enqueues it under a unique outbox key
(kind, target, period). Being due is a state, not an event: a tick that runs late, twice, or on
two replicas finds the same answer, and the outbox key makes the second enqueue a no-op. So a
restart in the middle of a round sends what is still due once, and nothing twice.

Rules (SPEC §6, §8):
- A member's prompt is due from the team's check-in day and time in the member's own time zone
  until the end of that ISO week, but only inside the quiet-hours window (Mon-Fri, 08:00-18:00
  local); before the window opens it waits. Away members, and members who already updated every
  key result they own this week (or answered the round), are not prompted.
- One reminder, `remind_after_hours` after the prompt went out, if the member has not answered;
  also only inside the window and within the same week.
- A digest is due from the digest day and time (organisation time zone, or the team's override)
  until the end of that week; a bot that was down over Friday 15:00 sends it once when it
  comes back, the same week only.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy.ext.asyncio import AsyncSession

from bot.checkin.presence import is_away
from bot.clock import iso_week, week_start
from storage.models import OUTBOX_SENT, ROUND_COMPLETED, Organization, Person
from storage.schedule_queries import ScheduleRows, schedule_rows

DAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
WINDOW_START, WINDOW_END = time(8, 0), time(18, 0)
DEFAULT_REMIND_AFTER_HOURS = 24

PROMPT, REMINDER, TEAM_DIGEST, EXEC_DIGEST = "prompt", "reminder", "team_digest", "exec_digest"
EXEC_TARGET = "exec"


@dataclass(frozen=True)
class Schedule:
    day: str
    at: time
    remind_after_hours: int | None = None

    @classmethod
    def of(cls, spec: Mapping | None, fallback: Schedule) -> Schedule:
        """From the stored OKR-file form `{day, time, remind_after_hours}`; None = fallback."""
        if not spec:
            return fallback
        hours, minutes = (int(part) for part in str(spec["time"]).split(":"))
        return cls(
            day=str(spec["day"]),
            at=time(hours, minutes),
            remind_after_hours=spec.get("remind_after_hours") or fallback.remind_after_hours,
        )


@dataclass
class MemberState:
    """One person who owns active key results, as the tick sees them."""

    handle: str
    timezone: str
    checkin: Schedule  # the earliest of the schedules of the teams whose key results they own
    away_until: date | None = None
    owned_updated_at: list[datetime | None] = field(default_factory=list)
    round_status: dict[str, str] = field(default_factory=dict)  # period -> checkin_round status
    prompt_sent_at: dict[str, datetime] = field(default_factory=dict)  # period -> sent
    reminded: set[str] = field(default_factory=set)  # periods with a reminder row


@dataclass(frozen=True)
class TeamState:
    slug: str
    channel: str | None
    digest: Schedule


@dataclass(frozen=True)
class Due:
    kind: str
    target: str
    period: str


def scheduled_moment(moment: datetime, zone: str, schedule: Schedule) -> datetime:
    """The schedule's day and time in the moment's ISO week, local to `zone`. A wall time that
    does not exist (the spring-forward gap) is read with the offset before the change, so it
    lands an hour later; a repeated one (autumn) is the first of the two."""
    monday = week_start(moment, zone).date()
    day = monday + timedelta(days=DAYS.index(schedule.day))
    naive = datetime.combine(day, schedule.at)
    return _resolve_wall_time(naive, ZoneInfo(zone))


def _resolve_wall_time(naive: datetime, zone: ZoneInfo) -> datetime:
    aware = naive.replace(tzinfo=zone, fold=0)
    roundtrip = aware.astimezone(ZoneInfo("UTC")).astimezone(zone).replace(tzinfo=None)
    if roundtrip != naive:  # in the gap: fold=0 means "as if before the change"
        return aware.astimezone(ZoneInfo("UTC")).astimezone(zone)
    return aware


def in_window(moment: datetime, zone: str) -> bool:
    """Quiet hours: scheduled prompts and reminders only Mon-Fri, 08:00-18:00 local."""
    local = moment.astimezone(ZoneInfo(zone))
    return local.weekday() < 5 and WINDOW_START <= local.time() < WINDOW_END


def next_window(moment: datetime, zone: str) -> datetime:
    """The first moment at or after `moment` inside the quiet-hours window."""
    local = moment.astimezone(ZoneInfo(zone))
    for offset in range(8):
        day = local.date() + timedelta(days=offset)
        if day.weekday() >= 5:
            continue
        opens = _resolve_wall_time(datetime.combine(day, WINDOW_START), ZoneInfo(zone))
        closes = _resolve_wall_time(datetime.combine(day, WINDOW_END), ZoneInfo(zone))
        if moment < closes:
            return max(moment, opens)
    raise AssertionError("a working day comes within a week")


def _answered(member: MemberState, period: str, now: datetime) -> bool:
    """The member answered this week's round, or updated every key result they own."""
    if member.round_status.get(period) in ROUND_COMPLETED:
        return True
    since = week_start(now, member.timezone)
    updated = member.owned_updated_at
    return bool(updated) and all(u is not None and u >= since for u in updated)


def due_for_member(member: MemberState, now: datetime) -> list[Due]:
    period = iso_week(now, member.timezone)
    if is_away(member.away_until, now, member.timezone) or _answered(member, period, now):
        return []
    if not in_window(now, member.timezone):
        return []
    sent = member.prompt_sent_at.get(period)
    if sent is None:
        if now >= scheduled_moment(now, member.timezone, member.checkin):
            return [Due(PROMPT, member.handle, period)]
        return []
    hours = member.checkin.remind_after_hours or DEFAULT_REMIND_AFTER_HOURS
    if period not in member.reminded and now >= sent + timedelta(hours=hours):
        return [Due(REMINDER, member.handle, period)]
    return []


def due_digests(
    teams: Iterable[TeamState],
    *,
    exec_channel: str | None,
    org_digest: Schedule,
    zone: str,
    now: datetime,
) -> list[Due]:
    period = iso_week(now, zone)
    due = []
    if exec_channel and now >= scheduled_moment(now, zone, org_digest):
        due.append(Due(EXEC_DIGEST, EXEC_TARGET, period))
    for team in teams:
        if team.channel and now >= scheduled_moment(now, zone, team.digest):
            due.append(Due(TEAM_DIGEST, team.slug, period))
    return due


def next_prompt(member: MemberState, now: datetime) -> datetime | None:
    """When this member's next scheduled prompt goes out: the first moment, from the check-in
    time on, inside the quiet-hours window of the same ISO week and not while away. None when
    no such moment comes within three weeks (e.g. a check-in day on a weekend)."""
    zone = member.timezone
    for weeks in range(3):
        base = now + timedelta(days=7 * weeks)
        period = iso_week(base, zone)
        if weeks == 0 and (member.prompt_sent_at.get(period) or _answered(member, period, now)):
            continue
        moment = scheduled_moment(base, zone, member.checkin)
        at = next_window(max(moment, now), zone)
        if iso_week(at, zone) != period:
            continue  # the window closed before the check-in time: no prompt that week
        if is_away(member.away_until, at, zone):
            continue
        return at
    return None


def next_digest(schedule: Schedule, zone: str, now: datetime, sent_this_week: bool) -> datetime:
    moment = scheduled_moment(now, zone, schedule)
    if sent_this_week:
        moment = scheduled_moment(now + timedelta(days=7), zone, schedule)
    return max(moment, now)


# -- the situation: what the schedule depends on at one moment ---------------------------------
DEFAULT_CHECKIN = Schedule(day="mon", at=time(9, 30))
DEFAULT_DIGEST = Schedule(day="fri", at=time(15, 0))


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


def situation_of(rows: ScheduleRows, outbox: Mapping[tuple[str, str, str], object]) -> Situation:
    """The situation from the schedule's rows and this week's outbox rows by key (each with its
    `state` and `sent_at`)."""
    org = rows.org
    if org is None:
        return Situation(org=None)
    org_checkin = Schedule.of(org.checkin, DEFAULT_CHECKIN)
    org_digest = Schedule.of(org.digest, DEFAULT_DIGEST)
    by_id = {t.id: t for t in rows.teams}
    updated: dict[int, list] = {}
    team_ids: dict[int, set[int]] = {}
    for owner_id, updated_at, team_id in rows.owned:
        updated.setdefault(owner_id, []).append(updated_at)
        team_ids.setdefault(owner_id, set()).add(team_id)
    by_target: dict[str, list] = {}
    for (kind, target, period), row in outbox.items():
        by_target.setdefault(target, []).append((kind, period, row))
    result = Situation(org=org, org_checkin=org_checkin, org_digest=org_digest)
    for person in rows.people:
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
            round_status=rows.rounds.get(person.id, {}),
        )
        for kind, period, row in by_target.get(person.handle, ()):
            if kind == PROMPT and row.state == OUTBOX_SENT and row.sent_at is not None:
                member.prompt_sent_at[period] = row.sent_at
            elif kind == REMINDER:
                member.reminded.add(period)
        result.members.append(member)
        result.people[person.handle] = person
        result.member_teams[person.handle] = slugs
    active_teams = {t for ids in team_ids.values() for t in ids}
    result.teams = [
        TeamState(t.slug, t.channel, Schedule.of(t.digest, org_digest))
        for t in rows.teams
        if t.id in active_teams
    ]
    result.existing = set(outbox)
    return result


async def read_situation(session: AsyncSession, now: datetime, outbox) -> Situation:
    """The situation now: the schedule's rows (storage) and the outbox's rows of those weeks
    (`outbox.existing(periods)`, the outbox store the caller was given)."""
    rows = await schedule_rows(session, now)
    if rows.org is None:
        return Situation(org=None)
    return situation_of(rows, await outbox.existing(rows.periods))


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

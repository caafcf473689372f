"""Digest content (SPEC §6, §8 "Digest"): the exec headline, one part per team, the chart data.

Pure: built from a `DigestSnapshot` (storage/digest_queries.py) and `now`; no I/O. The rules:

* Progress is a whole percent; a change is the difference of the whole percents now and a week
  ago ("points"): "42% (+8)" means 34% a week ago.
* An objective's own progress is the weighted mean of its key results; the company objectives
  (active objectives of the root teams that support nothing) show their roll-up along
  `aligned_to`. A team's progress is the mean of its objectives' own progress, as `okr <team>`.
* At risk: health at_risk / off_track, or more than 25 points behind the objective's pace;
  stale: no update for 14 days (or never).
* Check-ins: the people asked are the owners of the team's active key results who are not away;
  one has checked in with a completed round this week (done, no change, skipped) or an update
  of a key result they own this week, both in the person's own time zone.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from bot.checkin.presence import is_away
from bot.clock import iso_week, week_start
from bot.digest.chart import ChartBar, ChartData
from bot.i18n import health_label, t
from bot.i18n.formats import format_date, format_percent, with_unit
from bot.messages import HEALTH_EMOJI, Message, ProgressRow, Section
from bot.progress import (
    as_percent,
    expected_progress,
    is_at_risk,
    kr_progress,
    rollup,
    weighted_progress,
)
from storage.digest_queries import DigestSnapshot, KeyResultInfo, ObjectiveInfo, TeamInfo
from storage.models import ROUND_COMPLETED

STALE_AFTER = timedelta(days=14)
MOVERS = 5  # key results in "biggest movers"
AT_RISK_SHOWN = 5  # key results listed under "at risk" in the headline


@dataclass(frozen=True)
class TeamDigest:
    slug: str
    name: str
    channel: str | None  # where the team's own digest goes
    message: Message


@dataclass(frozen=True)
class Digest:
    headline: Message
    teams: list[TeamDigest]
    chart: ChartData


@dataclass(frozen=True, slots=True)
class _Kr:
    kr: KeyResultInfo
    objective: ObjectiveInfo
    progress: float
    before: float  # progress a week ago
    expected: float
    at_risk: bool
    stale: bool
    percent: int  # whole percent now
    change: int  # points since last week


@dataclass(frozen=True)
class _AsOf:  # a key result as it stood a week ago, for the progress functions
    kr: KeyResultInfo

    def __getattr__(self, name: str):
        return self.kr.week_ago if name == "current" else getattr(self.kr, name)


class _Figures:
    """The numbers of one snapshot at one moment, computed once for every part."""

    def __init__(self, snap: DigestSnapshot, now: datetime) -> None:
        self.snap, self.now = snap, now
        self.teams = {tm.id: tm for tm in snap.teams}
        self.objectives = {o.id: o for o in snap.objectives}
        self.krs: dict[int, list[_Kr]] = {o.id: [] for o in snap.objectives}
        paces = {o.id: self.expected(o) for o in snap.objectives}
        for kr in snap.key_results:
            objective = self.objectives[kr.objective_id]
            progress, expected = kr_progress(kr), paces[objective.id]
            same = kr.week_ago == kr.current  # most key results: no change this week
            before = progress if same else kr_progress(_AsOf(kr))
            at_risk = is_at_risk(progress, expected, kr.health)
            stale = kr.updated_at is None or now - kr.updated_at >= STALE_AFTER
            percent = _whole(progress)
            change = 0 if same else percent - _whole(before)
            item = _Kr(kr, objective, progress, before, expected, at_risk, stale, percent, change)
            self.krs[objective.id].append(item)
        self.own = {o: _weighted(krs, now=True) for o, krs in self.krs.items()}
        self.ago = {o: _weighted(krs, now=False) for o, krs in self.krs.items()}
        aligned = {o.id: o.aligned_to_id for o in snap.objectives}
        self.rolled, self.rolled_ago = rollup(self.own, aligned), rollup(self.ago, aligned)
        self.by_team: dict[int, list[ObjectiveInfo]] = {}
        for o in snap.objectives:
            self.by_team.setdefault(o.team_id, []).append(o)
        self.pace = self.expected(snap.objectives[0]) if snap.objectives else None
        self.members: dict[int, set[int]] = {}
        for m in snap.memberships:
            self.members.setdefault(m.team_id, set()).add(m.person_id)
        self.checked = {c.person_id for c in snap.checkins if c.status in ROUND_COMPLETED}
        starts: dict[int, datetime] = {}  # an update of one's own key result this week counts
        for kr in snap.key_results:
            owner = snap.people.get(kr.owner_id)
            if owner is None or kr.updated_at is None or owner.id in self.checked:
                continue
            if owner.id not in starts:
                starts[owner.id] = week_start(now, owner.timezone)
            if kr.updated_at >= starts[owner.id]:
                self.checked.add(owner.id)

    def expected(self, objective: ObjectiveInfo) -> float:
        return expected_progress(objective.period_start, objective.period_end, self.snap.today)

    def team(self, team_id: int) -> tuple[float | None, float | None]:
        """A team's progress now and a week ago: the mean of its objectives' own."""
        ids = [o.id for o in self.by_team.get(team_id, [])]
        return _mean([self.own[i] for i in ids]), _mean([self.ago[i] for i in ids])

    def team_krs(self, team_id: int) -> list[_Kr]:
        return [item for o in self.by_team.get(team_id, []) for item in self.krs[o.id]]

    def away(self, person_id: int) -> bool:
        person = self.snap.people[person_id]
        return is_away(person.away_until, self.now, person.timezone)

    def rate(self, owners: set[int]) -> tuple[int, int, list[int]]:
        """(checked in, asked, ids of those who have not) among these owners."""
        asked = [p for p in owners if p in self.snap.people and not self.away(p)]
        missing = [p for p in asked if p not in self.checked]
        return len(asked) - len(missing), len(asked), missing


def _weighted(items: list[_Kr], *, now: bool) -> float | None:
    return weighted_progress((i.kr.weight, i.progress if now else i.before) for i in items)


def _whole(progress: float) -> int:
    """`as_percent`, without its decimal arithmetic unless the value is near a half percent."""
    x = progress * 100 + 0.5
    whole = math.floor(x)
    return whole if 1e-6 < x - whole < 1 - 1e-6 else as_percent(progress)


def _mean(values: list[float | None]) -> float | None:
    present = [v for v in values if v is not None]
    return sum(present) / len(present) if present else None


def _points(value: int | None) -> str:  # "+8", "−3", "±0"; "–" for no value
    return "–" if value is None else (f"{value:+d}".replace("-", "−") if value else "±0")


def _diff(now: float | None, before: float | None) -> int | None:
    return None if now is None or before is None else as_percent(now) - as_percent(before)


def _names(f: _Figures, ids) -> str:
    return ", ".join(sorted((f.snap.people[i].name for i in ids), key=str.casefold))


# -- a team's part ------------------------------------------------------------------------------
def _kr_line(item: _Kr, loc: str, now: datetime) -> str:
    kr, percent = item.kr, with_unit(str(item.percent), "%", loc)
    line = t(
        loc, "digest.kr", key=kr.key, title=kr.title, percent=percent, change=_points(item.change)
    )
    if kr.health:
        line += f" · {HEALTH_EMOJI.get(kr.health, '')} {health_label(loc, kr.health)}"
    if item.at_risk and kr.health not in ("at_risk", "off_track"):
        line += " · " + _behind(item, loc)
    if item.stale and kr.updated_at is None:
        line += " · " + t(loc, "digest.never")
    elif item.stale:
        line += " · " + t(loc, "digest.stale", n=(now - kr.updated_at).days)
    return line


def _behind(item: _Kr, loc: str) -> str:
    return t(loc, "digest.behind", n=as_percent(item.expected) - item.percent)


def _people_fields(f: _Figures, team_id: int, loc: str) -> tuple[tuple[str, str], ...]:
    """Check-in rate, who has not checked in, who is away, who cannot be reached."""
    owners = {item.kr.owner_id for item in f.team_krs(team_id)}
    everyone = owners | f.members.get(team_id, set())
    everyone &= set(f.snap.people)
    done, asked, missing = f.rate(owners)
    fields = [(t(loc, "digest.checkins"), _rate(done, asked, loc))]
    if missing:
        fields.append((t(loc, "digest.not_checked_in"), _names(f, missing)))
    away = sorted(
        (f.snap.people[p] for p in everyone if f.away(p)), key=lambda p: p.name.casefold()
    )
    if away:
        fields.append((t(loc, "digest.away"), ", ".join(_away(p, loc) for p in away)))
    failed = [d for d in f.snap.failed if d.person_id in everyone]
    unreachable = {d.person_id for d in failed if d.unreachable}
    if unreachable:
        fields.append((t(loc, "digest.unreachable"), _names(f, unreachable)))
    other = {d.person_id: d.last_error.split(":")[0].strip() or "?" for d in reversed(failed)}
    other = {p: error for p, error in other.items() if p not in unreachable}
    if other:
        named = sorted((f.snap.people[p].name, error) for p, error in other.items())
        text = ", ".join(f"{name} ({error})" for name, error in named)
        fields.append((t(loc, "digest.failed_people"), text))
    return tuple(fields)


def _rate(done: int, asked: int, loc: str) -> str:
    percent = format_percent(done / asked if asked else None, loc)
    return t(loc, "digest.rate", done=done, asked=asked, percent=percent)


def _away(person, loc: str) -> str:
    until = person.away_until
    if until is None or until.year >= 9999:  # away until `okr back`
        return person.name
    moment = datetime(until.year, until.month, until.day, 12, tzinfo=UTC)
    return t(loc, "digest.away_until", name=person.name, date=format_date(moment, loc))


def _team_message(f: _Figures, team: TeamInfo, loc: str) -> Message:
    objectives = f.by_team.get(team.id, [])
    if not objectives:
        text = t(loc, "team.no_objectives", team=team.name)
        return Message(locale=loc, title=team.name, text=text, ephemeral=False)
    sections = []
    for o in objectives:
        lines = []
        parent = f.objectives.get(o.aligned_to_id)
        if parent is not None:
            owner = f.teams[parent.team_id].name if parent.team_id in f.teams else "?"
            lines.append(t(loc, "team.supports", key=parent.key, title=parent.title, team=owner))
        lines.extend(_kr_line(item, loc, f.now) for item in f.krs[o.id])
        percent, change = format_percent(f.own[o.id], loc), _points(_diff(f.own[o.id], f.ago[o.id]))
        title = t(loc, "digest.objective", key=o.key, title=o.title, percent=percent, change=change)
        sections.append(Section(title=title, text="\n".join(lines) or None))
    sections.append(Section(title=t(loc, "digest.people"), fields=_people_fields(f, team.id, loc)))
    items = f.team_krs(team.id)
    at_risk, stale = sum(i.at_risk for i in items), sum(i.stale for i in items)
    now, before = f.team(team.id)
    percent, change = format_percent(now, loc), _points(_diff(now, before))
    return Message(
        locale=loc,
        title=t(loc, "digest.team.title", team=team.name, percent=percent, change=change),
        text=t(loc, "digest.team.summary", krs=len(items), at_risk=at_risk, stale=stale),
        sections=tuple(sections),
        context=(t(loc, "digest.legend", elapsed=format_percent(f.expected(objectives[0]), loc)),),
        ephemeral=False,
    )


# -- the headline -------------------------------------------------------------------------------
def _company_objectives(f: _Figures) -> list[ObjectiveInfo]:
    """The top of the roll-up: root teams' objectives that support nothing (else all such)."""
    top = [o for o in f.snap.objectives if o.aligned_to_id not in f.objectives]
    roots = {tm.id for tm in f.snap.teams if tm.parent_id not in f.teams}
    return [o for o in top if o.team_id in roots] or top


def _kr_words(item: _Kr, f: _Figures, loc: str) -> dict:
    team = f.teams[item.objective.team_id].name if item.objective.team_id in f.teams else "?"
    percent = with_unit(str(item.percent), "%", loc)
    return {"key": item.kr.key, "title": item.kr.title, "team": team, "percent": percent}


def _mover_line(item: _Kr, f: _Figures, loc: str) -> str:
    arrow, change = "▲" if item.change > 0 else "▼", _points(item.change)
    return t(loc, "digest.mover", arrow=arrow, change=change, **_kr_words(item, f, loc))


def _risk_line(item: _Kr, f: _Figures, loc: str) -> str:
    health = item.kr.health
    risky = health in ("at_risk", "off_track")
    why = f"{HEALTH_EMOJI[health]} {health_label(loc, health)}" if risky else _behind(item, loc)
    return t(loc, "digest.risk", why=why, **_kr_words(item, f, loc))


def _headline(f: _Figures, week: str, loc: str) -> Message:
    snap, org = f.snap, f.snap.organization.name
    title = t(loc, "digest.title", org=org, week=week)
    if not snap.objectives:
        return Message(locale=loc, title=title, text=t(loc, "tree.empty"), ephemeral=False)
    company = _company_objectives(f)
    overall = _mean([f.rolled[o.id] for o in company])
    change = _points(_diff(overall, _mean([f.rolled_ago[o.id] for o in company])))
    text = t(loc, "digest.company", org=org, percent=format_percent(overall, loc), change=change)
    rows = []
    for o in company:
        progress, change = f.rolled[o.id], _points(_diff(f.rolled[o.id], f.rolled_ago[o.id]))
        note = t(loc, "digest.change_note", change=change)
        rows.append(ProgressRow(o.key, o.title, progress, format_percent(progress, loc), note=note))
    items = [item for o in snap.objectives for item in f.krs[o.id]]  # file order
    movers = sorted(
        (i for i in items if i.change), key=lambda i: (-abs(i.change), -abs(i.progress - i.before))
    )
    severity = {"off_track": 0, "at_risk": 1}
    risky = sorted(
        (i for i in items if i.at_risk),
        key=lambda i: (severity.get(i.kr.health, 2), i.progress - i.expected),
    )
    risk_lines = [_risk_line(i, f, loc) for i in risky[:AT_RISK_SHOWN]]
    if len(risky) > AT_RISK_SHOWN:
        risk_lines.append(t(loc, "digest.more", n=len(risky) - AT_RISK_SHOWN))
    done, asked, _ = f.rate({kr.owner_id for kr in snap.key_results})
    fields = [(t(loc, "digest.checkins"), _rate(done, asked, loc))]
    if snap.failed:
        unreachable = len({d.handle.casefold() for d in snap.failed if d.unreachable})
        count = t(loc, "digest.failed_count", n=len(snap.failed), unreachable=unreachable)
        fields.append((t(loc, "digest.failed"), count))
    moved = "\n".join(_mover_line(i, f, loc) for i in movers[:MOVERS])
    risk = "\n".join(risk_lines) or t(loc, "digest.at_risk_none")
    sections = (
        Section(title=t(loc, "digest.company_objectives"), rows=tuple(rows)),
        Section(title=t(loc, "digest.movers"), text=moved or t(loc, "digest.movers_none")),
        Section(title=t(loc, "digest.at_risk", n=len(risky), total=len(items)), text=risk),
        Section(fields=tuple(fields)),
    )
    legend = t(loc, "digest.legend", elapsed=format_percent(f.pace, loc))
    return Message(
        locale=loc, title=title, text=text, sections=sections, context=(legend,), ephemeral=False
    )


def _chart(f: _Figures, week: str, loc: str) -> ChartData:
    teams, objectives = [], []
    for tm in f.snap.teams:
        if tm.id not in f.by_team:
            continue
        level, up, seen = 0, tm.parent_id, {tm.id}
        while up in f.teams and up not in seen:  # depth under the root team(s)
            seen.add(up)
            level, up = level + 1, f.teams[up].parent_id
        now, before = f.team(tm.id)
        teams.append(ChartBar(tm.name, as_percent(now or 0.0), _diff(now, before), level))
        for o in f.by_team[tm.id]:
            own, change = f.own[o.id], _diff(f.own[o.id], f.ago[o.id])
            label = f"{o.key} {o.title}"
            objectives.append(ChartBar(label, as_percent(own or 0.0), change, team=tm.name))
    return ChartData(
        title=t(loc, "digest.chart.title", org=f.snap.organization.name, week=week),
        axis=t(loc, "digest.chart.axis"),
        teams=tuple(teams),
        objectives=tuple(objectives),
        pace=as_percent(f.pace),
        pace_label=t(loc, "digest.chart.pace", percent=format_percent(f.pace, loc)),
        objectives_title=t(loc, "digest.chart.objectives"),
    )


# -- public -------------------------------------------------------------------------------------
def exec_digest(snapshot: DigestSnapshot, now: datetime, locale: str | None = None) -> Digest:
    """The exec digest: the headline, one part per team with active objectives (file order)
    and the chart's numbers; text in `locale` (default: the organisation's)."""
    loc = locale or snapshot.organization.locale
    f = _Figures(snapshot, now)
    week = iso_week(now, snapshot.organization.timezone)
    teams = [
        TeamDigest(tm.slug, tm.name, tm.channel, _team_message(f, tm, loc))
        for tm in snapshot.teams
        if tm.id in f.by_team
    ]
    return Digest(headline=_headline(f, week, loc), teams=teams, chart=_chart(f, week, loc))


def team_digest(
    snapshot: DigestSnapshot, slug: str, now: datetime, locale: str | None = None
) -> Message:
    """One team's digest (the detail of its thread reply in the exec digest), by slug.
    Raises KeyError for a slug that is not a live team of the snapshot."""
    team = next((tm for tm in snapshot.teams if tm.slug.casefold() == slug.casefold()), None)
    if team is None:
        raise KeyError(slug)
    return _team_message(_Figures(snapshot, now), team, locale or snapshot.organization.locale)


def full_message(digest: Digest) -> Message:
    """The whole exec digest as one message (`okr digest`): the headline, then every part."""
    head = digest.headline
    sections = list(head.sections)
    for part in digest.teams:
        sections.append(Section(title=f"▸ {part.message.title}", text=part.message.text))
        sections.extend(part.message.sections)
    return Message(
        locale=head.locale,
        title=head.title,
        text=head.text,
        sections=tuple(sections),
        context=head.context,
    )

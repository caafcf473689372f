"""`okrbot report`: the history of updates and the check-in rate, as CSV, JSON or Markdown.

Pure functions: rows in, text out. The queries are storage/report_queries.py; bot/cli_report.py
runs them and hands the rows over.

Updates, one row per history row (CSV columns, JSON keys): see :data:`COLUMNS`. `time` is ISO 8601
in the organisation's time zone; `person` is who wrote the update (empty for `api` and `import`);
`progress` is the key result's progress right after the update, in whole percent.

Check-in rate, per ISO week (see :data:`RATE_COLUMNS`):
* a person is **expected** in a week for a team when they own a live key result of one of the
  team's objectives whose period overlaps that week (Monday to Sunday);
* their week (ISO week in their own time zone, as check-ins are) is **done** when their check-in
  round of that week is done or they updated a key result they own that week, else
  **no_change** or **skipped** as they answered, else **missing**;
* checked in = done + no_change + skipped (the person answered that week; `skipped` is also
  counted on its own); rate = checked in / expected, in whole percent, as the digests count it.
  Rows with week `total` sum the weeks.
"""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

from bot.clock import iso_week, monday_of
from bot.progress import as_percent, kr_progress
from storage.models import ROUND_DONE, ROUND_NO_CHANGE, ROUND_SKIPPED

FORMATS = ("csv", "json", "md")
COLUMNS = (
    "time",
    "team",
    "objective",
    "key_result",
    "title",
    "owner",
    "person",
    "old_value",
    "new_value",
    "unit",
    "progress",
    "health",
    "confidence",
    "source",
    "comment",
)
RATE_COLUMNS = (
    "week",
    "team",
    "person",
    "expected",
    "checked_in",
    "skipped",
    "missing",
    "rate",
    "status",
)
DONE, NO_CHANGE, SKIPPED, MISSING = ROUND_DONE, ROUND_NO_CHANGE, ROUND_SKIPPED, "missing"
TOTAL = "total"
RATE_DEFINITION = (
    "Expected: owns a key result of the team whose objective's period overlaps the week. "
    "Checked in: the week's check-in is done (or an own key result was updated), or was "
    "answered with no change or skip. Rate = checked in / expected."
)


@dataclass(frozen=True)
class Week:
    label: str  # "2026-W47"
    monday: date
    sunday: date


def weeks_between(first: date, last: date) -> list[Week]:
    """The ISO weeks from the one holding `first` to the one holding `last`."""
    monday = monday_of(first)
    weeks = []
    while monday <= last:
        year, number, _ = monday.isocalendar()
        weeks.append(Week(f"{year}-W{number:02d}", monday, monday + timedelta(days=6)))
        monday += timedelta(weeks=1)
    return weeks


@dataclass(frozen=True)
class _Values:
    """What progress arithmetic reads, with the value of one update as `current`."""

    type: str | None
    start: float | None
    target: float | None
    current: float | None
    min: float | None
    max: float | None
    weight: float = 1.0


def update_line(row, timezone: str) -> dict:
    """One history row (from `report_queries.update_history`) as a record of :data:`COLUMNS`."""
    values = _Values(row.type, row.start, row.target, row.new_value, row.min, row.max)
    return {
        "time": row.created_at.astimezone(ZoneInfo(timezone)).isoformat(timespec="seconds"),
        "team": row.team,
        "objective": row.objective,
        "key_result": row.key_result,
        "title": row.title,
        "owner": row.owner,
        "person": row.person,
        "old_value": _number(row.old_value),
        "new_value": _number(row.new_value),
        "unit": row.unit,
        "progress": as_percent(kr_progress(values)) if row.new_value is not None else None,
        "health": row.health,
        "confidence": _number(row.confidence),
        "source": row.source,
        "comment": row.comment,
    }


def _number(value: float | None) -> float | int | None:
    if value is not None and float(value).is_integer():
        return int(value)
    return value


# -- check-in rate --------------------------------------------------------------------------------
@dataclass(frozen=True)
class Ownership:
    team: str  # slug
    person: str  # handle
    start: date  # the objective's period
    end: date


@dataclass
class RateRow:
    week: str
    team: str | None
    person: str | None
    expected: int = 0
    checked_in: int = 0
    skipped: int = 0
    missing: int = 0
    status: str | None = None  # a person's week: done | no_change | skipped | missing

    @property
    def rate(self) -> int | None:
        return as_percent(self.checked_in / self.expected) if self.expected else None

    def count(self, status: str) -> None:
        self.expected += 1
        if status in (DONE, NO_CHANGE, SKIPPED):
            self.checked_in += 1
            if status == SKIPPED:
                self.skipped += 1
        else:
            self.missing += 1

    def as_record(self) -> dict:
        return {name: getattr(self, name) for name in RATE_COLUMNS}


def week_statuses(
    rounds: Iterable[tuple[str, str, str]],
    own_updates: Iterable[tuple[str, datetime]],
    zones: dict[str, str],
) -> dict[tuple[str, str], str]:
    """(handle, week label) -> done | no_change | skipped, from check-in rounds
    (handle, period, status) and own updates (handle, time) in each person's zone."""
    found: dict[tuple[str, str], str] = {}
    for handle, period, status in rounds:
        if status in (DONE, NO_CHANGE, SKIPPED):
            found[(handle, period)] = status
    for handle, when in own_updates:
        found[(handle, iso_week(when, zones[handle]))] = DONE
    return found


def checkin_rates(
    weeks: list[Week],
    owners: Iterable[Ownership],
    statuses: dict[tuple[str, str], str],
    team_order: list[str],
    person_order: list[str],
) -> tuple[list[RateRow], list[RateRow]]:
    """Rows per team and per person for each week (in the given orders), then their totals."""
    owners = list(owners)
    team_rank = {slug: n for n, slug in enumerate(team_order)}
    person_rank = {handle: n for n, handle in enumerate(person_order)}
    team_rows: list[RateRow] = []
    person_rows: list[RateRow] = []
    team_totals: dict[str, RateRow] = {}
    person_totals: dict[str, RateRow] = {}
    for week in weeks:
        expected: dict[str, set[str]] = {}  # team -> people
        for o in owners:
            if o.start <= week.sunday and o.end >= week.monday:
                expected.setdefault(o.team, set()).add(o.person)
        teams_of: dict[str, list[str]] = {}
        for team in sorted(expected, key=team_rank.__getitem__):
            row = RateRow(week.label, team, None)
            for person in sorted(expected[team], key=person_rank.__getitem__):
                status = statuses.get((person, week.label), MISSING)
                row.count(status)
                team_totals.setdefault(team, RateRow(TOTAL, team, None)).count(status)
                teams_of.setdefault(person, []).append(team)
            team_rows.append(row)
        for person in sorted(teams_of, key=person_rank.__getitem__):
            status = statuses.get((person, week.label), MISSING)
            row = RateRow(week.label, " ".join(teams_of[person]), person, status=status)
            row.count(status)
            person_rows.append(row)
            total = person_totals.setdefault(person, RateRow(TOTAL, None, person))
            total.count(status)
    team_rows += [team_totals[t] for t in sorted(team_totals, key=team_rank.__getitem__)]
    person_rows += [person_totals[p] for p in sorted(person_totals, key=person_rank.__getitem__)]
    return team_rows, person_rows


# -- the report and its formats -----------------------------------------------------------------
@dataclass
class Report:
    organization: str
    timezone: str
    filters: dict  # team, person, since, until as given (None when not)
    updates: list[dict] = field(default_factory=list)  # records of COLUMNS
    weeks: list[str] = field(default_factory=list)
    teams: list[RateRow] = field(default_factory=list)
    people: list[RateRow] = field(default_factory=list)


def render(report: Report, fmt: str, *, rates: bool = False) -> str:
    """The report as text; `rates` keeps only the check-in rates (in CSV: instead of updates)."""
    if fmt == "csv":
        return to_csv(report, rates=rates)
    if fmt == "json":
        return to_json(report, rates=rates)
    if fmt == "md":
        return to_markdown(report, rates=rates)
    raise ValueError(f"unknown format {fmt!r}")


def _cell(value) -> str:
    return "" if value is None else str(value)


def to_csv(report: Report, *, rates: bool = False) -> str:
    """One table: the updates (:data:`COLUMNS`), or with `rates` the check-in rates
    (:data:`RATE_COLUMNS`, team rows first, then person rows)."""
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    if rates:
        writer.writerow(RATE_COLUMNS)
        for row in report.teams + report.people:
            writer.writerow(_cell(v) for v in row.as_record().values())
    else:
        writer.writerow(COLUMNS)
        for record in report.updates:
            writer.writerow(_cell(record[name]) for name in COLUMNS)
    return out.getvalue()


def to_json(report: Report, *, rates: bool = False) -> str:
    document: dict = {
        "organization": report.organization,
        "timezone": report.timezone,
        "filters": report.filters,
    }
    if not rates:
        document["updates"] = report.updates
    document["checkin_rates"] = {
        "weeks": report.weeks,
        "teams": [row.as_record() for row in report.teams],
        "people": [row.as_record() for row in report.people],
    }
    return json.dumps(document, ensure_ascii=False, indent=2) + "\n"


def _md(value) -> str:
    text = _cell(value).replace("\\", "\\\\").replace("|", "\\|")
    return " ".join(text.split())


def _table(header: list[str], rows: Iterable[list]) -> list[str]:
    lines = ["| " + " | ".join(header) + " |", "|" + "|".join("---" for _ in header) + "|"]
    lines += ["| " + " | ".join(_md(v) for v in row) + " |" for row in rows]
    return lines


def _percent(value: int | None) -> str:
    return "–" if value is None else f"{value}%"


def _with_unit(value, unit: str | None) -> str:
    if value is None:
        return "–"
    return f"{value} {unit}" if unit else str(value)


def to_markdown(report: Report, *, rates: bool = False) -> str:
    f = report.filters
    scope = [
        f"Team: {f['team'] or 'all'}",
        f"Person: {f['person'] or 'everyone'}",
        f"From {f['since'] or 'the start'} to {f['until'] or 'today'}",
        f"Times in {report.timezone}",
    ]
    lines = [f"# OKR report: {report.organization}", "", " · ".join(scope), ""]
    if not rates:
        lines += [f"## Updates ({len(report.updates)})", ""]
        header = ["Time", "Team", "Key result", "Owner", "By", "Old → new", "Progress"]
        header += ["Health", "Confidence", "Source", "Comment"]
        rows = [
            [
                u["time"][:16].replace("T", " "),
                u["team"],
                f"{u['key_result']} {u['title']}",
                u["owner"],
                u["person"] or "–",
                f"{_with_unit(u['old_value'], None)} → {_with_unit(u['new_value'], u['unit'])}",
                _percent(u["progress"]),
                u["health"],
                u["confidence"],
                u["source"],
                u["comment"],
            ]
            for u in report.updates
        ]
        lines += (_table(header, rows) if rows else ["No updates."]) + [""]
    lines += ["## Check-in rate per team", ""]
    header = ["Week", "Team", "Checked in", "Skipped", "Missing", "Rate"]
    rows = [
        [r.week, r.team, f"{r.checked_in} of {r.expected}", r.skipped, r.missing, _percent(r.rate)]
        for r in report.teams
    ]
    lines += (_table(header, rows) if rows else ["Nobody was expected to check in."]) + [""]
    lines += ["## Check-ins per person", ""]
    header = ["Week", "Person", "Teams", "Status", "Rate"]
    rows = [
        [
            r.week,
            r.person,
            r.team,
            r.status or f"{r.checked_in} of {r.expected} checked in, {r.skipped} skipped",
            _percent(r.rate),
        ]
        for r in report.people
    ]
    lines += (_table(header, rows) if rows else ["Nobody was expected to check in."]) + [""]
    lines += [RATE_DEFINITION, ""]
    return "\n".join(lines)

"""`okrbot report`: the history of updates and check-ins (SPEC §3), as CSV, JSON or Markdown.

The queries are storage/report_queries.py, the arithmetic and the formats bot/report.py; this
module reads the options, runs the queries and writes the text.
"""

from __future__ import annotations

import asyncio
import difflib
import re
import sys
from datetime import date, datetime, time, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import typer
from sqlalchemy.ext.asyncio import AsyncSession

from bot.cli.support import Failure, UsageFailure, load_settings, open_database
from bot.clock import Clock, local_date, system_clock
from bot.ops.report import (
    FORMATS,
    Ownership,
    Report,
    checkin_rates,
    render,
    update_line,
    week_statuses,
    weeks_between,
)
from storage import repo
from storage import report_queries as q
from storage.db import Database

DATE = re.compile(r"\d{4}-\d{2}-\d{2}")


def parse_day(option: str, text: str | None) -> date | None:
    """A YYYY-MM-DD option value; anything else is bad usage."""
    if text is None:
        return None
    try:
        if DATE.fullmatch(text.strip()):
            return date.fromisoformat(text.strip())
    except ValueError:
        pass
    raise UsageFailure(f"{option} must be a date like 2026-11-02, not {text!r}")


async def build_report(
    session: AsyncSession,
    *,
    team: str | None = None,
    person: str | None = None,
    since: date | None = None,
    until: date | None = None,
    clock: Clock = system_clock,
) -> Report:
    """The report: updates in since..until (inclusive, organisation's time zone) and the
    check-in rate of the ISO weeks from since (default: the earliest objective period start)
    to until (default: today)."""
    org = await repo.organization(session)
    if org is None:
        raise Failure("no OKRs have been imported yet")
    zone = org.timezone
    teams = await q.all_teams(session)
    people = await q.all_people(session)
    team_row = _find(teams, "slug", team, "team")
    person_row = _find(people, "handle", person, "person")
    report = Report(
        organization=org.name,
        timezone=zone,
        filters={
            "team": team_row.slug if team_row else None,
            "person": person_row.handle if person_row else None,
            "since": since.isoformat() if since else None,
            "until": until.isoformat() if until else None,
        },
    )
    history = await q.update_history(
        session,
        team_id=team_row.id if team_row else None,
        person_id=person_row.id if person_row else None,
        start=_midnight(since, zone) if since else None,
        end=_midnight(until + timedelta(days=1), zone) if until else None,
    )
    report.updates = [update_line(row, zone) for row in history]

    handles = {p.id: p.handle for p in people}
    slugs = {t.id: t.slug for t in teams}
    owners = [
        Ownership(slugs[r.team_id], handles[r.person_id], r.period_start, r.period_end)
        for r in await q.ownership(session, team_id=team_row.id if team_row else None)
        if person_row is None or r.person_id == person_row.id
    ]
    first = since or min((o.start for o in owners), default=None)
    last = until or local_date(clock(), zone)
    if first is None or first > last:
        return report
    weeks = weeks_between(first, last)
    zones = {p.handle: p.timezone or zone for p in people}
    # a person's week is in their own zone: a day of slack on either side
    start = _midnight(weeks[0].monday - timedelta(days=1), zone)
    end = _midnight(weeks[-1].sunday + timedelta(days=2), zone)
    rounds = await q.checkin_rounds(session, weeks[0].label, _next_label(weeks[-1].sunday))
    updates = await q.own_updates(session, start, end)
    statuses = week_statuses(
        ((handles[r.person_id], r.period, r.status) for r in rounds),
        ((handles[u.person_id], u.created_at) for u in updates),
        zones,
    )
    report.weeks = [w.label for w in weeks]
    report.teams, report.people = checkin_rates(
        weeks,
        owners,
        statuses,
        [t.slug for t in teams],
        [p.handle for p in people],
    )
    return report


def _find(rows: list, attr: str, wanted: str | None, what: str):
    if wanted is None:
        return None
    for row in rows:
        if getattr(row, attr).casefold() == wanted.strip().casefold():
            return row
    names = [getattr(r, attr) for r in rows if not r.archived]
    close = difflib.get_close_matches(wanted.strip(), names, n=3, cutoff=0.6)
    hint = f"closest: {', '.join(close)}" if close else f"known: {', '.join(names[:10]) or 'none'}"
    raise UsageFailure(f"no {what} {wanted!r} ({hint})")


def _midnight(day: date, zone: str) -> datetime:
    return datetime.combine(day, time(0), tzinfo=ZoneInfo(zone))


def _next_label(day: date) -> str:
    year, week, _ = (day + timedelta(days=7)).isocalendar()
    return f"{year}-W{week:02d}"


async def _run(db: Database, **options) -> Report:
    try:
        async with db.session() as session:
            return await build_report(session, **options)
    finally:
        await db.dispose()


def register(app: typer.Typer) -> None:
    @app.command()
    def report(
        team: str | None = typer.Option(None, "--team", help="Only this team (slug)."),
        person: str | None = typer.Option(
            None, "--person", help="Only this person (handle): what they wrote or own."
        ),
        since: str | None = typer.Option(None, "--since", help="From this day (YYYY-MM-DD)."),
        until: str | None = typer.Option(None, "--until", help="To this day, inclusive."),
        fmt: str = typer.Option("csv", "--format", help="csv, json or md."),
        out: Path | None = typer.Option(None, "--out", help="Write here instead of stdout."),
        rates: bool = typer.Option(
            False, "--rates", help="Only the check-in rates (in CSV: instead of the updates)."
        ),
    ) -> None:
        """History of updates and check-ins, and the check-in rate per team and person per week.

        Dates are days in the organisation's time zone, both inclusive."""
        if fmt not in FORMATS:
            raise UsageFailure(f"--format must be one of {', '.join(FORMATS)}, not {fmt!r}")
        first, last = parse_day("--since", since), parse_day("--until", until)
        if first and last and first > last:
            raise UsageFailure(f"--since {first} is after --until {last}")
        settings = load_settings()
        found = asyncio.run(
            _run(open_database(settings), team=team, person=person, since=first, until=last)
        )
        text = render(found, fmt, rates=rates)
        if out is None:
            sys.stdout.write(text)
            return
        try:
            out.write_text(text, encoding="utf-8")
        except OSError as exc:
            raise Failure(f"cannot write {out}: {exc.strerror or exc}") from exc
        typer.echo(f"Wrote {out}.", err=True)

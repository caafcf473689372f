"""`okrbot checkin send` and `okrbot digest post|show`, and the delivery stack they share with
`okrbot serve`: the outbox, the senders of the configured platforms, the worker.

Both commands enqueue first (idempotent: the outbox key is kind, target, period), then deliver
in this process with retries for as long as the round makes progress: until every message is
sent or failed for good, or none was finished for `OKRBOT_DELIVERY_STALL` seconds, or `--wait`
seconds have passed. Progress shows on stderr. Exit 0 when everything was delivered, 1 when
something failed for good or is still waiting (each named on stderr; the outbox keeps it for
the server's worker).
"""

from __future__ import annotations

import asyncio

import typer

from bot.checkin.due import read_situation
from bot.checkin.presence import is_away
from bot.cli import wiring
from bot.cli.progress import progress_view
from bot.cli.support import Failure, UsageFailure, load_settings, open_database
from bot.clock import system_clock
from bot.config import Settings
from bot.core import Core
from storage.db import Database
from storage.models import OUTBOX_FAILED, OUTBOX_SENT

checkin_app = typer.Typer(help="Check-in prompts.", no_args_is_help=True)
digest_app = typer.Typer(help="Digests: post them now or print them.", no_args_is_help=True)
RETRY_HELP = "Also send again what failed for good before (after fixing its cause)."
WAIT_HELP = (
    "At most this many seconds of delivering and retrying (by default as long as the round "
    "makes progress); what is left goes to the server's worker."
)


def register(app: typer.Typer) -> None:
    app.add_typer(checkin_app, name="checkin")
    app.add_typer(digest_app, name="digest")


def _report(rows, before: dict[int, str]) -> bool:
    """One line per message; failures on stderr. True when everything was delivered."""
    ok = True
    for row in rows:
        where = f" via {row.platform}" if row.platform else ""
        what = f"{row.kind} {row.target} {row.period}"
        if row.state == OUTBOX_SENT and before.get(row.id) == OUTBOX_SENT:
            typer.echo(f"{what}: sent before{where}")
        elif row.state == OUTBOX_SENT:
            typer.echo(f"{what}: sent{where}")
        elif row.state == OUTBOX_FAILED:
            ok = False
            typer.echo(f"okrbot: {what}: failed: {row.last_error}", err=True)
        else:
            ok = False
            typer.echo(
                f"okrbot: {what}: not delivered yet ({row.last_error or 'waiting'}); "
                "the server's worker retries it",
                err=True,
            )
    return ok


async def _deliver(
    settings: Settings, db: Database, pick, within: float | None, retry_failed: bool = False
) -> bool:
    core = Core(db, system_clock)
    slack, teams = await wiring.platforms(settings, core)
    stack = wiring.delivery_stack(settings, core, slack=slack, teams=teams)
    dues = await pick(core, stack)
    if not dues:
        return True
    ids = await stack.store.enqueue(dues)
    if retry_failed and (again := await stack.store.retry_failed(ids)):
        typer.echo(f"Trying {again} message(s) that had failed for good again.")
    before = {r.id: r.state for r in await stack.store.rows(ids)}
    view = progress_view(stack.pacers.rates)
    try:
        rows = await stack.worker.deliver(
            ids, within=within, stall=settings.delivery_stall, progress=view
        )
    finally:
        view.close()
        await stack.worker.senders.close()
    return _report(rows, before)


def _run(settings: Settings, work) -> None:
    async def main() -> bool:
        db = open_database(settings)
        try:
            return await work(db)
        finally:
            await db.dispose()

    if not asyncio.run(main()):
        raise typer.Exit(1)


@checkin_app.command("send")
def checkin_send(
    team: str | None = typer.Option(None, "--team", help="Only this team's key-result owners."),
    member: str | None = typer.Option(None, "--member", help="Only this person (handle)."),
    wait: float | None = typer.Option(None, "--wait", min=1, help=WAIT_HELP),
    retry_failed: bool = typer.Option(False, "--retry-failed", help=RETRY_HELP),
) -> None:
    """Send this period's check-in prompts now (never twice for a person and period)."""
    settings = load_settings()

    async def pick(core: Core, stack):
        from bot.checkin.due import PROMPT, Due
        from bot.clock import iso_week

        now, state = await _situation(core, stack)
        if team is not None and team.lower() not in {t.slug for t in await _teams_of(core)}:
            raise UsageFailure(f"no team {team!r} in the OKRs")
        if member is not None and await core.person(handle=member) is None:
            raise UsageFailure(f"no person {member!r} in the OKRs")
        chosen = [
            m
            for m in state.members
            if (team is None or team.lower() in state.member_teams[m.handle])
            and (member is None or m.handle.lower() == member.lower())
        ]
        if not chosen:
            typer.echo("Nobody to prompt: no active key results for that choice.")
        dues = []
        for m in chosen:
            if is_away(m.away_until, now, m.timezone):
                typer.echo(f"{m.handle}: away until {m.away_until.isoformat()}, not prompted")
                continue
            dues.append(Due(PROMPT, m.handle, iso_week(now, m.timezone)))
        return dues

    _run(settings, lambda db: _deliver(settings, db, pick, wait, retry_failed))


async def _situation(core: Core, stack: wiring.Delivery):
    """Now, and what the schedule sees now (people, teams, the outbox of this week)."""

    now = core.clock()
    async with core.db.session() as session:
        state = await read_situation(session, now, stack.store)
    if state.org is None:
        raise Failure("no OKRs in the database: import them with `okrbot okrs import FILE`")
    return now, state


async def _teams_of(core: Core):
    from storage import repo

    async with core.db.session() as session:
        return await repo.teams(session)


def _digest_choice(team: str | None, exec_: bool) -> None:
    if team is not None and exec_:
        raise UsageFailure("choose --team SLUG or --exec, not both")


@digest_app.command("post")
def digest_post(
    team: str | None = typer.Option(None, "--team", help="Only this team's digest."),
    exec_: bool = typer.Option(False, "--exec", help="Only the exec digest."),
    wait: float | None = typer.Option(None, "--wait", min=1, help=WAIT_HELP),
    retry_failed: bool = typer.Option(False, "--retry-failed", help=RETRY_HELP),
) -> None:
    """Post this week's digests now (each once per week): the exec digest to `exec_channel`,
    each team's to its channel; by default all of them."""
    _digest_choice(team, exec_)
    settings = load_settings()

    async def pick(core: Core, stack):
        from bot.checkin.due import (
            EXEC_DIGEST,
            EXEC_TARGET,
            TEAM_DIGEST,
            Due,
        )
        from bot.clock import iso_week

        now, state = await _situation(core, stack)
        week = iso_week(now, state.zone)
        dues = []
        if team is None and (exec_ or state.org.exec_channel):
            if not state.org.exec_channel:
                raise UsageFailure("the OKR file has no exec_channel to post the exec digest to")
            dues.append(Due(EXEC_DIGEST, EXEC_TARGET, week))
        if team is not None:
            known = {t.slug: t for t in await _teams_of(core)}
            found = known.get(team.lower())
            if found is None:
                raise UsageFailure(f"no team {team!r} in the OKRs")
            if not found.channel:
                raise UsageFailure(f"team {found.slug!r} has no channel in the OKR file")
            dues.append(Due(TEAM_DIGEST, found.slug, week))
        elif not exec_:
            dues += [Due(TEAM_DIGEST, t.slug, week) for t in state.teams if t.channel]
        if not dues:
            typer.echo("Nothing to post: no exec_channel and no team channels in the OKR file.")
        return dues

    _run(settings, lambda db: _deliver(settings, db, pick, wait, retry_failed))


@digest_app.command("show")
def digest_show(
    team: str | None = typer.Option(None, "--team", help="This team's digest."),
    exec_: bool = typer.Option(False, "--exec", help="The exec digest (the default)."),
) -> None:
    """Print this week's digest as it would be posted, without sending anything."""
    _digest_choice(team, exec_)
    settings = load_settings()

    async def show(db: Database) -> bool:
        from bot.digest.content import exec_digest, full_message, team_digest
        from bot.messages import render_text
        from storage.digest_queries import digest_snapshot

        now = system_clock()
        async with db.session() as session:
            try:
                snapshot = await digest_snapshot(session, now)
            except LookupError as exc:
                raise Failure(str(exc)) from exc
        if team is not None:
            try:
                message = team_digest(snapshot, team, now)
            except KeyError:
                raise UsageFailure(f"no team {team!r} with active objectives") from None
        else:
            message = full_message(exec_digest(snapshot, now))
        typer.echo(render_text(message))
        return True

    _run(settings, show)

"""`okrbot doctor`: gathers the facts (settings, the database, Slack) and runs the checks of
`bot.ops.doctor` over them. It reads only: it never migrates, imports or sends anything.

Exit 0 when nothing failed (warnings allowed), 1 otherwise.
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from pathlib import Path

import typer

from bot.checkin.presence import is_away
from bot.cli import wiring
from bot.cli.support import load_settings
from bot.clock import system_clock
from bot.config import Settings
from bot.ops.doctor import (
    FAIL,
    IMPORT_FIX,
    OK,
    Check,
    FailedMessage,
    PersonFacts,
    PlannedDigest,
    PlannedPrompt,
    SeenChannel,
    exit_code,
    in_section,
    messages_tab_check,
    outbox_checks,
    people_checks,
    render,
    schedule_checks,
    slack_app_token_check,
    slack_scope_check,
    slack_settings_checks,
    slack_token_check,
    teams_channel_checks,
    teams_reach_checks,
    teams_settings_check,
)
from storage.db import Database

DATABASE_TIMEOUT = 10.0  # seconds to connect and read the migration state
SLACK_TIMEOUT = 5  # seconds per Slack call: no retries, a dead URL fails fast
STALLED = timedelta(minutes=15)
UPGRADE_FIX = "run `okrbot db upgrade` (every other okrbot command also migrates at start)"


def register(app: typer.Typer) -> None:
    app.command("doctor")(doctor)


def doctor() -> None:
    """What works and what does not, each problem with its fix (exit 1 when something fails)."""
    settings = load_settings()
    checks = asyncio.run(diagnose(settings, system_clock()))
    typer.echo(render(checks))
    raise typer.Exit(exit_code(checks))


@dataclass
class Facts:
    """What the database says, for the checks."""

    org: object = None
    people: list[PersonFacts] = field(default_factory=list)
    slack_dm_replies: int = 0
    channels: list[SeenChannel] = field(default_factory=list)
    teams_channels_used: list[str] = field(default_factory=list)
    tenant_seen: bool = False
    failed: list[FailedMessage] = field(default_factory=list)
    counts: dict[str, int] = field(default_factory=dict)
    stalled: int = 0
    prompts: list[PlannedPrompt] = field(default_factory=list)
    away: dict = field(default_factory=dict)
    digests: list[PlannedDigest] = field(default_factory=list)


async def diagnose(settings: Settings, now: datetime) -> list[Check]:
    checks, db = await database_checks(settings.database_url)
    facts = None
    if db is not None:
        try:
            facts = await gather_facts(db, now)
        finally:
            await db.dispose()
        checks += organisation_checks(facts)
    checks += in_section("Slack", await slack_checks(settings, facts))
    checks += in_section("Teams", teams_checks(settings, facts))
    if facts is not None and facts.org is not None:
        checks += in_section("People", people_checks(facts.people, settings.slack_configured))
    if facts is not None:
        checks += in_section(
            "Outbox", outbox_checks(facts.failed, facts.counts, facts.stalled, now)
        )
    if facts is not None and facts.org is not None:
        checks += in_section(
            "Schedule", schedule_checks(facts.prompts, facts.away, facts.digests, now)
        )
    return checks


# -- the database -----------------------------------------------------------------------------
def _redact(url: str) -> str:
    from sqlalchemy.engine import make_url

    try:
        return make_url(url).render_as_string(hide_password=True)
    except Exception:
        return "DATABASE_URL"


def _first_line(exc: BaseException) -> str:
    exc = getattr(exc, "orig", None) or exc  # the driver's error, not SQLAlchemy's wrapper
    lines = str(exc).strip().splitlines()
    return lines[0] if lines else type(exc).__name__


async def database_checks(url: str) -> tuple[list[Check], Database | None]:
    """Reachable and migrated (never migrates): the open database when both hold."""
    from alembic.config import Config
    from alembic.script import ScriptDirectory

    from storage.db import DatabaseError, migrations_dir, parse_url

    def fail(detail: str, fix: str) -> tuple[list[Check], None]:
        return [Check(FAIL, "database", detail, fix, section="Database")], None

    shown = _redact(url)
    try:
        parsed = parse_url(url)
    except DatabaseError as exc:
        return fail(str(exc), "set DATABASE_URL to sqlite:///FILE or postgresql+psycopg://...")
    missing = _missing_sqlite_file(parsed)
    if missing is not None:
        return fail(f"no database file at {missing}", f"{UPGRADE_FIX}, then {IMPORT_FIX}")
    db = Database(url)
    try:
        current = await asyncio.wait_for(_revisions(db), DATABASE_TIMEOUT)
    except Exception as exc:
        await db.dispose()
        detail = "timed out" if isinstance(exc, TimeoutError) else _first_line(exc)
        return fail(
            f"not reachable at {shown}: {detail}",
            "check DATABASE_URL and that the database server is running and reachable",
        )
    config = Config()
    config.set_main_option("script_location", str(migrations_dir()))
    script = ScriptDirectory.from_config(config)
    heads = set(script.get_heads())
    reachable = Check(OK, "database", f"reachable at {shown}", section="Database")
    if current == heads:
        migrated = Check(OK, "migrations", f"up to date ({', '.join(sorted(heads))})")
        return [reachable, in_section("Database", [migrated])[0]], db
    await db.dispose()
    fix = UPGRADE_FIX
    if not current:
        detail = "the database has no tables yet"
    elif not current <= {r.revision for r in script.walk_revisions()}:
        detail = f"at revision {', '.join(sorted(current))}, unknown to this okrbot (newer?)"
        fix = "run the okrbot version that migrated it, or a newer one"
    else:
        pending = [
            f"{r.revision} {(r.doc or '').strip()}".strip()
            for head in heads
            for r in script.iterate_revisions(head, ",".join(current))
        ]
        detail = f"{len(pending)} pending: {'; '.join(reversed(pending))}"
    return [reachable, Check(FAIL, "migrations", detail, fix, section="Database")], None


def _missing_sqlite_file(parsed) -> str | None:
    """A SQLite file that does not exist (connecting would create an empty one)."""
    name = parsed.database
    if parsed.get_backend_name() != "sqlite" or not name or name == ":memory:":
        return None
    return None if Path(name).exists() else name


async def _revisions(db: Database) -> set[str]:
    from alembic.runtime.migration import MigrationContext

    async with db.engine.connect() as conn:
        heads = await conn.run_sync(lambda c: MigrationContext.configure(c).get_current_heads())
    return set(heads)


def organisation_checks(facts: Facts) -> list[Check]:
    org = facts.org
    if org is None:
        check = Check(FAIL, "OKRs", "no organisation imported yet", IMPORT_FIX)
    else:
        when = f", imported {org.imported_at:%Y-%m-%d %H:%M} UTC" if org.imported_at else ""
        check = Check(OK, "OKRs", f"{org.name}, {len(facts.people)} key-result owners{when}")
    return in_section("Database", [check])


async def gather_facts(db: Database, now: datetime) -> Facts:
    from sqlalchemy import func, select

    from bot.checkin.due import read_situation
    from storage import repo
    from storage.models import (
        OUTBOX_FAILED,
        OUTBOX_PENDING,
        OUTBOX_SENDING,
        ConversationReference,
        Outbox,
        RawReply,
    )

    store = wiring.outbox_store(db, lambda: now)
    facts = Facts()
    async with db.session() as session:
        facts.org = await repo.organization(session)
        state = await read_situation(session, now, store)
        facts.slack_dm_replies = (
            await session.execute(
                select(func.count()).select_from(RawReply).where(RawReply.platform == "slack")
            )
        ).scalar_one()
        refs = list(
            (
                await session.execute(
                    select(ConversationReference).where(ConversationReference.platform == "teams")
                )
            ).scalars()
        )
        failed = await session.execute(select(Outbox).where(Outbox.state == OUTBOX_FAILED))
        facts.failed = [
            FailedMessage(r.kind, r.target, r.period, r.last_error, r.platform, r.created_at)
            for r in failed.scalars()
        ]
        counts = await session.execute(select(Outbox.state, func.count()).group_by(Outbox.state))
        facts.counts = {state_: count for state_, count in counts}
        before = now - STALLED
        facts.stalled = (
            await session.execute(
                select(func.count())
                .select_from(Outbox)
                .where(
                    ((Outbox.state == OUTBOX_PENDING) & (Outbox.next_attempt_at < before))
                    | ((Outbox.state == OUTBOX_SENDING) & (Outbox.lease_until < before))
                )
            )
        ).scalar_one()
        teams = await repo.teams(session)
    chats = {r.person_id for r in refs if r.conversation_type == "personal" and r.person_id}
    facts.tenant_seen = bool(refs)
    facts.channels = [
        SeenChannel(
            r.conversation_id, r.updated_at, (r.reference.get("conversation") or {}).get("name")
        )
        for r in refs
        if r.conversation_type == "channel"
    ]
    if facts.org is None:
        return facts
    used = [facts.org.exec_channel, *(t.channel for t in teams)]
    facts.teams_channels_used = [c for c in dict.fromkeys(used) if c and c.startswith("teams:")]
    for member in state.members:
        person = state.people[member.handle]
        facts.people.append(
            PersonFacts(
                person.handle,
                slack_id=person.slack_id,
                teams_aad_id=person.teams_aad_id,
                email=person.email,
                teams_chat=person.id in chats,
            )
        )
    _plan(facts, state, now)
    return facts


def _plan(facts: Facts, state, now: datetime) -> None:
    from bot.checkin.due import (
        EXEC_DIGEST,
        EXEC_TARGET,
        TEAM_DIGEST,
        iso_week,
        next_digest,
        next_prompt,
    )

    for member in state.members:
        if is_away(member.away_until, now, member.timezone):
            facts.away[member.handle] = member.away_until
            continue
        when = next_prompt(member, now)
        if when is not None:
            facts.prompts.append(PlannedPrompt(member.handle, when, member.timezone))
    zone, week = state.zone, iso_week(now, state.zone)
    if state.org.exec_channel:
        sent = (EXEC_DIGEST, EXEC_TARGET, week) in state.existing
        when = next_digest(state.org_digest, zone, now, sent)
        facts.digests.append(PlannedDigest("exec", state.org.exec_channel, when, zone))
    for team in state.teams:
        if team.channel:
            sent = (TEAM_DIGEST, team.slug, week) in state.existing
            when = next_digest(team.digest, zone, now, sent)
            facts.digests.append(PlannedDigest(team.slug, team.channel, when, zone))


# -- Slack and Teams --------------------------------------------------------------------------
async def slack_checks(settings: Settings, facts: Facts | None) -> list[Check]:
    token = settings.slack_bot_token
    if not token:
        return [Check(OK, "Slack", "not configured (no SLACK_BOT_TOKEN)")]
    checks = slack_settings_checks(token, settings.slack_signing_secret, settings.slack_app_token)
    if any(c.status == FAIL and c.title == "Slack token" for c in checks):
        return checks
    url = (
        settings.slack_api_url
        if settings.slack_api_url.endswith("/")
        else settings.slack_api_url + "/"
    )
    answer = await wiring.slack_probe(token, url, "auth.test", seconds=SLACK_TIMEOUT)
    checks.insert(0, slack_token_check(url, answer.data, answer.error, answer.unreachable))
    if answer.data is None:
        return checks
    checks.append(slack_scope_check(answer.scopes))
    replies = facts.slack_dm_replies if facts is not None else 0
    checks.append(messages_tab_check(answer.scopes, replies))
    app_token = settings.slack_app_token
    if app_token and app_token.startswith("xapp-"):
        opened = await wiring.slack_probe(
            app_token, url, "apps.connections.open", seconds=SLACK_TIMEOUT
        )
        checks.append(slack_app_token_check(opened.error, opened.unreachable))
    return checks


def teams_checks(settings: Settings, facts: Facts | None) -> list[Check]:
    checks = [
        teams_settings_check(
            settings.microsoft_app_id,
            settings.microsoft_app_password,
            settings.microsoft_app_type,
            settings.microsoft_app_tenant_id,
            settings.teams_emulator,
        )
    ]
    if facts is None:
        return checks
    checks += teams_channel_checks(facts.channels, facts.teams_channels_used)
    if facts.org is not None:
        checks += teams_reach_checks(facts.people, settings.slack_configured, facts.tenant_seen)
    return checks

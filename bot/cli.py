"""The `okrbot` command line: the composition root that wires storage, core and adapters.

Exit codes (SPEC §3): 0 success, 1 a runtime failure with a one-line cause, 2 bad usage or a
bad input file (`file:line: message`). User errors never print a traceback.
"""

from __future__ import annotations

import asyncio
import importlib
import logging
import signal
import sys
from dataclasses import dataclass
from pathlib import Path

import typer

from bot.cli_support import (
    Failure,
    UsageFailure,
    ensure_okrs,
    import_file,
    load_settings,
    open_database,
)
from bot.clock import system_clock
from bot.config import Settings
from bot.okrs import OkrFileError, load_okr_file
from storage.db import DatabaseError, upgrade

app = typer.Typer(
    help="okrbot: OKR check-ins in Slack, Microsoft Teams and the terminal.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)
okrs_app = typer.Typer(help="OKRs as code: import and export the OKR file.", no_args_is_help=True)
db_app = typer.Typer(help="Database maintenance.", no_args_is_help=True)
app.add_typer(okrs_app, name="okrs")
teams_app = typer.Typer(help="Microsoft Teams app package.", no_args_is_help=True)
app.add_typer(db_app, name="db")
app.add_typer(teams_app, name="teams")

log = logging.getLogger("okrbot")


async def _chat(settings: Settings, handle: str | None) -> None:
    from adapters.console import ConsoleChat
    from bot.core import Core
    from bot.demo import DEMO_PERSONA

    clock = system_clock
    db = open_database(settings)
    try:
        await ensure_okrs(db, settings, clock)
        core = Core(db, clock)
        person = await core.person(handle=handle or DEMO_PERSONA)
        if handle and person is None:
            raise UsageFailure(f"no person with the handle {handle!r} in the OKRs")
        await ConsoleChat(core, person).run()
    finally:
        await db.dispose()


@app.command()
def run() -> None:
    """The main job: every configured platform; with none, the console chat on SQLite."""
    settings = load_settings()
    if settings.any_platform:
        asyncio.run(_serve(settings, None, 3000))
        return
    asyncio.run(_chat(settings, None))


@app.command()
def chat(
    as_: str | None = typer.Option(None, "--as", help="The person (handle) you play."),
) -> None:
    """Console chat: `/okr ...` lines are commands, plain lines are messages to the bot."""
    asyncio.run(_chat(load_settings(), as_))


@app.command()
def serve(
    host: str | None = typer.Option(
        None, help="Address to listen on [default: 0.0.0.0; 127.0.0.1 in the Teams emulator mode]."
    ),
    port: int = typer.Option(3000, help="Port to listen on."),
    no_scheduler: bool = typer.Option(
        False, "--no-scheduler", help="Serve requests only (extra replicas)."
    ),
) -> None:
    """The production process: the HTTP server (Slack, Teams, /healthz, /metrics, the push
    API), the scheduler and the delivery worker."""
    asyncio.run(_serve(load_settings(), host, port, scheduler=not no_scheduler))


def listen_host(settings: Settings, host: str | None) -> str:
    """Where the server listens: the Teams emulator mode (no authentication) on loopback only."""
    from adapters.teams import is_loopback

    if not settings.teams_emulator_mode:
        return host or "0.0.0.0"
    if host is None:
        return "127.0.0.1"
    if not is_loopback(host):
        raise Failure(
            f"OKRBOT_TEAMS_EMULATOR serves Teams without authentication, on loopback only: "
            f"--host {host} is refused (use 127.0.0.1, or set MICROSOFT_APP_ID)"
        )
    return host


@dataclass
class Server:
    """What `okrbot serve` runs: the HTTP app and the platform edges it mounted."""

    app: object  # the aiohttp application
    slack: object | None = None  # SlackAdapter
    teams: object | None = None  # TeamsAdapter
    socket_mode: object | None = None  # AsyncSocketModeHandler, not connected yet


async def build_server(
    settings: Settings, core, metrics, *, teams_identity=None, teams_credentials=None
) -> Server:
    """The HTTP app of `okrbot serve`. Each door is mounted only when its platform is
    configured: `/slack/events` for Slack over HTTP (a signing secret is required; never in
    Socket Mode), `/api/messages` for Teams with an app id or in the emulator mode. Anything
    else answers 404. `teams_identity` / `teams_credentials` point Teams' token checks and the
    bot's own tokens elsewhere than the public cloud (botbuilder's parameterized settings)."""
    from adapters.api import PushApi
    from adapters.charts import ChartRoutes
    from adapters.server import build_app
    from bot.push import PushService

    db = core.db
    server = Server(app=None)
    mounts = [ChartRoutes(db), PushApi(PushService(db, core.clock, metrics), settings.api_token)]
    if settings.teams_configured:
        server.teams = _teams(
            settings, core, identity=teams_identity, credentials_factory=teams_credentials
        )
        mounts.append(server.teams)
    elif settings.teams_emulator:
        log.warning("OKRBOT_TEAMS_EMULATOR is ignored: MICROSOFT_APP_ID is set")
    if settings.slack_configured:
        server.slack = await _slack(settings, core)
        if settings.slack_app_token:
            from slack_bolt.adapter.socket_mode.aiohttp import AsyncSocketModeHandler

            server.socket_mode = AsyncSocketModeHandler(server.slack.app, settings.slack_app_token)
        else:
            mounts.append(server.slack)
    server.app = build_app(db, *mounts, metrics=metrics)
    return server


async def _serve(
    settings: Settings, host: str | None, port: int, *, scheduler: bool = True
) -> None:
    from adapters.server import serve as start
    from bot.core import Core
    from bot.metrics import Metrics

    host = listen_host(settings, host)
    if settings.slack_configured:
        _check_slack(settings)  # a configuration that cannot be served fails before anything
    db = open_database(settings)
    socket_mode, ticking = None, None
    try:
        if settings.okrs:
            summary = await import_file(db, settings.okrs, system_clock)
            log.info("imported %s: %s", settings.okrs, summary)
        metrics = Metrics()
        core = Core(db, system_clock, metrics)
        server = await build_server(settings, core, metrics)
        if server.socket_mode is not None:
            socket_mode = server.socket_mode
            await socket_mode.connect_async()
            log.info("Slack: connected in Socket Mode (POST /slack/events is not served)")
        if scheduler:
            ticking = _scheduler(settings, core, server.slack, server.teams, metrics)
        else:
            log.info("scheduler off (--no-scheduler): this process only serves requests")
        runner = await start(server.app, host, port)
        stop = asyncio.Event()
        loop = asyncio.get_running_loop()
        for sig in (signal.SIGINT, signal.SIGTERM):
            loop.add_signal_handler(sig, stop.set)
        try:
            await stop.wait()
            log.info("shutting down: finishing the sends in flight")
        finally:
            if socket_mode is not None:
                await socket_mode.close_async()
            await runner.cleanup()
            if ticking is not None:
                await ticking.shutdown()
    finally:
        await db.dispose()


def _scheduler(settings: Settings, core, slack, teams, metrics):
    """The scheduler's tick and the delivery worker of this process, started."""
    from datetime import timedelta

    from bot.cli_schedule import delivery_stack
    from bot.privacy import purge_raw_replies
    from scheduler.service import Scheduler

    stack = delivery_stack(settings, core, slack=slack, teams=teams, metrics=metrics)

    async def retention() -> int:
        async with core.db.transaction() as session:
            before = core.clock() - timedelta(days=settings.raw_reply_days)
            return await purge_raw_replies(session, before=before)

    ticking = Scheduler(stack.store, stack.worker, core.clock, retention=retention)
    ticking.start()
    return ticking


def _teams(settings: Settings, core, *, identity=None, credentials_factory=None):
    from adapters.teams import TeamsAdapter, TeamsConfigError

    try:
        return TeamsAdapter(
            core,
            app_id=settings.microsoft_app_id,
            app_password=settings.microsoft_app_password,
            app_type=settings.microsoft_app_type,
            tenant_id=settings.microsoft_app_tenant_id,
            emulator=settings.teams_emulator_mode,
            identity=identity,
            credentials_factory=credentials_factory,
        )
    except TeamsConfigError as exc:
        raise Failure(str(exc)) from exc


def _check_slack(settings: Settings) -> None:
    from adapters.slack import SlackConfigError, check_settings

    try:
        check_settings(
            settings.slack_bot_token, settings.slack_signing_secret, settings.slack_app_token
        )
    except SlackConfigError as exc:
        raise Failure(str(exc)) from exc


async def _slack(settings: Settings, core):
    from adapters.slack import SlackAdapter, SlackConfigError, slack_client, verify_token

    _check_slack(settings)
    try:
        client = slack_client(settings.slack_bot_token, settings.slack_api_url)
        identity = await verify_token(client)
    except SlackConfigError as exc:
        raise Failure(str(exc)) from exc
    log.info("Slack: signed in as %s in %s", identity.get("user"), identity.get("team"))
    return SlackAdapter(
        core,
        client,
        signing_secret=settings.slack_signing_secret,
        bot_user_id=identity.get("user_id"),
        socket_mode=settings.slack_app_token is not None,
    )


@okrs_app.command("import")
def okrs_import(
    file: Path = typer.Argument(..., help="The OKR file (YAML)."),
    prune: bool = typer.Option(False, help="Archive what the file no longer has (history stays)."),
) -> None:
    """Import an OKR file in one transaction: a bad file changes nothing."""
    settings = load_settings()
    doc = load_okr_file(file)  # validate before touching the database

    async def main() -> str:
        from bot.okrsync import import_document

        db = open_database(settings)
        try:
            async with db.transaction() as session:
                report = await import_document(session, doc, now=system_clock(), prune=prune)
            return report.summary()
        finally:
            await db.dispose()

    typer.echo(f"Imported {file}: {asyncio.run(main())}.")


@okrs_app.command("export")
def okrs_export(
    file: Path | None = typer.Argument(None, help="Where to write; stdout when left out."),
) -> None:
    """Write the current OKRs (latest values as `current`) as an OKR file."""
    from bot.okrexport import export_document
    from bot.okrs import dump_okr_document

    settings = load_settings()

    async def main() -> str:
        db = open_database(settings)
        try:
            async with db.session() as session:
                return dump_okr_document(await export_document(session))
        except LookupError as exc:
            raise Failure(str(exc)) from exc
        finally:
            await db.dispose()

    text = asyncio.run(main())
    if file is None:
        sys.stdout.write(text)
    else:
        file.write_text(text, encoding="utf-8")
        typer.echo(f"Wrote {file}.", err=True)


@app.command()
def parse(
    member: str = typer.Option(..., "--member", help="The person (handle) whose prompt it is."),
    okrs: Path | None = typer.Option(None, "--okrs", help="An OKR file (no database needed)."),
    locale: str | None = typer.Option(None, "--locale", help="en or da (default: the member's)."),
    text: str | None = typer.Option(None, "--text", help="One reply; else one per stdin line."),
) -> None:
    """Dry run of the reply parser: what it reads in each reply, as one JSON object per line."""
    import json

    from bot.parsing import parse_reply

    if locale is not None and locale not in ("en", "da"):
        raise UsageFailure(f"--locale must be en or da, not {locale!r}")
    if okrs is not None:
        krs, member_locale = _prompt_from_file(okrs, member)
    else:
        krs, member_locale = asyncio.run(_prompt_from_database(load_settings(), member))
    replies = [text] if text is not None else (line.rstrip("\n") for line in sys.stdin)
    for reply in replies:
        result = parse_reply(reply, krs, locale or member_locale)
        sys.stdout.write(json.dumps(result.as_json(reply), ensure_ascii=False) + "\n")
        sys.stdout.flush()


def _prompt_from_file(path: Path, member: str):
    from bot.clock import local_date
    from bot.parsing import PromptKR

    doc = load_okr_file(path)
    person = next((p for p in doc.people if p.id == member), None)
    if person is None:
        raise UsageFailure(f"{path}: no person {member!r}")
    today = local_date(system_clock(), doc.timezone)
    owned = [
        (kr, doc.objective_period(o).contains(today))
        for o in doc.objectives
        for kr in o.key_results
        if kr.owner == member
    ]
    if any(active for _, active in owned):
        owned = [(kr, active) for kr, active in owned if active]
    krs = [PromptKR.of(n, kr, key=kr.id) for n, (kr, _) in enumerate(owned, 1)]
    return krs, doc.person_locale(person)


async def _prompt_from_database(settings: Settings, member: str):
    from bot.checkin_views import prompt_krs
    from bot.clock import local_date
    from storage import repo

    db = open_database(settings)
    try:
        async with db.session() as session:
            org = await repo.organization(session)
            person = await repo.person_by(session, handle=member)
            if org is None or person is None:
                raise UsageFailure(f"no person {member!r} in the OKRs")
            today = local_date(system_clock(), org.timezone)
            owned = await repo.owned_key_results(session, person.id, today)
            return prompt_krs(owned), person.locale or org.locale
    finally:
        await db.dispose()


@teams_app.command("package")
def teams_package(
    app_id: str = typer.Option(..., "--app-id", help="The bot's Microsoft App ID (a GUID)."),
    out: Path = typer.Option(Path("okrbot-teams.zip"), "--out", help="Where to write the zip."),
) -> None:
    """Write the Teams app package (manifest and icons) to upload in Teams."""
    from adapters.teams_package import build_package

    try:
        path = build_package(app_id, out)
    except ValueError as exc:
        raise UsageFailure(str(exc)) from exc
    typer.echo(f"Wrote {path}: upload it in Teams (Apps > Manage your apps > Upload an app).")


@db_app.command("upgrade")
def db_upgrade() -> None:
    """Apply pending database migrations."""
    settings = load_settings()
    upgrade(settings.database_url)
    typer.echo("The database is up to date.")


# Commands that live in modules of their own, each with `register(app)`.
COMMAND_MODULES: tuple[str, ...] = (
    "bot.cli_person",
    "bot.cli_report",
    "bot.cli_schedule",
    "bot.cli_doctor",
)
for _name in COMMAND_MODULES:
    importlib.import_module(_name).register(app)


def main(argv: list[str] | None = None) -> int:
    """Run the CLI; typer handles usage errors (exit 2) and exits on success."""
    try:
        app(args=argv)
    except OkrFileError as exc:
        for problem in exc.problems:
            typer.echo(str(problem), err=True)
        return 2
    except UsageFailure as exc:
        typer.echo(f"okrbot: {exc}", err=True)
        return 2
    except (Failure, DatabaseError) as exc:
        typer.echo(f"okrbot: {exc}", err=True)
        return 1
    except KeyboardInterrupt:
        return 130
    return 0

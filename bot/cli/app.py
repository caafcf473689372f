"""The `okrbot` command line: the typer app and its commands. What they run is built by
`bot.cli.wiring`, the composition root.

Exit codes (SPEC §3): 0 success, 1 a runtime failure with a one-line cause, 2 bad usage or a
bad input file (`file:line: message`). User errors never print a traceback.
"""

from __future__ import annotations

import asyncio
import logging
import sys
from pathlib import Path

import typer

from bot.cli import doctor, landing, person, report, schedule, wiring
from bot.cli.support import Failure, UsageFailure, load_settings, open_database
from bot.clock import system_clock
from bot.config import Settings
from bot.okrfile.schema import OkrFileError, load_okr_file
from bot.okrfile.tables import SourceError
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


@app.command()
def run() -> None:
    """The main job: every configured platform; with none, the console chat on SQLite."""
    settings = load_settings()
    if settings.any_platform:
        asyncio.run(wiring.serve(settings, None, 3000))
        return
    asyncio.run(wiring.chat(settings, None))


@app.command()
def chat(
    as_: str | None = typer.Option(None, "--as", help="The person (handle) you play."),
) -> None:
    """Console chat: `/okr ...` lines are commands, plain lines are messages to the bot."""
    asyncio.run(wiring.chat(load_settings(), as_))


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
    asyncio.run(wiring.serve(load_settings(), host, port, scheduler=not no_scheduler))


@okrs_app.command("import")
def okrs_import(
    file: Path = typer.Argument(..., help="The OKR file (YAML)."),
    prune: bool = typer.Option(False, help="Archive what the file no longer has (history stays)."),
) -> None:
    """Import an OKR file in one transaction: a bad file changes nothing."""
    settings = load_settings()
    doc = load_okr_file(file)  # validate before touching the database

    async def main() -> str:
        from bot.okrfile.importer import import_document

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
    from bot.okrfile.dump import dump_okr_document
    from bot.okrfile.export import export_document

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
    from bot.checkin.views import prompt_krs
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
    path = wiring.teams_package(app_id, out)
    typer.echo(f"Wrote {path}: upload it in Teams (Apps > Manage your apps > Upload an app).")


@db_app.command("upgrade")
def db_upgrade() -> None:
    """Apply pending database migrations."""
    settings = load_settings()
    upgrade(settings.database_url)
    typer.echo("The database is up to date.")


# The commands that live in modules of their own, registered here explicitly
for _commands in (person, report, schedule, doctor):
    _commands.register(app)
landing.register(okrs_app)


def main(argv: list[str] | None = None) -> int:
    """Run the CLI; typer handles usage errors (exit 2) and exits on success."""
    try:
        app(args=argv)
    except (OkrFileError, SourceError) as exc:
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

"""`okrbot person export|forget HANDLE`: what is stored about a person, and erasing it (GDPR)."""

from __future__ import annotations

import asyncio
import json
import sys
from pathlib import Path

import typer

from bot.cli.support import UsageFailure, load_settings, open_database
from bot.clock import system_clock
from bot.config import Settings


def register(app: typer.Typer) -> None:
    person_app = typer.Typer(
        help="Personal data (GDPR): export or erase what is stored about a person.",
        no_args_is_help=True,
    )
    person_app.command("export")(export)
    person_app.command("forget")(forget)
    app.add_typer(person_app, name="person")


def export(
    handle: str = typer.Argument(..., help="The person's handle (their id in the OKR file)."),
    out: Path | None = typer.Option(None, "--out", help="Where to write; stdout when left out."),
) -> None:
    """Everything stored about a person, as JSON."""
    from bot.ops.privacy import export_person, find_person

    settings = load_settings()

    async def main() -> dict:
        db = open_database(settings)
        try:
            async with db.session() as session:
                person = await find_person(session, handle)
                if person is None:
                    raise UsageFailure(f"no person with the handle {handle!r}")
                return await export_person(session, person, now=system_clock())
        finally:
            await db.dispose()

    text = json.dumps(asyncio.run(main()), ensure_ascii=False, indent=2) + "\n"
    if out is None:
        sys.stdout.write(text)
    else:
        out.write_text(text, encoding="utf-8")
        typer.echo(f"Wrote {out}.", err=True)


def forget(
    handle: str = typer.Argument(..., help="The person's handle (their id in the OKR file)."),
    yes: bool = typer.Option(False, "--yes", help="Erase now (without it: show what would go)."),
) -> None:
    """Erase a person's personal data; keep their reported values, anonymised."""
    from bot.ops.privacy import find_person, forget_person

    settings = load_settings()

    async def main():
        db = open_database(settings)
        try:
            async with db.transaction() as session:
                person = await find_person(session, handle)
                if person is None:
                    raise UsageFailure(f"no person with the handle {handle!r}")
                return await forget_person(session, person, dry_run=not yes)
        finally:
            await db.dispose()

    report = asyncio.run(main())
    for line in report.lines():
        typer.echo(line)
    if report.handle != report.pseudonym:  # not forgotten before
        for line in _reimport_warning(settings, report.handle):
            typer.echo(line)
    if report.key_results_kept:
        typer.echo(
            f"Their key results stay owned by {report.pseudonym}: give them a new owner in the "
            "OKR file and import it (`okrbot okrs export` stops at them until then)."
        )
    if not yes:
        raise UsageFailure("nothing changed: run again with --yes to erase")


def _reimport_warning(settings: Settings, handle: str) -> list[str]:
    """An OKR file that still lists the person would create them again on import."""
    lines = [
        f"Note: `okrbot okrs import` of an OKR file that still lists {handle} creates them "
        f"again; remove {handle} from your OKR file."
    ]
    if settings.okrs and _lists(settings.okrs, handle):
        lines.append(
            f"OKRBOT_OKRS ({settings.okrs}) still lists {handle}: it is imported at every start."
        )
    return lines


def _lists(path: str, handle: str) -> bool:
    from bot.okrfile.schema import OkrFileError, load_okr_file

    try:
        doc = load_okr_file(path)
    except (OkrFileError, OSError):
        return False
    return any(p.id.lower() == handle.lower() for p in doc.people)

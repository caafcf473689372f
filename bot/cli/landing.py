"""`okrbot okrs import-from viva|sheet FILE`: land OKRs and their history from a Viva Goals
export or a spreadsheet. The export is read and converted first (bot.okrfile.viva, .sheet,
.landing: pure); a bad file is exit 2 with every problem and nothing written. The OKR file goes
to `--out` (written whole, or not at all) or stdout; `--apply` imports it and the check-in
history in one transaction."""

from __future__ import annotations

import asyncio
import os
import sys
import tempfile
from collections.abc import Callable
from pathlib import Path

import typer

from bot.cli.support import UsageFailure, load_settings, open_database
from bot.clock import system_clock
from bot.okrfile.landing import Found, Landing, Settings, land
from bot.okrfile.tables import SourceError, SourceProblem

OUT = typer.Option(None, "--out", help="Write the OKR file here (else to stdout).")
APPLY = typer.Option(False, "--apply", help="Import it, with the check-in history, at once.")
ORGANIZATION = typer.Option(None, "--organization", help="The organisation's display name.")
TIMEZONE = typer.Option(None, "--timezone", help="Default IANA time zone (default: UTC).")
LOCALE = typer.Option(None, "--locale", help="Default language, en or da (default: en).")


def register(okrs_app: typer.Typer) -> None:
    from_app = typer.Typer(
        help="Land OKRs and their history from Viva Goals or a spreadsheet.",
        no_args_is_help=True,
    )
    okrs_app.add_typer(from_app, name="import-from")
    from_app.command("viva")(
        _command(
            _read_viva,
            "The Viva Goals export: the ZIP of JSON files, or an Explorer CSV/XLSX.",
            "Convert a Viva Goals export into an OKR file (and import it with --apply).",
        )
    )
    from_app.command("sheet")(
        _command(
            _read_sheet,
            "A CSV or XLSX file, one row per key result.",
            "Convert a spreadsheet of OKRs into an OKR file (and import it with --apply).",
        )
    )


def _read_viva(data: bytes, filename: str) -> Found:
    from bot.okrfile.viva import read_viva

    return read_viva(data, filename)


def _read_sheet(data: bytes, filename: str) -> Found:
    from bot.okrfile.sheet import read_sheet

    return read_sheet(data, filename)


def _command(
    reader: Callable[[bytes, str], Found], file_help: str, doc: str
) -> Callable[..., None]:
    """One `import-from` command: its reader of the export and its help."""

    def command(
        file: Path = typer.Argument(..., help=file_help),
        out: Path | None = OUT,
        apply: bool = APPLY,
        organization: str | None = ORGANIZATION,
        timezone: str | None = TIMEZONE,
        locale: str | None = LOCALE,
    ) -> None:
        run(reader, file, out, apply, organization, timezone, locale)

    command.__doc__ = doc
    return command


def run(
    reader: Callable[[bytes, str], Found],
    file: Path,
    out: Path | None,
    apply: bool,
    organization: str | None,
    timezone: str | None,
    locale: str | None,
) -> None:
    _check_options(timezone, locale)
    try:
        data = file.read_bytes()
    except OSError as e:
        raise SourceError(
            [SourceProblem(str(file), "", f"cannot read the file: {e.strerror or e}")]
        ) from None
    found = reader(data, str(file))  # a bad file stops here: nothing written
    chosen = {"organization": organization, "timezone": timezone, "locale": locale}
    if not apply:
        landing = land(found, Settings(**{k: v for k, v in chosen.items() if v}))
        _report(landing)
        if out is None:
            sys.stdout.write(landing.text)
        else:
            _rename(_prepare(landing.text, out), out)
        return
    summary = asyncio.run(_apply(found, out, chosen))
    typer.echo(f"Imported {file}: {summary}.")


def _check_options(timezone: str | None, locale: str | None) -> None:
    from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

    if locale is not None and locale not in ("en", "da"):
        raise UsageFailure(f"--locale must be en or da, not {locale!r}")
    if timezone is not None:
        try:
            ZoneInfo(timezone)
        except (ZoneInfoNotFoundError, ValueError, OSError):
            raise UsageFailure(
                f"--timezone must be an IANA time zone such as Europe/Copenhagen, not {timezone!r}"
            ) from None


async def _apply(found: Found, out: Path | None, chosen: dict) -> str:
    from bot.okrfile.importer import import_landing

    db = open_database(load_settings())
    written = None  # the OKR file, complete beside --out, renamed over it once imported
    try:
        async with db.transaction() as session:  # one transaction: all of it, or nothing
            landing = land(found, await _settings(session, chosen))
            _report(landing)
            if out is not None:
                written = _prepare(landing.text, out)
            report = await import_landing(session, landing, now=system_clock())
    except BaseException:
        if written is not None:
            os.unlink(written)
        raise
    finally:
        await db.dispose()
    if written is not None:
        _rename(written, out)
    history = (
        f"; {report.history} check-ins of {report.key_results} key results as history"
        if report.history
        else ""
    )
    return report.summary + history


async def _settings(session, chosen: dict) -> Settings:
    """What the export does not say: the options, else the organisation already there; the
    people and teams it has, to match by email and name."""
    from bot.okrfile.export import export_document
    from storage.models import Organization

    values = {k: v for k, v in chosen.items() if v}
    org = await session.get(Organization, 1)
    if org is None:
        return Settings(**values)
    try:
        current = await export_document(session)
    except LookupError:  # a key result owned by someone archived: match nobody, keep the rest
        current = None
    base = {
        "organization": org.name,
        "timezone": org.timezone,
        "locale": org.locale,
        "period": org.period,
        "exec_channel": org.exec_channel,
        "checkin": org.checkin,
        "digest": org.digest,
    }
    if current is not None:
        base["known_people"] = tuple(current.people)
        base["known_teams"] = tuple(current.teams)
    return Settings(**{**base, **values})


def _report(landing: Landing) -> None:
    doc = landing.document
    krs = sum(len(o.key_results) for o in doc.objectives)
    checkins = sum(len(entries) for entries in landing.history.values())
    lines = [f"Read {landing.file}:", *(f"  {line}" for line in landing.read)]
    lines.append(
        f"Converted: {len(doc.objectives)} objectives, {krs} key results, "
        f"{len(doc.people)} people, {len(doc.teams)} teams, {checkins} check-ins"
    )
    if landing.notes:
        lines.append(f"Could not be mapped ({len(landing.notes)}):")
        lines += [f"  {note}" for note in landing.notes]
    typer.echo("\n".join(lines), err=True)


def _prepare(text: str, out: Path) -> str:
    """The whole file, written to a temporary file beside `out` (for `_rename`)."""
    directory = out.parent if str(out.parent) else Path(".")
    try:
        fd, tmp = tempfile.mkstemp(prefix=f".{out.name}.", dir=directory)
    except OSError as e:
        raise UsageFailure(f"{out}: cannot write: {e.strerror or e}") from None
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as f:
            f.write(text)
        os.chmod(tmp, out.stat().st_mode & 0o777 if out.exists() else 0o644)
    except OSError as e:
        os.unlink(tmp)
        raise UsageFailure(f"{out}: cannot write: {e.strerror or e}") from None
    return tmp


def _rename(tmp: str, out: Path) -> None:
    """Put the complete file in place at once: readers see the old file or the new one."""
    try:
        os.replace(tmp, out)
    except OSError as e:
        os.unlink(tmp)
        raise UsageFailure(f"{out}: cannot write: {e.strerror or e}") from None
    typer.echo(f"Wrote {out}.", err=True)

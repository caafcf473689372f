"""What every `okrbot` command shares: settings, logging, the database, and the two kinds of
failure that `bot.cli.app.main` turns into exit codes (1 runtime, 2 bad usage)."""

from __future__ import annotations

import typer

from bot.clock import Clock
from bot.config import Settings
from bot.okrfile.schema import load_okr_file
from storage.db import Database, upgrade


class Failure(Exception):
    """A runtime failure: one line on stderr, exit 1."""


class UsageFailure(Exception):
    """Bad usage found after parsing (e.g. an unknown handle): one line on stderr, exit 2."""


def load_settings() -> Settings:
    """The settings from the environment; logging is configured from them (bad values: exit 2)."""
    from pydantic import ValidationError

    from bot.logs import configure_logging

    try:
        settings = Settings()
    except ValidationError as exc:
        error = exc.errors()[0]
        name = ".".join(str(part) for part in error["loc"])
        raise UsageFailure(f"{name}: {error['msg']}") from None
    secrets = (
        settings.slack_bot_token,
        settings.slack_signing_secret,
        settings.slack_app_token,
        settings.microsoft_app_password,
        settings.api_token,
    )
    try:
        configure_logging(settings.log_level, settings.log_format, secrets=secrets)
    except ValueError as exc:
        raise UsageFailure(f"OKRBOT_LOG_LEVEL: {exc}") from None
    return settings


def open_database(settings: Settings) -> Database:
    """Migrate first (SPEC §8), then open the async engine."""
    upgrade(settings.database_url)
    return Database(settings.database_url)


async def import_file(db: Database, path: str, clock: Clock, prune: bool = False) -> str:
    from bot.okrfile.importer import import_document

    doc = load_okr_file(path)
    async with db.transaction() as session:
        report = await import_document(session, doc, now=clock(), prune=prune)
    return report.summary()


async def ensure_okrs(db: Database, settings: Settings, clock: Clock) -> None:
    """`OKRBOT_OKRS` is imported at start; an empty database gets the demo organisation."""
    from bot.okrfile.demo import load_demo
    from storage import repo

    if settings.okrs:
        summary = await import_file(db, settings.okrs, clock)
        typer.echo(f"Imported {settings.okrs}: {summary}.", err=True)
        return
    async with db.transaction() as session:
        if await repo.organization(session) is None:
            await load_demo(session, clock())
            typer.echo(
                "The database was empty: loaded the demo OKRs of Nordlys Retail "
                "(import your own with `okrbot okrs import FILE`).",
                err=True,
            )

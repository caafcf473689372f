"""The composition root: the one core module that builds the platform edges (adapters/), the
scheduler and the delivery worker, and wires them to the core and the database. The commands
(bot/cli/) ask it for what they run; nothing else in bot/ imports adapters/, scheduler/ or a
platform SDK.
"""

from __future__ import annotations

import asyncio
import logging
import signal
from dataclasses import dataclass
from pathlib import Path

from bot.cli.support import Failure, UsageFailure, ensure_okrs, import_file, open_database
from bot.clock import system_clock
from bot.config import Settings
from bot.core import Core

log = logging.getLogger("okrbot")


async def chat(settings: Settings, handle: str | None) -> None:
    from adapters.console import ConsoleChat
    from bot.core import Core
    from bot.okrfile.demo import DEMO_PERSONA

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


def listen_host(settings: Settings, host: str | None) -> str:
    """Where the server listens: the Teams emulator mode (no authentication) on loopback only."""
    from adapters.teams.app import is_loopback

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
    from bot.ops.push import PushService

    db = core.db
    server = Server(app=None)
    mounts = [ChartRoutes(db), PushApi(PushService(db, core.clock, metrics), settings.api_token)]
    if settings.teams_configured:
        server.teams = teams_adapter(
            settings, core, identity=teams_identity, credentials_factory=teams_credentials
        )
        mounts.append(server.teams)
    elif settings.teams_emulator:
        log.warning("OKRBOT_TEAMS_EMULATOR is ignored: MICROSOFT_APP_ID is set")
    if settings.slack_configured:
        server.slack = await slack_adapter(settings, core)
        if settings.slack_app_token:
            from slack_bolt.adapter.socket_mode.aiohttp import AsyncSocketModeHandler

            server.socket_mode = AsyncSocketModeHandler(server.slack.app, settings.slack_app_token)
        else:
            mounts.append(server.slack)
    server.app = build_app(db, *mounts, metrics=metrics)
    return server


async def serve(settings: Settings, host: str | None, port: int, *, scheduler: bool = True) -> None:
    from adapters.server import serve as start
    from bot.core import Core
    from bot.metrics import Metrics

    host = listen_host(settings, host)
    if settings.slack_configured:
        check_slack(settings)  # a configuration that cannot be served fails before anything
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
            ticking = scheduler_of(settings, core, server.slack, server.teams, metrics)
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


def scheduler_of(settings: Settings, core, slack, teams, metrics):
    """The scheduler's tick and the delivery worker of this process, started."""
    from datetime import timedelta

    from bot.ops.privacy import purge_raw_replies
    from scheduler.service import Scheduler

    stack = delivery_stack(settings, core, slack=slack, teams=teams, metrics=metrics)

    async def retention() -> int:
        async with core.db.transaction() as session:
            before = core.clock() - timedelta(days=settings.raw_reply_days)
            return await purge_raw_replies(session, before=before)

    ticking = Scheduler(stack.store, stack.worker, core.clock, retention=retention)
    ticking.start()
    return ticking


def teams_adapter(settings: Settings, core, *, identity=None, credentials_factory=None):
    from adapters.teams.app import TeamsAdapter, TeamsConfigError

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


def check_slack(settings: Settings) -> None:
    from adapters.slack.app import SlackConfigError, check_settings

    try:
        check_settings(
            settings.slack_bot_token, settings.slack_signing_secret, settings.slack_app_token
        )
    except SlackConfigError as exc:
        raise Failure(str(exc)) from exc


async def slack_adapter(settings: Settings, core):
    from adapters.slack.app import SlackAdapter, SlackConfigError, slack_client, verify_token

    check_slack(settings)
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


@dataclass
class Delivery:
    """The outbound side of one process."""

    store: object
    worker: object
    platforms: list[str]
    pacers: object = None


def delivery_stack(
    settings: Settings, core: Core, *, slack=None, teams=None, metrics=None
) -> Delivery:
    """The outbox, one sender per configured platform (Slack first), the worker, and the paces
    the senders share with the other processes on the database (the configured rates are their
    ceilings)."""
    from adapters.pace_policy import Policy
    from adapters.pacing import Pacers
    from bot.digest.source import digest_source
    from scheduler.outbox import OutboxStore
    from scheduler.worker import DeliveryWorker, Senders
    from storage.pace import PaceStore

    policies = {
        "slack": Policy(ceiling=settings.slack_rate),
        "teams": Policy(ceiling=settings.teams_rate),
    }
    pacers = Pacers(policies, shared=PaceStore(core.db))
    senders = Senders()
    if slack is not None:
        from adapters.slack.outbox import SlackSender

        senders.by_platform["slack"] = SlackSender(
            slack, pacers=pacers, channel_rate=settings.slack_channel_rate
        )
    if teams is not None:
        from adapters.teams.outbox import TeamsSender

        senders.by_platform["teams"] = TeamsSender(
            teams, pacers=pacers, public_url=settings.public_url, metrics=metrics
        )
    store = OutboxStore(core.db, core.clock)
    worker = DeliveryWorker(
        store,
        senders,
        digests=digest_source(core.db, core.clock),
        concurrency=settings.delivery_concurrency,
        metrics=metrics,
        pace=pacers.total,
    )
    return Delivery(store, worker, list(senders.by_platform), pacers)


async def platforms(settings: Settings, core: Core):
    """The adapters the CLI sends through: those configured in the environment."""
    slack = await slack_adapter(settings, core) if settings.slack_configured else None
    teams = teams_adapter(settings, core) if settings.teams_configured else None
    if slack is None and teams is None:
        raise Failure(
            "no platform is configured: set SLACK_BOT_TOKEN (Slack) or MICROSOFT_APP_ID (Teams; "
            "OKRBOT_TEAMS_EMULATOR=1 for the local emulator)"
        )
    return slack, teams


def outbox_store(db, clock):
    """The outbox (the delivery queue) on `db`, for reading it (`okrbot doctor`)."""
    from scheduler.outbox import OutboxStore

    return OutboxStore(db, clock)


def teams_package(app_id: str, out: Path) -> Path:
    """`okrbot teams package`: the Teams app zip (bad input: UsageFailure)."""
    from adapters.teams.package import build_package

    try:
        return build_package(app_id, out)
    except ValueError as exc:
        raise UsageFailure(str(exc)) from exc


async def slack_probe(token: str, url: str, method: str, *, seconds: float):
    """One Web API call for `okrbot doctor` (no retries, a short timeout)."""
    from adapters.slack.app import probe

    return await probe(token, url, method, seconds=seconds)

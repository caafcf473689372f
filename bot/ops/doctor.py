"""`okrbot doctor`: what works and what does not, each problem with its fix.

The checks here are pure: they take plain facts (gathered by `bot.cli.doctor` from the
environment, the database and Slack) and return `Check` lines. `render` turns them into one
screen; `exit_code` is 1 when any check failed (warnings alone exit 0).
"""

from __future__ import annotations

from collections.abc import Collection, Iterable
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

OK, WARN, FAIL = "ok", "warn", "fail"
MARKS = {OK: "ok", WARN: "warn", FAIL: "FAIL"}
# The bot scopes the Slack app needs: equal to `oauth_config.scopes.bot` of the app manifest,
# adapters/slack/manifest.yaml.
BOT_SCOPES = (
    "chat:write",
    "commands",
    "im:history",
    "im:read",
    "im:write",
    "users:read",
    "users:read.email",
    "files:write",
    "channels:read",
    "groups:read",
    "channels:history",
    "groups:history",
)
DM_SCOPES = ("im:history", "im:write", "chat:write")  # members answer their prompt in the DM
RECENT_FAILURES = timedelta(days=7)  # older failed messages are history, not a live problem
IMPORT_FIX = "import the OKR file: `okrbot okrs import FILE`"
REIMPORT = "then run `okrbot okrs import FILE`"


@dataclass(frozen=True)
class Check:
    status: str  # ok | warn | fail
    title: str
    detail: str = ""  # may hold several lines
    fix: str = ""  # shown for warn and fail
    section: str = ""


@dataclass(frozen=True)
class PersonFacts:
    """A live person who owns active key results, and how the bot could reach them."""

    handle: str
    slack_id: str | None = None
    teams_aad_id: str | None = None
    email: str | None = None
    teams_chat: bool = False  # the bot has a personal Teams conversation with them


@dataclass(frozen=True)
class SeenChannel:
    conversation_id: str
    seen_at: datetime
    name: str | None = None


@dataclass(frozen=True)
class FailedMessage:
    kind: str
    target: str
    period: str
    error: str | None
    platform: str | None
    created_at: datetime


@dataclass(frozen=True)
class PlannedPrompt:
    handle: str
    when: datetime
    zone: str


@dataclass(frozen=True)
class PlannedDigest:
    name: str  # "exec" or a team slug
    channel: str
    when: datetime
    zone: str


def in_section(section: str, checks: Iterable[Check]) -> list[Check]:
    return [Check(c.status, c.title, c.detail, c.fix, section=c.section or section) for c in checks]


# What to do about each problem.
FIXES = {
    "bot_token": "copy the Bot User OAuth Token (xoxb-...) from OAuth & Permissions into "
    "SLACK_BOT_TOKEN; reinstall the app to the workspace if it was revoked",
    "app_token": "Basic Information > App-Level Tokens: generate one with scope "
    "connections:write and set it as SLACK_APP_TOKEN",
    "signing_secret": "set SLACK_SIGNING_SECRET (Basic Information > App Credentials), "
    "or SLACK_APP_TOKEN for Socket Mode",
    "slack_url": "check SLACK_API_URL (default https://slack.com/api/), the network and any proxy",
    "scopes_unknown": "compare OAuth & Permissions > Bot Token Scopes with "
    "adapters/slack/manifest.yaml",
    "scopes": "add them under OAuth & Permissions > Bot Token Scopes "
    "(adapters/slack/manifest.yaml lists them all), then reinstall the app to the workspace",
    "messages_tab": 'App Home > Messages Tab: turn it on and tick "Allow users to send Slash '
    'commands and messages from the messages tab"\n(adapters/slack/manifest.yaml sets both); also '
    "subscribe to the message.im bot event",
    "teams_emulator": "unset OKRBOT_TEAMS_EMULATOR outside local tests; for Teams, set "
    "MICROSOFT_APP_ID and MICROSOFT_APP_PASSWORD of the Azure Bot",
    "teams_emulator_ignored": "unset OKRBOT_TEAMS_EMULATOR",
    "teams_password": "set MICROSOFT_APP_PASSWORD (the Azure Bot's client secret)",
    "teams_tenant": "set MICROSOFT_APP_TENANT_ID (the tenant of the bot registration)",
    "teams_channel": "add okrbot to that team in Teams (it learns a channel when it is added or "
    "mentioned there), or use one of the channels listed above",
    "teams_reach": "ask them to open okrbot in Teams (or install it for their team); with "
    "`teams: <AAD object id>` in the OKR file the bot opens the chat itself",
    "teams_tenant_unseen": " once it has seen your tenant (any install or message)",
    "teams_new_chat": "nothing to do; if a prompt fails, ask them to open okrbot in Teams",
    "no_id": f"add `slack:`, `teams:` or `email:` for them in the OKR file, {REIMPORT}",
    "stalled": "is `okrbot serve` running? Its worker delivers what the scheduler queues",
    "no_prompts": "check the objectives' periods and owners in the OKR file",
    "no_digests": f"set `exec_channel` (and `channel` per team) in the OKR file, {REIMPORT}",
}


def _fail(title: str, detail: str, fix: str) -> Check:
    return Check(FAIL, title, detail, FIXES.get(fix, fix))


def _warn(title: str, detail: str, fix: str) -> Check:
    return Check(WARN, title, detail, FIXES.get(fix, fix))


# -- Slack ------------------------------------------------------------------------------------
def slack_settings_checks(
    bot_token: str, signing_secret: str | None, app_token: str | None
) -> list[Check]:
    checks = []
    if not bot_token.startswith("xoxb-"):
        checks.append(_fail("Slack token", "SLACK_BOT_TOKEN is not a bot token", "bot_token"))
    if app_token is not None and not app_token.startswith("xapp-"):
        checks.append(_fail("Slack mode", "SLACK_APP_TOKEN is not xapp-...", "app_token"))
    elif app_token is not None:
        detail = "Socket Mode (SLACK_APP_TOKEN is set): POST /slack/events is not served"
        checks.append(Check(OK, "Slack mode", detail))
    elif signing_secret:
        checks.append(Check(OK, "Slack mode", "HTTP (POST /slack/events), signing secret set"))
    else:
        detail = "HTTP mode without SLACK_SIGNING_SECRET: okrbot refuses to start"
        checks.append(_fail("Slack mode", detail, "signing_secret"))
    return checks


def slack_token_check(
    url: str, identity: dict | None, error: str | None = None, unreachable: str | None = None
) -> Check:
    if unreachable is not None:
        detail = f"Slack is not reachable at {url}: {unreachable}"
        return _fail("Slack token", detail, "slack_url")
    if identity is None:
        return _fail("Slack token", f"Slack refused SLACK_BOT_TOKEN: {error}", "bot_token")
    who = identity.get("user") or identity.get("user_id") or "the bot"
    team = identity.get("team") or "the workspace"
    return Check(OK, "Slack token", f"valid: {who} in {team} ({identity.get('team_id')})")


def slack_app_token_check(error: str | None, unreachable: str | None = None) -> Check:
    if error is None and unreachable is None:
        return Check(OK, "Socket Mode token", "SLACK_APP_TOKEN accepted (apps.connections.open)")
    detail = f"Slack refused SLACK_APP_TOKEN: {error}" if error else f"not checked: {unreachable}"
    return _fail("Socket Mode token", detail, "app_token")


def slack_scope_check(granted: Collection[str] | None) -> Check:
    if granted is None:
        detail = "Slack did not say which scopes the token has (no x-oauth-scopes header)"
        return _warn("Slack scopes", detail, "scopes_unknown")
    missing = [s for s in BOT_SCOPES if s not in granted]
    if not missing:
        return Check(OK, "Slack scopes", f"all {len(BOT_SCOPES)} bot scopes granted")
    return _fail("Slack scopes", f"missing: {', '.join(missing)}", "scopes")


def messages_tab_check(granted: Collection[str] | None, slack_dm_replies: int) -> Check:
    """A bot token cannot read the app's settings: check the DM scopes and whether a reply in a
    DM has ever arrived."""
    missing = [s for s in DM_SCOPES if granted is not None and s not in granted]
    if missing:
        detail = f"members cannot answer in the bot's DM: missing {', '.join(missing)}"
        return _fail("Messages tab", detail, "scopes")
    if slack_dm_replies:
        return Check(OK, "Messages tab", f"usable: {slack_dm_replies} DM replies received")
    detail = "no DM reply has arrived from Slack yet, so it cannot be confirmed"
    return _warn("Messages tab", detail, "messages_tab")


# -- Teams ------------------------------------------------------------------------------------
def teams_settings_check(
    app_id: str | None,
    password: str | None,
    app_type: str | None,
    tenant_id: str | None,
    emulator: bool = False,
) -> Check:
    kind = app_type or "MultiTenant"
    title = "Teams authentication"
    if not app_id and emulator:
        detail = (
            "OFF (OKRBOT_TEAMS_EMULATOR is set): /api/messages takes unauthenticated activities, "
            "on 127.0.0.1 only, for the Bot Framework Emulator; never use this in production"
        )
        return _warn(title, detail, "teams_emulator")
    if not app_id:
        detail = "not configured (no MICROSOFT_APP_ID): /api/messages is not served"
        return Check(OK, "Teams", detail)
    if not password and kind.lower() != "userassignedmsi":
        detail = f"MICROSOFT_APP_ID {app_id} is set without MICROSOFT_APP_PASSWORD"
        return _fail(title, detail, "teams_password")
    if kind.lower() == "singletenant" and not tenant_id:
        return _fail(title, "a SingleTenant app needs MICROSOFT_APP_TENANT_ID", "teams_tenant")
    if emulator:
        detail = f"on: app {app_id} ({kind}); OKRBOT_TEAMS_EMULATOR is ignored with an app id"
        return _warn(title, detail, "teams_emulator_ignored")
    return Check(OK, title, f"on: app {app_id} ({kind})")


def teams_channel_checks(seen: list[SeenChannel], configured: Collection[str]) -> list[Check]:
    """The Teams channels the bot has seen (for `teams:<id>` in the OKR file), and the ones the
    OKR file names that it has not seen."""
    lines = [
        f"teams:{c.conversation_id}"
        + (f"  {c.name}" if c.name else "")
        + f"  (seen {c.seen_at:%Y-%m-%d %H:%M} UTC)"
        for c in sorted(seen, key=lambda c: c.seen_at, reverse=True)
    ]
    detail = "\n".join([f"{len(seen)}:", *lines]) if seen else "none yet"
    checks = [Check(OK, "Teams channels seen", detail)]
    known = {c.conversation_id for c in seen}
    unseen = [c for c in configured if c.removeprefix("teams:") not in known]
    if unseen:
        detail = f"the OKR file names channels the bot has not seen: {', '.join(unseen)}"
        checks.append(_fail("Teams digest channels", detail, "teams_channel"))
    return checks


def teams_reach_checks(
    people: Iterable[PersonFacts], slack_configured: bool, tenant_seen: bool
) -> list[Check]:
    """People the bot would prompt on Teams (no Slack way) but has no 1:1 chat with yet."""
    new_chat, unreachable, chatting = [], [], 0
    for p in people:
        if not (p.slack_id or p.teams_aad_id or p.email):
            continue  # unreachable anywhere is the people check's line
        if slack_configured and (p.slack_id or p.email):
            continue
        if p.teams_chat:
            chatting += 1
        elif p.teams_aad_id and tenant_seen:
            new_chat.append(p.handle)
        else:
            unreachable.append(p.handle)
    checks = []
    if unreachable:
        fix = FIXES["teams_reach"] + ("" if tenant_seen else FIXES["teams_tenant_unseen"])
        detail = f"cannot prompt yet: {', '.join(sorted(unreachable))}"
        checks.append(_fail("Teams reach", detail, fix))
    if new_chat:
        detail = f"no chat yet, one is opened at the first prompt: {', '.join(sorted(new_chat))}"
        checks.append(_warn("Teams reach", detail, "teams_new_chat"))
    if not checks:
        detail = f"everyone prompted on Teams ({chatting}) has a chat with the bot"
        checks.append(
            Check(OK, "Teams reach", detail if chatting else "nobody is prompted on Teams")
        )
    return checks


# -- people, outbox, schedule -----------------------------------------------------------------
def people_checks(people: Iterable[PersonFacts], slack_configured: bool) -> list[Check]:
    people = sorted(people, key=lambda p: p.handle)
    nowhere = [p.handle for p in people if not (p.slack_id or p.teams_aad_id or p.email)]
    by_email = [p.handle for p in people if p.email and not (p.slack_id or p.teams_aad_id)]
    checks = []
    if nowhere:
        detail = f"no platform id and no email, cannot be reached: {', '.join(nowhere)}"
        checks.append(_fail("people", detail, "no_id"))
    if by_email:
        how = "at the first send" if slack_configured else "when they first message the bot"
        checks.append(Check(OK, "people", f"mapped by email {how}: {', '.join(by_email)}"))
    if not nowhere:
        checks.insert(0, Check(OK, "people", f"{len(people)} key-result owners can be reached"))
    return checks


def retry_command(kind: str, target: str) -> str:
    if kind == "exec_digest":
        return "okrbot digest post --exec --retry-failed"
    if kind == "team_digest":
        return f"okrbot digest post --team {target} --retry-failed"
    return f"okrbot checkin send --member {target} --retry-failed"


def outbox_checks(
    failed: Iterable[FailedMessage], counts: dict[str, int], stalled: int, now: datetime
) -> list[Check]:
    failed = list(failed)
    recent = [f for f in failed if f.created_at >= now - RECENT_FAILURES]
    older = len(failed) - len(recent)
    waiting = counts.get("pending", 0) + counts.get("sending", 0)
    summary = f"{counts.get('sent', 0)} sent, {waiting} pending or being sent"
    if older:
        summary += f", {older} failed more than a week ago"
    checks = [Check(OK, "outbox", summary)]
    if recent:
        lines = [
            f"{f.kind} {f.target} {f.period}"
            + (f" via {f.platform}" if f.platform else "")
            + f": {f.error or 'unknown error'}"
            for f in recent
        ]
        commands = list(dict.fromkeys(retry_command(f.kind, f.target) for f in recent))
        detail = "\n".join([f"{len(recent)} failed for good:", *lines])
        fix = "\n".join(["fix the cause named above, then:", *commands])
        checks.append(_fail("failed messages", detail, fix))
    if stalled:
        detail = f"{stalled} messages have waited more than 15 minutes to be sent"
        checks.append(_warn("delivery", detail, "stalled"))
    return checks


def _moment(when: datetime, zone: str, now: datetime) -> str:
    if when <= now:
        return "now (due)"
    return f"{when.astimezone(ZoneInfo(zone)):%a %Y-%m-%d %H:%M} {zone}"


def _names(handles: list[str], most: int = 6) -> str:
    shown = ", ".join(sorted(handles)[:most])
    return shown + (f" and {len(handles) - most} more" if len(handles) > most else "")


def schedule_checks(
    prompts: Iterable[PlannedPrompt],
    away: dict[str, date],
    digests: Iterable[PlannedDigest],
    now: datetime,
) -> list[Check]:
    """The next prompts, grouped by moment and time zone, and the next digests."""
    groups: dict[tuple[str, str], list[PlannedPrompt]] = {}
    for p in prompts:
        groups.setdefault((_moment(p.when, p.zone, now), p.zone), []).append(p)
    ordered = sorted(groups.values(), key=lambda g: g[0].when)
    lines = [
        f"{_moment(g[0].when, g[0].zone, now)}: {_names([p.handle for p in g])}" for g in ordered
    ]
    lines += [f"away until {until.isoformat()}: {handle}" for handle, until in sorted(away.items())]
    count = sum(len(g) for g in ordered)
    if lines:
        checks = [Check(OK, "next prompts", "\n".join([f"{count} people:", *lines]))]
    else:
        detail = "nobody owns a key result of an objective whose period contains today"
        checks = [_warn("next prompts", detail, "no_prompts")]
    digests = sorted(digests, key=lambda d: d.when)
    if digests:
        lines = [f"{d.name} to {d.channel}: {_moment(d.when, d.zone, now)}" for d in digests]
        checks.append(Check(OK, "next digests", "\n".join(lines)))
    else:
        detail = "none: no exec_channel and no team channel with active objectives"
        checks.append(_warn("next digests", detail, "no_digests"))
    return checks


# -- the screen -------------------------------------------------------------------------------
def exit_code(checks: Iterable[Check]) -> int:
    return 1 if any(c.status == FAIL for c in checks) else 0


def summary(checks: list[Check]) -> str:
    fails = sum(c.status == FAIL for c in checks)
    warns = sum(c.status == WARN for c in checks)
    oks = len(checks) - fails - warns
    if not fails and not warns:
        return f"All well: {oks} check{'s' if oks != 1 else ''} passed."
    parts = [f"{fails} failed"] if fails else []
    parts += [f"{warns} warning{'s' if warns != 1 else ''}"] if warns else []
    verdict = "fix the failures above" if fails else "nothing is broken"
    return f"{', '.join(parts)}, {oks} ok: {verdict}."


def render(checks: list[Check]) -> str:
    """One line per check (mark, title, detail), its fix indented below for warn and fail,
    further detail lines indented too; section headers; a summary line at the end."""
    out, section = [], None
    pad = " " * 8
    for c in checks:
        if c.section and c.section != section:
            out.append(("\n" if out else "") + c.section)
            section = c.section
        first, *rest = (c.detail or "").splitlines() or [""]
        head = f"  {MARKS[c.status]:<5} {c.title}"
        out.append(f"{head}: {first}" if first else head)
        out += [f"{pad}{line}" for line in rest]
        if c.fix and c.status != OK:
            fix_first, *fix_rest = c.fix.splitlines()
            out.append(f"{pad}fix: {fix_first}")
            out += [f"{pad}     {line}" for line in fix_rest]
    out += ["", summary(checks)]
    return "\n".join(out)

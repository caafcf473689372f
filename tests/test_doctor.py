"""`okrbot doctor`: the pure checks and the screen, then the command as an operator runs it
(a subprocess) against a fake Slack on 127.0.0.1 and a real database (SQLite and PostgreSQL)."""

from __future__ import annotations

import os
import re
import socket
import time
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import pytest
import yaml
from sqlalchemy import create_engine, text, update

from bot.clock import system_clock
from bot.core import Core
from bot.ops import doctor as doc
from bot.ops.doctor import FAIL, OK, WARN, Check, PersonFacts
from storage.db import sync_url, upgrade
from storage.models import Person, RawReply
from tests.fake_slack import DEFAULT_SCOPES, FakeSlack
from tests.processes import okrbot
from tests.schedule_world import OKRS, SLACK_USERS, around, load_world

ROOT = Path(__file__).resolve().parent.parent
NOW = datetime(2026, 11, 22, 11, 0, tzinfo=UTC)  # Sunday noon in Copenhagen
FRIDAY = datetime(2026, 11, 27, 14, tzinfo=UTC)  # 15:00 in Copenhagen
OURS = ("SLACK_", "MICROSOFT_", "OKRBOT_", "DATABASE_URL")  # set by each test, not inherited
SECTIONS = ("Database", "Slack", "Teams", "People", "Outbox", "Schedule")


# -- the pure checks --------------------------------------------------------------------------
def test_the_screen_has_a_line_per_check_fixes_below_problems_and_a_summary():
    checks = [
        Check(OK, "database", "reachable", section="Database"),
        Check(WARN, "Messages tab", "not confirmed", "turn it on", section="Slack"),
        Check(FAIL, "failed", "1 failed:\nprompt anna 2026-W47", "fix it\nthen run", "Outbox"),
        Check(OK, "ok with a fix", "fine", "never shown", section="Outbox"),
    ]
    assert doc.render(checks).splitlines() == [
        "Database",
        "  ok    database: reachable",
        "",
        "Slack",
        "  warn  Messages tab: not confirmed",
        "        fix: turn it on",
        "",
        "Outbox",
        "  FAIL  failed: 1 failed:",
        "        prompt anna 2026-W47",
        "        fix: fix it",
        "             then run",
        "  ok    ok with a fix: fine",
        "",
        "1 failed, 1 warning, 2 ok: fix the failures above.",
    ]
    assert doc.exit_code(checks) == 1
    assert doc.exit_code(checks[:2]) == 0  # warnings alone exit 0
    assert doc.render(checks[:1]).endswith("All well: 1 check passed.")


def test_the_scopes_doctor_wants_are_the_manifests():
    manifest = yaml.safe_load((ROOT / "adapters" / "slack" / "manifest.yaml").read_text())
    assert list(doc.BOT_SCOPES) == manifest["oauth_config"]["scopes"]["bot"]
    assert manifest["features"]["app_home"]["messages_tab_enabled"] is True


def test_slack_settings_tokens_modes_scopes_and_the_messages_tab():
    assert [c.status for c in doc.slack_settings_checks("xoxb-1", "secret", None)] == [OK]
    (token, mode) = doc.slack_settings_checks("xoxp-1", None, None)
    assert token.status == FAIL and "OAuth & Permissions" in token.fix
    assert mode.status == FAIL and "SLACK_SIGNING_SECRET" in mode.detail
    (mode,) = doc.slack_settings_checks("xoxb-1", None, "xapp-1")
    assert mode.status == OK and "Socket Mode" in mode.detail
    (mode,) = doc.slack_settings_checks("xoxb-1", None, "xoxb-2")
    assert mode.status == FAIL and "connections:write" in mode.fix
    down = doc.slack_token_check("http://127.0.0.1:9/api/", None, unreachable="refused")
    assert down.status == FAIL and "not reachable at http://127.0.0.1:9/api/" in down.detail
    refused = doc.slack_token_check("u", None, error="token_revoked")
    assert refused.status == FAIL and refused.detail.endswith("token_revoked")
    # scopes and the Messages tab
    granted = set(doc.BOT_SCOPES) - {"im:history", "files:write"}
    scopes = doc.slack_scope_check(granted)
    assert scopes.status == FAIL and scopes.detail == "missing: im:history, files:write"
    assert [doc.slack_scope_check(g).status for g in (doc.BOT_SCOPES, None)] == [OK, WARN]
    tab = doc.messages_tab_check(granted, 3)
    assert tab.status == FAIL and "im:history" in tab.detail
    tab = doc.messages_tab_check(doc.BOT_SCOPES, 0)
    assert tab.status == WARN and "App Home > Messages Tab" in tab.fix
    assert "Allow users to send Slash commands and messages" in tab.fix
    assert doc.messages_tab_check(doc.BOT_SCOPES, 2).status == OK


def test_teams_settings_and_channels():
    off = doc.teams_settings_check(None, None, None, None)
    assert off.status == OK and "not served" in off.detail
    emulator = doc.teams_settings_check(None, None, None, None, emulator=True)
    assert emulator.status == WARN and "OFF" in emulator.detail and "127.0.0.1" in emulator.detail
    assert "OKRBOT_TEAMS_EMULATOR" in emulator.fix
    ignored = doc.teams_settings_check("app", "pw", None, None, emulator=True)
    assert ignored.status == WARN and "ignored" in ignored.detail
    assert doc.teams_settings_check("app", None, None, None).status == FAIL
    assert doc.teams_settings_check("app", "pw", "SingleTenant", None).status == FAIL
    assert doc.teams_settings_check("app", "pw", "SingleTenant", "t1").status == OK
    assert doc.teams_settings_check("app", "pw", None, None).status == OK
    assert doc.teams_settings_check("app", None, "UserAssignedMSI", "t1").status == OK
    # the channels seen, for `teams:<id>` in the OKR file, and those it names but were not seen
    seen = [
        doc.SeenChannel("19:old@thread.tacv2", datetime(2026, 11, 1, 8, 0, tzinfo=UTC)),
        doc.SeenChannel("19:new@thread.tacv2", datetime(2026, 11, 20, 9, 5, tzinfo=UTC), "General"),
    ]
    (listing, unseen) = doc.teams_channel_checks(seen, ["teams:19:new@thread.tacv2", "teams:19:x"])
    assert listing.status == OK and listing.detail.splitlines() == [
        "2:",
        "teams:19:new@thread.tacv2  General  (seen 2026-11-20 09:05 UTC)",
        "teams:19:old@thread.tacv2  (seen 2026-11-01 08:00 UTC)",
    ]
    assert unseen.status == FAIL and unseen.detail.endswith("teams:19:x")
    assert [c.detail for c in doc.teams_channel_checks([], [])] == ["none yet"]


def test_teams_reach():
    people = [PersonFacts("anna", None, None, "a@x", True), PersonFacts("bob", None, "aad-b")]
    people += [PersonFacts("kenji", None, None, "k@x"), PersonFacts("ceo", "U0"), PersonFacts("x")]
    (cannot, new_chat) = doc.teams_reach_checks(people, slack_configured=False, tenant_seen=True)
    assert cannot.status == FAIL and cannot.detail == "cannot prompt yet: ceo, kenji"
    assert new_chat.status == WARN and new_chat.detail.endswith("first prompt: bob")
    (cannot,) = doc.teams_reach_checks(people, slack_configured=False, tenant_seen=False)
    assert cannot.detail == "cannot prompt yet: bob, ceo, kenji"
    assert "once it has seen your tenant" in cannot.fix
    (new_chat,) = doc.teams_reach_checks(people, slack_configured=True, tenant_seen=True)
    assert new_chat.status == WARN and new_chat.detail.endswith(": bob")
    (fine,) = doc.teams_reach_checks(people[3:4], slack_configured=True, tenant_seen=False)
    assert fine.status == OK and fine.detail == "nobody is prompted on Teams"
    (fine,) = doc.teams_reach_checks(people[:1], slack_configured=False, tenant_seen=True)
    assert fine.detail == "everyone prompted on Teams (1) has a chat with the bot"


def test_people_without_any_way_to_reach_them():
    people = [PersonFacts("anna", slack_id="U1"), PersonFacts("kenji", email="k@x")]
    assert [c.status for c in doc.people_checks(people, True)] == [OK, OK]
    assert "mapped by email at the first send: kenji" in doc.render(doc.people_checks(people, True))
    (nowhere, by_email) = doc.people_checks([*people, PersonFacts("ghost")], True)
    assert nowhere.status == FAIL and nowhere.detail.endswith("cannot be reached: ghost")
    assert "`slack:`, `teams:` or `email:`" in nowhere.fix and "okrs import" in nowhere.fix
    assert by_email.status == OK


def test_failed_messages_name_their_retry_and_old_ones_are_history():
    error = "Slack: channel_not_found"
    rows = [
        doc.FailedMessage(kind, target, "2026-W47", error, "slack", NOW - timedelta(days))
        for kind, target, days in [
            ("prompt", "anna", 1),
            ("exec_digest", "exec", 2),
            ("team_digest", "marketing", 2),
            ("prompt", "bob", 30),
        ]
    ]
    (summary, failures) = doc.outbox_checks(rows, {"sent": 7, "pending": 2, "failed": 4}, 0, NOW)
    assert summary.status == OK
    assert summary.detail == "7 sent, 2 pending or being sent, 1 failed more than a week ago"
    assert failures.status == FAIL
    assert failures.detail.splitlines()[1] == f"prompt anna 2026-W47 via slack: {error}"
    assert "bob" not in failures.detail
    assert failures.fix.splitlines()[1:] == [
        "okrbot checkin send --member anna --retry-failed",
        "okrbot digest post --exec --retry-failed",
        "okrbot digest post --team marketing --retry-failed",
    ]
    (_, stalled) = doc.outbox_checks([], {"pending": 3}, 3, NOW)
    assert stalled.status == WARN and "okrbot serve" in stalled.fix


def test_the_next_prompts_are_grouped_by_moment_and_zone():
    cph, mon, fri = "Europe/Copenhagen", datetime(2026, 11, 23, tzinfo=UTC), FRIDAY
    prompts = [
        doc.PlannedPrompt("anna", mon + timedelta(hours=8, minutes=30), cph),
        doc.PlannedPrompt("ceo", mon + timedelta(hours=8, minutes=30), cph),
        doc.PlannedPrompt("bob", mon + timedelta(hours=14, minutes=30), "America/New_York"),
        doc.PlannedPrompt("kenji", mon + timedelta(minutes=30), "Asia/Tokyo"),
        doc.PlannedPrompt("late", NOW, cph),
    ]
    digests = [
        doc.PlannedDigest("marketing", "C0MKT", fri, cph),
        doc.PlannedDigest("exec", "C0EXEC", fri, cph),
    ]
    away = {"pia": date(2026, 12, 1)}
    (planned, posts) = doc.schedule_checks(prompts, away, digests, NOW)
    assert planned.status == OK and planned.detail.splitlines() == [
        "5 people:",
        "now (due): late",
        "Mon 2026-11-23 09:30 Asia/Tokyo: kenji",
        "Mon 2026-11-23 09:30 Europe/Copenhagen: anna, ceo",
        "Mon 2026-11-23 09:30 America/New_York: bob",
        "away until 2026-12-01: pia",
    ]
    assert posts.detail.splitlines() == [
        "marketing to C0MKT: Fri 2026-11-27 15:00 Europe/Copenhagen",
        "exec to C0EXEC: Fri 2026-11-27 15:00 Europe/Copenhagen",
    ]
    assert [c.status for c in doc.schedule_checks([], {}, [], NOW)] == [WARN, WARN]


# -- the command ------------------------------------------------------------------------------
def env_for(db_url: str, slack: FakeSlack | None = None, **extra: str) -> dict:
    keep = {k: v for k, v in os.environ.items() if not k.startswith(OURS)}
    env = {**keep, "DATABASE_URL": db_url, "OKRBOT_LOG_LEVEL": "WARNING"}
    if slack is not None:
        env.update(SLACK_BOT_TOKEN="xoxb-test", SLACK_SIGNING_SECRET="s", SLACK_API_URL=slack.url)
    return {**env, **extra}


async def doctor(env: dict, cwd: Path) -> tuple[int, str, str]:
    return await okrbot("doctor", env=env, cwd=cwd)


def lines_of(out: str, mark: str) -> list[str]:
    return [line.strip() for line in out.splitlines() if line.startswith(f"  {mark}")]


@pytest.fixture
async def world(db):
    today = datetime.now(UTC).date()
    await load_world(db, datetime.now(UTC) - timedelta(days=30), period=around(today))
    async with db.transaction() as session:
        pia = update(Person).where(Person.handle == "pia")
        await session.execute(pia.values(away_until=today + timedelta(days=10)))
    return db


async def test_all_well_exits_0_with_every_section(world, db_url, tmp_path):
    async with FakeSlack(users=SLACK_USERS) as slack:
        code, out, err = await doctor(env_for(db_url, slack), tmp_path)
        assert code == 0, out + err
        assert [line for line in out.splitlines() if line in SECTIONS] == list(SECTIONS)
        assert not lines_of(out, "FAIL")
        assert "ok    Slack token: valid: okrbot in Nordlys (T1)" in out
        assert f"ok    Slack scopes: all {len(DEFAULT_SCOPES)} bot scopes granted" in out
        assert "warn  Messages tab: no DM reply has arrived" in out
        assert "ok    Teams: not configured (no MICROSOFT_APP_ID): /api/messages is not" in out
        assert "ok    migrations: up to date (0005)" in out
        assert "ok    next prompts: 4 people:" in out and "away until" in out
        assert "exec to C0EXEC: " in out and "marketing to C0MKT: " in out
        assert out.rstrip().endswith("1 warning, 13 ok: nothing is broken.")
        assert [c.method for c in slack.calls] == ["auth.test"]  # it only reads
        # the emulator mode is said loudly
        code, out, _ = await doctor(env_for(db_url, slack, OKRBOT_TEAMS_EMULATOR="1"), tmp_path)
        assert code == 0
        assert "warn  Teams authentication: OFF (OKRBOT_TEAMS_EMULATOR is set)" in out
        # a DM reply from Slack confirms the Messages tab
        async with world.transaction() as session:
            session.add(RawReply(platform="slack", text="hi", received_at=datetime.now(UTC)))
        code, out, _ = await doctor(env_for(db_url, slack), tmp_path)
        assert code == 0 and "ok    Messages tab: usable: 1 DM replies received" in out


async def test_a_bad_token_exits_1_naming_slacks_error_and_the_fix(world, db_url, tmp_path):
    async with FakeSlack(users=SLACK_USERS) as slack:
        code, out, err = await doctor(
            env_for(db_url, slack, SLACK_BOT_TOKEN="xoxb-1-bad"), tmp_path
        )
    assert code == 1, out + err
    (line,) = lines_of(out, "FAIL")
    assert line == "FAIL  Slack token: Slack refused SLACK_BOT_TOKEN: invalid_auth"
    assert "fix: copy the Bot User OAuth Token (xoxb-...)" in out
    assert "Slack scopes" not in out  # nothing more to learn from a refused token
    async with FakeSlack(users=SLACK_USERS) as slack:
        slack.fail("auth.test", status=503)  # tried once: doctor does not retry
        code, out, _ = await doctor(env_for(db_url, slack), tmp_path)
    assert code == 1 and f"not reachable at {slack.url}: HTTP 503 (service_unavailable)" in out


async def test_missing_scopes_exit_1_naming_them(world, db_url, tmp_path):
    scopes = [s for s in DEFAULT_SCOPES if s not in ("im:history", "users:read.email")]
    async with FakeSlack(users=SLACK_USERS, scopes=scopes) as slack:
        code, out, err = await doctor(env_for(db_url, slack), tmp_path)
    assert code == 1, out + err
    assert lines_of(out, "FAIL") == [
        "FAIL  Slack scopes: missing: im:history, users:read.email",
        "FAIL  Messages tab: members cannot answer in the bot's DM: missing im:history",
    ]
    assert "reinstall the app" in out


async def test_slack_unreachable_fails_fast_with_its_url(world, db_url, tmp_path):
    with socket.socket() as probe:  # a port nobody listens on
        probe.bind(("127.0.0.1", 0))
        dead = f"http://127.0.0.1:{probe.getsockname()[1]}/api/"
    env = env_for(db_url, SLACK_BOT_TOKEN="xoxb-test", SLACK_APP_TOKEN="xapp-1", SLACK_API_URL=dead)
    started = time.monotonic()
    code, out, err = await doctor(env, tmp_path)
    assert code == 1, out + err
    assert time.monotonic() - started < 20
    (line,) = lines_of(out, "FAIL")
    assert line.startswith(f"FAIL  Slack token: Slack is not reachable at {dead}: ")
    assert "ok    Slack mode: Socket Mode" in out


async def test_a_failed_message_exits_1_listing_it_with_the_retry(world, db_url, tmp_path):
    async with FakeSlack(users=SLACK_USERS) as slack:
        slack.fail("chat.postMessage", error="channel_not_found")
        env = env_for(db_url, slack, OKRBOT_SLACK_RATE="200")
        code, _, _ = await okrbot("checkin", "send", "--member", "bob", env=env, cwd=tmp_path)
        assert code == 1
        code, out, err = await doctor(env, tmp_path)
    assert code == 1, out + err
    (line,) = lines_of(out, "FAIL")
    assert line == "FAIL  failed messages: 1 failed for good:"
    week = [x.strip() for x in out.splitlines() if x.strip().startswith("prompt bob ")]
    assert week and week[0].endswith("via slack: Slack: channel_not_found")
    assert "okrbot checkin send --member bob --retry-failed" in out
    assert "ok    outbox: 0 sent, 0 pending or being sent" in out


async def test_an_empty_then_old_then_unimported_database_says_what_to_do(db_url, tmp_path):
    code, out, _ = await doctor(env_for(db_url), tmp_path)
    assert code == 1
    (line,) = lines_of(out, "FAIL")
    assert line in (
        f"FAIL  database: no database file at {tmp_path / 'okrbot.db'}",  # SQLite
        "FAIL  migrations: the database has no tables yet",  # PostgreSQL
    )
    assert not (tmp_path / "okrbot.db").exists()  # doctor did not create it
    upgrade(db_url, "0004")
    code, out, err = await doctor(env_for(db_url), tmp_path)
    assert code == 1, out + err
    (line,) = lines_of(out, "FAIL")
    assert line.endswith(": 1 pending: 0005 the shared pace of sends per platform scope")
    assert "fix: run `okrbot db upgrade`" in out
    assert "People" not in out and "ok    Slack: not configured (no SLACK_BOT_TOKEN)" in out
    engine = create_engine(sync_url(db_url))  # doctor did not migrate
    with engine.connect() as conn:
        assert conn.execute(text("SELECT version_num FROM alembic_version")).scalar() == "0004"
    engine.dispose()
    upgrade(db_url)
    code, out, _ = await doctor(env_for(db_url), tmp_path)
    assert code == 1 and lines_of(out, "FAIL") == ["FAIL  OKRs: no organisation imported yet"]
    assert "fix: import the OKR file: `okrbot okrs import FILE`" in out


async def test_an_unreachable_database_is_one_clear_line(tmp_path):
    url = "postgresql+psycopg://okr:s3cret@127.0.0.1:1/okrbot"
    code, out, err = await doctor(env_for(url), tmp_path)
    assert code == 1, out + err
    (line,) = lines_of(out, "FAIL")
    assert line.startswith("FAIL  database: not reachable at postgresql+psycopg://okr:***@")
    assert "s3cret" not in out + err and "Traceback" not in err


async def test_people_without_a_platform_id(db, db_url, tmp_path):
    okrs = OKRS.replace(
        "{id: pia, name: Pia Lund, email: pia@nordlys.example, slack: U0PIA}",
        "{id: pia, name: Pia Lund}",
    ).replace(", slack: U0KENJI", "")
    await load_world(db, datetime.now(UTC), okrs, around(datetime.now(UTC).date()))
    async with FakeSlack(users=SLACK_USERS) as slack:
        code, out, err = await doctor(env_for(db_url, slack), tmp_path)
    assert code == 1, out + err
    (line,) = lines_of(out, "FAIL")
    assert line == "FAIL  people: no platform id and no email, cannot be reached: pia"
    assert "ok    people: mapped by email at the first send: kenji" in out
    assert "fix: add `slack:`, `teams:` or `email:` for them in the OKR file" in out


async def test_teams_channels_seen_and_people_not_reachable_yet(db, db_url, tmp_path):
    okrs = re.sub(r"slack: U0(\w+)", lambda m: f"teams: aad-{m[1].lower()}", OKRS)
    okrs = okrs.replace(", teams: aad-pia", "").replace('"C0EXEC"', '"teams:19:exec@thread.tacv2"')
    okrs = okrs.replace('"C0MKT"', '"teams:19:mkt@thread.tacv2"')
    await load_world(db, datetime.now(UTC), okrs, around(datetime.now(UTC).date()))
    core = Core(db, system_clock)
    channel = {"conversation": {"id": "19:exec@thread.tacv2", "name": "Leadership"}}
    await core.save_conversation(
        "teams", "19:exec@thread.tacv2", channel, conversation_type="channel", tenant_id="t1"
    )
    chat = {"conversation": {"id": "a:1anna"}}
    anna = await core.person(handle="anna")
    await core.save_conversation(
        "teams", "a:1anna", chat, conversation_type="personal", person=anna
    )
    env = env_for(db_url, MICROSOFT_APP_ID="00000000-0000-0000-0000-000000000001")
    code, out, err = await doctor(env, tmp_path)
    assert code == 1, out + err
    listing = out.splitlines()[out.splitlines().index("  ok    Teams channels seen: 1:") + 1]
    assert listing.strip().startswith("teams:19:exec@thread.tacv2  Leadership  (seen ")
    assert lines_of(out, "FAIL") == [
        "FAIL  Teams authentication: MICROSOFT_APP_ID 00000000-0000-0000-0000-000000000001 "
        "is set without MICROSOFT_APP_PASSWORD",
        "FAIL  Teams digest channels: the OKR file names channels the bot has not seen: "
        "teams:19:mkt@thread.tacv2",
        "FAIL  Teams reach: cannot prompt yet: pia",
    ]
    assert lines_of(out, "warn") == [
        "warn  Teams reach: no chat yet, one is opened at the first prompt: bob, ceo, kenji"
    ]

"""`okrbot checkin send` and `okrbot digest post|show` as an operator runs them: subprocesses
against a fake Slack on 127.0.0.1 and a real database (SQLite file and PostgreSQL)."""

from __future__ import annotations

import asyncio
import os
import time
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy import select, update

from storage.db import Database, upgrade
from storage.models import Outbox, Person
from tests.fake_slack import FakeSlack
from tests.processes import okrbot
from tests.schedule_world import SLACK_USERS, around, crowd, load_world

CROWD = 32  # members of the crowd round
PEOPLE = ("ceo", "anna", "bob", "kenji")  # pia is away


def env_for(db_url: str, slack: FakeSlack, tmp_path: Path) -> dict:
    env = {
        k: v for k, v in os.environ.items() if not k.startswith(("SLACK_", "MICROSOFT_", "OKRBOT_"))
    }
    env.update(
        DATABASE_URL=db_url,
        SLACK_BOT_TOKEN="xoxb-test",
        SLACK_SIGNING_SECRET="secret",
        SLACK_API_URL=slack.url,
        OKRBOT_LOG_LEVEL="WARNING",
        OKRBOT_SLACK_RATE="200",
        OKRBOT_SLACK_CHANNEL_RATE="200",
    )
    return env


def prompts(slack: FakeSlack) -> list[str]:
    keys = []
    for channel, messages in slack.messages.items():
        if channel.startswith("DU0"):
            keys += [m["metadata"]["event_payload"]["key"] for m in messages if "metadata" in m]
    return sorted(keys)


def week(zone: str) -> str:
    from bot.clock import iso_week

    return iso_week(datetime.now(UTC), zone)


def expected_prompts() -> list[str]:
    zones = {
        "ceo": "Europe/Copenhagen",
        "anna": "Europe/Copenhagen",
        "bob": "America/New_York",
        "kenji": "Asia/Tokyo",
    }
    return sorted(f"prompt/{who}/{week(zone)}" for who, zone in zones.items())


@pytest.fixture
async def world(db, db_url):
    today = datetime.now(UTC).date()
    await load_world(db, datetime.now(UTC) - timedelta(days=30), period=around(today))
    async with db.transaction() as session:
        await session.execute(
            update(Person)
            .where(Person.handle == "pia")
            .values(away_until=today + timedelta(days=10))
        )
    return db


async def test_checkin_send_prompts_everyone_once_whatever_is_run_again(world, db_url, tmp_path):
    async with FakeSlack(users=SLACK_USERS) as slack:
        env = env_for(db_url, slack, tmp_path)
        code, out, err = await okrbot("checkin", "send", env=env, cwd=tmp_path)
        assert code == 0, err
        assert "pia: away until" in out and out.count(": sent via slack") == 4
        assert prompts(slack) == expected_prompts()
        code, out, err = await okrbot(
            "checkin", "send", "--team", "marketing", env=env, cwd=tmp_path
        )
        assert code == 0, err
        assert out.count("sent before via slack") == 3  # anna, bob, kenji
        assert prompts(slack) == expected_prompts()


async def test_checkin_send_for_one_member_and_bad_choices(world, db_url, tmp_path):
    async with FakeSlack(users=SLACK_USERS) as slack:
        env = env_for(db_url, slack, tmp_path)
        code, out, err = await okrbot("checkin", "send", "--member", "bob", env=env, cwd=tmp_path)
        assert code == 0, err
        assert prompts(slack) == [f"prompt/bob/{week('America/New_York')}"]
        code, _, err = await okrbot("checkin", "send", "--team", "nope", env=env, cwd=tmp_path)
        assert code == 2 and err.strip() == "okrbot: no team 'nope' in the OKRs"
        code, _, err = await okrbot("checkin", "send", "--member", "zed", env=env, cwd=tmp_path)
        assert code == 2 and "no person 'zed'" in err


async def test_a_failure_for_good_exits_1_naming_it_and_the_rest_is_sent(world, db_url, tmp_path):
    async with FakeSlack(users=SLACK_USERS) as slack:
        slack.fail("chat.postMessage", error="channel_not_found")
        env = env_for(db_url, slack, tmp_path)
        code, out, err = await okrbot("checkin", "send", env=env, cwd=tmp_path)
        assert code == 1
        (line,) = [x for x in err.splitlines() if x.startswith("okrbot:")]
        assert line.startswith("okrbot: prompt ") and "failed: Slack: channel_not_found" in line
        assert len(prompts(slack)) == 3
        # a later run does not retry what failed for good, and still says so
        code, _, err = await okrbot("checkin", "send", env=env, cwd=tmp_path)
        assert code == 1 and "channel_not_found" in err and len(prompts(slack)) == 3
        # once the cause is fixed, --retry-failed sends it
        code, out, err = await okrbot("checkin", "send", "--retry-failed", env=env, cwd=tmp_path)
        assert code == 0, err
        assert "Trying 1 message(s)" in out and prompts(slack) == expected_prompts()


async def test_two_runs_started_at_once_prompt_everyone_exactly_once(world, db_url, tmp_path):
    async with FakeSlack(users=SLACK_USERS, latency=0.05) as slack:
        slack.fail("chat.postMessage", status=500, accepted=True, times=2)
        env = env_for(db_url, slack, tmp_path)
        first, second = await asyncio.gather(
            okrbot("checkin", "send", env=env, cwd=tmp_path),
            okrbot("checkin", "send", env=env, cwd=tmp_path),
        )
        assert first[0] == 0 and second[0] == 0, (first, second)
        assert prompts(slack) == expected_prompts()


async def test_digest_post_threads_the_teams_under_the_headline_once(world, db_url, tmp_path):
    async with FakeSlack(users=SLACK_USERS) as slack:
        env = env_for(db_url, slack, tmp_path)
        code, out, err = await okrbot("digest", "post", env=env, cwd=tmp_path)
        assert code == 0, err
        assert "exec_digest exec" in out and "team_digest marketing" in out
        (headline, *replies) = slack.messages["C0EXEC"]
        assert "thread_ts" not in headline
        assert [r["thread_ts"] for r in replies] == [headline["ts"]] * len(replies)
        keys = [r["metadata"]["event_payload"]["key"] for r in replies if "metadata" in r]
        assert keys == [
            f"exec_digest/exec/{week('Europe/Copenhagen')}#{s}" for s in ("company", "marketing")
        ]
        (chart,) = slack.files.values()
        assert chart["content"].startswith(b"\x89PNG") and chart["channels"] == ["C0EXEC"]
        assert len(slack.messages["C0MKT"]) == 1
        code, out, _ = await okrbot("digest", "post", "--exec", env=env, cwd=tmp_path)
        assert code == 0 and "sent before" in out
        assert len(slack.messages["C0EXEC"]) == 1 + len(replies)
        async with world.session() as session:
            rows = (await session.execute(select(Outbox))).scalars().all()
        assert sorted(r.kind for r in rows) == ["exec_digest", "team_digest"]


async def test_digest_show_prints_without_sending(world, db_url, tmp_path):
    async with FakeSlack(users=SLACK_USERS) as slack:
        env = env_for(db_url, slack, tmp_path)
        code, out, err = await okrbot("digest", "show", env=env, cwd=tmp_path)
        assert code == 0, err
        assert "Marketing" in out and "MKT-1" in out
        code, out, err = await okrbot(
            "digest", "show", "--team", "marketing", env=env, cwd=tmp_path
        )
        assert code == 0 and "MKT-1.2" in out
        code, _, err = await okrbot(
            "digest", "show", "--team", "x", "--exec", env=env, cwd=tmp_path
        )
        assert code == 2
        assert slack.calls_to("chat.postMessage") == []


def test_today_is_inside_the_world_period():
    assert around(date(2026, 11, 22)) == "2026-09-23..2027-05-21"


@pytest.fixture
async def crowd_db(tmp_path):
    """A SQLite file with `crowd(CROWD)`: a round that a workspace allowing one post per
    second takes half a minute for."""
    url = f"sqlite:///{tmp_path / 'crowd.db'}"
    upgrade(url)
    db = Database(url)
    today = datetime.now(UTC).date()
    await load_world(db, datetime.now(UTC) - timedelta(days=1), crowd(CROWD, around(today)))
    await db.dispose()
    return url


@pytest.mark.paced
async def test_a_round_runs_far_past_the_stall_bound_while_it_makes_progress(crowd_db, tmp_path):
    """Slack takes one post per second here (and says so only with 429s): the round takes
    many times the stall bound, goes on to the end because it keeps progressing, prompts
    everyone once, and says how it stands every few seconds (plain lines: stderr is not a
    terminal). There is no fixed window: the old one stopped such a round after a minute."""
    async with FakeSlack(users={}, post_rate=1) as slack:
        env = env_for(crowd_db, slack, tmp_path) | {"OKRBOT_DELIVERY_STALL": "5"}
        env.pop("OKRBOT_SLACK_RATE")  # default settings: no ceiling
        started = time.monotonic()
        code, out, err = await okrbot("checkin", "send", env=env, cwd=tmp_path)
        assert code == 0, err
        assert time.monotonic() - started > 5 * 5
        keys = [k for k in prompts_in(slack, "DU")]
        assert len(keys) == len(set(keys)) == CROWD and out.count(": sent via slack") == CROWD
        lines = [x for x in err.splitlines() if x.startswith("delivering: ")]
        assert len(lines) >= 4, err
        assert all(" sent, 0 failed, " in x and f" waiting of {CROWD}; " in x for x in lines)
        assert "messages/s (pace slack " in lines[-1]
        (last,) = [x for x in err.splitlines() if x.startswith("delivered in ")]
        assert f"{CROWD} sent, 0 failed, 0 waiting of {CROWD}" in last


@pytest.mark.paced
async def test_a_round_that_stops_progressing_ends_after_the_stall_bound(world, db_url, tmp_path):
    async with FakeSlack(users=SLACK_USERS) as slack:
        slack.fail("chat.postMessage", status=429, retry_after=30, times=100)
        env = env_for(db_url, slack, tmp_path) | {"OKRBOT_DELIVERY_STALL": "3"}
        started = time.monotonic()
        code, out, err = await okrbot("checkin", "send", env=env, cwd=tmp_path)
        assert code == 1 and time.monotonic() - started < 25  # not the 30 s Retry-After
        stuck = [x for x in err.splitlines() if "not delivered yet (rate limited" in x]
        assert len(stuck) == 4 and prompts(slack) == []
        assert "0 sent, 0 failed, 4 waiting of 4" in err


@pytest.mark.paced
async def test_wait_caps_a_round_that_is_still_progressing(crowd_db, tmp_path):
    async with FakeSlack(users={}, post_rate=1) as slack:
        env = env_for(crowd_db, slack, tmp_path)
        started = time.monotonic()
        code, out, err = await okrbot("checkin", "send", "--wait", "3", env=env, cwd=tmp_path)
        assert code == 1 and time.monotonic() - started < 20
        sent = out.count(": sent via slack")
        assert 1 <= sent <= 10 and err.count("not delivered yet") == CROWD - sent
        assert len(prompts_in(slack, "DU")) == sent


def prompts_in(slack: FakeSlack, prefix: str) -> list[str]:
    keys = []
    for channel, messages in slack.messages.items():
        if channel.startswith(prefix):
            keys += [m["metadata"]["event_payload"]["key"] for m in messages if "metadata" in m]
    return keys

"""`okrbot serve` runs on its own: the scheduler's first tick finds this week's digest due and
the delivery worker posts it to Slack (a fake Web API on 127.0.0.1), /metrics counts it, and
SIGTERM stops the process cleanly."""

from __future__ import annotations

import asyncio
import os
import signal
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import httpx

from tests.fake_slack import FakeSlack
from tests.processes import OKRBOT, free_port
from tests.schedule_world import OKRS, SLACK_USERS, around

DAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")


async def test_serve_posts_the_digest_that_is_due_and_stops_on_sigterm(tmp_path):
    today = datetime.now(ZoneInfo("Europe/Copenhagen"))
    okrs = OKRS.replace(
        'digest: {day: fri, time: "15:00"}',
        f'digest: {{day: {DAYS[today.weekday()]}, time: "00:00"}}',
    ).replace("period: 2026-10-01..2027-06-30", f"period: {around(today.date())}")
    (tmp_path / "okrs.yaml").write_text(okrs)
    port = free_port()
    async with FakeSlack(users=SLACK_USERS) as slack:
        env = {
            k: v
            for k, v in os.environ.items()
            if not k.startswith(("SLACK_", "MICROSOFT_", "OKRBOT_"))
        }
        env.update(
            DATABASE_URL=f"sqlite:///{tmp_path / 'serve.db'}",
            OKRBOT_OKRS="okrs.yaml",
            OKRBOT_LOG_LEVEL="WARNING",
            SLACK_BOT_TOKEN="xoxb-test",
            SLACK_SIGNING_SECRET="secret",
            SLACK_API_URL=slack.url,
        )
        process = await asyncio.create_subprocess_exec(
            OKRBOT,
            "serve",
            "--host",
            "127.0.0.1",
            "--port",
            str(port),
            env=env,
            cwd=tmp_path,
            stdout=asyncio.subprocess.PIPE,
            stderr=asyncio.subprocess.PIPE,
        )
        try:
            deadline = datetime.now(UTC) + timedelta(seconds=40)
            while "C0EXEC" not in slack.messages or len(slack.messages.get("C0MKT", [])) < 1:
                assert process.returncode is None, await process.stderr.read()
                assert datetime.now(UTC) < deadline, "the digest did not arrive"
                await asyncio.sleep(0.2)
            await slack.wait_for("files.completeUploadExternal", timeout=20)
            async with httpx.AsyncClient() as http:
                metrics = (await http.get(f"http://127.0.0.1:{port}/metrics")).text
            assert 'okrbot_prompts_sent_total{kind="exec_digest",platform="slack"} 1.0' in metrics
        finally:
            process.send_signal(signal.SIGTERM)
            _, err = await asyncio.wait_for(process.communicate(), timeout=30)
        assert process.returncode == 0, err.decode()
    head, *thread = slack.messages["C0EXEC"]
    assert "thread_ts" not in head and thread
    assert all(m.get("thread_ts") == head["ts"] for m in thread)

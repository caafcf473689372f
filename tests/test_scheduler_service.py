"""The scheduler inside the server: APScheduler ticks with explicit job ids, and a graceful
shutdown that lets the sends in flight finish before it returns."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from adapters.slack.app import SlackAdapter, slack_client
from adapters.slack.outbox import SlackSender
from bot.checkin.due import Due
from bot.clock import iso_week, system_clock
from bot.core import Core
from scheduler.outbox import SENT, OutboxStore
from scheduler.service import TICK_JOB, Scheduler
from scheduler.worker import DeliveryWorker, Senders
from tests.fake_slack import FakeSlack
from tests.schedule_world import SLACK_USERS, around, load_world


async def test_shutdown_waits_for_the_send_in_flight(sqlite_db):
    db = sqlite_db
    await load_world(
        db, datetime.now(UTC) - timedelta(days=3), period=around(datetime.now(UTC).date())
    )
    async with FakeSlack(users=SLACK_USERS, latency=1.0) as slack:  # a slow Slack
        adapter = SlackAdapter(
            Core(db, system_clock), slack_client("xoxb-t", slack.url), signing_secret="s"
        )
        store = OutboxStore(db, system_clock)
        worker = DeliveryWorker(store, Senders({"slack": SlackSender(adapter, rate=100)}))
        ticking = Scheduler(store, worker, system_clock, tick_seconds=3600)
        ticking.start()
        assert ticking._aps.get_job(TICK_JOB) is not None
        (row_id,) = await store.enqueue(
            [Due("prompt", "anna", iso_week(datetime.now(UTC), "Europe/Copenhagen"))]
        )
        worker.wake()
        await slack.wait_for("chat.postMessage", timeout=10)  # sent, the answer not back yet
        await ticking.shutdown()
        (row,) = await store.rows([row_id])
        assert row.state == SENT
        assert ticking._aps is None

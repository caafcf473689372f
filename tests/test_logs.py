"""Logs: text or one JSON object per line, and never a secret or a person's message at INFO.

The main test starts Slack the way `okrbot serve` does (`load_settings`, then `auth.test`
against a fake Slack on 127.0.0.1), then has a member answer in a DM, sends a request with a
bad signature carrying a message, and asks `/okr marketing`; every line logged is searched for
the tokens, secrets and the member's words.
"""

from __future__ import annotations

import io
import json
import logging
import time

import pytest
from aiohttp.test_utils import TestClient, TestServer
from sqlalchemy.exc import IntegrityError

from adapters.server import build_app
from bot.cli.support import UsageFailure, load_settings
from bot.cli.wiring import slack_adapter
from bot.core import Core
from bot.logs import QUIET_LOGGERS, configure_logging
from bot.okrfile.demo import load_demo
from storage.models import RawReply
from tests.fake_slack import (
    FakeSlack,
    event_body,
    im_message_event,
    signed_headers,
    slash_command_body,
)

BOT_TOKEN = "xoxb-4711-0815-Zq8wPmT3vKd"
SIGNING_SECRET = "5ec9e7f1d2c34b8a9e0f1a2b3c4d5e6f"
APP_PASSWORD = "Tz8~pass.word-for_teams"
API_TOKEN = "okrbot-api-9f8e7d6c5b4a"
SECRETS = (BOT_TOKEN, SIGNING_SECRET, APP_PASSWORD, API_TOKEN)
REPLY = "kampagner 7, på sporet, flamingoplanen er hemmelig"
WORDS = ("flamingoplanen", "hemmelig")
USERS = {
    "U0MET": {"email": "mette@nordlys.example", "tz": "Europe/Copenhagen"},
    "U0ANNA": {"email": "anna@nordlys.example", "tz": "Europe/Copenhagen"},
}


@pytest.fixture
def restore_logging():
    """configure_logging changes the root logger and library levels: put them back."""
    root = logging.getLogger()
    handlers, level = list(root.handlers), root.level
    names = (*QUIET_LOGGERS, "alembic")
    levels = {name: logging.getLogger(name).level for name in names}
    yield
    for handler in root.handlers[:]:
        if handler not in handlers:
            root.removeHandler(handler)
    root.setLevel(level)
    for name, old in levels.items():
        logging.getLogger(name).setLevel(old)


def records(text: str) -> list[dict]:
    return [json.loads(line) for line in text.splitlines() if line.strip()]


async def slack_session(db, db_url, clock, monkeypatch, tmp_path, level: str) -> None:
    """Start Slack as `okrbot serve` does, then a DM, a forged request and a command."""
    async with FakeSlack(users=USERS) as slack:
        monkeypatch.chdir(tmp_path)  # no .env
        for name, value in {
            "DATABASE_URL": db_url,
            "SLACK_BOT_TOKEN": BOT_TOKEN,
            "SLACK_SIGNING_SECRET": SIGNING_SECRET,
            "SLACK_API_URL": slack.url,
            "MICROSOFT_APP_PASSWORD": APP_PASSWORD,
            "OKRBOT_API_TOKEN": API_TOKEN,
            "OKRBOT_LOG_LEVEL": level,
            "OKRBOT_LOG_FORMAT": "json",
        }.items():
            monkeypatch.setenv(name, value)
        settings = load_settings()
        adapter = await slack_adapter(settings, Core(db, clock))
        async with TestClient(TestServer(build_app(db, adapter))) as http:
            body = event_body(im_message_event(REPLY, user_id="U0ANNA"), event_id="Ev1")
            response = await http.post(
                "/slack/events", data=body, headers=signed_headers(body, SIGNING_SECRET)
            )
            assert response.status == 200
            await slack.wait_for("chat.postMessage", count=1, timeout=20)
            forged = event_body(im_message_event(REPLY, user_id="U0ANNA"), event_id="Ev2")
            headers = signed_headers(forged, "not-the-secret")
            assert (await http.post("/slack/events", data=forged, headers=headers)).status == 401
            command = slash_command_body("marketing", response_url=slack.response_url("c"))
            headers = signed_headers(command, SIGNING_SECRET, int(time.time()))
            assert (await http.post("/slack/events", data=command, headers=headers)).status == 200
            await slack.wait_for_response("c")
        await adapter.client.close() if hasattr(adapter.client, "close") else None
    async with db.session() as session:  # the reply did arrive and was kept
        assert await session.get(RawReply, 1) is not None


async def test_a_slack_conversation_at_info_logs_no_secret_and_no_reply_text(
    db, db_url, now, clock, monkeypatch, tmp_path, capsys, restore_logging
):
    async with db.transaction() as session:
        await load_demo(session, now)

    await slack_session(db, db_url, clock, monkeypatch, tmp_path, "INFO")

    logged = capsys.readouterr().err
    lines = records(logged)  # every line is one JSON object
    assert any(
        r["level"] == "INFO" and r["message"].startswith("Slack: signed in as") for r in lines
    )
    assert [s for s in SECRETS if s in logged] == []
    assert [w for w in WORDS if w in logged] == []


async def test_at_debug_requests_are_logged_but_secrets_still_are_not(
    db, db_url, now, clock, monkeypatch, tmp_path, capsys, restore_logging
):
    """DEBUG is for troubleshooting: libraries may show messages, never credentials."""
    async with db.transaction() as session:
        await load_demo(session, now)

    await slack_session(db, db_url, clock, monkeypatch, tmp_path, "DEBUG")

    logged = capsys.readouterr().err
    # the libraries' own debug lines are shown (slack_sdk logs every Web API call it makes)
    assert any(
        r["level"] == "DEBUG" and "Sending a request" in r["message"] for r in records(logged)
    )
    assert [s for s in SECRETS if s in logged] == []


def test_json_lines_carry_time_level_logger_message_extra_and_exception(restore_logging):
    stream = io.StringIO()
    configure_logging("INFO", "json", stream=stream)
    log = logging.getLogger("okrbot.test")

    log.info("sent %d prompts", 3, extra={"team": "marketing", "count": 3, "ids": [1, 2]})
    log.debug("not shown at INFO")
    try:
        raise ValueError("boom")
    except ValueError:
        log.exception("delivery failed")

    first, second = records(stream.getvalue())
    assert first["level"] == "INFO" and first["logger"] == "okrbot.test"
    assert first["message"] == "sent 3 prompts"
    assert (first["team"], first["count"], first["ids"]) == ("marketing", 3, "[1, 2]")
    assert first["time"].endswith("+00:00") and "T" in first["time"]
    assert "exception" not in first
    assert second["level"] == "ERROR" and second["message"] == "delivery failed"
    assert second["exception"].startswith("Traceback") and "ValueError: boom" in second["exception"]


def test_text_lines_are_as_before(restore_logging):
    stream = io.StringIO()
    configure_logging("WARNING", "text", stream=stream)
    logging.getLogger("okrbot.test").warning("Teams authentication is OFF")
    logging.getLogger("okrbot.test").info("hidden")
    (line,) = stream.getvalue().splitlines()
    assert line.endswith(" WARNING okrbot.test: Teams authentication is OFF")


def test_credentials_are_blanked_whatever_logs_them(restore_logging):
    stream = io.StringIO()
    configure_logging("INFO", "text", secrets=[SIGNING_SECRET, None, "short"], stream=stream)
    log = logging.getLogger("slack_bolt.elsewhere")
    log.warning("secret %s in a short message", SIGNING_SECRET)
    log.warning("token xoxb-1-2-abc and app token xapp-1-A2-xyz")
    log.warning("headers {'Authorization': 'Bearer abc.def-ghi', 'X': 'y'}")
    log.warning("Authorization: Basic dXNlcjpwYXNz")
    log.warning("jwt eyJhbGciOiJSUzI1NiJ9.eyJzdWIiOiJib3QifQ.c2lnbmF0dXJl")
    log.warning("cannot reach postgresql+psycopg://okr:hunter22@db/okr")
    logged = stream.getvalue()
    for leaked in (
        SIGNING_SECRET,
        "xoxb-1",
        "xapp-1",
        "abc.def",
        "dXNlcjpwYXNz",
        "eyJ",
        "hunter22",
    ):
        assert leaked not in logged
    assert "short" in logged  # too short to be a secret: ordinary words stay
    assert "postgresql+psycopg://okr:[redacted]@db/okr" in logged


async def test_database_errors_do_not_quote_the_message(sqlite_db, now, restore_logging):
    """SQLAlchemy quotes a failed statement's parameters: a person's words among them."""
    stream = io.StringIO()
    configure_logging("INFO", "json", stream=stream)
    async with sqlite_db.transaction() as session:
        session.add(RawReply(text="first", platform="slack", external_id="Ev1", received_at=now))
    with pytest.raises(IntegrityError) as failure:
        async with sqlite_db.transaction() as session:
            session.add(
                RawReply(
                    text="the flamingoplanen again",
                    platform="slack",
                    external_id="Ev1",  # the same event twice: refused by the database
                    received_at=now,
                )
            )
    assert "flamingoplanen" in str(failure.value)  # what an unfiltered log would show
    logging.getLogger("okrbot.core").error(
        "unexpected error answering a message",
        exc_info=(failure.type, failure.value, failure.tb),
    )
    (record,) = records(stream.getvalue())
    assert "IntegrityError" in record["exception"]
    assert "[parameters: [redacted]]" in record["exception"]
    assert "flamingoplanen" not in stream.getvalue()


def test_library_loggers_are_quiet_at_info_and_open_at_debug(restore_logging):
    configure_logging("INFO", "text", stream=io.StringIO())
    for name in ("slack_bolt", "slack_sdk", "okrbot.slack.bolt", "botbuilder", "aiohttp.access"):
        assert not logging.getLogger(name).isEnabledFor(logging.INFO), name
    assert logging.getLogger("okrbot.core").isEnabledFor(logging.INFO)
    configure_logging("DEBUG", "text", stream=io.StringIO())
    assert logging.getLogger("slack_sdk").isEnabledFor(logging.DEBUG)
    assert len([h for h in logging.getLogger().handlers if getattr(h, "_okrbot_handler", 0)]) == 1


def test_bad_log_settings_are_usage_errors(monkeypatch, tmp_path, restore_logging):
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("OKRBOT_LOG_FORMAT", "xml")
    with pytest.raises(UsageFailure, match="OKRBOT_LOG_FORMAT"):
        load_settings()
    monkeypatch.setenv("OKRBOT_LOG_FORMAT", "json")
    monkeypatch.setenv("OKRBOT_LOG_LEVEL", "LOUD")
    with pytest.raises(UsageFailure, match="OKRBOT_LOG_LEVEL"):
        load_settings()

"""The edges tried as an attacker would: one test per door, over real HTTP against the app that
`okrbot serve` builds (in a subprocess where the configuration is the point, else the same
`build_server` in-process), with the fake Slack, a fake Bot Connector and a fake Bot Framework
identity service on 127.0.0.1. Each asserts the status, that the database did not change, and
that no request reached the attacker's server.

The attacker's server is a Bot Connector on loopback whose roster claims the admin's email:
a bot that called it would take the attacker for the admin."""

from __future__ import annotations

import asyncio
import os
import signal
import sqlite3
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

import httpx
import pytest
from aiohttp.test_utils import TestClient, TestServer
from sqlalchemy import text

from bot.cli.support import Failure
from bot.cli.wiring import build_server, listen_host
from bot.config import Settings
from bot.core import Core
from bot.metrics import Metrics
from bot.okrfile.demo import load_demo
from tests.fake_connector import ANNA, FakeConnector, installation_update_activity, message_activity
from tests.fake_identity import BOT_TOKEN, FakeIdentity
from tests.fake_slack import (
    FakeSlack,
    event_body,
    im_message_event,
    signed_headers,
    slash_command_body,
)
from tests.processes import OKRBOT, free_port, okrbot

DEMO = Path(__file__).resolve().parents[1] / "bot" / "okrfile" / "data" / "nordlys.yaml"
SECRET = "8f742231b10e8888abcd99yyyzzz85a5"
APP_ID = "00000000-0000-0000-0000-00000000b07a"
APP_PASSWORD = "bot-password"
ATTACKER_ROSTER = {
    "29:1attacker": {
        "aadObjectId": "aad-attacker",
        "email": "kirsten@nordlys.example",  # the admin's
        "userPrincipalName": "kirsten@nordlys.example",
        "name": "Kirsten Dahl",
        "tenantId": "t1",
    }
}
ROSTER = ANNA
SLACK_USERS = {
    "U0CEO": {"email": "kirsten@nordlys.example", "tz": "Europe/Copenhagen"},
    "U0MET": {"email": "mette@nordlys.example", "tz": "Europe/Copenhagen"},
    "U0ANNA": {"email": "anna@nordlys.example", "tz": "Europe/Copenhagen"},
}
# what an attack must leave as it was
TABLES = (
    "person",
    "key_result",
    "key_result_update",
    "raw_reply",
    "conversation_reference",
    "checkin_round",
    "outbox",
)


def attack(service_url: str, text_: str = "okr set CO-1.1 99000000") -> dict:
    """The attacker's activity: a command to the bot, as the admin found in their roster."""
    return message_activity(
        text_, service_url=service_url, from_id="29:1attacker", aad="aad-attacker", name="K"
    )


async def snapshot(db) -> dict[str, list]:
    async with db.engine.connect() as conn:
        return {
            table: sorted(map(repr, (await conn.execute(text(f"SELECT * FROM {table}"))).all()))
            for table in TABLES
        }


def file_snapshot(path: Path) -> dict[str, list]:
    with sqlite3.connect(path) as conn:
        return {
            table: sorted(map(repr, conn.execute(f"SELECT * FROM {table}").fetchall()))
            for table in TABLES
        }


def settings(**values: str) -> Settings:
    clean = {
        "SLACK_BOT_TOKEN": None,
        "SLACK_SIGNING_SECRET": None,
        "SLACK_APP_TOKEN": None,
        "MICROSOFT_APP_ID": None,
        "MICROSOFT_APP_PASSWORD": None,
        "OKRBOT_TEAMS_EMULATOR": False,
    }
    return Settings(_env_file=None, **{**clean, **values})


# -- `okrbot serve` in a subprocess -----------------------------------------------------------
def serve_env(tmp_path: Path, **values: str) -> dict[str, str]:
    env = {
        k: v
        for k, v in os.environ.items()
        if not k.startswith(("SLACK_", "MICROSOFT_", "OKRBOT_", "DATABASE_URL"))
    }
    (tmp_path / "okrs.yaml").write_text(DEMO.read_text())
    env.update(
        DATABASE_URL=f"sqlite:///{tmp_path / 'serve.db'}",
        OKRBOT_OKRS="okrs.yaml",
        OKRBOT_LOG_LEVEL="INFO",
        **values,
    )
    return env


class Served:
    """`okrbot serve --no-scheduler` on a free port (nothing but requests writes)."""

    def __init__(self, env: dict[str, str], cwd: Path, *args: str) -> None:
        self.env, self.cwd, self.args = env, cwd, args
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.process: asyncio.subprocess.Process | None = None
        self.stderr = ""

    async def __aenter__(self) -> Served:
        self.process = await asyncio.create_subprocess_exec(
            OKRBOT,
            "serve",
            "--no-scheduler",
            "--port",
            str(self.port),
            *self.args,
            env=self.env,
            cwd=self.cwd,
            stdout=asyncio.subprocess.PIPE,
            stderr=asyncio.subprocess.PIPE,
        )
        deadline = time.monotonic() + 40
        async with httpx.AsyncClient() as http:
            while True:
                assert self.process.returncode is None, await self.process.stderr.read()
                assert time.monotonic() < deadline, "okrbot serve did not start"
                try:
                    if (await http.get(f"{self.url}/healthz")).status_code == 200:
                        return self
                except httpx.TransportError:
                    pass
                await asyncio.sleep(0.2)

    async def __aexit__(self, *exc_info: object) -> None:
        assert self.process is not None
        self.process.send_signal(signal.SIGTERM)
        _, err = await asyncio.wait_for(self.process.communicate(), timeout=30)
        self.stderr = err.decode()
        assert self.process.returncode == 0, self.stderr


async def test_a_slack_only_serve_has_no_teams_door(tmp_path):
    """The reported attack: an unsigned activity whose serviceUrl is the attacker's."""
    async with (
        FakeSlack(users=SLACK_USERS) as slack,
        FakeConnector(roster=ATTACKER_ROSTER) as attacker,
    ):
        env = serve_env(
            tmp_path,
            SLACK_BOT_TOKEN="xoxb-test",
            SLACK_SIGNING_SECRET=SECRET,
            SLACK_API_URL=slack.url,
        )
        async with Served(env, tmp_path) as served, httpx.AsyncClient() as http:
            before = file_snapshot(tmp_path / "serve.db")
            forged = FakeIdentity.other_key()
            token = FakeIdentity().token(audience=APP_ID, service_url=attacker.url, key=forged)
            for headers in ({}, {"Authorization": f"Bearer {token}"}):
                response = await http.post(
                    f"{served.url}/api/messages", json=attack(attacker.url), headers=headers
                )
                assert response.status_code == 404, headers
            assert file_snapshot(tmp_path / "serve.db") == before
        assert attacker.calls == []
        assert "Teams authentication is OFF" not in served.stderr


async def test_socket_mode_serves_no_slack_events_over_http(tmp_path):
    async with FakeSlack(users=SLACK_USERS) as slack:
        env = serve_env(
            tmp_path,
            SLACK_BOT_TOKEN="xoxb-test",
            SLACK_APP_TOKEN="xapp-1-test",
            SLACK_API_URL=slack.url,
        )
        async with Served(env, tmp_path) as served, httpx.AsyncClient() as http:
            await slack.wait_for_socket(timeout=20)
            before = file_snapshot(tmp_path / "serve.db")
            body = slash_command_body("set CO-1.1 99000000", user_id="U0CEO")
            for headers in (
                {"Content-Type": "application/x-www-form-urlencoded"},  # unsigned
                signed_headers(body, SECRET),  # signed with some secret: none is configured
            ):
                response = await http.post(
                    f"{served.url}/slack/events", content=body, headers=headers
                )
                assert response.status_code == 404
            assert file_snapshot(tmp_path / "serve.db") == before
        assert not slack.responses and not slack.ephemeral
        assert "users.info" not in [c.method for c in slack.calls]


async def test_slack_over_http_without_a_signing_secret_refuses_to_start(tmp_path):
    async with FakeSlack(users=SLACK_USERS) as slack:
        env = serve_env(tmp_path, SLACK_BOT_TOKEN="xoxb-test", SLACK_API_URL=slack.url)
        code, out, err = await okrbot(
            "serve", "--port", str(free_port()), "--no-scheduler", env=env, cwd=tmp_path
        )
    assert code == 1
    (line,) = err.strip().splitlines()
    assert "SLACK_SIGNING_SECRET" in line and "Traceback" not in err


async def test_the_emulator_mode_listens_on_loopback_only(tmp_path):
    env = serve_env(tmp_path, OKRBOT_TEAMS_EMULATOR="1")
    code, _, err = await okrbot(
        "serve", "--host", "0.0.0.0", "--port", str(free_port()), env=env, cwd=tmp_path
    )
    assert code == 1
    (line,) = err.strip().splitlines()
    assert "loopback only" in line and "--host 0.0.0.0" in line
    async with Served(env, tmp_path) as served:  # no --host: 127.0.0.1
        pass
    assert f"listening on http://127.0.0.1:{served.port}" in served.stderr
    assert "Teams authentication is OFF" in served.stderr
    # and the rule itself
    emulator = settings(OKRBOT_TEAMS_EMULATOR=True)
    assert listen_host(emulator, None) == "127.0.0.1"
    assert listen_host(emulator, "::1") == "::1"
    with pytest.raises(Failure):
        listen_host(emulator, "10.0.0.5")
    assert listen_host(settings(), None) == "0.0.0.0"
    authenticated = settings(OKRBOT_TEAMS_EMULATOR=True, MICROSOFT_APP_ID=APP_ID)
    assert listen_host(authenticated, None) == "0.0.0.0"  # the app id wins: authentication on


# -- Teams with authentication ----------------------------------------------------------------
class TeamsWorld:
    def __init__(self, db, http, identity, connector, attacker):
        self.db, self.http, self.identity = db, http, identity
        self.connector, self.attacker = connector, attacker

    async def post(self, activity: dict, token: str | None):
        headers = {"Authorization": f"Bearer {token}"} if token is not None else {}
        return await self.http.post("/api/messages", json=activity, headers=headers)


@pytest.fixture
async def teams_world(db, now, clock):
    async with db.transaction() as session:
        await load_demo(session, now)
    with FakeIdentity() as identity:
        async with (
            FakeConnector(roster=ROSTER) as connector,
            FakeConnector(roster=ATTACKER_ROSTER) as attacker,
        ):
            metrics = Metrics()
            server = await build_server(
                settings(MICROSOFT_APP_ID=APP_ID, MICROSOFT_APP_PASSWORD=APP_PASSWORD),
                Core(db, clock, metrics),
                metrics,
                teams_identity=identity.settings,
                teams_credentials=identity.credentials(APP_ID, APP_PASSWORD),
            )
            async with TestClient(TestServer(server.app)) as http:
                yield TeamsWorld(db, http, identity, connector, attacker)


async def test_an_authenticated_activity_is_answered_through_its_own_service_url(teams_world):
    """The control: a token the Bot Connector signed, for the activity's serviceUrl, works."""
    w = teams_world
    token = w.identity.token(audience=APP_ID, service_url=w.connector.url)
    activity = message_activity("okr marketing", service_url=w.connector.url)
    response = await w.post(activity, token)
    assert response.status in (200, 201), await response.text()
    (sent,) = await w.connector.wait_for_activities(1)
    assert sent.conversation_id == "a:1anna"
    assert all(c.headers["Authorization"] == f"Bearer {BOT_TOKEN}" for c in w.connector.calls)
    async with w.db.engine.connect() as conn:
        aad = "SELECT teams_aad_id FROM person WHERE handle = 'anna'"
        assert (await conn.execute(text(aad))).scalar() == "aad-anna"  # from the roster
    assert w.attacker.calls == []


def _forged(identity: FakeIdentity, url: str) -> str:
    return identity.token(audience=APP_ID, service_url=url, key=FakeIdentity.other_key())


TOKENS = {
    "no token": lambda i, w: None,
    "not a JWT": lambda i, w: "abc.def",
    "signed by another key": lambda i, w: _forged(i, w.attacker.url),
    "an unknown key id": lambda i, w: i.token(audience=APP_ID, service_url=w.attacker.url, kid="x"),
    "expired": lambda i, w: i.token(audience=APP_ID, service_url=w.attacker.url, expires_in=-900),
    "for another bot": lambda i, w: i.token(audience="another-app", service_url=w.attacker.url),
    "from another issuer": lambda i, w: i.token(
        audience=APP_ID, service_url=w.attacker.url, issuer="https://issuer.example"
    ),
    "for another service URL": lambda i, w: i.token(audience=APP_ID, service_url=w.connector.url),
    "without a serviceurl claim": lambda i, w: i.token(audience=APP_ID, service_url=None),
}


@pytest.mark.parametrize("kind", TOKENS)
async def test_with_authentication_on_no_unauthenticated_activity_gets_in(teams_world, kind):
    w = teams_world
    before = await snapshot(w.db)
    response = await w.post(attack(w.attacker.url), TOKENS[kind](w.identity, w))
    assert response.status == 401, await response.text()
    assert await snapshot(w.db) == before
    assert w.attacker.calls == [] and w.connector.calls == []


# -- Teams in the emulator mode ---------------------------------------------------------------
@pytest.fixture
async def emulator(db, now, clock):
    async with db.transaction() as session:
        await load_demo(session, now)
    metrics = Metrics()
    server = await build_server(
        settings(OKRBOT_TEAMS_EMULATOR=True), Core(db, clock, metrics), metrics
    )
    async with TestClient(TestServer(server.app)) as http:
        yield http


async def test_the_emulator_mode_never_calls_a_service_url_off_this_machine(db, emulator):
    before = await snapshot(db)
    names = ("http://attacker.invalid/", "https://127.0.0.1.attacker.invalid/", "file:///etc/x")
    for url in (*names, "http://localhost.attacker.invalid:3978/", None, 42):
        activity = attack("http://attacker.invalid/")
        activity["serviceUrl"] = url
        response = await emulator.post("/api/messages", json=activity)
        assert response.status == 403, url
    for body, status in ((b"[1, 2]", 400), (b"{not json", 400), (b'{"text": "hi"}', 400)):
        response = await emulator.post(
            "/api/messages", data=body, headers={"Content-Type": "application/json"}
        )
        assert response.status == status, body
    assert await snapshot(db) == before
    async with FakeConnector(roster=ROSTER) as connector:  # on loopback: served
        activity = message_activity("okr marketing", service_url=connector.url)
        assert (await emulator.post("/api/messages", json=activity)).status in (200, 201)
        await connector.wait_for_activities(1)


async def test_checkin_send_delivers_through_the_emulator_as_serve_does(db_url, db, tmp_path):
    """The CLI and the server agree: with OKRBOT_TEAMS_EMULATOR, `checkin send` uses Teams."""
    now = datetime.now(UTC)
    async with db.transaction() as session:
        await load_demo(session, now)
    metrics = Metrics()
    server = await build_server(
        settings(OKRBOT_TEAMS_EMULATOR=True), Core(db, lambda: now, metrics), metrics
    )
    async with (
        FakeConnector(roster=ROSTER) as connector,
        TestClient(TestServer(server.app)) as http,
    ):
        install = installation_update_activity(service_url=connector.url)
        assert (await http.post("/api/messages", json=install)).status in (200, 201)
        env = {
            k: v
            for k, v in os.environ.items()
            if not k.startswith(("SLACK_", "MICROSOFT_", "OKRBOT_", "DATABASE_URL"))
        }
        env.update(DATABASE_URL=db_url, OKRBOT_LOG_LEVEL="WARNING")
        code, _, err = await okrbot("checkin", "send", "--member", "anna", env=env, cwd=tmp_path)
        assert code == 1 and "no platform is configured" in err  # neither Slack nor Teams
        env["OKRBOT_TEAMS_EMULATOR"] = "1"
        code, out, err = await okrbot("checkin", "send", "--member", "anna", env=env, cwd=tmp_path)
        assert code == 0, out + err
        (prompt,) = await connector.wait_for_activities(1)
        assert prompt.conversation_id == "a:1anna"


# -- Slack over HTTP: replays and retries -----------------------------------------------------
class SlackWorld:
    def __init__(self, db, http, slack):
        self.db, self.http, self.slack = db, http, slack

    async def post(self, body: bytes, headers: dict):
        return await self.http.post("/slack/events", data=body, headers=headers)

    async def count(self, table: str) -> int:
        async with self.db.engine.connect() as conn:
            return (await conn.execute(text(f"SELECT count(*) FROM {table}"))).scalar()


@pytest.fixture
async def slack_world(db, now, clock):
    async with db.transaction() as session:
        await load_demo(session, now)
    async with FakeSlack(users=SLACK_USERS) as slack:
        metrics = Metrics()
        server = await build_server(
            settings(
                SLACK_BOT_TOKEN="xoxb-test", SLACK_SIGNING_SECRET=SECRET, SLACK_API_URL=slack.url
            ),
            Core(db, clock, metrics),
            metrics,
        )
        async with TestClient(TestServer(server.app)) as http:
            yield SlackWorld(db, http, slack)


async def test_a_replayed_signed_command_is_applied_once(slack_world):
    w = slack_world
    body = slash_command_body(
        "set MKT-1.1 7", user_id="U0MET", response_url=w.slack.response_url("set")
    )
    headers = signed_headers(body, SECRET)
    updates = await w.count("key_result_update")
    assert (await w.post(body, headers)).status == 200
    await w.slack.wait_for_response("set")
    assert await w.count("key_result_update") == updates + 1
    after = await snapshot(w.db)
    for extra in ({}, {"X-Slack-Retry-Num": "1", "X-Slack-Retry-Reason": "http_timeout"}):
        response = await w.post(body, {**headers, **extra})  # the same signed bytes again
        assert response.status == 200 and await response.text() == ""
    await asyncio.sleep(0.5)  # an applied replay would be answered by now
    assert await snapshot(w.db) == after
    assert len(w.slack.responses) == 1


async def test_a_retried_or_replayed_event_keeps_one_raw_reply_and_one_update(slack_world):
    w = slack_world
    body = event_body(im_message_event("kampagner 7", user_id="U0ANNA"), event_id="EvRetry")
    replies, updates = await w.count("raw_reply"), await w.count("key_result_update")
    assert (await w.post(body, signed_headers(body, SECRET))).status == 200
    await w.slack.wait_for("chat.postMessage", count=1, timeout=20)
    # Slack's own retry: signed again, later, with X-Slack-Retry-Num; then an exact replay
    retry = {**signed_headers(body, SECRET, int(time.time()) + 1), "X-Slack-Retry-Num": "1"}
    assert (await w.post(body, retry)).status == 200
    assert (await w.post(body, retry)).status == 200
    await asyncio.sleep(0.5)
    assert await w.count("raw_reply") == replies + 1
    assert await w.count("key_result_update") == updates + 1
    assert len([c for c in w.slack.calls if c.method == "chat.postMessage"]) == 1


async def test_unsigned_stale_or_forged_slack_requests_change_nothing(slack_world):
    w = slack_world
    before = await snapshot(w.db)
    body = slash_command_body("set CO-1.1 99000000", user_id="U0CEO")
    for headers in (
        {"Content-Type": "application/x-www-form-urlencoded"},
        signed_headers(body, "another-secret"),
        signed_headers(body, SECRET, int(time.time()) - 6 * 60),
        {**signed_headers(body, SECRET), "X-Slack-Signature": "v0=" + "0" * 64},
    ):
        assert (await w.post(body, headers)).status == 401
    assert await snapshot(w.db) == before
    assert w.slack.calls == [] or all(c.method == "auth.test" for c in w.slack.calls)


async def test_the_replay_memory_is_shared_and_forgets_after_its_window(db, now):
    core = Core(db, lambda: now)
    window = timedelta(minutes=5)
    assert await core.first_sighting("slack:a", window=window)
    assert not await Core(db, lambda: now + timedelta(minutes=4)).first_sighting(
        "slack:a", window=window
    )  # another replica, the same database
    later = Core(db, lambda: now + timedelta(minutes=6))
    assert await later.first_sighting("slack:a", window=window)

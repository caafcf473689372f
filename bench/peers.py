"""The helper processes of the HTTP benchmarks (bench/slack_command.py, bench/teams_command.py):
the fake platform each benchmark talks to and the bare app it compares okrbot with. Each runs in
its own process, started by its benchmark with `--role`. Not a script of its own."""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from bench import harness

ARRIVALS_PATH = "/bench/arrivals"  # where the fake connector tells the benchmark of replies


# ---- Teams: the organisation and the connector's roster ------------------------------------------


@dataclass
class Member:
    handle: str
    name: str
    email: str

    @property
    def teams_id(self) -> str:
        return f"29:1{self.handle}"

    @property
    def aad(self) -> str:
        return f"aad-{self.handle}"


@dataclass
class Organisation:
    teams: list[tuple[str, str]]  # slug, name (not `company`)
    members: list[Member]  # every person (the CEO and everyone else)
    key_results: int
    updates: int


def build_teams_database(workdir: Path, args: argparse.Namespace) -> tuple[str, Organisation]:
    """A SQLite database with the benchmarks' organisation and its check-in history."""
    db = harness.build_database(workdir, args)
    data = db.data
    teams = [(str(t["slug"]), str(t["name"])) for t in data["teams"] if t["slug"] != "company"]
    members = [Member(str(p["id"]), str(p["name"]), str(p["email"])) for p in data["people"]]
    return db.url, Organisation(teams, members, db.key_results, db.updates)


def write_roster(workdir: Path, org: Organisation) -> Path:
    """The fake connector's roster: every person, found by Teams by id, AAD id or email."""
    roster = {
        m.teams_id: {
            "aadObjectId": m.aad,
            "email": m.email,
            "userPrincipalName": m.email,
            "name": m.name,
            "tenantId": "t1",
        }
        for m in org.members
    }
    path = workdir / "roster.json"
    path.write_text(json.dumps(roster), encoding="utf-8")
    return path


# ---- Teams: the fake Bot Connector and the bare botbuilder bot ------------------------------


def _first_text(node: Any) -> str:
    """The first TextBlock's text of a card (depth first)."""
    if isinstance(node, dict):
        if node.get("type") == "TextBlock" and isinstance(node.get("text"), str):
            return node["text"]
        for value in node.values():
            found = _first_text(value)
            if found:
                return found
    elif isinstance(node, list):
        for value in node:
            found = _first_text(value)
            if found:
                return found
    return ""


async def fake_connector_main(roster: dict[str, dict[str, Any]]) -> None:
    """The fake Bot Connector; it also notes each posted activity and hands the notes out at
    `GET /bench/arrivals?since=N` (the recorded calls are dropped then, to bound memory)."""
    from aiohttp import web

    from tests.fake_connector import FakeConnector

    parent = os.getppid()

    class TimedFakeConnector(FakeConnector):
        def __init__(self, **kwargs: Any) -> None:
            super().__init__(**kwargs)
            # [reply-to id, conversation id, monotonic time, content type, first text, bytes]
            self.arrivals: list[list[Any]] = []
            self.member_lookups = 0

        def _send(self, call):  # type: ignore[override]
            status, answer = super()._send(call)
            activity = call.body if isinstance(call.body, dict) else {}
            attachments = activity.get("attachments") or []
            kind = attachments[0].get("contentType", "") if attachments else "text"
            first = (
                _first_text(attachments[0].get("content"))
                if attachments
                else str(activity.get("text") or "")
            )
            size = len(json.dumps(activity))
            self.arrivals.append(
                [call.activity_id, call.conversation_id, time.monotonic(), kind, first[:200], size]
            )
            return status, answer

        def _member(self, call):  # type: ignore[override]
            self.member_lookups += 1
            return super()._member(call)

        async def _handle(self, request: web.Request) -> web.StreamResponse:
            if request.path != ARRIVALS_PATH:
                return await super()._handle(request)
            since = int(request.query.get("since") or 0)
            # forget what the fake keeps of every call: a run posts thousands of cards
            self.calls.clear()
            self.activities.clear()
            self._current.clear()
            return web.json_response(
                {"arrivals": self.arrivals[since:], "member_lookups": self.member_lookups}
            )

    connector = TimedFakeConnector(roster=roster)
    await connector.start()
    try:
        harness.announce_ready(connector.port)
        await harness.until_stopped(parent)
    finally:
        await connector.close()


async def bare_bot_main() -> None:
    """A bare botbuilder bot on aiohttp, wired like okrbot's (CloudAdapter with an empty app id,
    `POST /api/messages`, no access log); it replies the text it got."""
    import logging

    from aiohttp import web
    from botbuilder.core import ActivityHandler, MessageFactory, TurnContext
    from botbuilder.integration.aiohttp import (
        CloudAdapter,
        ConfigurationBotFrameworkAuthentication,
    )

    logging.basicConfig(level=logging.WARNING, stream=sys.stderr)
    parent = os.getppid()

    class Config:
        APP_ID = ""
        APP_PASSWORD = ""
        APP_TYPE = "MultiTenant"
        APP_TENANTID = ""

    class EchoBot(ActivityHandler):
        async def on_message_activity(self, turn_context: TurnContext) -> None:
            await turn_context.send_activity(MessageFactory.text(turn_context.activity.text))

    adapter = CloudAdapter(ConfigurationBotFrameworkAuthentication(Config()))
    bot = EchoBot()

    async def messages(request: web.Request) -> web.Response:
        return await adapter.process(request, bot) or web.Response(status=201)

    app = web.Application()
    app.router.add_post("/api/messages", messages)
    await harness.serve_bare(app, parent)


# ---- Slack: the fake Web API and the bare slack-bolt app ---------------------------------------


async def fake_slack_main() -> None:
    """The fake Slack; it also times each response_url POST (`bench.arrivals` hands them out)."""
    from tests.fake_slack import FakeSlack

    parent = os.getppid()

    class TimedFakeSlack(FakeSlack):
        def __init__(self) -> None:
            super().__init__()
            self.arrivals: list[list[Any]] = []  # [name, monotonic time, text, header]

        async def _response_url(self, request):  # type: ignore[override]
            answer = await super()._response_url(request)
            post = self.responses[-1]  # appended just now (no await since)
            body = post.body if isinstance(post.body, dict) else {"text": str(post.body)}
            blocks = body.get("blocks") or []
            header = ""
            if blocks and isinstance(blocks[0], dict) and blocks[0].get("type") == "header":
                header = str(blocks[0].get("text", {}).get("text", ""))
            text = str(body.get("text") or "")[:200]
            self.arrivals.append([post.name, time.monotonic(), text, header])
            return answer

    slack = TimedFakeSlack()

    def arrivals(call) -> dict[str, Any]:
        since = int(call.params.get("since") or 0)
        return {"arrivals": slack.arrivals[since:]}

    slack.handle("bench.arrivals", arrivals)
    await slack.start()
    try:
        harness.announce_ready(slack.port)
        await harness.until_stopped(parent)
    finally:
        await slack.close()


async def bare_bolt_main() -> None:
    """A bare slack-bolt AsyncApp on aiohttp, wired like okrbot's (one client with the bot token,
    the signing secret, `POST /slack/events`, no access log); its `/okr` listener only acks."""
    import logging

    from aiohttp import web
    from slack_bolt.adapter.aiohttp import to_aiohttp_response, to_bolt_request
    from slack_bolt.app.async_app import AsyncApp
    from slack_sdk.web.async_client import AsyncWebClient

    logging.basicConfig(level=logging.WARNING, stream=sys.stderr)
    parent = os.getppid()
    bolt = AsyncApp(
        client=AsyncWebClient(token=os.environ["SLACK_BOT_TOKEN"],
                              base_url=os.environ["SLACK_API_URL"]),
        signing_secret=os.environ["SLACK_SIGNING_SECRET"],
    )  # fmt: skip

    @bolt.command("/okr")
    async def okr(ack) -> None:
        await ack()

    async def events(request: web.Request) -> web.Response:
        return await to_aiohttp_response(await bolt.async_dispatch(await to_bolt_request(request)))

    app = web.Application()
    app.router.add_post("/slack/events", events)
    await harness.serve_bare(app, parent)

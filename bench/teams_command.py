"""Benchmark of the Teams `okr <team>` turn over HTTP: the turn latency of `okrbot serve`
against a bare botbuilder echo bot. A script that prints figures, not a test.

Builds a SQLite database with the large organisation of bench/organisation.py (100 teams,
~500 people, 2,000 key results, 50,000 key-result updates), then runs three processes:

* a fake Bot Connector (tests/fake_connector.py) whose roster holds every person of the
  organisation (member id "29:1<handle>", AAD object id "aad-<handle>", the person's email),
  which receives the replies and reports them to the benchmark;
* the real `okrbot serve` (DATABASE_URL; no MICROSOFT_APP_ID, so Teams authentication is off);
* a bare botbuilder bot: CloudAdapter + ConfigurationBotFrameworkAuthentication with an empty
  app id, an ActivityHandler that replies the text it got, behind aiohttp `POST /api/messages`.

Teams message activities `okr <team slug>` (random teams, from random people of the
organisation, in their 1:1 chat with the bot, `serviceUrl` = the fake connector, each with its
own activity id) go to `POST /api/messages` of both servers at a fixed concurrency, in
alternating rounds (okrbot first in odd rounds, the bare bot first in even ones) after a
warm-up. botbuilder answers the POST only after the turn, i.e. after the reply was POSTed to
the connector: the turn latency is the time from sending the activity to its HTTP answer.
After each round the script checks with the fake connector that every activity got its reply
(okrbot: an Adaptive Card headed by the right team; the bare bot: the same text back).

The okrbot warm-up sends one activity from every person of the organisation first: a person's
first turn looks them up in the roster by email and keeps their AAD object id, so the measured
rounds are the steady state in which everyone is known by AAD id (the bare bot keeps nothing
per person). Then each server gets `--warmup` activities.

Target (2-core machine, medians over the rounds): okrbot's turn within 1.5x of the bare bot's
(p50 and p99).

    .venv/bin/python bench/teams_command.py
    .venv/bin/python bench/teams_command.py --requests 300 --rounds 6 --concurrency 20
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import itertools
import json
import math
import os
import platform
import random
import selectors
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
RATIO_TARGET = 1.5
READY = "READY"
START_TIMEOUT_S = 30.0
STOP_TIMEOUT_S = 5.0
ARRIVALS_PATH = "/bench/arrivals"
ADAPTIVE = "application/vnd.microsoft.card.adaptive"


def _repo_on_path() -> None:
    """bench.organisation and tests.fake_connector live in the repository, not in the package."""
    if str(ROOT) not in sys.path:
        sys.path.insert(0, str(ROOT))


def progress(text: str) -> None:
    print(f"  … {text}", file=sys.stderr, flush=True)


# ---- the helper processes: the fake connector and the bare bot ----------------------------


async def _until_stopped(parent: int) -> None:
    """Until SIGTERM / SIGINT, or until the benchmark that started us is gone."""
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, stop.set)
    while not stop.is_set() and os.getppid() == parent:
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(stop.wait(), 0.5)


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
    _repo_on_path()
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
        print(f"{READY} {connector.port}", flush=True)
        await _until_stopped(parent)
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

    async def healthz(_request: web.Request) -> web.Response:
        return web.json_response({"status": "ok"})

    app = web.Application()
    app.router.add_post("/api/messages", messages)
    app.router.add_get("/healthz", healthz)
    runner = web.AppRunner(app, access_log=None)
    await runner.setup()
    await web.TCPSite(runner, "127.0.0.1", 0).start()
    try:
        print(f"{READY} {runner.addresses[0][1]}", flush=True)
        await _until_stopped(parent)
    finally:
        await runner.cleanup()


# ---- process handling ----------------------------------------------------------------------


class Processes:
    """The servers this benchmark starts; all stopped (TERM, then KILL) on leaving."""

    def __init__(self, logdir: Path) -> None:
        self.logdir = logdir
        self.started: list[tuple[str, subprocess.Popen, Path]] = []

    def __enter__(self) -> Processes:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.stop_all()

    def start(self, name: str, cmd: list[str], env: dict[str, str], cwd: Path) -> subprocess.Popen:
        log = self.logdir / f"{name}.stderr"
        with log.open("wb") as err:
            proc = subprocess.Popen(
                cmd, env=env, cwd=cwd, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                stderr=err,
            )  # fmt: skip
        self.started.append((name, proc, log))
        return proc

    def stderr_of(self, proc: subprocess.Popen) -> str:
        for _name, p, log in self.started:
            if p is proc:
                return log.read_text(encoding="utf-8", errors="replace")
        return ""

    def failed(self, name: str, proc: subprocess.Popen, why: str) -> SystemExit:
        tail = "\n".join(self.stderr_of(proc).strip().splitlines()[-15:])
        return SystemExit(f"{name} {why} (exit code {proc.poll()}); its stderr:\n{tail}")

    def ready_port(self, name: str, proc: subprocess.Popen) -> int:
        """Wait for the `READY <port>` line of one of our helper processes."""
        assert proc.stdout is not None
        deadline = time.monotonic() + START_TIMEOUT_S
        with selectors.DefaultSelector() as sel:
            sel.register(proc.stdout, selectors.EVENT_READ)
            while time.monotonic() < deadline:
                if sel.select(timeout=0.2):
                    line = proc.stdout.readline().decode().strip()
                    if line.startswith(READY):
                        return int(line.split()[1])
                    if not line and proc.poll() is not None:
                        break
                elif proc.poll() is not None:
                    break
        raise self.failed(name, proc, "did not start")

    def stop_all(self) -> None:
        for _name, proc, _log in reversed(self.started):
            if proc.poll() is None:
                proc.send_signal(signal.SIGTERM)
        for _name, proc, _log in reversed(self.started):
            try:
                proc.wait(STOP_TIMEOUT_S)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()
            if proc.stdout is not None:
                proc.stdout.close()


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


# ---- the database and the roster -----------------------------------------------------------


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


async def _fill(url: str, path: Path, updates: int, seed: int) -> int:
    from bench.organisation import IMPORTED_AT, seed_updates
    from bot.okrs import load_okr_file
    from bot.okrsync import import_document
    from storage.db import Database

    db = Database(url)
    try:
        doc = load_okr_file(path)
        async with db.transaction() as session:
            await import_document(session, doc, now=IMPORTED_AT)
        return await seed_updates(db, updates, seed) if updates else 0
    finally:
        await db.dispose()


def build_database(workdir: Path, args: argparse.Namespace) -> tuple[str, Organisation]:
    """A SQLite database with the benchmarks' organisation and its check-in history."""
    import yaml

    from bench.organisation import build_org
    from storage.db import upgrade

    org = build_org(args.teams, args.key_results, args.seed)
    path = workdir / "okrs.yaml"
    path.write_text(org.text, encoding="utf-8")
    url = f"sqlite:///{workdir / 'okrbot.db'}"
    upgrade(url)
    n_updates = asyncio.run(_fill(url, path, args.updates, args.seed))
    data = yaml.safe_load(org.text)
    teams = [(str(t["slug"]), str(t["name"])) for t in data["teams"] if t["slug"] != "company"]
    members = [Member(str(p["id"]), str(p["name"]), str(p["email"])) for p in data["people"]]
    return url, Organisation(teams, members, org.key_results, n_updates)


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


# ---- the load ------------------------------------------------------------------------------


@dataclass
class Server:
    name: str
    url: str  # http://127.0.0.1:port
    proc: subprocess.Popen
    cards: bool  # okrbot answers with Adaptive Cards; the bare bot echoes the text


@dataclass
class Sent:
    slug: str
    team: str
    text: str
    at: float = 0.0  # monotonic send time


@dataclass
class Round:
    server: str
    number: int  # 0: the warm-up
    turns_ms: list[float] = field(default_factory=list)
    errors: Counter = field(default_factory=Counter)
    seconds: float = 0.0
    sent: dict[str, Sent] = field(default_factory=dict)  # activity id -> what was sent
    replied: int = 0  # activities with at least one reply at the connector
    posts: int = 0  # replies posted (a long answer is several cards)
    reply_ms: list[float] = field(default_factory=list)  # send to the first reply's arrival
    wrong: list[str] = field(default_factory=list)  # replies that are not the expected answer
    card_bytes: list[int] = field(default_factory=list)
    member_lookups: int = 0  # roster GETs during the round


def pct(values: list[float], q: float) -> float:
    """Nearest-rank percentile."""
    ordered = sorted(values)
    return ordered[max(0, math.ceil(q / 100 * len(ordered)) - 1)]


_IDS = itertools.count(int(time.time() * 1000) * 1000)  # numeric, as Teams' message ids


class ConnectorView:
    """The benchmark's side of the fake connector: its serviceUrl and the replies it got."""

    def __init__(self, http, port: int) -> None:
        self.http = http
        self.url = f"http://127.0.0.1:{port}/"
        self.cursor = 0
        self.member_lookups = 0

    async def arrivals(self) -> list[list[Any]]:
        async with self.http.get(
            f"{self.url.rstrip('/')}{ARRIVALS_PATH}", params={"since": str(self.cursor)}
        ) as response:
            data = await response.json()
        new = data["arrivals"]
        self.cursor += len(new)
        self.member_lookups = int(data["member_lookups"])
        return new


async def run_round(
    http, server: Server, connector: ConnectorView, org: Organisation, rng: random.Random,
    n: int, concurrency: int, number: int, senders: list[Member] | None = None,
) -> Round:  # fmt: skip
    from tests.fake_connector import message_activity

    result = Round(server.name, number)
    lookups_before = connector.member_lookups
    bodies: list[tuple[str, bytes]] = []
    for i in range(n):
        slug, team_name = rng.choice(org.teams)
        member = senders[i % len(senders)] if senders else rng.choice(org.members)
        activity_id = str(next(_IDS))
        text = f"okr {slug}"
        activity = message_activity(
            text,
            service_url=connector.url,
            from_id=member.teams_id,
            aad=member.aad,
            name=member.name,
            activity_id=activity_id,
        )
        result.sent[activity_id] = Sent(slug, team_name, text)
        bodies.append((activity_id, json.dumps(activity).encode()))
    pending = iter(bodies)
    url = f"{server.url}/api/messages"
    headers = {"Content-Type": "application/json"}

    async def worker() -> None:
        for activity_id, body in pending:
            t0 = time.monotonic()
            try:
                async with http.post(url, data=body, headers=headers) as response:
                    await response.read()
                    status: int | str = response.status
            except Exception as exc:  # noqa: BLE001 - a failed request is a figure, not a crash
                status = type(exc).__name__
            t1 = time.monotonic()
            result.sent[activity_id].at = t0
            if status in (200, 201):
                result.turns_ms.append((t1 - t0) * 1000)
            else:
                result.errors[str(status)] += 1

    started = time.monotonic()
    await asyncio.gather(*(worker() for _ in range(concurrency)))
    result.seconds = time.monotonic() - started
    if server.proc.poll() is not None:
        raise SystemExit(f"{server.name} exited during round {number} ({server.proc.poll()})")
    await check_replies(connector, server, result)
    result.member_lookups = connector.member_lookups - lookups_before
    return result


REPLY_WAIT_S = 5.0  # the replies are in before the POSTs return; this only covers a bug


async def check_replies(connector: ConnectorView, server: Server, result: Round) -> None:
    """Every activity of the round has its reply at the connector, and it is the right one."""
    first: dict[str, list[Any]] = {}
    deadline = time.monotonic() + REPLY_WAIT_S
    while True:
        for reply_to, conversation, at, kind, text, size in await connector.arrivals():
            if reply_to not in result.sent:
                continue  # a late reply of an earlier round
            result.posts += 1
            if reply_to not in first:
                first[reply_to] = [conversation, at, kind, text]
                result.card_bytes.append(size)
        if len(first) >= len(result.sent) or time.monotonic() > deadline:
            break
        await asyncio.sleep(0.05)
    result.replied = len(first)
    for activity_id, (_conversation, at, kind, text) in first.items():
        sent = result.sent[activity_id]
        result.reply_ms.append((at - sent.at) * 1000)
        if server.cards:
            ok = kind == ADAPTIVE and text.startswith(f"{sent.team} · ")
        else:
            ok = kind == "text" and text == sent.text
        if not ok:
            result.wrong.append(f"{sent.text!r} -> {kind} {text[:100]!r}")


async def wait_healthy(http, server: Server) -> None:
    deadline = time.monotonic() + START_TIMEOUT_S
    while time.monotonic() < deadline:
        if server.proc.poll() is not None:
            break
        with contextlib.suppress(Exception):
            async with http.get(f"{server.url}/healthz") as response:
                if response.status == 200:
                    return
        await asyncio.sleep(0.1)
    raise SystemExit(f"{server.name} did not answer /healthz in {START_TIMEOUT_S:g} s")


def _check_warm(warm: Round, n: int) -> None:
    if warm.errors or warm.replied < n or warm.wrong:
        raise SystemExit(
            f"warm-up of {warm.server} failed: errors {dict(warm.errors)}, {warm.replied}/{n} "
            f"replied, {len(warm.wrong)} wrong, e.g. {warm.wrong[:3]}"
        )


async def drive(
    servers: list[Server], connector_port: int, org: Organisation, args: argparse.Namespace
) -> list[Round]:
    import aiohttp

    rng = random.Random(args.seed)
    connector = aiohttp.TCPConnector(limit=args.concurrency)
    timeout = aiohttp.ClientTimeout(total=60)
    async with aiohttp.ClientSession(connector=connector, timeout=timeout) as http:
        fake = ConnectorView(http, connector_port)
        for server in servers:
            await wait_healthy(http, server)
        everyone = list(org.members)
        rng.shuffle(everyone)
        progress(
            f"warm-up: okrbot gets one activity from each of the {len(everyone)} people, then "
            f"each server {args.warmup} more"
        )
        for server in servers:
            if server.cards:  # a person's first turn: the roster lookup by email, kept
                warm = await run_round(
                    http, server, fake, org, rng, len(everyone), args.concurrency, 0, everyone
                )
                _check_warm(warm, len(everyone))
                progress(
                    f"{server.name}: {warm.member_lookups} roster lookups in the first turns "
                    f"of {len(everyone)} people; turn p50 {_ms(pct(warm.turns_ms, 50))}, "
                    f"p99 {_ms(pct(warm.turns_ms, 99))}"
                )
            if args.warmup:
                warm = await run_round(
                    http, server, fake, org, rng, args.warmup, args.concurrency, 0
                )
                _check_warm(warm, args.warmup)
        rounds: list[Round] = []
        for number in range(1, args.rounds + 1):
            order = servers if number % 2 else servers[::-1]
            progress(f"round {number}/{args.rounds}: {' then '.join(s.name for s in order)}")
            for server in order:
                rounds.append(
                    await run_round(
                        http, server, fake, org, rng, args.requests, args.concurrency, number
                    )
                )
        return rounds


# ---- report --------------------------------------------------------------------------------


def _ms(value: float) -> str:
    return f"{value:.1f} ms" if value < 100 else f"{value:,.0f} ms"


def _verdict(ok: bool) -> str:
    return "ok" if ok else "MISS"


def report(rounds: list[Round], names: tuple[str, str], args) -> bool:
    okr_name, bare_name = names
    by = {name: [r for r in rounds if r.server == name] for name in names}
    print()
    print(
        f"{'round':<6}{'server':<16}{'p50 turn':>10}{'p99 turn':>10}{'max':>10}{'turns/s':>9}"
        f"{'errors':>8}   replies at the connector"
    )
    ratios50: list[float] = []
    ratios99: list[float] = []
    for number in range(1, args.rounds + 1):
        pair = {r.server: r for r in rounds if r.number == number}
        for name in names:
            r = pair[name]
            replies = f"{r.replied}/{len(r.sent)} ({r.posts} posts)"
            if r.wrong:
                replies += f", {len(r.wrong)} WRONG"
            print(
                f"{number:<6}{name:<16}{_ms(pct(r.turns_ms, 50)):>10}"
                f"{_ms(pct(r.turns_ms, 99)):>10}{_ms(max(r.turns_ms)):>10}"
                f"{len(r.turns_ms) / r.seconds:>9.0f}{sum(r.errors.values()):>8}   {replies}"
            )
        a, b = pair[okr_name], pair[bare_name]
        ratios50.append(pct(a.turns_ms, 50) / pct(b.turns_ms, 50))
        ratios99.append(pct(a.turns_ms, 99) / pct(b.turns_ms, 99))
        print(f"{'':<6}{'ratio':<16}{ratios50[-1]:>9.2f}x{ratios99[-1]:>9.2f}x")

    def med(name: str, q: float) -> float:
        return statistics.median(pct(r.turns_ms, q) for r in by[name])

    def pooled(name: str) -> list[float]:
        return [x for r in by[name] for x in r.turns_ms]

    print()
    print(f"turn latency, median of {args.rounds} rounds  {'p50':>9}  {'p99':>9}")
    for name in names:
        print(f"  {name:<36}{_ms(med(name, 50)):>9}  {_ms(med(name, 99)):>9}")
    ratio50, ratio99 = statistics.median(ratios50), statistics.median(ratios99)
    print(f"  {'ratio okrbot/bare (median of rounds)':<36}{ratio50:>8.2f}x  {ratio99:>8.2f}x")
    a, b = pooled(okr_name), pooled(bare_name)
    print(
        f"all rounds pooled ({len(a):,} / {len(b):,} turns): okrbot p50 {_ms(pct(a, 50))} "
        f"p99 {_ms(pct(a, 99))}; bare p50 {_ms(pct(b, 50))} p99 {_ms(pct(b, 99))}; ratio "
        f"{pct(a, 50) / pct(b, 50):.2f}x / {pct(a, 99) / pct(b, 99):.2f}x"
    )
    errors: Counter = Counter()
    for r in rounds:
        errors.update({f"{r.server}: {k}": v for k, v in r.errors.items()})
    if errors:
        print(f"failed requests: {dict(errors)}")

    complete = True
    for name in names:
        rs = by[name]
        sent = sum(len(r.sent) for r in rs)
        replied = sum(r.replied for r in rs)
        wrong = [w for r in rs for w in r.wrong]
        reply_ms = [x for r in rs for x in r.reply_ms]
        sizes = [x for r in rs for x in r.card_bytes]
        what = "an Adaptive Card headed by its team" if name == okr_name else "its text back"
        line = (
            f"{name} replies: {replied:,}/{sent:,} activities got one at the connector "
            f"({sum(r.posts for r in rs):,} posts"
        )
        if sizes:
            line += f", median {statistics.median(sizes):,.0f} B"
        if reply_ms:
            line += f", send to reply median {_ms(statistics.median(reply_ms))}"
        line += f"); every one is {what}" if not wrong else f"); {len(wrong)} are NOT {what}"
        print(line)
        for w in wrong[:5]:
            print(f"  e.g. {w}")
        complete = complete and replied == sent and not wrong
    lookups = sum(r.member_lookups for r in by[okr_name])
    print(f"okrbot roster lookups during the measured rounds: {lookups}")

    ok50, ok99 = ratio50 <= RATIO_TARGET, ratio99 <= RATIO_TARGET
    print()
    print(
        f"target: okrbot p50 turn within {RATIO_TARGET:g}x of the bare bot: {ratio50:.2f}x "
        f"({_ms(med(okr_name, 50))} / {_ms(med(bare_name, 50))})  {_verdict(ok50)}"
    )
    print(
        f"target: okrbot p99 turn within {RATIO_TARGET:g}x of the bare bot: {ratio99:.2f}x "
        f"({_ms(med(okr_name, 99))} / {_ms(med(bare_name, 99))})  {_verdict(ok99)}"
    )
    return ok50 and ok99 and not errors and complete


# ---- main ----------------------------------------------------------------------------------


def child_env(extra: dict[str, str]) -> dict[str, str]:
    """The environment of a server: ours without settings that would change what runs."""
    drop = ("OKRBOT_", "SLACK_", "MICROSOFT_", "DATABASE_URL")
    env = {k: v for k, v in os.environ.items() if not k.startswith(drop)}
    env["PYTHONPATH"] = os.pathsep.join(p for p in (str(ROOT), env.get("PYTHONPATH")) if p)
    env.update(extra)
    return env


def okrbot_executable() -> str:
    beside = Path(sys.executable).parent / "okrbot"
    if beside.exists():
        return str(beside)
    raise SystemExit(f"no okrbot next to {sys.executable}: install the project (pip install -e .)")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--requests", type=int, default=200, help="activities per server per round")
    parser.add_argument("--concurrency", type=int, default=50, help="activities in flight")
    parser.add_argument("--rounds", type=int, default=4, help="alternating rounds per server")
    parser.add_argument(
        "--warmup", type=int, default=100, help="more warm-up activities per server"
    )
    parser.add_argument("--teams", type=int, default=100, help="teams under `company`")
    parser.add_argument("--key-results", type=int, default=2_000)
    parser.add_argument("--updates", type=int, default=50_000, help="key-result updates")
    parser.add_argument("--seed", type=int, default=47)
    parser.add_argument("--role", choices=("fake-connector", "bare-bot"), help=argparse.SUPPRESS)
    parser.add_argument("--roster", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.role == "fake-connector":
        roster = json.loads(Path(args.roster).read_text(encoding="utf-8"))
        asyncio.run(fake_connector_main(roster))
        return 0
    if args.role == "bare-bot":
        asyncio.run(bare_bot_main())
        return 0
    if min(args.requests, args.concurrency, args.rounds, args.teams) < 1 or args.warmup < 0:
        parser.error("--requests, --concurrency, --rounds and --teams must be positive")

    _repo_on_path()
    # SIGTERM ends the run like Ctrl-C: the servers are stopped on the way out
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))

    from importlib.metadata import version

    import aiohttp

    print(
        f"okrbot Teams command benchmark: Python {platform.python_version()}, botbuilder-core "
        f"{version('botbuilder-core')}, aiohttp {aiohttp.__version__}, {platform.machine()}, "
        f"{os.cpu_count()} CPUs"
    )
    started = time.monotonic()
    with tempfile.TemporaryDirectory(prefix="okrbot-bench-teams-") as tmp:
        workdir = Path(tmp)
        progress(
            f"building the database ({args.key_results:,} key results, {args.updates:,} updates)"
        )
        t0 = time.monotonic()
        db_url, org = build_database(workdir, args)
        db_s = time.monotonic() - t0
        roster = write_roster(workdir, org)
        print(
            f"organisation: {len(org.teams) + 1} teams, {len(org.members)} people (all in the "
            f"connector's roster), {org.key_results:,} key results, {org.updates:,} updates "
            f"(SQLite, built in {db_s:.1f} s)"
        )
        print(
            f"load: {args.rounds} alternating rounds x {args.requests} `okr <team>` activities "
            f"per server, {args.concurrency} concurrent, 1:1 chats (after a warm-up: one "
            f"activity from each person to okrbot, then {args.warmup} to each server)"
        )
        me = [sys.executable, str(Path(__file__).resolve())]
        with Processes(workdir) as procs:
            fake_proc = procs.start(
                "fake-connector", [*me, "--role", "fake-connector", "--roster", str(roster)],
                child_env({}), workdir,
            )  # fmt: skip
            fake_port = procs.ready_port("fake connector", fake_proc)
            port = free_port()
            okr_proc = procs.start(
                "okrbot-serve",
                [okrbot_executable(), "serve", "--host", "127.0.0.1", "--port", str(port)],
                child_env({"DATABASE_URL": db_url, "OKRBOT_LOG_LEVEL": "WARNING"}),
                workdir,  # no .env of the repository
            )
            bare_proc = procs.start("bare-bot", [*me, "--role", "bare-bot"], child_env({}),
                                    workdir)  # fmt: skip
            bare_port = procs.ready_port("bare bot", bare_proc)
            servers = [
                Server("okrbot serve", f"http://127.0.0.1:{port}", okr_proc, cards=True),
                Server("bare botbuilder", f"http://127.0.0.1:{bare_port}", bare_proc, cards=False),
            ]
            if okr_proc.poll() is not None:
                raise procs.failed("okrbot serve", okr_proc, "did not start")
            try:
                rounds = asyncio.run(drive(servers, fake_port, org, args))
            except SystemExit:
                for name, proc in (
                    ("okrbot serve", okr_proc),
                    ("bare bot", bare_proc),
                    ("fake connector", fake_proc),
                ):
                    if proc.poll() is not None:
                        raise procs.failed(name, proc, "exited") from None
                raise
            procs.stop_all()
            logs = {
                name: procs.stderr_of(proc).strip().splitlines()
                for name, proc in (
                    ("okrbot serve", okr_proc),
                    ("bare bot", bare_proc),
                    ("fake connector", fake_proc),
                )
            }
        ok = report(rounds, ("okrbot serve", "bare botbuilder"), args)
        for name, lines in logs.items():
            if lines:
                print(f"{name} wrote {len(lines)} line(s) on stderr, e.g.: {lines[0][:200]}")
    print(f"\n(whole run {time.monotonic() - started:.0f} s)")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())

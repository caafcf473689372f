"""Benchmark of the Teams `okr <team>` turn over HTTP: the turn latency of `okrbot serve`
against a bare botbuilder echo bot. A script that prints figures, not a test.

Builds a SQLite database with the large organisation of bench/organisation.py (100 teams,
~500 people, 2,000 key results, 50,000 key-result updates), then runs three processes:

* a fake Bot Connector (tests/fake_connector.py) whose roster holds every person of the
  organisation (member id "29:1<handle>", AAD object id "aad-<handle>", the person's email),
  which receives the replies and reports them to the benchmark;
* the real `okrbot serve` (DATABASE_URL; OKRBOT_TEAMS_EMULATOR=1, so Teams authentication is off);
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
import itertools
import json
import os
import platform
import random
import statistics
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))  # the repository root
from bench import (
    figures,  # noqa: E402
    harness,  # noqa: E402
)
from bench.figures import ms, pct  # noqa: E402
from bench.harness import progress  # noqa: E402
from bench.peers import (  # noqa: E402
    ARRIVALS_PATH,
    Member,
    Organisation,
    bare_bot_main,
    build_teams_database,
    fake_connector_main,
    write_roster,
)

RATIO_TARGET = 1.5
ADAPTIVE = "application/vnd.microsoft.card.adaptive"


# ---- the load ------------------------------------------------------------------------------


@dataclass
class Server(harness.Server):
    cards: bool  # okrbot answers with Adaptive Cards; the bare bot echoes the text


@dataclass
class Sent:
    slug: str
    team: str
    text: str
    at: float = 0.0  # monotonic send time


@dataclass
class Round(harness.Round):
    turns_ms: list[float] = field(default_factory=list)
    sent: dict[str, Sent] = field(default_factory=dict)  # activity id -> what was sent
    replied: int = 0  # activities with at least one reply at the connector
    posts: int = 0  # replies posted (a long answer is several cards)
    reply_ms: list[float] = field(default_factory=list)  # send to the first reply's arrival
    wrong: list[str] = field(default_factory=list)  # replies that are not the expected answer
    card_bytes: list[int] = field(default_factory=list)
    member_lookups: int = 0  # roster GETs during the round


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
    url = f"{server.url}/api/messages"
    headers = {"Content-Type": "application/json"}
    for post in await harness.post_all(http, url, bodies, lambda _: headers, concurrency, result):
        result.sent[post.key].at = post.sent_at
        if post.status in (200, 201):
            result.turns_ms.append(post.ms)
        else:
            result.errors[str(post.status)] += 1
    harness.check_alive(server, number)
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


def _check_warm(warm: Round, n: int) -> None:
    if warm.errors or warm.replied < n or warm.wrong:
        raise SystemExit(
            f"warm-up of {warm.server} failed: errors {dict(warm.errors)}, {warm.replied}/{n} "
            f"replied, {len(warm.wrong)} wrong, e.g. {warm.wrong[:3]}"
        )


async def drive(
    servers: list[Server], connector_port: int, org: Organisation, args: argparse.Namespace
) -> list[Round]:
    rng = random.Random(args.seed)
    async with harness.client_session(args.concurrency, 60) as http:
        fake = ConnectorView(http, connector_port)
        for server in servers:
            await harness.wait_healthy(http, server)
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
                    f"of {len(everyone)} people; turn p50 {ms(pct(warm.turns_ms, 50))}, "
                    f"p99 {ms(pct(warm.turns_ms, 99))}"
                )
            if args.warmup:
                warm = await run_round(
                    http, server, fake, org, rng, args.warmup, args.concurrency, 0
                )
                _check_warm(warm, args.warmup)

        async def measured(server: Server, number: int) -> Round:
            return await run_round(
                http, server, fake, org, rng, args.requests, args.concurrency, number
            )

        return await harness.alternate(servers, args.rounds, measured)


# ---- report --------------------------------------------------------------------------------


COLUMNS = figures.Columns("turn", "turns/s", 9, "replies at the connector")


def report(rounds: list[Round], names: tuple[str, str], args) -> bool:
    okr_name, bare_name = names

    def replies(r: Round) -> str:
        text = f"{r.replied}/{len(r.sent)} ({r.posts} posts)"
        return text + f", {len(r.wrong)} WRONG" if r.wrong else text

    c = figures.compare(rounds, names, args.rounds, COLUMNS, lambda r: r.turns_ms, replies)
    errors = figures.print_errors(rounds)

    complete = True
    for name in names:
        rs = [r for r in rounds if r.server == name]
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
            line += f", send to reply median {ms(statistics.median(reply_ms))}"
        line += f"); every one is {what}" if not wrong else f"); {len(wrong)} are NOT {what}"
        print(line)
        for w in wrong[:5]:
            print(f"  e.g. {w}")
        complete = complete and replied == sent and not wrong
    lookups = sum(r.member_lookups for r in rounds if r.server == okr_name)
    print(f"okrbot roster lookups during the measured rounds: {lookups}")

    ok50, ok99 = c.ratio50 <= RATIO_TARGET, c.ratio99 <= RATIO_TARGET
    print()
    print(
        f"target: okrbot p50 turn within {RATIO_TARGET:g}x of the bare bot: {c.ratio50:.2f}x "
        f"({ms(c.med(okr_name, 50))} / {ms(c.med(bare_name, 50))})  {figures.verdict(ok50)}"
    )
    print(
        f"target: okrbot p99 turn within {RATIO_TARGET:g}x of the bare bot: {c.ratio99:.2f}x "
        f"({ms(c.med(okr_name, 99))} / {ms(c.med(bare_name, 99))})  {figures.verdict(ok99)}"
    )
    return ok50 and ok99 and not errors and complete


# ---- main ----------------------------------------------------------------------------------


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--requests", type=int, default=200, help="activities per server per round")
    parser.add_argument("--concurrency", type=int, default=50, help="activities in flight")
    parser.add_argument("--rounds", type=int, default=4, help="alternating rounds per server")
    parser.add_argument(
        "--warmup", type=int, default=100, help="more warm-up activities per server"
    )
    harness.add_organisation_options(parser)
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

    harness.stop_on_sigterm()

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
        db_url, org = build_teams_database(workdir, args)
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
        with harness.Processes(workdir) as procs:
            fake_proc = procs.start(
                "fake-connector", [*me, "--role", "fake-connector", "--roster", str(roster)],
                harness.child_env({}), workdir,
            )  # fmt: skip
            fake_port = procs.ready_port("fake connector", fake_proc)
            port, okr_proc = procs.start_okrbot(
                # the emulator mode: Teams without authentication, on loopback only
                {
                    "DATABASE_URL": db_url,
                    "OKRBOT_LOG_LEVEL": "WARNING",
                    "OKRBOT_TEAMS_EMULATOR": "1",
                },
                workdir,  # no .env of the repository
            )
            bare_proc = procs.start("bare-bot", [*me, "--role", "bare-bot"],
                                    harness.child_env({}), workdir)  # fmt: skip
            bare_port = procs.ready_port("bare bot", bare_proc)
            servers = [
                Server("okrbot serve", f"http://127.0.0.1:{port}", okr_proc, cards=True),
                Server("bare botbuilder", f"http://127.0.0.1:{bare_port}", bare_proc, cards=False),
            ]
            if okr_proc.poll() is not None:
                raise procs.failed("okrbot serve", okr_proc, "did not start")
            watched = [
                ("okrbot serve", okr_proc),
                ("bare bot", bare_proc),
                ("fake connector", fake_proc),
            ]
            rounds = procs.run(drive(servers, fake_port, org, args), watched)
            procs.stop_all()
            logs = procs.stderr_lines(watched)
        ok = report(rounds, ("okrbot serve", "bare botbuilder"), args)
        harness.print_stderr(logs)
    print(f"\n(whole run {time.monotonic() - started:.0f} s)")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())

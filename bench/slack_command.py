"""Benchmark of the Slack slash command over HTTP: the ack latency of `okrbot serve` against a
bare slack-bolt app that only acks the same command. A script that prints figures, not a test.

Builds a SQLite database with the large organisation of bench/commands.py (100 teams, ~500
people, 2,000 key results, 50,000 key-result updates), then runs three processes:

* a fake Slack (tests/fake_slack.py) for `auth.test` and the `response_url` POSTs;
* the real `okrbot serve` (DATABASE_URL, SLACK_BOT_TOKEN, SLACK_SIGNING_SECRET, SLACK_API_URL);
* a bare slack-bolt AsyncApp behind aiohttp whose `/okr` listener only does `await ack()`.

Signed `/okr <team>` requests (random teams and members of the organisation, each with its own
`response_url` on the fake) go to `POST /slack/events` of both servers at a fixed concurrency,
in alternating rounds (okrbot first in odd rounds, bare bolt first in even ones) after a
warm-up; after each okrbot round the script waits until every answer has reached its
response_url, so that no answer work spills into the next round. The ack latency is the time
from sending a request to its HTTP 200. The answers' arrival at the response_url is a secondary
figure.

Target (2-core machine, medians over the rounds): p99 ack under 100 ms, and within 1.5x of
bare bolt's p99.

    .venv/bin/python bench/slack_command.py
    .venv/bin/python bench/slack_command.py --requests 300 --rounds 6 --concurrency 20
"""

from __future__ import annotations

import argparse
import asyncio
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
from bench.peers import bare_bolt_main, fake_slack_main  # noqa: E402

TOKEN = "xoxb-bench"
SIGNING_SECRET = "bench-signing-secret-8f1d2c"
P99_TARGET_MS = 100.0
RATIO_TARGET = 1.5


# ---- the database --------------------------------------------------------------------------


@dataclass
class Organisation:
    teams: list[tuple[str, str, str]]  # slug, name, channel id
    members: list[str]  # Slack user ids of the people (the CEO and everyone else)
    key_results: int
    updates: int
    people: int


def build_database(workdir: Path, args: argparse.Namespace) -> tuple[str, Organisation]:
    """A SQLite database with the organisation of bench/commands.py and its check-in history."""
    db = harness.build_database(workdir, args)
    teams = [(t["slug"], t["name"], str(t["channel"])) for t in db.data["teams"]]
    teams = [t for t in teams if t[0] != "company"]
    members = [str(p["slack"]) for p in db.data["people"]]
    return db.url, Organisation(teams, members, db.key_results, db.updates, len(members))


# ---- the load ------------------------------------------------------------------------------


@dataclass
class Server(harness.Server):
    answers: bool  # whether it posts answers to the response_url (okrbot does)


@dataclass
class Round(harness.Round):
    acks_ms: list[float] = field(default_factory=list)
    sent_at: dict[str, float] = field(default_factory=dict)  # response name -> send time
    teams: dict[str, tuple[str, str]] = field(default_factory=dict)  # name -> slug, team name
    answer_ms: list[float] = field(default_factory=list)  # to the last POST of each answer
    answered: int = 0
    posts: int = 0
    wrong: list[str] = field(default_factory=list)  # answers that do not show the team
    last_answer_s: float = 0.0  # round start to the last answer POST


async def run_round(
    http, server: Server, fake, org: Organisation, rng: random.Random, n: int,
    concurrency: int, number: int,
) -> Round:  # fmt: skip
    from tests.fake_slack import signed_headers, slash_command_body

    result = Round(server.name, number)
    bodies: list[tuple[str, bytes]] = []
    for i in range(n):
        slug, team_name, channel = rng.choice(org.teams)
        name = f"{server.name}-{number}-{i}"
        result.teams[name] = (slug, team_name)
        body = slash_command_body(
            slug,
            user_id=rng.choice(org.members),
            channel_id=channel,
            response_url=fake.response_url(name),
            trigger_id=f"{number}{i}.{rng.randrange(10**9)}.bench",
        )
        bodies.append((name, body))

    def headers(body: bytes) -> dict[str, str]:
        return signed_headers(body, SIGNING_SECRET)

    url = f"{server.url}/slack/events"
    for post in await harness.post_all(http, url, bodies, headers, concurrency, result):
        result.sent_at[post.key] = post.sent_at
        if post.status == 200:
            result.acks_ms.append(post.ms)
        else:
            result.errors[str(post.status)] += 1
    harness.check_alive(server, number)
    if server.answers:
        await collect_answers(fake, result, result.started)
    return result


class FakeView:
    """The benchmark's side of the fake Slack: response URLs and the timed arrivals."""

    def __init__(self, http, port: int) -> None:
        self.http = http
        self.root = f"http://127.0.0.1:{port}"
        self.cursor = 0

    def response_url(self, name: str) -> str:
        return f"{self.root}/response/{name}"

    async def arrivals(self) -> list[list[Any]]:
        async with self.http.post(
            f"{self.root}/api/bench.arrivals",
            data={"since": str(self.cursor)},
            headers={"Authorization": f"Bearer {TOKEN}"},
        ) as response:
            data = await response.json()
        new = data["arrivals"]
        self.cursor += len(new)
        return new


ANSWER_TIMEOUT_S = 60.0
QUIET_S = 0.3  # after the last answer's first POST: room for continuation messages


async def collect_answers(fake: FakeView, result: Round, started: float) -> None:
    """Wait until every request of the round has its answer at its response_url."""
    last: dict[str, float] = {}
    texts: dict[str, str] = {}
    deadline = time.monotonic() + ANSWER_TIMEOUT_S
    quiet_since = None
    while time.monotonic() < deadline:
        new = await fake.arrivals()
        for name, at, text, header in new:
            if name not in result.teams:
                continue  # a late answer of an earlier round
            result.posts += 1
            last[name] = max(last.get(name, 0.0), at)
            texts.setdefault(name, f"{header}\n{text}")
        if len(last) >= len(result.sent_at):
            if new or quiet_since is None:
                quiet_since = time.monotonic()
            elif time.monotonic() - quiet_since >= QUIET_S:
                break
        await asyncio.sleep(0.05)
    result.answered = len(last)
    for name, at in last.items():
        if name in result.sent_at:
            result.answer_ms.append((at - result.sent_at[name]) * 1000)
        slug, team_name = result.teams[name]
        if team_name not in texts[name] and slug not in texts[name]:
            result.wrong.append(f"{slug}: {texts[name][:120]!r}")
    result.last_answer_s = (max(last.values()) - started) if last else 0.0


async def drive(
    servers: list[Server], fake_port: int, org: Organisation, args: argparse.Namespace
) -> list[Round]:
    rng = random.Random(args.seed)
    async with harness.client_session(args.concurrency, 30) as http:
        fake = FakeView(http, fake_port)
        for server in servers:
            await harness.wait_healthy(http, server)
        progress(f"warm-up: {args.warmup} requests to each server")
        for server in servers:
            warm = await run_round(http, server, fake, org, rng, args.warmup, args.concurrency, 0)
            if warm.errors or (server.answers and warm.answered < args.warmup):
                raise SystemExit(
                    f"warm-up of {server.name} failed: errors {dict(warm.errors)}, "
                    f"{warm.answered}/{args.warmup} answers"
                )

        async def measured(server: Server, number: int) -> Round:
            return await run_round(
                http, server, fake, org, rng, args.requests, args.concurrency, number
            )

        return await harness.alternate(servers, args.rounds, measured)


# ---- report --------------------------------------------------------------------------------

COLUMNS = figures.Columns("ack", "req/s", 8, "answers at response_url")


def report(rounds: list[Round], org: Organisation, names: tuple[str, str], args) -> bool:
    okr_name, bare_name = names

    def answers(r: Round) -> str:
        if r.answer_ms:
            return (
                f"{r.answered}/{len(r.sent_at)} ({r.posts} posts), median "
                f"{ms(statistics.median(r.answer_ms))}, all in {r.last_answer_s:.1f} s"
            )
        if r.server == okr_name:
            return f"{r.answered}/{len(r.sent_at)}"
        return ""

    c = figures.compare(rounds, names, args.rounds, COLUMNS, lambda r: r.acks_ms, answers)
    errors = figures.print_errors(rounds)

    okr_rounds = [r for r in rounds if r.server == okr_name]
    sent = sum(len(r.sent_at) for r in okr_rounds)
    answered = sum(r.answered for r in okr_rounds)
    answer_ms = [x for r in okr_rounds for x in r.answer_ms]
    wrong = [w for r in okr_rounds for w in r.wrong]
    if answer_ms:
        print(
            f"okrbot answers: {answered:,}/{sent:,} arrived at their response_url "
            f"({sum(r.posts for r in okr_rounds):,} posts); request to answer posted: median "
            f"{ms(statistics.median(answer_ms))}, p99 {ms(pct(answer_ms, 99))}; "
            + ("every answer shows its team" if not wrong else f"{len(wrong)} do NOT show the team")
        )
    else:
        print(f"okrbot answers: 0/{sent:,} arrived at their response_url")
    for line in wrong[:5]:
        print(f"  e.g. {line}")

    p99 = c.med(okr_name, 99)
    ok_abs, ok_ratio = p99 < P99_TARGET_MS, c.ratio99 <= RATIO_TARGET
    print()
    print(f"target: okrbot p99 ack < {P99_TARGET_MS:g} ms: {ms(p99)}  {figures.verdict(ok_abs)}")
    print(
        f"target: okrbot p99 ack within {RATIO_TARGET:g}x of bare bolt: {c.ratio99:.2f}x "
        f"({ms(p99)} / {ms(c.med(bare_name, 99))})  {figures.verdict(ok_ratio)}"
    )
    return ok_abs and ok_ratio and not errors and answered == sent and not wrong


# ---- main ----------------------------------------------------------------------------------


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--requests", type=int, default=500, help="requests per server per round")
    parser.add_argument("--concurrency", type=int, default=50, help="requests in flight")
    parser.add_argument("--rounds", type=int, default=4, help="alternating rounds per server")
    parser.add_argument("--warmup", type=int, default=100, help="warm-up requests per server")
    harness.add_organisation_options(parser)
    parser.add_argument("--role", choices=("fake-slack", "bare-bolt"), help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.role == "fake-slack":
        asyncio.run(fake_slack_main())
        return 0
    if args.role == "bare-bolt":
        asyncio.run(bare_bolt_main())
        return 0
    if min(args.requests, args.concurrency, args.rounds, args.warmup, args.teams) < 1:
        parser.error("--requests, --concurrency, --rounds, --warmup and --teams must be positive")

    harness.stop_on_sigterm()

    import aiohttp
    import slack_bolt.version

    print(
        f"okrbot Slack command benchmark: Python {platform.python_version()}, slack-bolt "
        f"{slack_bolt.version.__version__}, aiohttp {aiohttp.__version__}, {platform.machine()}, "
        f"{os.cpu_count()} CPUs"
    )
    started = time.monotonic()
    with tempfile.TemporaryDirectory(prefix="okrbot-bench-slack-") as tmp:
        workdir = Path(tmp)
        progress(
            f"building the database ({args.key_results:,} key results, {args.updates:,} updates)"
        )
        t0 = time.monotonic()
        db_url, org = build_database(workdir, args)
        db_s = time.monotonic() - t0
        print(
            f"organisation: {len(org.teams) + 1} teams, {org.people} people, "
            f"{org.key_results:,} key results, {org.updates:,} updates (SQLite, built in "
            f"{db_s:.1f} s)"
        )
        print(
            f"load: {args.rounds} alternating rounds x {args.requests} signed `/okr <team>` "
            f"requests per server, {args.concurrency} concurrent (after {args.warmup} warm-up "
            f"requests each)"
        )
        me = [sys.executable, str(Path(__file__).resolve())]
        with harness.Processes(workdir) as procs:
            fake_proc = procs.start("fake-slack", [*me, "--role", "fake-slack"],
                                    harness.child_env({}), workdir)  # fmt: skip
            fake_port = procs.ready_port("fake slack", fake_proc)
            slack_env = {
                "SLACK_BOT_TOKEN": TOKEN,
                "SLACK_SIGNING_SECRET": SIGNING_SECRET,
                "SLACK_API_URL": f"http://127.0.0.1:{fake_port}/api/",
            }
            port, okr_proc = procs.start_okrbot(
                {**slack_env, "DATABASE_URL": db_url, "OKRBOT_LOG_LEVEL": "WARNING"},
                workdir,  # no .env of the repository
            )
            bare_proc = procs.start("bare-bolt", [*me, "--role", "bare-bolt"],
                                    harness.child_env(slack_env), workdir)  # fmt: skip
            bare_port = procs.ready_port("bare bolt", bare_proc)
            servers = [
                Server("okrbot serve", f"http://127.0.0.1:{port}", okr_proc, answers=True),
                Server("bare bolt", f"http://127.0.0.1:{bare_port}", bare_proc, answers=False),
            ]
            if okr_proc.poll() is not None:
                raise procs.failed("okrbot serve", okr_proc, "did not start")
            watched = [("okrbot serve", okr_proc), ("bare bolt", bare_proc)]
            rounds = procs.run(drive(servers, fake_port, org, args), watched)
            procs.stop_all()
            logs = procs.stderr_lines(watched)
        ok = report(rounds, org, ("okrbot serve", "bare bolt"), args)
        harness.print_stderr(logs)
    print(f"\n(whole run {time.monotonic() - started:.0f} s)")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())

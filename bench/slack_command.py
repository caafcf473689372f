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
import contextlib
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
TOKEN = "xoxb-bench"
SIGNING_SECRET = "bench-signing-secret-8f1d2c"
P99_TARGET_MS = 100.0
RATIO_TARGET = 1.5
READY = "READY"
START_TIMEOUT_S = 30.0
STOP_TIMEOUT_S = 5.0


def _repo_on_path() -> None:
    """bench.commands and tests.fake_slack live in the repository, not in the package."""
    if str(ROOT) not in sys.path:
        sys.path.insert(0, str(ROOT))


def progress(text: str) -> None:
    print(f"  … {text}", file=sys.stderr, flush=True)


# ---- the helper processes: the fake Slack and the bare bolt app ------------------------------


async def _until_stopped(parent: int) -> None:
    """Until SIGTERM / SIGINT, or until the benchmark that started us is gone."""
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, stop.set)
    while not stop.is_set() and os.getppid() == parent:
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(stop.wait(), 0.5)


async def fake_slack_main() -> None:
    """The fake Slack; it also times each response_url POST (`bench.arrivals` hands them out)."""
    _repo_on_path()
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
        print(f"{READY} {slack.port}", flush=True)
        await _until_stopped(parent)
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

    async def healthz(_request: web.Request) -> web.Response:
        return web.json_response({"status": "ok"})

    app = web.Application()
    app.router.add_post("/slack/events", events)
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


# ---- the database --------------------------------------------------------------------------


@dataclass
class Organisation:
    teams: list[tuple[str, str, str]]  # slug, name, channel id
    members: list[str]  # Slack user ids of the people (the CEO and everyone else)
    key_results: int
    updates: int
    people: int


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
    """A SQLite database with the organisation of bench/commands.py and its check-in history."""
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
    teams = [(t["slug"], t["name"], str(t["channel"])) for t in data["teams"]]
    teams = [t for t in teams if t[0] != "company"]
    members = [str(p["slack"]) for p in data["people"]]
    return url, Organisation(teams, members, org.key_results, n_updates, len(members))


# ---- the load ------------------------------------------------------------------------------


@dataclass
class Server:
    name: str
    url: str  # http://127.0.0.1:port
    proc: subprocess.Popen
    answers: bool  # whether it posts answers to the response_url (okrbot does)


@dataclass
class Round:
    server: str
    number: int  # 0: the warm-up
    acks_ms: list[float] = field(default_factory=list)
    errors: Counter = field(default_factory=Counter)
    seconds: float = 0.0
    sent_at: dict[str, float] = field(default_factory=dict)  # response name -> send time
    teams: dict[str, tuple[str, str]] = field(default_factory=dict)  # name -> slug, team name
    answer_ms: list[float] = field(default_factory=list)  # to the last POST of each answer
    answered: int = 0
    posts: int = 0
    wrong: list[str] = field(default_factory=list)  # answers that do not show the team
    last_answer_s: float = 0.0  # round start to the last answer POST


def pct(values: list[float], q: float) -> float:
    """Nearest-rank percentile."""
    ordered = sorted(values)
    return ordered[max(0, math.ceil(q / 100 * len(ordered)) - 1)]


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
    pending = iter(bodies)
    url = f"{server.url}/slack/events"

    async def worker() -> None:
        for name, body in pending:
            headers = signed_headers(body, SIGNING_SECRET)
            t0 = time.monotonic()
            try:
                async with http.post(url, data=body, headers=headers) as response:
                    await response.read()
                    status: int | str = response.status
            except Exception as exc:  # noqa: BLE001 - a failed request is a figure, not a crash
                status = type(exc).__name__
            t1 = time.monotonic()
            result.sent_at[name] = t0
            if status == 200:
                result.acks_ms.append((t1 - t0) * 1000)
            else:
                result.errors[str(status)] += 1

    started = time.monotonic()
    await asyncio.gather(*(worker() for _ in range(concurrency)))
    result.seconds = time.monotonic() - started
    if server.proc.poll() is not None:
        raise SystemExit(f"{server.name} exited during round {number} ({server.proc.poll()})")
    if server.answers:
        await collect_answers(fake, result, started)
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


async def drive(
    servers: list[Server], fake_port: int, org: Organisation, args: argparse.Namespace
) -> list[Round]:
    import aiohttp

    rng = random.Random(args.seed)
    connector = aiohttp.TCPConnector(limit=args.concurrency)
    timeout = aiohttp.ClientTimeout(total=30)
    async with aiohttp.ClientSession(connector=connector, timeout=timeout) as http:
        fake = FakeView(http, fake_port)
        for server in servers:
            await wait_healthy(http, server)
        progress(f"warm-up: {args.warmup} requests to each server")
        for server in servers:
            warm = await run_round(http, server, fake, org, rng, args.warmup, args.concurrency, 0)
            if warm.errors or (server.answers and warm.answered < args.warmup):
                raise SystemExit(
                    f"warm-up of {server.name} failed: errors {dict(warm.errors)}, "
                    f"{warm.answered}/{args.warmup} answers"
                )
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


def report(rounds: list[Round], org: Organisation, names: tuple[str, str], args) -> bool:
    okr_name, bare_name = names
    by = {name: [r for r in rounds if r.server == name] for name in names}
    print()
    print(
        f"{'round':<6}{'server':<16}{'p50 ack':>10}{'p99 ack':>10}{'max':>10}{'req/s':>8}"
        f"{'errors':>8}   answers at response_url"
    )
    ratios50: list[float] = []
    ratios99: list[float] = []
    for number in range(1, args.rounds + 1):
        pair = {r.server: r for r in rounds if r.number == number}
        for name in names:
            r = pair[name]
            answers = ""
            if r.answer_ms:
                answers = (
                    f"{r.answered}/{len(r.sent_at)} ({r.posts} posts), median "
                    f"{_ms(statistics.median(r.answer_ms))}, all in {r.last_answer_s:.1f} s"
                )
            elif name == okr_name:
                answers = f"{r.answered}/{len(r.sent_at)}"
            print(
                f"{number:<6}{name:<16}{_ms(pct(r.acks_ms, 50)):>10}{_ms(pct(r.acks_ms, 99)):>10}"
                f"{_ms(max(r.acks_ms)):>10}{len(r.acks_ms) / r.seconds:>8.0f}"
                f"{sum(r.errors.values()):>8}   {answers}"
            )
        a, b = pair[okr_name], pair[bare_name]
        ratios50.append(pct(a.acks_ms, 50) / pct(b.acks_ms, 50))
        ratios99.append(pct(a.acks_ms, 99) / pct(b.acks_ms, 99))
        print(f"{'':<6}{'ratio':<16}{ratios50[-1]:>9.2f}x{ratios99[-1]:>9.2f}x")

    def med(name: str, q: float) -> float:
        return statistics.median(pct(r.acks_ms, q) for r in by[name])

    def pooled(name: str) -> list[float]:
        return [x for r in by[name] for x in r.acks_ms]

    print()
    print(f"ack latency, median of {args.rounds} rounds   {'p50':>9}  {'p99':>9}")
    for name in names:
        print(f"  {name:<36}{_ms(med(name, 50)):>9}  {_ms(med(name, 99)):>9}")
    ratio50, ratio99 = statistics.median(ratios50), statistics.median(ratios99)
    print(f"  {'ratio okrbot/bare (median of rounds)':<36}{ratio50:>8.2f}x  {ratio99:>8.2f}x")
    a, b = pooled(okr_name), pooled(bare_name)
    print(
        f"all rounds pooled ({len(a):,} / {len(b):,} acks): okrbot p50 {_ms(pct(a, 50))} "
        f"p99 {_ms(pct(a, 99))}; bare p50 {_ms(pct(b, 50))} p99 {_ms(pct(b, 99))}; ratio "
        f"{pct(a, 50) / pct(b, 50):.2f}x / {pct(a, 99) / pct(b, 99):.2f}x"
    )
    errors = Counter()
    for r in rounds:
        errors.update({f"{r.server}: {k}": v for k, v in r.errors.items()})
    if errors:
        print(f"failed requests: {dict(errors)}")

    okr_rounds = by[okr_name]
    sent = sum(len(r.sent_at) for r in okr_rounds)
    answered = sum(r.answered for r in okr_rounds)
    answer_ms = [x for r in okr_rounds for x in r.answer_ms]
    wrong = [w for r in okr_rounds for w in r.wrong]
    if answer_ms:
        print(
            f"okrbot answers: {answered:,}/{sent:,} arrived at their response_url "
            f"({sum(r.posts for r in okr_rounds):,} posts); request to answer posted: median "
            f"{_ms(statistics.median(answer_ms))}, p99 {_ms(pct(answer_ms, 99))}; "
            + ("every answer shows its team" if not wrong else f"{len(wrong)} do NOT show the team")
        )
    else:
        print(f"okrbot answers: 0/{sent:,} arrived at their response_url")
    for line in wrong[:5]:
        print(f"  e.g. {line}")

    p99 = med(okr_name, 99)
    ok_abs, ok_ratio = p99 < P99_TARGET_MS, ratio99 <= RATIO_TARGET
    print()
    print(f"target: okrbot p99 ack < {P99_TARGET_MS:g} ms: {_ms(p99)}  {_verdict(ok_abs)}")
    print(
        f"target: okrbot p99 ack within {RATIO_TARGET:g}x of bare bolt: {ratio99:.2f}x "
        f"({_ms(p99)} / {_ms(med(bare_name, 99))})  {_verdict(ok_ratio)}"
    )
    return ok_abs and ok_ratio and not errors and answered == sent and not wrong


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
    parser.add_argument("--requests", type=int, default=500, help="requests per server per round")
    parser.add_argument("--concurrency", type=int, default=50, help="requests in flight")
    parser.add_argument("--rounds", type=int, default=4, help="alternating rounds per server")
    parser.add_argument("--warmup", type=int, default=100, help="warm-up requests per server")
    parser.add_argument("--teams", type=int, default=100, help="teams under `company`")
    parser.add_argument("--key-results", type=int, default=2_000)
    parser.add_argument("--updates", type=int, default=50_000, help="key-result updates")
    parser.add_argument("--seed", type=int, default=47)
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

    _repo_on_path()
    # SIGTERM ends the run like Ctrl-C: the servers are stopped on the way out
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))

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
        with Processes(workdir) as procs:
            fake_proc = procs.start("fake-slack", [*me, "--role", "fake-slack"],
                                    child_env({}), workdir)  # fmt: skip
            fake_port = procs.ready_port("fake slack", fake_proc)
            slack_env = {
                "SLACK_BOT_TOKEN": TOKEN,
                "SLACK_SIGNING_SECRET": SIGNING_SECRET,
                "SLACK_API_URL": f"http://127.0.0.1:{fake_port}/api/",
            }
            port = free_port()
            okr_proc = procs.start(
                "okrbot-serve",
                [okrbot_executable(), "serve", "--host", "127.0.0.1", "--port", str(port)],
                child_env({**slack_env, "DATABASE_URL": db_url, "OKRBOT_LOG_LEVEL": "WARNING"}),
                workdir,  # no .env of the repository
            )
            bare_proc = procs.start("bare-bolt", [*me, "--role", "bare-bolt"],
                                    child_env(slack_env), workdir)  # fmt: skip
            bare_port = procs.ready_port("bare bolt", bare_proc)
            servers = [
                Server("okrbot serve", f"http://127.0.0.1:{port}", okr_proc, answers=True),
                Server("bare bolt", f"http://127.0.0.1:{bare_port}", bare_proc, answers=False),
            ]
            if okr_proc.poll() is not None:
                raise procs.failed("okrbot serve", okr_proc, "did not start")
            try:
                rounds = asyncio.run(drive(servers, fake_port, org, args))
            except SystemExit:
                for name, proc in (("okrbot serve", okr_proc), ("bare bolt", bare_proc)):
                    if proc.poll() is not None:
                        raise procs.failed(name, proc, "exited") from None
                raise
            procs.stop_all()
            logs = {
                name: procs.stderr_of(proc).strip().splitlines()
                for name, proc in (("okrbot serve", okr_proc), ("bare bolt", bare_proc))
            }
        ok = report(rounds, org, ("okrbot serve", "bare bolt"), args)
        for name, lines in logs.items():
            if lines:
                print(f"{name} wrote {len(lines)} line(s) on stderr, e.g.: {lines[0][:200]}")
    print(f"\n(whole run {time.monotonic() - started:.0f} s)")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())

"""Fan-out of one check-in round: `okrbot checkin send` to N members through a fake Slack Web
API with latency and a workspace rate limit on chat.postMessage (429 with a whole-second
Retry-After when exceeded).

Scenarios (each on a fresh database):
  clean      one run
  chaos      one run with a share of chat.postMessage answered 429 or 500 (half of the 500s
             after Slack stored the message, so only reconciliation avoids a duplicate)
  killed     a run killed with SIGKILL in the middle of the round, then started again
  two        two runs started at the same moment on the same database
each on SQLite, and `two` (plus `killed`) on PostgreSQL when it is reachable.

Printed per scenario: achieved rate / allowed rate (first to last accepted post), duplicates
(an outbox key stored more than once) and lost (a member with no prompt).

    .venv/bin/python bench/fanout.py [--members 5000] [--rate 50] [--latency 0.02]
"""

from __future__ import annotations

import argparse
import asyncio
import os
import signal
import statistics
import sys
import tempfile
import time
import uuid
from collections import Counter
from datetime import UTC, datetime, timedelta
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bot.okrfile.importer import import_document  # noqa: E402
from bot.okrfile.schema import parse_okr_text  # noqa: E402
from storage.db import Database, upgrade  # noqa: E402
from tests.fake_slack import FakeSlack  # noqa: E402

OKRBOT = str(Path(sys.executable).with_name("okrbot"))
PG = os.environ.get("TEST_DATABASE_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/test")


def organisation(members: int, today) -> str:
    """N members in teams of 100, each owning one key result of the team's objective."""
    start, end = today - timedelta(days=30), today + timedelta(days=60)
    lines = [
        "organization: Fan-out",
        f"period: {start}..{end}",
        "timezone: Europe/Copenhagen",
        "locale: en",
        "people:",
    ]
    lines += [f"  - {{id: p{n}, name: Person {n}, slack: U{n:06d}}}" for n in range(members)]
    lines.append("teams:")
    teams = (members + 99) // 100
    for t in range(teams):
        ids = ", ".join(f"p{n}" for n in range(t * 100, min(members, t * 100 + 100)))
        lines.append(f"  - {{slug: t{t}, name: Team {t}, members: [{ids}]}}")
    lines.append("objectives:")
    for t in range(teams):
        lines += [
            f"  - id: O{t}",
            f"    team: t{t}",
            f"    title: Objective {t}",
            "    key_results:",
        ]
        lines += [
            f"      - {{id: KR{n}, title: Result {n}, start: 0, target: 10, owner: p{n}}}"
            for n in range(t * 100, min(members, t * 100 + 100))
        ]
    return "\n".join(lines) + "\n"


async def prepare(url: str, text: str) -> None:
    upgrade(url)
    db = Database(url)
    try:
        async with db.transaction() as session:
            await import_document(
                session,
                parse_okr_text(text, "fanout.yaml"),
                now=datetime.now(UTC) - timedelta(days=1),
            )
    finally:
        await db.dispose()


def pg_schema() -> tuple[str, str] | None:
    try:
        import psycopg

        plain = PG.replace("postgresql+psycopg://", "postgresql://")
        schema = f"fanout_{uuid.uuid4().hex[:8]}"
        with psycopg.connect(plain, autocommit=True, connect_timeout=3) as conn:
            conn.execute(f'CREATE SCHEMA "{schema}"')
        sep = "&" if "?" in PG else "?"
        return schema, f"{PG}{sep}options=-csearch_path%3D{schema}"
    except Exception as exc:
        print(f"  PostgreSQL not reachable ({exc}): its scenarios are skipped", file=sys.stderr)
        return None


def drop_schema(schema: str) -> None:
    import psycopg

    plain = PG.replace("postgresql+psycopg://", "postgresql://")
    with psycopg.connect(plain, autocommit=True) as conn:
        conn.execute(f'DROP SCHEMA "{schema}" CASCADE')


def env_for(url: str, slack: FakeSlack, rate: int) -> dict:
    env = {
        k: v for k, v in os.environ.items() if not k.startswith(("SLACK_", "MICROSOFT_", "OKRBOT_"))
    }
    env.update(
        DATABASE_URL=url,
        SLACK_BOT_TOKEN="xoxb-bench",
        SLACK_SIGNING_SECRET="bench",
        SLACK_API_URL=slack.url,
        OKRBOT_LOG_LEVEL="ERROR",
        OKRBOT_SLACK_RATE=str(rate),
        OKRBOT_SLACK_CHANNEL_RATE="1",
        OKRBOT_DELIVERY_CONCURRENCY="16",
    )
    return env


async def send(env: dict, wait: float) -> asyncio.subprocess.Process:
    return await asyncio.create_subprocess_exec(
        OKRBOT,
        "checkin",
        "send",
        "--wait",
        str(wait),
        env=env,
        stdout=asyncio.subprocess.DEVNULL,
        stderr=asyncio.subprocess.PIPE,
    )


async def finished(process) -> int:
    _, err = await process.communicate()
    if process.returncode not in (0, -signal.SIGKILL):
        tail = err.decode().strip().splitlines()[-3:]
        print(f"    exit {process.returncode}: {' | '.join(tail)}", file=sys.stderr)
    return process.returncode


def figures(slack: FakeSlack, members: int, rate: int) -> dict:
    keys = []
    times = [call.at for call in slack.calls_to("chat.postMessage") if call.ok]
    for messages in slack.messages.values():
        keys += [m["metadata"]["event_payload"]["key"] for m in messages if "metadata" in m]
    counts = Counter(keys)
    span = (max(times) - min(times)) if len(times) > 1 else 0.0
    achieved = (len(times) - 1) / span if span else 0.0
    return {
        "delivered": len(counts),
        "duplicates": sum(n - 1 for n in counts.values() if n > 1),
        "lost": members - len(counts),
        "ratio": achieved / rate,
        "achieved": achieved,
        "refused": slack.rate_limited,
    }


async def scenario(name: str, url: str, text: str, args) -> dict:
    await prepare(url, text)
    chaos = args.chaos if name == "chaos" else 0.0
    async with FakeSlack(users={}, latency=args.latency, post_rate=args.rate, chaos=chaos) as slack:
        env = env_for(url, slack, args.rate)
        wait = args.members / args.rate * 3 + 60
        started = time.monotonic()
        if name == "two":
            first, second = await send(env, wait), await send(env, wait)
            await asyncio.gather(finished(first), finished(second))
        elif name == "killed":
            victim = await send(env, wait)
            await asyncio.sleep(args.members / args.rate / 2 + 3)
            victim.send_signal(signal.SIGKILL)
            await finished(victim)
            half = len(slack.messages)
            await finished(await send(env, wait))
            print(
                f"    killed after {half} prompts; the second run finished the round",
                file=sys.stderr,
            )
        else:
            await finished(await send(env, wait))
        result = figures(slack, args.members, args.rate)
        result["seconds"] = time.monotonic() - started
    return result


def report(label: str, result: dict, rate_applies: bool) -> None:
    ratio = f"{result['ratio']:.3f}" if rate_applies else "  -  "
    print(
        f"{label:<20} {result['achieved']:>8.1f}/s  ratio {ratio}  delivered "
        f"{result['delivered']:>5}  duplicates {result['duplicates']}  lost {result['lost']}  "
        f"429s {result['refused']:>4}  {result['seconds']:.0f} s",
        flush=True,
    )


async def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--members", type=int, default=5000)
    parser.add_argument("--rate", type=int, default=50, help="allowed chat.postMessage per s")
    parser.add_argument("--latency", type=float, default=0.02, help="seconds per API call")
    parser.add_argument("--chaos", type=float, default=0.05, help="share of 429/500 answers")
    parser.add_argument("--scenarios", default="clean,chaos,killed,two")
    parser.add_argument("--postgres", default="two,killed")
    args = parser.parse_args()
    text = organisation(args.members, datetime.now(UTC).date())
    print(
        f"fan-out of {args.members} prompts, workspace limit {args.rate}/s, "
        f"{args.latency * 1000:.0f} ms per call",
        flush=True,
    )
    ratios = []
    with tempfile.TemporaryDirectory() as tmp:
        for name in args.scenarios.split(","):
            url = f"sqlite:///{Path(tmp) / f'{name}.db'}"
            result = await scenario(name, url, text, args)
            report(f"sqlite {name}", result, name in ("clean", "two"))
            if name in ("clean", "two"):
                ratios.append(result["ratio"])
    for name in filter(None, args.postgres.split(",")):
        found = pg_schema()
        if found is None:
            break
        schema, url = found
        try:
            result = await scenario(name, url, text, args)
            report(f"postgresql {name}", result, name in ("clean", "two"))
            if name in ("clean", "two"):
                ratios.append(result["ratio"])
        finally:
            drop_schema(schema)
    if ratios:
        print(
            f"median rate ratio {statistics.median(ratios):.3f} (target >= 0.95); "
            "duplicates and lost: target 0",
            flush=True,
        )


if __name__ == "__main__":
    asyncio.run(main())

"""Fan-out of one check-in round at DEFAULT settings: `okrbot checkin send` to N members through
a fake Slack Web API with latency and a workspace limit on chat.postMessage that okrbot is not
told (429 with a whole-second Retry-After when exceeded, as Slack does). okrbot's pace has to
find each limit itself.

Scenarios (each on a fresh database, per limit):
  clean      one run
  chaos      one run with 5 % of chat.postMessage answered 429 or 500 (half of the 500s after
             Slack stored the message, so only reconciliation avoids a duplicate)
  killed     a run killed with SIGKILL in the middle of the round, then started again
  two        two runs started at the same moment on the same database (they share the pace)
prefixed `pg:` on PostgreSQL (when it is reachable), else on SQLite. A round to 5,000 members at
20/s alone takes over four minutes, so the slow limits run fewer scenarios (see --plan).

Printed per scenario: achieved rate / allowed rate (first to last accepted post; for `killed`
it includes the restart, so none is given), duplicates (an outbox key stored more than once)
and lost (a member with no prompt).

    .venv/bin/python bench/fanout.py [--members 5000] [--latency 0.02]
        [--plan "200:clean,chaos,killed,two,pg:two;100:clean,pg:two;50:clean,pg:killed;20:clean"]
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
from tests.schedule_world import around, crowd  # noqa: E402

OKRBOT = str(Path(sys.executable).with_name("okrbot"))
PG = os.environ.get("TEST_DATABASE_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/test")


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


DEFAULT_PLAN = "200:clean,chaos,killed,two,pg:two;100:clean,pg:two;50:clean,pg:killed;20:clean"


def env_for(url: str, slack: FakeSlack) -> dict:
    """Default settings: no pace, no concurrency, nothing about delivery is configured."""
    env = {
        k: v for k, v in os.environ.items() if not k.startswith(("SLACK_", "MICROSOFT_", "OKRBOT_"))
    }
    env.update(
        DATABASE_URL=url,
        SLACK_BOT_TOKEN="xoxb-bench",
        SLACK_SIGNING_SECRET="bench",
        SLACK_API_URL=slack.url,
        OKRBOT_LOG_LEVEL="ERROR",
    )
    return env


async def send(env: dict) -> asyncio.subprocess.Process:
    return await asyncio.create_subprocess_exec(
        OKRBOT,
        "checkin",
        "send",
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


async def scenario(name: str, url: str, text: str, rate: int, args) -> dict:
    await prepare(url, text)
    chaos = args.chaos if name == "chaos" else 0.0
    async with FakeSlack(users={}, latency=args.latency, post_rate=rate, chaos=chaos) as slack:
        env = env_for(url, slack)
        started = time.monotonic()
        if name == "two":
            first, second = await send(env), await send(env)
            await asyncio.gather(finished(first), finished(second))
        elif name == "killed":
            victim = await send(env)
            await asyncio.sleep(args.members / rate / 2 + 3)
            victim.send_signal(signal.SIGKILL)
            await finished(victim)
            half = len(slack.messages)
            await finished(await send(env))
            print(
                f"    killed after {half} prompts; the second run finished the round",
                file=sys.stderr,
            )
        else:
            await finished(await send(env))
        result = figures(slack, args.members, rate)
        result["seconds"] = time.monotonic() - started
    return result


def report(label: str, result: dict, rate_applies: bool) -> None:
    ratio = f"{result['ratio']:.3f}" if rate_applies else "  -  "
    print(
        f"{label:<22} {result['achieved']:>7.1f}/s  achieved/allowed {ratio}  delivered "
        f"{result['delivered']:>5}  duplicates {result['duplicates']}  lost {result['lost']}  "
        f"429s {result['refused']:>5}  {result['seconds']:>4.0f} s",
        flush=True,
    )


async def run(name: str, rate: int, text: str, args, tmp: str) -> dict | None:
    if not name.startswith("pg:"):
        return await scenario(
            name, f"sqlite:///{Path(tmp) / f'{name}-{rate}.db'}", text, rate, args
        )
    found = pg_schema()
    if found is None:
        return None
    schema, url = found
    try:
        return await scenario(name.removeprefix("pg:"), url, text, rate, args)
    finally:
        drop_schema(schema)


async def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--members", type=int, default=5000)
    parser.add_argument("--latency", type=float, default=0.02, help="seconds per API call")
    parser.add_argument("--chaos", type=float, default=0.05, help="share of 429/500 answers")
    parser.add_argument("--plan", default=DEFAULT_PLAN, help="limit:scenario,...;limit:...")
    args = parser.parse_args()
    text = crowd(args.members, around(datetime.now(UTC).date()))
    plan = [(int(limit), names.split(",")) for limit, names in
            (part.split(":", 1) for part in args.plan.split(";"))]  # fmt: skip
    print(
        f"fan-out of {args.members} prompts at default settings, {args.latency * 1000:.0f} ms "
        f"per call; workspace limits okrbot is not told: "
        + "; ".join(f"{limit}/s ({', '.join(names)})" for limit, names in plan),
        flush=True,
    )
    print("slow limits run fewer scenarios: a round at 20/s alone takes over four minutes")
    table: list[tuple[int, str, dict]] = []
    with tempfile.TemporaryDirectory() as tmp:
        for limit, names in plan:
            for name in names:
                result = await run(name, limit, text, args, tmp)
                if result is None:
                    continue
                label = f"{limit}/s {'postgresql' if name.startswith('pg:') else 'sqlite'} "
                label += name.removeprefix("pg:")
                report(label, result, not name.endswith("killed"))
                table.append((limit, name, result))
    print()
    print("per limit (median over its scenarios with a rate: clean, chaos, two)")
    for limit in dict.fromkeys(limit for limit, _ in plan):
        rows = [r for lim, _, r in table if lim == limit]
        ratios = [r["ratio"] for lim, n, r in table if lim == limit and not n.endswith("killed")]
        if not rows:
            continue
        print(
            f"  {limit:>4}/s  achieved/allowed {statistics.median(ratios):.3f}  "
            f"duplicates {sum(r['duplicates'] for r in rows)}  lost {sum(r['lost'] for r in rows)}"
            f"  ({len(rows)} scenarios)",
            flush=True,
        )
    print("target: achieved/allowed >= 0.9 at every limit; duplicates and lost 0")


if __name__ == "__main__":
    asyncio.run(main())

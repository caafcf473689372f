"""What one prompt costs the process that sends it: `okrbot checkin send` to N members through a
fake Slack with no workspace limit (so the process, not the platform, sets the speed), at
default settings otherwise.

Printed: prompts per second of the round, CPU milliseconds per prompt of the delivery (the
sending process's CPU time from the first claim to the end of the round, startup and enqueueing
left out), SQL statements and transactions per prompt, and the same for the enqueueing. With
`--profile FILE` the delivery is profiled with pyinstrument (when installed) and its text
report written to FILE.

    .venv/bin/python bench/send_cost.py [--members 2000] [--latency 0.02] [--database URL]
        [--profile FILE]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import sys
import tempfile
import time
from collections import Counter
from datetime import UTC, datetime
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))


def child(out: str, profile: str | None) -> int:
    """Run `okrbot checkin send` in this process, measuring its delivery."""
    from sqlalchemy import event
    from sqlalchemy.engine import Engine

    from bot.cli.app import main
    from scheduler import outbox, worker

    counts = {"statements": 0, "transactions": 0}
    phases: dict[str, dict] = {}

    kinds: Counter = Counter()

    @event.listens_for(Engine, "before_cursor_execute")
    def _statement(_conn, _cursor, statement, *_args, **_kwargs) -> None:
        counts["statements"] += 1
        if "deliver" not in phases:  # up to the end of the delivery
            kinds[" ".join(statement.split()[:4])[:60]] += 1

    @event.listens_for(Engine, "begin")
    def _begin(*_args, **_kwargs) -> None:
        counts["transactions"] += 1

    profilers = []

    def measured(name: str, function):
        async def wrapper(*args, **kwargs):
            before = dict(counts, cpu=time.process_time(), wall=time.monotonic())
            if profile and name == "deliver":
                from pyinstrument import Profiler

                profilers.append(Profiler(async_mode="enabled"))
                profilers[-1].start()
            try:
                return await function(*args, **kwargs)
            finally:
                if profilers:
                    profilers[-1].stop()
                after = dict(counts, cpu=time.process_time(), wall=time.monotonic())
                phases[name] = {key: after[key] - before[key] for key in before}

        return wrapper

    worker.DeliveryWorker.deliver = measured("deliver", worker.DeliveryWorker.deliver)
    outbox.OutboxStore.enqueue = measured("enqueue", outbox.OutboxStore.enqueue)
    sys.argv = ["okrbot", "checkin", "send"]
    code = 0
    try:
        main()
    except SystemExit as exc:
        code = exc.code or 0
    phases["kinds"] = dict(kinds.most_common(12))
    if profilers:
        Path(profile).write_text(profilers[-1].output_text(unicode=True, color=False))
    Path(out).write_text(json.dumps(phases))
    return code


async def prepare(url: str, members: int) -> None:
    from bench.fanout import prepare as prepare_crowd
    from tests.schedule_world import around, crowd

    await prepare_crowd(url, crowd(members, around(datetime.now(UTC).date())))


async def parent(args) -> None:
    from bench.fanout import env_for
    from tests.fake_slack import FakeSlack

    with tempfile.TemporaryDirectory() as tmp:
        url = args.database or f"sqlite:///{Path(tmp) / 'cost.db'}"
        await prepare(url, args.members)
        out = Path(tmp) / "phases.json"
        async with FakeSlack(users={}, latency=args.latency) as slack:
            env = env_for(url, slack)
            command = [sys.executable, __file__, "--child", str(out)]
            if args.profile:
                command += ["--profile", args.profile]
            process = await asyncio.create_subprocess_exec(
                *command, env=env, stdout=asyncio.subprocess.DEVNULL
            )
            await process.wait()
            posts = [c for c in slack.calls_to("chat.postMessage") if c.ok]
        phases = json.loads(out.read_text())
    sent = len(posts)
    deliver, enqueue = phases["deliver"], phases["enqueue"]
    print(
        f"{sent} of {args.members} prompts in {deliver['wall']:.1f} s: "
        f"{sent / deliver['wall']:.1f} prompts/s from one process ({args.latency * 1000:.0f} ms "
        f"per call, no workspace limit; exit {process.returncode})"
    )
    per = max(sent, 1)
    print(
        f"delivery: {deliver['cpu'] * 1000 / per:.2f} ms CPU per prompt, "
        f"{deliver['statements'] / per:.2f} SQL statements and "
        f"{deliver['transactions'] / per:.2f} transactions per prompt"
    )
    print(
        f"enqueue:  {enqueue['cpu'] * 1000 / per:.2f} ms CPU per prompt, "
        f"{enqueue['statements']} SQL statements, {enqueue['transactions']} transactions"
    )
    if args.statements:
        for kind, n in phases["kinds"].items():
            print(f"  {n:>6}  {kind}")
    if args.profile:
        print(f"profile of the delivery: {args.profile}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--members", type=int, default=2000)
    parser.add_argument("--latency", type=float, default=0.02, help="seconds per API call")
    parser.add_argument("--database", help="a database URL (default: a new SQLite file)")
    parser.add_argument("--profile", help="write a pyinstrument report of the delivery here")
    parser.add_argument("--statements", action="store_true", help="the most frequent SQL")
    parser.add_argument("--child", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        sys.exit(child(args.child, args.profile))
    if args.profile:
        args.profile = str(Path(args.profile).resolve())
    asyncio.run(parent(args))


if __name__ == "__main__":
    main()

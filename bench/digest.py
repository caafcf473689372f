"""Benchmark of the digest. A script that prints figures, not a test.

Builds an organisation (default: 100 teams under `company`, 10,000 key results, 200,000
key-result updates, this week's check-in rounds, a few people away and a few failed prompts),
then measures, after a warm-up, several runs of

* `digest_snapshot` (the one read of everything a digest shows),
* `exec_digest` (the headline, every team's part and the chart numbers; pure),
* `chart_png` (the PNG),

and counts the SQL statements of the snapshot on this organisation and on a small one (a tenth
of its size), to show that the count does not depend on the number of key results or teams.
Target: snapshot + digest + chart under 1 s, on SQLite and on PostgreSQL.

    .venv/bin/python bench/digest.py
    .venv/bin/python bench/digest.py --key-results 2000 --updates 40000 --no-postgres

SQLite runs in a temporary directory; PostgreSQL (URL from TEST_DATABASE_URL, default
postgresql+psycopg://postgres@127.0.0.1:5432/test) in fresh schemas that are dropped at the end.
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
from datetime import datetime, timedelta
from pathlib import Path

import sqlalchemy
from sqlalchemy import insert, select, update

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))  # the repository root
from bench.commands import Backend, progress  # noqa: E402
from bench.figures import StatementCounter  # noqa: E402
from bench.organisation import IMPORTED_AT, NOW, Org, build_org, seed_updates  # noqa: E402
from bot.clock import iso_week
from bot.digest.chart import chart_png
from bot.digest.content import exec_digest
from bot.messages import render_text
from bot.okrfile.importer import import_document
from bot.okrfile.schema import parse_okr_text
from storage.db import Database, upgrade
from storage.digest_queries import digest_snapshot
from storage.models import CheckinRound, KeyResult, Organization, Outbox, Person

TARGET_S = 1.0
DEFAULT_PG = "postgresql+psycopg://postgres@127.0.0.1:5432/test"


async def seed_checkins(db: Database, seed: int, now: datetime = NOW) -> dict[str, int]:
    """This week's rounds for the key-result owners (most completed, some pending), about 5 %
    of them away, and a failed prompt (half of them unreachable) for a fifth of the pending."""
    rng = random.Random(seed)
    async with db.session() as session:
        zone = (await session.get(Organization, 1)).timezone
        owners = select(KeyResult.owner_id).distinct()
        query = select(Person.id, Person.handle, Person.timezone).where(Person.id.in_(owners))
        people = list(await session.execute(query.order_by(Person.id)))
    rounds, failed, away = [], [], []
    for person in people:
        week, roll = iso_week(now, person.timezone or zone), rng.random()
        if roll < 0.05:
            away.append(person.id)
            continue
        status = "pending" if roll > 0.8 else rng.choice(("done", "done", "no_change", "skipped"))
        done_at = None if status == "pending" else now - timedelta(hours=rng.uniform(1, 100))
        rounds.append(
            {"person_id": person.id, "period": week, "status": status,
             "prompted_at": now - timedelta(days=5), "completed_at": done_at}
        )  # fmt: skip
        if status == "pending" and rng.random() < 0.2:
            error = rng.choice(("unreachable: no conversation with the bot", "user_not_found"))
            failed.append(
                {"kind": "prompt", "target": person.handle, "period": week, "state": "failed",
                 "last_error": error, "attempts": 3, "created_at": now - timedelta(days=5)}
            )  # fmt: skip
    async with db.engine.begin() as conn:
        if rounds:
            await conn.execute(insert(CheckinRound.__table__), rounds)
        if failed:
            await conn.execute(insert(Outbox.__table__), failed)
        if away:
            until = (now + timedelta(days=10)).date()
            table = Person.__table__
            await conn.execute(update(table).where(table.c.id.in_(away)).values(away_until=until))
    return {"rounds": len(rounds), "failed": len(failed), "away": len(away)}


@dataclass
class Result:
    org: Org
    setup_s: float = 0.0
    seeded: dict = field(default_factory=dict)
    updates: int = 0
    snapshot_s: list[float] = field(default_factory=list)
    digest_s: list[float] = field(default_factory=list)
    chart_s: list[float] = field(default_factory=list)
    statements: int = 0
    teams: int = 0
    key_results: int = 0
    largest_part: int = 0
    headline_chars: int = 0
    png_bytes: int = 0

    @property
    def total_s(self) -> list[float]:
        parts = zip(self.snapshot_s, self.digest_s, self.chart_s, strict=True)
        return [a + b + c for a, b, c in parts]


async def build(url: str, org: Org, n_updates: int, seed: int, result: Result) -> Database:
    t0 = time.perf_counter()
    upgrade(url)
    db = Database(url)
    async with db.transaction() as session:
        await import_document(session, parse_okr_text(org.text, "bench.yaml"), now=IMPORTED_AT)
    result.updates = await seed_updates(db, n_updates, seed)
    result.seeded = await seed_checkins(db, seed)
    result.setup_s = time.perf_counter() - t0
    return db


async def measure(db: Database, result: Result, runs: int, chart: bool) -> None:
    counter = StatementCounter(db)
    for n in range(runs + 1):  # the first run warms up connections, caches and matplotlib
        counter.reset()
        t0 = time.perf_counter()
        async with db.session() as session:
            snapshot = await digest_snapshot(session, NOW)
        t1 = time.perf_counter()
        digest = exec_digest(snapshot, NOW)
        t2 = time.perf_counter()
        png = chart_png(digest.chart) if chart else b""
        t3 = time.perf_counter()
        if n == 0:
            result.statements = counter.count
            continue
        result.snapshot_s.append(t1 - t0)
        result.digest_s.append(t2 - t1)
        result.chart_s.append(t3 - t2)
        assert counter.count == result.statements, "the statement count changed between runs"
    result.teams = len(digest.teams)
    result.key_results = len(snapshot.key_results)
    result.largest_part = max((len(render_text(p.message)) for p in digest.teams), default=0)
    result.headline_chars = len(render_text(digest.headline))
    result.png_bytes = len(png)


async def run(backend: Backend, args: argparse.Namespace) -> tuple[Result, Result]:
    sizes = (
        ("small", build_org(max(1, args.teams // 10), max(1, args.key_results // 10), args.seed),
         args.updates // 10),
        ("large", build_org(args.teams, args.key_results, args.seed), args.updates),
    )  # fmt: skip
    results = []
    try:
        for label, org, n_updates in sizes:
            result = Result(org)
            progress(f"{backend.name}: {label} org, {org.key_results:,} key results, setting up")
            db = await build(backend.new_url(label), org, n_updates, args.seed, result)
            try:
                progress(f"{backend.name}: {label} org, measuring")
                await measure(db, result, args.runs if label == "large" else 1, not args.no_chart)
            finally:
                await db.dispose()
            results.append(result)
    finally:
        backend.close()
    return results[0], results[1]


def _ms(values: list[float]) -> str:
    return f"{statistics.median(values) * 1000:7.1f} ms"


def report(name: str, small: Result, large: Result, args: argparse.Namespace) -> None:
    org = large.org
    print(f"\n== {name} ==")
    print(
        f"organisation: {len(org.teams) + 1} teams, {org.people} people, {org.objectives} "
        f"objectives, {org.key_results:,} key results, {large.updates:,} updates; this week "
        f"{large.seeded['rounds']} rounds, {large.seeded['away']} away, "
        f"{large.seeded['failed']} failed prompts (setup {large.setup_s:.1f} s, not measured)"
    )
    runs = f"median of {len(large.total_s)} runs"
    print(f"digest_snapshot   {_ms(large.snapshot_s)}  ({runs})")
    print(f"exec_digest       {_ms(large.digest_s)}")
    if not args.no_chart:
        print(f"chart_png         {_ms(large.chart_s)}  ({large.png_bytes / 1024:.0f} KiB PNG)")
    total = statistics.median(large.total_s)
    verdict = "ok" if total < TARGET_S else "OVER TARGET"
    print(
        f"together          {total * 1000:7.1f} ms  (target < {TARGET_S:g} s) {verdict}; "
        f"slowest run {max(large.total_s) * 1000:.0f} ms"
    )
    same = "the same" if small.statements == large.statements else "DIFFERENT"
    print(
        f"statements        {large.statements} for {large.key_results:,} key results in "
        f"{large.teams} team parts; {small.statements} for {small.key_results:,} key results in "
        f"{small.teams} team parts ({same})"
    )
    print(
        f"output            headline {large.headline_chars:,} characters; largest team part "
        f"{large.largest_part:,} characters"
    )


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--teams", type=int, default=100, help="teams under `company`")
    parser.add_argument("--key-results", type=int, default=10_000)
    parser.add_argument("--updates", type=int, default=200_000, help="key-result updates")
    parser.add_argument("--runs", type=int, default=7, help="measured runs (after a warm-up)")
    parser.add_argument("--seed", type=int, default=47)
    parser.add_argument("--no-chart", action="store_true", help="leave the PNG out")
    parser.add_argument("--no-postgres", action="store_true", help="SQLite only")
    args = parser.parse_args(argv)
    if args.teams < 1 or args.key_results < 1 or args.updates < 0 or args.runs < 1:
        parser.error("--teams, --key-results and --runs must be positive")
    pg_url = os.environ.get("TEST_DATABASE_URL") or DEFAULT_PG

    print(
        f"okrbot digest benchmark: Python {platform.python_version()}, SQLAlchemy "
        f"{sqlalchemy.__version__}, {platform.machine()}; clock {NOW.isoformat()}"
    )
    started = time.perf_counter()
    with tempfile.TemporaryDirectory(prefix="okrbot-digest-") as tmp:
        workdir = Path(tmp)
        backends = [Backend(None, workdir)]
        if not args.no_postgres:
            backends.append(Backend(pg_url, workdir))
        for backend in backends:
            small, large = asyncio.run(run(backend, args))
            report(backend.name, small, large, args)
    print(f"\n(whole run {time.perf_counter() - started:.0f} s)")
    return 0


if __name__ == "__main__":
    sys.exit(main())

"""Benchmark of the chat answers and of the OKR import. A script that prints figures, not a test.

Builds an organisation (default: 100 teams under one `company` team, ~500 people, 2,000 key
results, 50,000 key-result updates), writes it as an OKR file (SPEC §2) and measures

* the import of the whole file into a fresh database (parse + validate, then the database part),
  and a re-import of the unchanged file into the populated database (the idempotent path);
* `okr <team>` for 20 teams and `okr company` (the alignment tree), after a warm-up;
* the SQL statements of each answer, on the large organisation and on a small one (a tenth of
  its size), to show that the count does not grow with the number of key results.

Targets (SQLite): a team answer under 20 ms, the company tree under 200 ms, the import under 5 s.

    .venv/bin/python bench/commands.py
    .venv/bin/python bench/commands.py --teams 20 --key-results 400 --updates 10000
    .venv/bin/python bench/commands.py --database-url postgresql+psycopg://postgres@127.0.0.1/test

SQLite always runs (in a temporary directory); `--database-url` adds a PostgreSQL run in fresh
schemas that the script creates and drops.
"""

from __future__ import annotations

import argparse
import asyncio
import math
import platform
import statistics
import sys
import tempfile
import time
import uuid
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from urllib.parse import quote

import sqlalchemy
from sqlalchemy import func, select

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))  # the repository root
from bench.figures import GcTimer, StatementCounter  # noqa: E402
from bench.organisation import IMPORTED_AT, NOW, Org, build_org, seed_updates  # noqa: E402
from bot.clock import fixed_clock
from bot.core import Core
from bot.messages import render_text
from bot.okrfile.importer import import_document
from bot.okrfile.schema import load_okr_file
from storage import repo
from storage.db import Database, upgrade
from storage.models import KeyResultUpdate

TEAM_TARGET_MS = 20.0
COMPANY_TARGET_MS = 200.0
IMPORT_TARGET_S = 5.0
SAMPLE_TEAMS = 20


def progress(text: str) -> None:
    print(f"  … {text}", file=sys.stderr, flush=True)


def median(values: list[float]) -> float:
    return statistics.median(values)


def p95(values: list[float]) -> float:
    ordered = sorted(values)
    return ordered[max(0, math.ceil(0.95 * len(ordered)) - 1)]


@dataclass
class ImportRun:
    parse_s: float
    db_s: float
    statements: int
    summary: str

    @property
    def total_s(self) -> float:
        return self.parse_s + self.db_s


@dataclass
class Result:
    label: str
    org: Org
    file_bytes: int = 0
    migrate_s: float = 0.0
    imports: list[ImportRun] = field(default_factory=list)
    reimports: list[ImportRun] = field(default_factory=list)
    updates: int = 0
    updates_kept: bool = True
    team_ms: list[float] = field(default_factory=list)
    team_gc_ms: list[float] = field(default_factory=list)
    team_statements: list[int] = field(default_factory=list)
    team_rows: list[int] = field(default_factory=list)
    company_ms: list[float] = field(default_factory=list)
    company_gc_ms: list[float] = field(default_factory=list)
    company_statements: list[int] = field(default_factory=list)
    company_rows: int = 0
    team_sql: list[str] = field(default_factory=list)
    company_sql: list[str] = field(default_factory=list)


async def timed_import(url: str, path: Path, now: datetime) -> ImportRun:
    db = Database(url)
    counter = StatementCounter(db)
    try:
        t0 = time.perf_counter()
        doc = load_okr_file(path)
        t1 = time.perf_counter()
        async with db.transaction() as session:
            report = await import_document(session, doc, now=now)
        t2 = time.perf_counter()
    finally:
        await db.dispose()
    return ImportRun(t1 - t0, t2 - t1, counter.count, report.summary())


def _rows(message) -> int:
    return sum(len(section.rows) for section in message.sections)


async def measure_answers(db: Database, org: Org, result: Result, reps: int) -> None:
    counter = StatementCounter(db)
    commands = Core(db, fixed_clock(NOW)).commands
    async with db.session() as session:
        viewer = await repo.person_by(session, handle="ceo")
    step = max(1, len(org.teams) // SAMPLE_TEAMS)
    sample = org.teams[::step][:SAMPLE_TEAMS]
    collector = GcTimer()

    async def ask(words: str) -> tuple[float, object]:
        counter.reset()
        collector.seconds = 0.0
        t0 = time.perf_counter()
        message = await commands.handle(words, viewer)
        elapsed = (time.perf_counter() - t0) * 1000
        if message.error:
            raise SystemExit(f"`{words}` answered an error: {render_text(message)}")
        return elapsed, message

    for slug in sample:  # warm-up: first connection, statement caches
        await ask(f"okr {slug}")
    for _ in range(2):
        await ask("okr company")

    for _ in range(reps):
        for slug in sample:
            elapsed, message = await ask(f"okr {slug}")
            result.team_ms.append(elapsed)
            result.team_gc_ms.append(collector.seconds * 1000)
            result.team_statements.append(counter.count)
            result.team_rows.append(_rows(message))
    await ask(f"okr {sample[0]}")
    result.team_sql = list(counter.statements)

    for _ in range(max(20, reps * 4)):
        elapsed, message = await ask("okr company")
        result.company_ms.append(elapsed)
        result.company_gc_ms.append(collector.seconds * 1000)
        result.company_statements.append(counter.count)
        result.company_rows = _rows(message)
    result.company_sql = list(counter.statements)
    collector.close()


async def count_updates(db: Database) -> int:
    async with db.session() as session:
        return (await session.execute(select(func.count()).select_from(KeyResultUpdate))).scalar()


async def run_org(
    label: str, org: Org, backend: Backend, workdir: Path, args: argparse.Namespace, n_updates: int
) -> Result:
    result = Result(label, org)
    path = workdir / f"okrs-{label}.yaml"
    path.write_text(org.text, encoding="utf-8")
    result.file_bytes = path.stat().st_size

    url = ""
    progress(f"{label} org: importing {org.key_results:,} key results x {args.import_runs}")
    for run in range(args.import_runs):
        url = backend.new_url(f"{label}_{run}")
        t0 = time.perf_counter()
        upgrade(url)
        result.migrate_s = time.perf_counter() - t0
        result.imports.append(await timed_import(url, path, IMPORTED_AT))
        if run < args.import_runs - 1:
            backend.drop(url)

    db = Database(url)
    try:
        progress(f"{label} org: inserting {n_updates:,} updates, re-importing, asking")
        result.updates = await seed_updates(db, n_updates, args.seed)
        before = await count_updates(db)
        for _ in range(args.import_runs):
            result.reimports.append(await timed_import(url, path, NOW))
        result.updates_kept = await count_updates(db) == before
        await measure_answers(db, org, result, args.reps)
    finally:
        await db.dispose()
    return result


# ---- backends ------------------------------------------------------------------------------


class Backend:
    """Fresh databases: SQLite files in a temporary directory, or PostgreSQL schemas."""

    def __init__(self, base_url: str | None, workdir: Path) -> None:
        self.base_url = base_url
        self.workdir = workdir
        self.schemas: list[str] = []
        self.name = "PostgreSQL" if base_url else "SQLite"

    def new_url(self, label: str) -> str:
        if self.base_url is None:
            return f"sqlite:///{self.workdir / f'{label}.db'}"
        schema = f"bench_{label}_{uuid.uuid4().hex[:8]}"
        self._admin(f'CREATE SCHEMA "{schema}"')
        self.schemas.append(schema)
        separator = "&" if "?" in self.base_url else "?"
        return f"{self.base_url}{separator}options={quote(f'-csearch_path={schema}')}"

    def drop(self, url: str) -> None:
        if self.base_url is None:
            for suffix in ("", "-wal", "-shm"):
                Path(url.removeprefix("sqlite:///") + suffix).unlink(missing_ok=True)
            return
        schema = next(s for s in self.schemas if quote(f"={s}") in url)
        self._admin(f'DROP SCHEMA "{schema}" CASCADE')
        self.schemas.remove(schema)

    def close(self) -> None:
        for schema in list(self.schemas):
            self._admin(f'DROP SCHEMA "{schema}" CASCADE')
        self.schemas.clear()

    def _admin(self, sql: str) -> None:
        import psycopg

        assert self.base_url is not None
        plain = self.base_url.replace("postgresql+psycopg://", "postgresql://", 1)
        with psycopg.connect(plain, autocommit=True) as conn:
            conn.execute(sql)


# ---- report --------------------------------------------------------------------------------


def _ms(value: float) -> str:
    return f"{value:.1f} ms" if value < 100 else f"{value:.0f} ms"


def _counts(values: list[int]) -> str:
    low, high = min(values), max(values)
    return str(low) if low == high else f"{low}-{high}"


def _verdict(value: float, target: float) -> str:
    return "ok" if value < target else "OVER TARGET"


def report(big: Result, small: Result, backend: str, args: argparse.Namespace) -> None:
    org = big.org
    targets = backend == "SQLite"  # the targets are about SQLite
    print()
    print(f"== {backend} ==")
    print(
        f"organisation: {len(org.teams) + 1} teams (company + {len(org.teams)}), "
        f"{org.people} people, {org.objectives} objectives, {org.key_results:,} key results, "
        f"{big.updates:,} updates; OKR file {big.file_bytes / 1024:.0f} KiB"
    )
    print(
        f"small org:    {len(small.org.teams) + 1} teams, {small.org.people} people, "
        f"{small.org.objectives} objectives, {small.org.key_results:,} key results, "
        f"{small.updates:,} updates"
    )
    print(f"schema migration of a fresh database (not counted): {big.migrate_s:.2f} s")
    print()

    def imp(runs: list[ImportRun]) -> tuple[float, float, float]:
        return (
            median([r.total_s for r in runs]),
            median([r.parse_s for r in runs]),
            median([r.db_s for r in runs]),
        )

    total, parse, db_part = imp(big.imports)
    s_total, _, _ = imp(small.imports)
    target = f"(target < {IMPORT_TARGET_S:g} s) {_verdict(total, IMPORT_TARGET_S)}"
    print(
        f"import, fresh db    median {total:6.2f} s  "
        f"[runs {', '.join(f'{r.total_s:.2f}' for r in big.imports)} s]  "
        f"{target if targets else ''}"
    )
    print(f"  parse + validate  median {parse:6.2f} s")
    print(f"  database          median {db_part:6.2f} s")
    grows = big.imports[-1].statements > 2 * small.imports[-1].statements
    print(
        f"  statements        {big.imports[-1].statements} "
        f"(small org: {small.imports[-1].statements}; small org import {s_total:.2f} s)"
        + ("  <- grows with the rows written" if grows else "")
    )
    print(f"  report            {big.imports[-1].summary}")
    total, parse, db_part = imp(big.reimports)
    print(
        f"re-import, same file median {total:5.2f} s  (parse {parse:.2f} s + database "
        f"{db_part:.2f} s)  statements {big.reimports[-1].statements} "
        f"(small org: {small.reimports[-1].statements})"
    )
    print(
        f"  report            {big.reimports[-1].summary}; check-in history "
        f"{'kept' if big.updates_kept else 'CHANGED'}"
    )
    print()

    lines = (
        ("okr <team>", f"{len(big.team_ms) // args.reps} teams x {args.reps}", TEAM_TARGET_MS,
         big.team_ms, big.team_gc_ms, big.team_statements, small.team_ms, small.team_statements),
        ("okr company", f"x {len(big.company_ms)}", COMPANY_TARGET_MS,
         big.company_ms, big.company_gc_ms, big.company_statements,
         small.company_ms, small.company_statements),
    )  # fmt: skip
    for name, runs, goal, times, gc_ms, counts, s_times, s_counts in lines:
        verdict = f"(target < {goal:g} ms) {_verdict(median(times), goal)}  " if targets else ""
        print(
            f"{f'{name}  ({runs})':<26} median {_ms(median(times)):>9}  p95 {_ms(p95(times)):>9}"
            f"  {verdict}statements {_counts(counts)} (small org: {_counts(s_counts)}, "
            f"median {_ms(median(s_times))})"
        )
        print(
            f"  of which garbage collection: median {_ms(median(gc_ms))}, p95 {_ms(p95(gc_ms))};"
            f" without it: median {_ms(median([t - g for t, g in zip(times, gc_ms, strict=True)]))}"
        )
    print(
        f"  answers: a team shows {min(big.team_rows)}-{max(big.team_rows)} key results; "
        f"the tree shows {big.company_rows} objectives (small org: {small.company_rows})"
    )
    if args.show_sql:
        for title, sql in (("okr <team>", big.team_sql), ("okr company", big.company_sql)):
            print(f"\n  statements of {title}:")
            for statement in sql:
                print(f"    {statement[:160]}{'…' if len(statement) > 160 else ''}")


async def bench(backend: Backend, workdir: Path, args: argparse.Namespace) -> None:
    big_org = build_org(args.teams, args.key_results, args.seed)
    small_org = build_org(max(1, args.teams // 10), max(1, args.key_results // 10), args.seed)
    try:
        small = await run_org("small", small_org, backend, workdir, args, args.updates // 10)
        big = await run_org("large", big_org, backend, workdir, args, args.updates)
    finally:
        backend.close()
    report(big, small, backend.name, args)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--teams", type=int, default=100, help="teams under `company`")
    parser.add_argument("--key-results", type=int, default=2_000)
    parser.add_argument("--updates", type=int, default=50_000, help="key-result updates")
    parser.add_argument(
        "--database-url",
        help="also run on this PostgreSQL server (postgresql+psycopg://...), in fresh schemas",
    )
    parser.add_argument("--reps", type=int, default=5, help="repetitions of each team answer")
    parser.add_argument("--import-runs", type=int, default=3, help="imports into fresh databases")
    parser.add_argument("--seed", type=int, default=47)
    parser.add_argument("--show-sql", action="store_true", help="print each answer's statements")
    args = parser.parse_args(argv)
    if args.database_url and not args.database_url.startswith("postgresql"):
        parser.error("--database-url takes a postgresql+psycopg:// URL (SQLite always runs)")
    if args.teams < 1 or args.key_results < 1 or args.updates < 0 or args.import_runs < 1:
        parser.error("--teams, --key-results and --import-runs must be positive")

    print(
        f"okrbot benchmark: Python {platform.python_version()}, SQLAlchemy "
        f"{sqlalchemy.__version__}, {platform.machine()}; clock {NOW.isoformat()}"
    )
    started = time.perf_counter()
    with tempfile.TemporaryDirectory(prefix="okrbot-bench-") as tmp:
        workdir = Path(tmp)
        asyncio.run(bench(Backend(None, workdir), workdir, args))
        if args.database_url:
            asyncio.run(bench(Backend(args.database_url, workdir), workdir, args))
    print(f"\n(whole run {time.perf_counter() - started:.0f} s)")
    return 0


if __name__ == "__main__":
    sys.exit(main())

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
import gc
import math
import platform
import random
import statistics
import sys
import tempfile
import time
import uuid
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from urllib.parse import quote

import sqlalchemy
from sqlalchemy import bindparam, event, func, insert, select, update

from bot.clock import fixed_clock
from bot.core import Core
from bot.messages import render_text
from bot.okrs import load_okr_file, parse_period
from bot.okrsync import import_document
from storage import repo
from storage.db import Database, upgrade
from storage.models import KeyResult, KeyResultUpdate, Person

# Sunday 22 November 2026, 12:00 in Copenhagen: week 47 of 2026-Q4 (as in the tests)
NOW = datetime(2026, 11, 22, 11, 0, tzinfo=UTC)
PERIOD = "2026-Q4"
IMPORTED_AT = NOW - timedelta(weeks=8)  # the first import, before every check-in
TEAM_TARGET_MS = 20.0
COMPANY_TARGET_MS = 200.0
IMPORT_TARGET_S = 5.0
SAMPLE_TEAMS = 20

DEPARTMENTS = [
    ("sales", "Sales", "SAL"),
    ("marketing", "Marketing", "MKT"),
    ("product", "Product", "PRD"),
    ("engineering", "Engineering", "ENG"),
    ("operations", "Operations", "OPS"),
    ("finance", "Finance", "FIN"),
    ("people", "People", "PPL"),
    ("support", "Customer support", "SUP"),
    ("logistics", "Logistics", "LOG"),
    ("retail", "Retail", "RET"),
    ("ecommerce", "E-commerce", "ECO"),
    ("data", "Data", "DAT"),
    ("legal", "Legal", "LEG"),
    ("security", "Security", "SEC"),
    ("design", "Design", "DES"),
    ("partnerships", "Partnerships", "PAR"),
]
FIRST = [
    *("Anna", "Jonas", "Mette", "Lars", "Sofie", "Mikkel", "Emma", "Oliver", "Kirsten"),
    *("Freja", "Magnus", "Ida", "Noah", "Clara", "William", "Laura", "Victor", "Alma"),
    *("Emil", "Karla", "Oscar", "Maja", "Lucas", "Ella", "Frederik"),
]
LAST = [
    *("Holm", "Krogh", "Lund", "Nygaard", "Berg", "Friis", "Wilson", "Hansen", "Dahl"),
    *("Jensen", "Nielsen", "Pedersen", "Andersen", "Christensen", "Larsen", "Sørensen"),
    *("Rasmussen", "Jørgensen", "Petersen", "Madsen"),
]
FOCUS = ["omnichannel", "efficiency", "customer", "growth", "people"]
COMPANY_OBJECTIVES = [
    "Grow revenue by 20%",
    "Be one shop across stores and online",
    "Serve customers faster and better",
    "Run a leaner and safer operation",
]
OBJECTIVE_TITLES = [
    "Grow our share of the market",
    "Turn customer data into better campaigns",
    "Ship the new platform",
    "Cut waste in everyday work",
    "Make every customer contact count",
    "Build a team people want to join",
    "Keep the lights on without heroics",
]
METRIC_UP = [
    ("Monthly active customers", "customers", 20_000, 30_000),
    ("Revenue per store", "DKK", 38_000, 42_000),
    ("Share of orders placed online", "%", 12, 25),
    ("Segmented campaigns launched", "campaigns", 0, 12),
    ("Email subscribers from receipts", None, 2_000, 10_000),
    ("Net promoter score", None, 31, 45),
    ("Stores with digital receipts", "stores", 0, 24),
]
METRIC_DOWN = [
    ("Checkout time with digital receipt", "seconds", 45, 30),
    ("Cost per acquisition", "DKK", 180, 120),
    ("Open support tickets", "tickets", 400, 150),
    ("Monthly churn", "%", 4.5, 3),
]
MILESTONES = ["New warehouse system rollout", "Aarhus flagship fit-out", "Payment provider switch"]
BINARIES = ["Loyalty programme launched", "Vendor contract signed", "Security audit passed"]
THRESHOLDS = [
    ("Uptime of the shop", "%", "min", 99.5),
    ("Incidents per week", None, "max", 2),
    ("Stock-outs", "%", "max", 3),
]


# ---- the organisation ----------------------------------------------------------------------


@dataclass
class Org:
    text: str
    teams: list[str]  # team slugs other than `company`
    people: int
    objectives: int
    key_results: int


def _num(value: float) -> str:
    return str(int(value)) if float(value).is_integer() else f"{value:g}"


def _unit(unit: str | None) -> str:
    return "" if unit is None else f', unit: "{unit}"'


def _kr_line(rng: random.Random, kr_id: str, owner: str) -> str:
    """One key result in flow style, of a mixed type."""
    roll = rng.random()
    if roll < 0.45:
        title, unit, start, target = rng.choice(METRIC_UP)
        fields = f"start: {_num(start)}, target: {_num(target)}"
        if rng.random() < 0.3:
            fields += f", current: {_num(round(start + (target - start) * rng.random() * 0.3))}"
    elif roll < 0.60:
        title, unit, start, target = rng.choice(METRIC_DOWN)
        fields = f"start: {_num(start)}, target: {_num(target)}"
    elif roll < 0.75:
        title, unit = rng.choice(MILESTONES), None
        fields = "type: milestone" + (", current: 10" if rng.random() < 0.3 else "")
    elif roll < 0.85:
        title, unit = rng.choice(BINARIES), None
        fields = "type: binary"
    else:
        title, unit, bound, value = rng.choice(THRESHOLDS)
        fields = f"{bound}: {_num(value)}"
    weight = ", weight: 2" if rng.random() < 0.1 else ""
    return f"      - {{id: {kr_id}, title: {title}{_unit(unit)}, {fields}, owner: {owner}{weight}}}"


def build_org(n_teams: int, n_key_results: int, seed: int) -> Org:
    """The OKR file of `n_teams` teams under `company` (departments and their sub-teams)."""
    rng = random.Random(seed)
    n_teams = max(n_teams, 1)
    n_departments = max(1, min(n_teams, round(math.sqrt(n_teams))))
    departments = []
    for i in range(n_departments):
        slug, name, code = DEPARTMENTS[i % len(DEPARTMENTS)]
        if i >= len(DEPARTMENTS):  # more departments than names: number them
            n = i // len(DEPARTMENTS) + 1
            slug, name, code = f"{slug}{n}", f"{name} {n}", f"{code}{n}X"
        departments.append((slug, name, code))
    # teams: (slug, name, code, parent slug, department index)
    teams: list[tuple[str, str, str, str, int]] = [
        (slug, name, code, "company", i) for i, (slug, name, code) in enumerate(departments)
    ]
    counters = [0] * n_departments
    for k in range(n_teams - n_departments):
        d = k % n_departments
        counters[d] += 1
        slug, name, code = departments[d]
        n = counters[d]
        teams.append((f"{slug}-{n}", f"{name} {n}", f"{code}{n}", slug, d))

    people = [
        "  - {id: ceo, name: Kirsten Dahl, email: ceo@bench.example, slack: U0CEO, role: admin}"
    ]
    team_people: dict[str, tuple[str, list[str]]] = {}
    serial = 0

    def person(role: str) -> str:
        nonlocal serial
        serial += 1
        handle = f"p{serial:04d}"
        name = f"{FIRST[serial % len(FIRST)]} {LAST[(serial // len(FIRST)) % len(LAST)]}"
        extra = ""
        if serial % 7 == 0:
            extra += ", locale: da"
        if serial % 11 == 0:
            extra += ", timezone: Europe/London"
        people.append(
            f"  - {{id: {handle}, name: {name}, email: {handle}@bench.example, "
            f"slack: U0{handle.upper()}{extra}, role: {role}}}"
        )
        return handle

    for slug, *_ in teams:
        lead = person("lead")
        team_people[slug] = (lead, [person("member") for _ in range(4)])

    team_lines = [
        '  - {slug: company, name: Benchmark Retail, channel: "C0COMPANY", leads: [ceo], '
        f"members: [{', '.join(team_people[d[0]][0] for d in departments)}]}}"
    ]
    for i, (slug, name, _code, parent, _d) in enumerate(teams):
        lead, members = team_people[slug]
        team_lines.append(
            f'  - {{slug: {slug}, name: {name}, parent: {parent}, channel: "C0T{i:04d}", '
            f"leads: [{lead}], members: [{', '.join(members)}]}}"
        )

    # objectives: 4 company ones, 3 per team; departments align to company objectives,
    # sub-teams to their department's (a few straight to the company, a few unaligned)
    objectives: list[tuple[str, str, str, str | None, list[str]]] = []  # id, team, title, ...
    n_company = min(len(COMPANY_OBJECTIVES), max(1, n_key_results // 10))
    for j in range(n_company):
        objectives.append((f"CO-{j + 1}", "company", COMPANY_OBJECTIVES[j], None, ["ceo"]))
    for t, (slug, _name, code, parent, d) in enumerate(teams):
        lead, members = team_people[slug]
        for j in range(3):
            if parent == "company":
                aligned: str | None = f"CO-{(d + j) % n_company + 1}"
            elif (t + j) % 23 == 0:
                aligned = None
            elif (t + j) % 7 == 0:
                aligned = f"CO-{(t + j) % n_company + 1}"
            else:
                aligned = f"{departments[d][2]}-{(t + j) % 3 + 1}"
            title = OBJECTIVE_TITLES[(t * 3 + j) % len(OBJECTIVE_TITLES)]
            objectives.append((f"{code}-{j + 1}", slug, title, aligned, [lead, *members]))

    # key results: 2 or 3 per company objective, the rest spread evenly over team objectives
    company_krs = min(n_key_results, 10 if n_company == len(COMPANY_OBJECTIVES) else n_company)
    rest = n_key_results - company_krs
    per: list[int] = []
    for j in range(n_company):
        per.append(company_krs // n_company + (1 if j < company_krs % n_company else 0))
    n_team_objectives = len(objectives) - n_company
    for j in range(n_team_objectives):
        per.append(rest // n_team_objectives + (1 if j < rest % n_team_objectives else 0))

    lines = [
        "# Generated by bench/commands.py: a large organisation for the benchmark.",
        "organization: Benchmark Retail",
        f"period: {PERIOD}",
        "timezone: Europe/Copenhagen",
        "locale: en",
        'exec_channel: "C0EXEC"',
        'checkin: {day: mon, time: "09:30", remind_after_hours: 24}',
        'digest:  {day: fri, time: "15:00"}',
        "",
        "people:",
        *people,
        "",
        "teams:",
        *team_lines,
        "",
        "objectives:",
    ]
    for (obj_id, team, title, aligned, owners), count in zip(objectives, per, strict=True):
        lines += [f"  - id: {obj_id}", f"    team: {team}", f"    title: {title}"]
        if aligned:
            lines.append(f"    aligned_to: {aligned}")
        if rng.random() < 0.5:
            lines.append(f"    focus: [{', '.join(rng.sample(FOCUS, rng.randint(1, 2)))}]")
        lines.append("    key_results:")
        lines += [_kr_line(rng, f"{obj_id}.{k + 1}", rng.choice(owners)) for k in range(count)]
        if not count:
            lines[-1] = "    key_results: []"
    return Org(
        text="\n".join(lines) + "\n",
        teams=[slug for slug, *_ in teams],
        people=len(people),
        objectives=len(objectives),
        key_results=sum(per),
    )


# ---- check-in history (setup, not measured) ------------------------------------------------


def _values(rng: random.Random, kr, n: int) -> list[float]:
    """n successive values of a key result, moving towards (or around) its goal."""
    if kr.type == "binary":
        done_at = rng.randrange(n) if rng.random() < 0.4 else n
        return [1.0 if i >= done_at else 0.0 for i in range(n)]
    if kr.type == "threshold":
        bound = kr.max if kr.max is not None else kr.min
        spread = 0.4 if kr.max is not None else 0.01
        return [round(bound * rng.uniform(1 - spread, 1 + spread / 2), 2) for _ in range(n)]
    final = rng.uniform(0.05, 1.1)
    steps = sorted(rng.uniform(0, final) for _ in range(n - 1)) + [final]
    values = [kr.start + (kr.target - kr.start) * p for p in steps]
    if kr.type == "milestone":
        return [float(min(100, round(v))) for v in values]
    return [round(v, 1) for v in values]


async def seed_updates(db: Database, n_updates: int, seed: int) -> int:
    """Insert `n_updates` key-result updates over the weeks of the period so far, and set the
    key results' latest value (current / health / updated_at / updated_by) from them."""
    rng = random.Random(seed)
    async with db.session() as session:
        krs = list((await session.execute(select(KeyResult).order_by(KeyResult.id))).scalars())
        helpers = list((await session.execute(select(Person.id))).scalars())
    period = parse_period(PERIOD)
    first = datetime(period.start.year, period.start.month, period.start.day, 8, tzinfo=UTC)
    span = (NOW - first).total_seconds()
    weights = [0.0 if i % 10 == 9 else rng.uniform(0.5, 1.5) for i in range(len(krs))]
    counts = [0] * len(krs)
    for i in rng.choices(range(len(krs)), weights=weights, k=n_updates):
        counts[i] += 1
    rows: list[dict] = []
    latest: list[dict] = []
    for kr, n in zip(krs, counts, strict=True):
        if not n:
            continue
        times = sorted(first + timedelta(seconds=rng.uniform(0, span)) for _ in range(n))
        old = kr.current if kr.current is not None else kr.start
        health = None
        by = kr.owner_id
        for when, value in zip(times, _values(rng, kr, n), strict=True):
            health = rng.choices((None, "on_track", "at_risk", "off_track"), (2, 14, 3, 1))[0]
            by = kr.owner_id if rng.random() < 0.85 else rng.choice(helpers)
            rows.append(
                {
                    "key_result_id": kr.id,
                    "person_id": by,
                    "created_at": when,
                    "old_value": old,
                    "new_value": value,
                    "health": health,
                    "confidence": None,
                    "comment": "on plan" if rng.random() < 0.1 else None,
                    "source": rng.choices(("dm", "button", "form", "command"), (8, 2, 1, 1))[0],
                    "raw_reply_id": None,
                }
            )
            old = value
        latest.append(
            {
                "b_id": kr.id,
                "b_current": old,
                "b_health": health,
                "b_updated_at": times[-1],
                "b_updated_by_id": by,
            }
        )
    table = KeyResult.__table__
    set_latest = (
        update(table)
        .where(table.c.id == bindparam("b_id"))
        .values(
            current=bindparam("b_current"),
            health=bindparam("b_health"),
            updated_at=bindparam("b_updated_at"),
            updated_by_id=bindparam("b_updated_by_id"),
            updated_source="dm",
        )
    )
    async with db.engine.begin() as conn:
        for start in range(0, len(rows), 10_000):
            await conn.execute(insert(KeyResultUpdate.__table__), rows[start : start + 10_000])
        if latest:
            await conn.execute(set_latest, latest)
    return len(rows)


# ---- measuring -----------------------------------------------------------------------------


class StatementCounter:
    """Counts the SQL statements sent to the database: one per cursor execute (an executemany
    counts once; an ORM insert that SQLAlchemy splits into batches counts once per batch)."""

    def __init__(self, db: Database) -> None:
        self.count = 0
        self.statements: list[str] = []
        event.listen(db.engine.sync_engine, "before_cursor_execute", self._seen)

    def _seen(self, _conn, _cursor, statement, _params, _context, _many) -> None:
        self.count += 1
        self.statements.append(" ".join(statement.split()))

    def reset(self) -> None:
        self.count = 0
        self.statements = []


class GcTimer:
    """Time spent in the garbage collector (gc.callbacks), to explain the slow tail."""

    def __init__(self) -> None:
        self.seconds = 0.0
        self._start: float | None = None
        gc.callbacks.append(self._seen)

    def _seen(self, phase: str, _info: dict) -> None:
        if phase == "start":
            self._start = time.perf_counter()
        elif self._start is not None:
            self.seconds += time.perf_counter() - self._start
            self._start = None

    def close(self) -> None:
        gc.callbacks.remove(self._seen)


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

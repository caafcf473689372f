"""The benchmarks' organisation: an OKR file of many teams, people and key results (SPEC §2),
and a history of key-result updates, built from a seed so every run measures the same thing."""

from __future__ import annotations

import math
import random
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from sqlalchemy import bindparam, insert, select, update

from bot.okrfile.schema import parse_period
from storage.db import Database
from storage.models import KeyResult, KeyResultUpdate, Person

# Sunday 22 November 2026, 12:00 in Copenhagen: week 47 of 2026-Q4 (as in the tests)
NOW = datetime(2026, 11, 22, 11, 0, tzinfo=UTC)
PERIOD = "2026-Q4"
IMPORTED_AT = NOW - timedelta(weeks=8)  # the first import, before every check-in

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

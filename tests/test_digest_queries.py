"""The digest snapshot (storage/digest_queries.py) on SQLite and PostgreSQL, and the small
organisation that tests/test_digests.py checks the digest numbers on.

The clock: NOW = Sunday 2026-11-22 11:00 UTC (12:00 in Copenhagen), ISO week 2026-W47 there.
A week ago = 2026-11-15 11:00 UTC. Carl lives in New York (06:00 Sunday, also W47); Eve lives in
Auckland, where it is already Monday 23 November 00:00: her week is 2026-W48.
"""

from __future__ import annotations

from datetime import UTC, date, datetime

from sqlalchemy import event, select

from bot.okrfile.importer import import_document
from bot.okrfile.schema import parse_okr_text
from storage.digest_queries import digest_snapshot
from storage.models import CheckinRound, KeyResult, KeyResultUpdate, Outbox, Person, Team
from tests.conftest import NOW

IMPORTED = datetime(2026, 9, 27, 11, 0, tzinfo=UTC)  # NOW - 8 weeks

OKRS = """\
organization: Testco
period: 2026-Q4
timezone: Europe/Copenhagen
locale: en
exec_channel: "C0EXEC"
people:
  - {id: ceo, name: Karen Boss, email: ceo@test.example}
  - {id: anna, name: Anna Holm, email: anna@test.example, locale: da}
  - {id: bo, name: Bo Berg, email: bo@test.example}
  - {id: carl, name: Carl Dahl, email: carl@test.example, timezone: America/New_York}
  - {id: dina, name: Dina Friis, email: dina@test.example}
  - {id: eve, name: Eve Lund, email: eve@test.example, timezone: Pacific/Auckland}
  - {id: finn, name: Finn Mo, email: finn@test.example}
teams:
  - {slug: company, name: Testco, leads: [ceo]}
  - {slug: sales, name: Sales, parent: company, channel: "C0SAL", leads: [bo], members: [anna, carl]}
  - {slug: ops, name: Operations, parent: company, members: [dina, eve, finn]}
  - {slug: legal, name: Legal, parent: company}
objectives:
  - id: CO-1
    team: company
    title: Grow revenue
    key_results:
      - {id: CO-1.1, title: Revenue, start: 100, target: 200, owner: ceo}
  - id: CO-2
    team: company
    title: Happy customers
    key_results:
      - {id: CO-2.1, title: NPS, start: 30, target: 50, owner: ceo}
  - id: SAL-1
    team: sales
    title: Sell more
    aligned_to: CO-1
    key_results:
      - {id: SAL-1.1, title: Deals closed, start: 0, target: 10, current: 2, owner: anna}
      - {id: SAL-1.2, title: Sales cycle days, start: 100, target: 50, owner: carl, weight: 3}
      - {id: SAL-1.3, title: Partner deal signed, type: binary, owner: anna}
  - id: SAL-2
    team: sales
    title: Delight buyers
    aligned_to: CO-2
    key_results:
      - {id: SAL-2.1, title: Onboarding revamp, type: milestone, owner: bo}
  - id: OLD-1
    team: sales
    title: Last quarter's push
    period: 2026-Q3
    key_results:
      - {id: OLD-1.1, title: Old deals, start: 0, target: 5, owner: anna}
  - id: OPS-1
    team: ops
    title: Run smoothly
    aligned_to: CO-1
    key_results:
      - {id: OPS-1.1, title: Incidents per week, max: 2, owner: dina}
      - {id: OPS-1.2, title: Automated checks, start: 0, target: 100, owner: eve}
  - id: OPS-2
    team: ops
    title: Support sales
    aligned_to: SAL-1
    key_results:
      - {id: OPS-2.1, title: Quotes under a day, unit: "%", start: 20, target: 80, current: 26, owner: dina}
"""


def at(month: int, day: int, hour: int = 9, minute: int = 0) -> datetime:
    return datetime(2026, month, day, hour, minute, tzinfo=UTC)


# key result -> history after the import: (when, value, health, by); the last one is current
HISTORY = {
    "CO-1.1": [(at(10, 20), 120, None, "ceo"), (at(11, 10), 125, "on_track", "ceo"),
               (at(11, 15, 11), 130, "on_track", "ceo"),  # exactly a week before NOW
               (at(11, 17), 150, "on_track", "ceo")],
    "CO-2.1": [(at(10, 1), 32, None, "ceo")],
    "SAL-1.1": [(at(11, 15, 10), 4, "at_risk", "anna"), (at(11, 18), 7, "on_track", "anna")],
    "SAL-1.2": [(at(11, 15, 12), 90, "off_track", "carl")],  # just after the week-ago cut
    "SAL-2.1": [(at(11, 2), 40, "on_track", "bo"), (at(11, 16, 8), 55, "on_track", "bo")],
    "OPS-1.1": [(at(11, 9), 3, "at_risk", "dina"), (at(11, 19), 1, "on_track", "dina")],
    # two rows at the same moment: the later one (higher id) is the value
    "OPS-1.2": [(at(10, 15), 5, None, "eve"), (at(10, 15), 10, None, "eve"),
                (at(11, 20), 35, None, "eve")],
}  # fmt: skip

# person -> (period, status, completed_at)
ROUNDS = [
    ("anna", "2026-W47", "pending", None),
    ("dina", "2026-W47", "done", at(11, 19)),
    ("eve", "2026-W47", "done", at(11, 20)),  # Eve's last week: she is in W48 now
    ("ceo", "2026-W46", "done", at(11, 10)),
]

# (kind, target, period, state, last_error)
OUTBOX = [
    ("prompt", "carl", "2026-W47", "failed", "unreachable: no Teams conversation with Carl"),
    ("reminder", "dina", "2026-W47", "failed", "channel_not_found: the DM is gone"),
    ("prompt", "bo", "2026-W46", "failed", "unreachable: last week"),
    ("prompt", "anna", "2026-W47", "sent", None),
    ("team_digest", "sales", "2026-W47", "failed", "not_in_channel"),
    ("prompt", "eve", "2026-W47", "failed", "unreachable: her last week"),
]

AWAY = {"bo": date(2026, 11, 27), "finn": date.max}


async def build_world(db) -> None:
    """Import OKRS, then write the history, rounds, outbox rows and absences above."""
    async with db.transaction() as session:
        await import_document(session, parse_okr_text(OKRS, "okrs.yaml"), now=IMPORTED)
    async with db.transaction() as session:
        people = {p.handle: p for p in (await session.execute(select(Person))).scalars()}
        krs = {kr.key: kr for kr in (await session.execute(select(KeyResult))).scalars()}
        for key, rows in HISTORY.items():
            kr = krs[key]
            for when, value, health, by in rows:
                session.add(
                    KeyResultUpdate(
                        key_result_id=kr.id,
                        person_id=people[by].id,
                        created_at=when,
                        old_value=kr.current,
                        new_value=value,
                        health=health,
                        source="dm",
                    )
                )
                await session.flush()  # ids in insertion order
                kr.current, kr.health, kr.updated_at = value, health or kr.health, when
                kr.updated_by_id, kr.updated_source = people[by].id, "dm"
        for handle, period, status, completed in ROUNDS:
            session.add(
                CheckinRound(
                    person_id=people[handle].id,
                    period=period,
                    status=status,
                    prompted_at=at(11, 16),
                    completed_at=completed,
                )
            )
        for kind, target, period, state, error in OUTBOX:
            session.add(
                Outbox(
                    kind=kind,
                    target=target,
                    period=period,
                    state=state,
                    last_error=error,
                    created_at=at(11, 16),
                )
            )
        for handle, until in AWAY.items():
            people[handle].away_until = until


async def snapshot_of(db, now: datetime = NOW):
    async with db.session() as session:
        return await digest_snapshot(session, now)


# --- the snapshot ------------------------------------------------------------------------------


async def test_snapshot_reads_the_organisation_as_of_now(db):
    await build_world(db)
    snap = await snapshot_of(db)
    assert snap.now == NOW
    assert snap.today == date(2026, 11, 22)
    org = snap.organization
    assert (org.name, org.timezone, org.locale, org.exec_channel, org.period) == (
        "Testco",
        "Europe/Copenhagen",
        "en",
        "C0EXEC",
        "2026-Q4",
    )
    assert [(tm.slug, tm.name, tm.channel) for tm in snap.teams] == [
        ("company", "Testco", None),
        ("sales", "Sales", "C0SAL"),
        ("ops", "Operations", None),
        ("legal", "Legal", None),
    ]
    by_id = {tm.id: tm.slug for tm in snap.teams}
    assert [by_id.get(tm.parent_id) for tm in snap.teams] == [None, "company", "company", "company"]
    # OLD-1 is of 2026-Q3: not active
    assert [o.key for o in snap.objectives] == ["CO-1", "CO-2", "SAL-1", "SAL-2", "OPS-1", "OPS-2"]
    keys = {o.id: o.key for o in snap.objectives}
    assert [keys.get(o.aligned_to_id) for o in snap.objectives] == [
        None, None, "CO-1", "CO-2", "CO-1", "SAL-1"
    ]  # fmt: skip
    people = {p.id: p.handle for p in snap.people.values()}
    owners = [people[kr.owner_id] for kr in snap.key_results]
    assert owners == ["ceo", "ceo", "anna", "carl", "anna", "bo", "dina", "eve", "dina"]
    kr = {k.key: k for k in snap.key_results}
    assert (kr["SAL-1.2"].start, kr["SAL-1.2"].target, kr["SAL-1.2"].weight) == (100, 50, 3)
    assert (kr["SAL-1.2"].current, kr["SAL-1.2"].health) == (90, "off_track")
    assert kr["SAL-1.2"].updated_at == at(11, 15, 12)
    assert (kr["OPS-1.1"].type, kr["OPS-1.1"].max, kr["OPS-1.1"].min) == ("threshold", 2, None)
    assert kr["OPS-2.1"].updated_at == IMPORTED  # the file's current, recorded at import
    assert kr["SAL-1.3"].updated_at is None


async def test_the_value_a_week_ago_is_the_newest_at_or_before_the_cut(db):
    await build_world(db)
    snap = await snapshot_of(db)
    week_ago = {kr.key: kr.week_ago for kr in snap.key_results}
    assert week_ago == {
        "CO-1.1": 130,  # 15 Nov 11:00, exactly at the cut; 150 came on 17 Nov
        "CO-2.1": 32,  # 1 Oct, the only one
        "SAL-1.1": 4,  # 15 Nov 10:00, an hour before the cut
        "SAL-1.2": 100,  # its only update is 15 Nov 12:00, after the cut: the start
        "SAL-1.3": 0,  # binary, never updated: its start (0 = not done)
        "SAL-2.1": 40,
        "OPS-1.1": 3,
        "OPS-1.2": 10,  # the later of two rows at the same moment
        "OPS-2.1": 26,  # the file's current at import
    }
    # a week later, everything is as now
    later = await snapshot_of(db, datetime(2026, 11, 29, 11, 0, tzinfo=UTC))
    assert {kr.key: kr.week_ago for kr in later.key_results}["CO-1.1"] == 150


async def test_people_rounds_and_failed_deliveries_of_each_persons_week(db):
    await build_world(db)
    snap = await snapshot_of(db)
    handle = {p.id: p.handle for p in snap.people.values()}
    carl = next(p for p in snap.people.values() if p.handle == "carl")
    anna = next(p for p in snap.people.values() if p.handle == "anna")
    assert (carl.timezone, carl.locale) == ("America/New_York", "en")  # org default locale
    assert (anna.timezone, anna.locale) == ("Europe/Copenhagen", "da")
    away = {p.handle: p.away_until for p in snap.people.values() if p.away_until}
    assert away == {"bo": date(2026, 11, 27), "finn": date.max}
    assert snap.week_of(carl) == "2026-W47"
    eve = next(p for p in snap.people.values() if p.handle == "eve")
    assert snap.week_of(eve) == "2026-W48"

    # Eve's W47 round is her last week's; the CEO's W46 round is last week's
    rounds = sorted((handle[c.person_id], c.period, c.status) for c in snap.checkins)
    assert rounds == [("anna", "2026-W47", "pending"), ("dina", "2026-W47", "done")]
    failed = [(d.kind, d.handle, d.period, d.unreachable) for d in snap.failed]
    assert failed == [
        ("prompt", "carl", "2026-W47", True),
        ("reminder", "dina", "2026-W47", False),
    ]
    assert snap.failed[1].last_error == "channel_not_found: the DM is gone"
    members = sorted((handle[m.person_id], m.role) for m in snap.memberships if m.team_id == 2)
    assert members == [("anna", "member"), ("bo", "lead"), ("carl", "member")]


class StatementCounter:
    def __init__(self, db) -> None:
        self.statements: list[str] = []
        event.listen(db.engine.sync_engine, "before_cursor_execute", self._seen)

    def _seen(self, _conn, _cursor, statement, *_args) -> None:
        self.statements.append(statement)


async def _grow(db, teams: int, krs_per_team: int) -> None:
    """More teams, objectives, key results, history, rounds and failed prompts."""
    async with db.transaction() as session:
        from storage.models import Objective

        owner = (await session.execute(select(Person).where(Person.handle == "dina"))).scalar_one()
        for n in range(teams):
            team = Team(slug=f"extra-{n}", name=f"Extra {n}", position=100 + n)
            session.add(team)
            await session.flush()
            objective = Objective(
                key=f"EX{n}-1",
                team_id=team.id,
                title="More",
                period_start=date(2026, 10, 1),
                period_end=date(2026, 12, 31),
                position=100 + n,
            )
            session.add(objective)
            await session.flush()
            for k in range(krs_per_team):
                kr = KeyResult(
                    key=f"EX{n}-1.{k}", objective_id=objective.id, title="x", start=0,
                    target=10, owner_id=owner.id, position=1000 + n * 100 + k,
                )  # fmt: skip
                session.add(kr)
                await session.flush()
                for day in (3, 10, 17):
                    session.add(
                        KeyResultUpdate(
                            key_result_id=kr.id, created_at=at(11, day), new_value=day / 3,
                            source="api",
                        )
                    )  # fmt: skip
            person = Person(handle=f"extra{n}", name=f"Extra {n}", position=100 + n)
            session.add(person)
            await session.flush()
            session.add(CheckinRound(person_id=person.id, period="2026-W47", status="done"))
            session.add(
                Outbox(kind="prompt", target=f"extra{n}", period="2026-W47", state="failed",
                       last_error="unreachable", created_at=at(11, 16))
            )  # fmt: skip


async def test_the_statement_count_does_not_grow_with_the_organisation(db):
    await build_world(db)
    counter = StatementCounter(db)
    await snapshot_of(db)  # warm-up: a first connection may ask the server a few things
    counter.statements.clear()
    small = await snapshot_of(db)
    small_count = len(counter.statements)

    await _grow(db, teams=12, krs_per_team=15)
    counter.statements.clear()
    large = await snapshot_of(db)
    assert len(large.key_results) == len(small.key_results) + 12 * 15
    assert len(large.teams) == len(small.teams) + 12
    assert len(large.failed) == len(small.failed) + 12
    assert len(counter.statements) == small_count
    assert small_count <= 8
    week_ago = {kr.key: kr.week_ago for kr in large.key_results}
    assert week_ago["EX0-1.0"] == 10 / 3  # the 10 Nov value, not the 17 Nov one

"""OKRs as code against a real database (SQLite file and PostgreSQL): import is idempotent,
never overwrites check-ins, prunes by archiving, and export imports back to the same state."""

from __future__ import annotations

import textwrap
from datetime import timedelta

from sqlalchemy import func, select

from bot.okrfile.dump import dump_okr_document
from bot.okrfile.export import export_document
from bot.okrfile.importer import import_document
from bot.okrfile.schema import parse_okr_text
from storage.db import Database, upgrade
from storage.models import KeyResult, KeyResultUpdate, Objective, Person, Team, TeamMember

BASE = textwrap.dedent(
    """\
    organization: Nordlys Retail
    period: 2026-Q4
    timezone: Europe/Copenhagen
    locale: en
    exec_channel: "C0EXEC"
    people:
      - {id: ceo, name: Kirsten Dahl, email: kirsten@nordlys.example, role: admin}
      - {id: mette, name: Mette Lund, slack: U0METTE}
      - {id: anna, name: Anna Holm, locale: da, timezone: Europe/Copenhagen}
      - {id: jonas, name: Jonas Krogh}
    teams:
      - {slug: company, name: Nordlys, leads: [ceo]}
      - {slug: marketing, name: Marketing, parent: company, channel: "C0MKT", leads: [mette], members: [anna, jonas]}
      - {slug: retail, name: Retail, parent: company, leads: [ceo]}
    objectives:
      - id: CO-1
        team: company
        title: Grow revenue by 20%
        focus: [omnichannel]
        key_results:
          - {id: CO-1.1, title: Annual revenue, unit: DKK, start: 50000000, target: 60000000, owner: ceo}
      - id: MKT-1
        team: marketing
        title: Turn in-store data into segmented campaigns
        aligned_to: CO-1
        focus: [omnichannel]
        key_results:
          - {id: MKT-1.1, title: Segmented campaigns launched, unit: campaigns, start: 0, target: 12, owner: anna}
          - {id: MKT-1.3, title: Cost per acquisition, unit: DKK, start: 180, target: 120, owner: anna}
          - {id: MKT-1.4, title: Loyalty programme launched, type: binary, owner: anna}
          - {id: MKT-1.5, title: Omnichannel revenue share, unit: "%", start: 12, target: 25, current: 14, owner: jonas}
      - id: RET-1
        team: retail
        title: Open more stores
        aligned_to: CO-1
        key_results:
          - {id: RET-1.1, title: New stores opened, start: 0, target: 3, owner: ceo, weight: 2}
    """
)


def doc_of(text: str = BASE):
    return parse_okr_text(text, "okrs.yaml")


async def run_import(db: Database, text: str, now, prune: bool = False):
    async with db.transaction() as session:
        return await import_document(session, doc_of(text), now=now, prune=prune)


async def count(db: Database, model) -> int:
    async with db.session() as session:
        return (await session.execute(select(func.count()).select_from(model))).scalar_one()


async def kr(db: Database, key: str) -> KeyResult:
    async with db.session() as session:
        return (await session.execute(select(KeyResult).where(KeyResult.key == key))).scalar_one()


async def test_first_import_creates_everything(db, now):
    report = await run_import(db, BASE, now)
    assert report.created == {
        "organization": 1,
        "people": 4,
        "teams": 3,
        "memberships": 5,
        "objectives": 3,
        "key results": 6,
    }
    assert report.values_applied == 1  # MKT-1.5's current: 14
    assert await count(db, Person) == 4
    assert await count(db, TeamMember) == 5
    cpa = await kr(db, "MKT-1.3")
    assert (cpa.start, cpa.target, cpa.current, cpa.unit) == (180, 120, None, "DKK")
    loyalty = await kr(db, "MKT-1.4")
    assert (loyalty.type, loyalty.start, loyalty.target) == ("binary", 0, 1)
    share = await kr(db, "MKT-1.5")
    assert (share.current, share.file_current, share.updated_source) == (14, 14, "import")
    async with db.session() as session:
        rows = (await session.execute(select(KeyResultUpdate))).scalars().all()
        objective = (
            await session.execute(select(Objective).where(Objective.key == "MKT-1"))
        ).scalar_one()
        marketing = (
            await session.execute(select(Team).where(Team.slug == "marketing"))
        ).scalar_one()
        company = (await session.execute(select(Team).where(Team.slug == "company"))).scalar_one()
    assert [(r.key_result_id, r.old_value, r.new_value, r.source) for r in rows] == [
        (share.id, None, 14, "import")
    ]
    assert rows[0].created_at == now
    assert objective.focus == ["omnichannel"]
    assert str(objective.period_start) == "2026-10-01" and str(objective.period_end) == "2026-12-31"
    assert marketing.parent_id == company.id and marketing.channel == "C0MKT"


async def test_reimport_of_the_same_file_changes_nothing(db, now):
    await run_import(db, BASE, now)
    before = await count(db, KeyResultUpdate)
    report = await run_import(db, BASE, now + timedelta(days=1))
    assert not report.changed, report.summary()
    assert report.summary() == "nothing changed"
    assert await count(db, KeyResultUpdate) == before
    assert await count(db, TeamMember) == 5


async def test_reimport_keeps_checkin_values_and_applies_deliberate_edits(db, now):
    await run_import(db, BASE, now)
    async with db.transaction() as session:  # a check-in moved MKT-1.5 from 14 to 17
        row = (
            await session.execute(select(KeyResult).where(KeyResult.key == "MKT-1.5"))
        ).scalar_one()
        session.add(
            KeyResultUpdate(
                key_result_id=row.id, created_at=now, old_value=14, new_value=17, source="dm"
            )
        )
        row.current = 17
    await run_import(db, BASE, now + timedelta(days=1))
    assert (await kr(db, "MKT-1.5")).current == 17  # the unchanged file does not overwrite

    edited = BASE.replace("current: 14", "current: 20")
    later = now + timedelta(days=2)
    report = await run_import(db, edited, later)
    assert report.values_applied == 1
    share = await kr(db, "MKT-1.5")
    assert (share.current, share.file_current, share.updated_at) == (20, 20, later)
    async with db.session() as session:
        last = (
            (await session.execute(select(KeyResultUpdate).order_by(KeyResultUpdate.id.desc())))
            .scalars()
            .first()
        )
    assert (last.old_value, last.new_value, last.source) == (17, 20, "import")


async def test_changes_to_definitions_are_applied(db, now):
    await run_import(db, BASE, now)
    edited = (
        BASE.replace("target: 12, owner: anna", "target: 16, owner: jonas")
        .replace("members: [anna, jonas]", "members: [jonas]")
        .replace("name: Retail,", "name: Retail & Stores,")
    )
    report = await run_import(db, edited, now)
    assert report.updated == {"teams": 1, "memberships": 1, "key results": 1}
    campaigns = await kr(db, "MKT-1.1")
    async with db.session() as session:
        jonas = (await session.execute(select(Person).where(Person.handle == "jonas"))).scalar_one()
    assert (campaigns.target, campaigns.owner_id) == (16, jonas.id)
    assert await count(db, TeamMember) == 4


async def test_without_prune_nothing_is_removed(db, now):
    await run_import(db, BASE, now)
    smaller = BASE.replace(
        "      - {id: MKT-1.4, title: Loyalty programme launched, type: binary, owner: anna}\n", ""
    )
    report = await run_import(db, smaller, now)
    assert report.archived == {}
    assert not (await kr(db, "MKT-1.4")).archived


async def test_prune_archives_and_keeps_history(db, now):
    await run_import(db, BASE, now)
    history = await count(db, KeyResultUpdate)
    pruned = BASE.replace(
        '      - {id: MKT-1.5, title: Omnichannel revenue share, unit: "%", start: 12, '
        "target: 25, current: 14, owner: jonas}\n",
        "",
    )
    pruned = pruned[: pruned.index("  - id: RET-1")]  # drop the retail objective
    pruned = pruned.replace("  - {slug: retail, name: Retail, parent: company, leads: [ceo]}\n", "")
    pruned = pruned.replace("  - {id: jonas, name: Jonas Krogh}\n", "").replace(
        "members: [anna, jonas]", "members: [anna]"
    )
    report = await run_import(db, pruned, now, prune=True)
    assert report.archived == {"people": 1, "teams": 1, "objectives": 1, "key results": 2}
    assert (await kr(db, "MKT-1.5")).archived and (await kr(db, "RET-1.1")).archived
    assert await count(db, KeyResultUpdate) == history  # history is kept
    async with db.session() as session:
        exported = await export_document(session)
    assert [t.slug for t in exported.teams] == ["company", "marketing"]
    assert [k.id for o in exported.objectives for k in o.key_results] == [
        "CO-1.1",
        "MKT-1.1",
        "MKT-1.3",
        "MKT-1.4",
    ]
    # putting them back in the file brings the same rows back
    report = await run_import(db, BASE, now)
    assert not (await kr(db, "MKT-1.5")).archived
    assert (await kr(db, "MKT-1.5")).current == 14


async def test_export_imports_back_to_the_same_state(db, now, tmp_path):
    await run_import(db, BASE, now)
    async with db.transaction() as session:  # live values written by check-ins
        row = (
            await session.execute(select(KeyResult).where(KeyResult.key == "MKT-1.1"))
        ).scalar_one()
        row.current = 5
    async with db.session() as session:
        first = dump_okr_document(await export_document(session))
    assert "current: 5" in first

    # the exported file re-imported into the same database is a no-op
    report = await run_import(db, first, now)
    assert not report.changed, report.summary()

    # and into a fresh database gives the same export
    other_url = f"sqlite:///{tmp_path / 'other.db'}"
    upgrade(other_url)
    other = Database(other_url)
    try:
        await run_import(other, first, now)
        async with other.session() as session:
            second = dump_okr_document(await export_document(session))
    finally:
        await other.dispose()
    assert second == first
    assert doc_of(second) == doc_of(first)


async def test_platform_ids_found_later_are_kept_when_the_file_has_none(db, now):
    await run_import(db, BASE, now)
    async with db.transaction() as session:
        anna = (await session.execute(select(Person).where(Person.handle == "anna"))).scalar_one()
        anna.slack_id = "U0ANNA"  # found by email at run time
    await run_import(db, BASE, now)
    async with db.session() as session:
        anna = (await session.execute(select(Person).where(Person.handle == "anna"))).scalar_one()
        mette = (await session.execute(select(Person).where(Person.handle == "mette"))).scalar_one()
    assert anna.slack_id == "U0ANNA"
    assert mette.slack_id == "U0METTE"

"""Personal data (SPEC §3 `okrbot person export|forget`) and raw-reply retention, on SQLite and
PostgreSQL: the demo organisation, anna with messages on Slack and Teams, a conversation
reference and outbox rows; `okrbot person ...` run as a user runs it, against the same database.

Forgetting anna must leave nothing that names, reaches or quotes her in any table, and leave
every team's numbers exactly as they were.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from datetime import timedelta
from pathlib import Path

import pytest
from sqlalchemy import LargeBinary, func, select, update

from bot.core import Core
from bot.okrfile.demo import load_demo
from bot.ops.privacy import export_person, find_person, forget_person, purge_raw_replies
from storage.models import (
    CheckinRound,
    ConversationReference,
    KeyResult,
    KeyResultUpdate,
    Outbox,
    Person,
    RawReply,
    Team,
    TeamMember,
)

OKRBOT = str(Path(sys.executable).parent / "okrbot")
WEEK = "2026-W47"
ANNA_REPLY = "kampagner 7, på sporet, zebraplanen med Brugsen"
ANNA_STRANGER = "hej, er det her okr-botten? ukulele"
ANNA_TEAMS = "hej fra teams, marcipan"
TEAMS_REFERENCE = {
    "user": {"id": "29:anna-teams", "aadObjectId": "aad-anna", "name": "Anna Holm"},
    "conversation": {"id": "a:anna-chat", "conversationType": "personal"},
    "serviceUrl": "http://127.0.0.1:9/",
}
# what identifies or quotes anna; none of it may be left in any column of any table
NEEDLES = (
    "Anna Holm",
    "anna@nordlys.example",
    "U0ANNA",
    "aad-anna",
    "29:anna-teams",
    "a:anna-chat",
    "zebraplanen",
    "ukulele",
    "marcipan",
    "two campaigns from store data",  # her comment in the demo history
    "Hej Anna",
)


@pytest.fixture
async def world(db, now, clock):
    """The demo plus anna's traces everywhere, and jonas's as a control."""
    async with db.transaction() as session:
        await load_demo(session, now)
        anna = await find_person(session, "anna")
        anna.slack_id, anna.teams_aad_id = "U0ANNA", "aad-anna"
        for kind, target in (
            ("prompt", "anna"),
            ("reminder", "anna"),
            ("prompt", "jonas"),
            ("team_digest", "marketing"),
        ):
            session.add(
                Outbox(
                    kind=kind,
                    target=target,
                    period=WEEK,
                    payload={"text": f"Hej {target.capitalize()}"},
                    platform="slack",
                    created_at=now,
                )
            )
    core = Core(db, clock)
    anna = await core.person(handle="anna")
    jonas = await core.person(handle="jonas")
    # before Slack's user was mapped to her: a stranger's message from her Slack id
    await core.direct_message(
        None, ANNA_STRANGER, platform="slack", platform_user_id="U0ANNA", external_id="Ev0"
    )
    answer = await core.direct_message(
        anna, ANNA_REPLY, platform="slack", platform_user_id="U0ANNA", external_id="Ev1"
    )
    assert "7 / 12" in answer.sections[0].rows[0].value
    await core.save_conversation(
        "teams",
        "a:anna-chat",
        TEAMS_REFERENCE,
        conversation_type="personal",
        person=anna,
        tenant_id="tenant-1",
    )
    await core.direct_message(
        None, ANNA_TEAMS, platform="teams", platform_user_id="29:anna-teams", external_id="act1"
    )
    await core.direct_message(
        jonas, "subscribers 4300", platform="slack", platform_user_id="U0JONAS", external_id="Ev2"
    )
    return core


async def numbers(core: Core) -> list:
    """Every team's answer and the company tree, without the "who updated, when" notes."""
    viewer = await core.person(handle="mette")
    async with core.db.session() as session:
        slugs = [t.slug for t in (await session.execute(select(Team))).scalars()]
    shown = []
    for words in [f"okr team {slug}" for slug in sorted(slugs)] + ["okr tree"]:
        message = await core.command(viewer, words)
        assert not message.error, words
        rows = [
            (r.key, r.title, r.progress, r.percent, r.value, r.health, r.at_risk)
            for section in message.sections
            for r in section.rows
        ]
        shown.append((words, message.title, rows))
    return shown


async def count(db, model, *where) -> int:
    async with db.session() as session:
        query = select(func.count()).select_from(model)
        return (await session.execute(query.where(*where) if where else query)).scalar_one()


async def every_value(db) -> list[tuple[str, str, object]]:
    """(table, column, value) of every stored value, for a search of the whole database."""
    out = []
    async with db.engine.connect() as conn:
        for table in Person.metadata.sorted_tables:
            columns = [c for c in table.columns if not isinstance(c.type, LargeBinary)]
            for row in await conn.execute(select(*columns)):
                out.extend((table.name, c.name, v) for c, v in zip(columns, row, strict=True) if v)
    return out


def okrbot(*args: str, db_url: str, cwd: Path) -> subprocess.CompletedProcess:
    env = {
        k: v for k, v in os.environ.items() if not k.startswith(("SLACK_", "MICROSOFT_", "OKRBOT_"))
    }
    env.update(DATABASE_URL=db_url, OKRBOT_LOG_LEVEL="WARNING")
    return subprocess.run(
        [OKRBOT, *args], capture_output=True, text=True, env=env, cwd=cwd, timeout=120
    )


# --- forget ------------------------------------------------------------------------------------


async def test_forget_erases_every_trace_and_keeps_the_numbers(world, db, db_url, tmp_path):
    core = world
    before = await numbers(core)
    anna = await core.person(handle="anna")
    stored = [str(value) for _, _, value in await every_value(db)]
    assert {n for n in NEEDLES if any(n in value for value in stored)} == set(NEEDLES)
    kept = {
        "updates": await count(db, KeyResultUpdate, KeyResultUpdate.person_id == anna.id),
        "owned": await count(db, KeyResult, KeyResult.owner_id == anna.id),
        "rounds": await count(db, CheckinRound, CheckinRound.person_id == anna.id),
        "members": await count(db, TeamMember, TeamMember.person_id == anna.id),
    }
    async with db.session() as session:
        values = (
            await session.execute(
                select(KeyResultUpdate.new_value, KeyResultUpdate.created_at)
                .where(KeyResultUpdate.person_id == anna.id)
                .order_by(KeyResultUpdate.id)
            )
        ).all()

    result = okrbot("person", "forget", "anna", "--yes", db_url=db_url, cwd=tmp_path)

    assert result.returncode == 0, result.stderr
    pseudonym = f"forgotten-{anna.id}"
    assert f"Erased the personal data of anna: they are now {pseudonym}." in result.stdout
    assert "okrbot okrs import" in result.stdout and "creates them again" in result.stdout
    leftovers = [
        (table, column, value)
        for table, column, value in await every_value(db)
        if value == "anna" or any(needle in str(value) for needle in NEEDLES)
    ]
    assert leftovers == []
    async with db.session() as session:
        row = await session.get(Person, anna.id)
        assert (row.handle, row.name, row.archived) == (pseudonym, pseudonym, True)
        assert (row.email, row.slack_id, row.teams_aad_id, row.timezone, row.locale) == (
            (None,) * 5
        )
        assert (
            await session.execute(
                select(KeyResultUpdate.new_value, KeyResultUpdate.created_at)
                .where(KeyResultUpdate.person_id == anna.id)
                .order_by(KeyResultUpdate.id)
            )
        ).all() == values
    assert await count(db, RawReply, RawReply.person_id == anna.id) == 0
    assert await count(db, ConversationReference) == 0
    assert await count(db, KeyResultUpdate, KeyResultUpdate.comment.is_not(None)) > 0  # others'
    assert await count(db, KeyResultUpdate, KeyResultUpdate.person_id == anna.id) == kept["updates"]
    assert await count(db, KeyResult, KeyResult.owner_id == anna.id) == kept["owned"]
    assert await count(db, CheckinRound, CheckinRound.person_id == anna.id) == kept["rounds"]
    assert await count(db, TeamMember, TeamMember.person_id == anna.id) == kept["members"]
    # jonas and the team digest are untouched
    assert await count(db, RawReply, RawReply.platform_user_id == "U0JONAS") == 1
    async with db.session() as session:
        targets = sorted((await session.execute(select(Outbox.target))).scalars())
    assert targets == ["jonas", "marketing"]
    # the numbers every team sees are the same; only the name of who updated changed
    assert await numbers(core) == before
    mette = await core.person(handle="mette")
    team = await core.command(mette, "okr team marketing")
    notes = [r.note for s in team.sections for r in s.rows if r.key == "MKT-1.1"]
    assert notes and pseudonym in notes[0]
    # she is no longer anyone the bot recognises
    assert await core.person(handle="anna") is None
    assert await core.person(slack_id="U0ANNA") is None
    assert await core.person(email="anna@nordlys.example") is None


async def test_forget_without_yes_shows_what_would_go_and_changes_nothing(
    world, db, db_url, tmp_path
):
    before = await every_value(db)

    result = okrbot("person", "forget", "Anna", db_url=db_url, cwd=tmp_path)

    assert result.returncode == 2
    lines = result.stdout.splitlines()
    assert lines[0] == "Erasing the personal data of anna (Anna Holm) would:"
    assert "  remove: 3 raw replies (messages they sent)" in lines
    assert "  remove: 1 conversation references" in lines
    assert "  remove: 2 outbox rows addressed to them" in lines
    assert any(line.startswith("  keep, anonymised as forgotten-") for line in lines)
    assert "creates them again" in result.stdout
    assert result.stderr.strip() == "okrbot: nothing changed: run again with --yes to erase"
    assert await every_value(db) == before


async def test_an_unknown_handle_is_one_line_and_exit_2(db, db_url, tmp_path):
    for command in (("forget", "nobody", "--yes"), ("export", "nobody")):
        result = okrbot("person", *command, db_url=db_url, cwd=tmp_path)
        assert result.returncode == 2
        assert result.stderr == "okrbot: no person with the handle 'nobody'\n"
        assert result.stdout == ""


async def test_forgetting_twice_changes_nothing_more(world, db, now):
    async with db.transaction() as session:
        anna = await find_person(session, "anna")
        first = await forget_person(session, anna)
    after_first = await every_value(db)
    async with db.transaction() as session:
        again = await forget_person(session, await find_person(session, first.pseudonym))
    assert again.pseudonym == first.pseudonym
    assert (again.raw_replies, again.conversation_references, again.outbox_rows) == (0, 0, 0)
    assert await every_value(db) == after_first


# --- export ------------------------------------------------------------------------------------


async def test_export_writes_everything_stored_about_the_person(world, db, db_url, tmp_path):
    result = okrbot("person", "export", "anna", db_url=db_url, cwd=tmp_path)

    assert result.returncode == 0, result.stderr
    data = json.loads(result.stdout)
    assert data["person"]["name"] == "Anna Holm"
    assert data["person"]["email"] == "anna@nordlys.example"
    assert data["person"]["slack_id"] == "U0ANNA"
    assert data["teams"] == [{"team": "marketing", "team_name": "Marketing", "role": "member"}]
    assert [kr["key"] for kr in data["key_results_owned"]] == ["MKT-1.1", "MKT-1.3", "MKT-1.4"]
    assert {u["key_result"] for u in data["updates"]} == {"MKT-1.1", "MKT-1.3"}
    assert any(u["comment"] == "two campaigns from store data" for u in data["updates"])
    assert data["checkin_rounds"] and all(r["period"] for r in data["checkin_rounds"])
    assert sorted(r["text"] for r in data["raw_replies"]) == sorted(
        [ANNA_REPLY, ANNA_STRANGER, ANNA_TEAMS]
    )
    assert data["conversation_references"][0]["reference"] == TEAMS_REFERENCE
    assert sorted(o["kind"] for o in data["outbox"]) == ["prompt", "reminder"]
    assert "jonas" not in result.stdout and "subscribers 4300" not in result.stdout

    out = tmp_path / "anna.json"
    written = okrbot("person", "export", "anna", "--out", str(out), db_url=db_url, cwd=tmp_path)
    assert written.returncode == 0 and written.stdout == ""
    assert json.loads(out.read_text(encoding="utf-8"))["person"] == data["person"]


async def test_export_after_forget_has_no_personal_data(world, db, now):
    async with db.transaction() as session:
        report = await forget_person(session, await find_person(session, "anna"))
    async with db.session() as session:
        data = await export_person(session, await find_person(session, report.pseudonym), now=now)
    text = json.dumps(data, ensure_ascii=False)
    assert not [needle for needle in NEEDLES if needle in text]
    assert data["raw_replies"] == data["conversation_references"] == data["outbox"] == []
    assert data["updates"] and all(u["comment"] is None for u in data["updates"])


# --- retention ---------------------------------------------------------------------------------


async def test_purge_raw_replies_deletes_old_messages_and_keeps_the_values(world, db, now):
    core = world
    anna = await core.person(handle="anna")
    await core.direct_message(
        anna, "kampagner 6", platform="slack", platform_user_id="U0ANNA", external_id="Ev-old"
    )
    async with db.transaction() as session:  # as if it had come 400 days ago
        await session.execute(
            update(RawReply)
            .where(RawReply.external_id == "Ev-old")
            .values(received_at=now - timedelta(days=400))
        )
    async with db.session() as session:
        linked = (
            await session.execute(
                select(KeyResultUpdate).where(
                    KeyResultUpdate.raw_reply_id.in_(
                        select(RawReply.id).where(RawReply.external_id == "Ev-old")
                    )
                )
            )
        ).scalar_one()
    total = await count(db, RawReply)

    async with db.transaction() as session:
        purged = await purge_raw_replies(session, before=now - timedelta(days=365))

    assert purged == 1
    assert await count(db, RawReply) == total - 1
    assert await count(db, RawReply, RawReply.external_id == "Ev-old") == 0
    async with db.session() as session:
        row = await session.get(KeyResultUpdate, linked.id)
    assert row.raw_reply_id is None and row.new_value == 6
    async with db.transaction() as session:
        assert await purge_raw_replies(session, before=now - timedelta(days=365)) == 0
        assert await purge_raw_replies(session, before=now + timedelta(seconds=1)) == total - 1
    assert await count(db, RawReply) == 0
    assert await count(db, KeyResultUpdate, KeyResultUpdate.raw_reply_id.is_not(None)) == 0

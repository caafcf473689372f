"""`okrbot report` (SPEC §3): the history of updates and the check-in rate, on a small known data
set, on SQLite and PostgreSQL; the command line as a user runs it (a subprocess, SQLite file).

The data set (organisation zone Europe/Copenhagen, CET = UTC+1 in November):
* sales: S-1.1 Deals closed 0 -> 10 deals (anna), S-1.2 Pipeline 100 -> 500 DKK (bo, zone
  New York, imported with current 100 on 1 Oct); ops: O-1.1 Release pipeline done, binary
  (cai), objective period 9 Nov .. 31 Dec. lead leads sales and owns nothing.
* history (UTC): 1 Oct 08:00 import S-1.2 = 100 · 2 Nov 08:00 anna S-1.1 0 -> 2 · 3 Nov 14:00
  bo S-1.2 100 -> 200 (form, confidence 0.6) · 8 Nov 23:30 anna S-1.1 2 -> 3 (= 9 Nov 00:30 in
  Copenhagen: W46 there, W45 in UTC) · 10 Nov 22:30 api S-1.2 200 -> 250 (23:30 local, still
  10 Nov) · 16 Nov 09:00 lead S-1.1 3 -> 4 (command) · 16 Nov 10:00 cai O-1.1 -> 1.
* check-in rounds: anna W45 done, W47 skipped; bo W45 done, W46 no_change, W47 pending.
  anna's W46 and cai's W47 come from their own updates alone.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy import event, select

from bot.cli.report import build_report
from bot.okrfile.importer import import_document
from bot.okrfile.schema import parse_okr_text
from bot.ops.report import COLUMNS, RATE_COLUMNS, render
from storage.db import Database, upgrade
from storage.models import CheckinRound, KeyResult, KeyResultUpdate, Person

OKRBOT = str(Path(sys.executable).parent / "okrbot")
OKRS = textwrap.dedent(
    """\
    organization: Testco
    period: 2026-Q4
    timezone: Europe/Copenhagen
    people:
      - {id: anna, name: Anna Holm}
      - {id: bo, name: Bo Berg, timezone: America/New_York}
      - {id: cai, name: Cai Lund}
      - {id: lead, name: Lea Dam}
    teams:
      - {slug: sales, name: Sales, leads: [lead], members: [anna, bo]}
      - {slug: ops, name: Ops, members: [cai]}
    objectives:
      - id: S-1
        team: sales
        title: Sell more
        key_results:
          - {id: S-1.1, title: Deals closed, unit: deals, start: 0, target: 10, owner: anna}
          - {id: S-1.2, title: Pipeline, unit: DKK, start: 100, target: 500, current: 100, owner: bo}
      - id: O-1
        team: ops
        title: Ship faster
        period: 2026-11-09..2026-12-31
        key_results:
          - {id: O-1.1, title: Release pipeline done, type: binary, owner: cai}
    """
)
IMPORTED = datetime(2026, 10, 1, 8, 0, tzinfo=UTC)
# (UTC time, key result, author, old, new, health, confidence, source, comment)
HISTORY = [
    (datetime(2026, 11, 2, 8, 0), "S-1.1", "anna", 0, 2, "on_track", None, "dm", None),
    (
        datetime(2026, 11, 3, 14, 0),
        "S-1.2",
        "bo",
        100,
        200,
        "at_risk",
        0.6,
        "form",
        "slow, month end",
    ),
    (datetime(2026, 11, 8, 23, 30), "S-1.1", "anna", 2, 3, None, None, "dm", 'said "yes"'),
    (datetime(2026, 11, 10, 22, 30), "S-1.2", None, 200, 250, "on_track", None, "api", "from CRM"),
    (datetime(2026, 11, 16, 9, 0), "S-1.1", "lead", 3, 4, None, None, "command", None),
    (
        datetime(2026, 11, 16, 10, 0),
        "O-1.1",
        "cai",
        None,
        1,
        "on_track",
        None,
        "dm",
        "pipeline | live",
    ),
]
ROUNDS = [
    ("anna", "2026-W45", "done"),
    ("anna", "2026-W47", "skipped"),
    ("bo", "2026-W45", "done"),
    ("bo", "2026-W46", "no_change"),
    ("bo", "2026-W47", "pending"),
]
HEADER = ",".join(COLUMNS)
ROWS = [
    "2026-10-01T10:00:00+02:00,sales,S-1,S-1.2,Pipeline,bo,,,100,DKK,0,,,import,",
    "2026-11-02T09:00:00+01:00,sales,S-1,S-1.1,Deals closed,anna,anna,0,2,deals,20,on_track,,dm,",
    '2026-11-03T15:00:00+01:00,sales,S-1,S-1.2,Pipeline,bo,bo,100,200,DKK,25,at_risk,0.6,form,"slow, month end"',
    '2026-11-09T00:30:00+01:00,sales,S-1,S-1.1,Deals closed,anna,anna,2,3,deals,30,,,dm,"said ""yes"""',
    "2026-11-10T23:30:00+01:00,sales,S-1,S-1.2,Pipeline,bo,,200,250,DKK,38,on_track,,api,from CRM",
    "2026-11-16T10:00:00+01:00,sales,S-1,S-1.1,Deals closed,anna,lead,3,4,deals,40,,,command,",
    "2026-11-16T11:00:00+01:00,ops,O-1,O-1.1,Release pipeline done,cai,cai,,1,,100,on_track,,dm,pipeline | live",
]
RATES = [
    ",".join(RATE_COLUMNS),
    "2026-W45,sales,,2,2,0,0,100,",
    "2026-W46,sales,,2,2,0,0,100,",
    "2026-W46,ops,,1,0,0,1,0,",
    "2026-W47,sales,,2,1,1,1,50,",
    "2026-W47,ops,,1,1,0,0,100,",
    "total,sales,,6,5,1,1,83,",
    "total,ops,,2,1,0,1,50,",
    "2026-W45,sales,anna,1,1,0,0,100,done",
    "2026-W45,sales,bo,1,1,0,0,100,done",
    "2026-W46,sales,anna,1,1,0,0,100,done",
    "2026-W46,sales,bo,1,1,0,0,100,no_change",
    "2026-W46,ops,cai,1,0,0,1,0,missing",
    "2026-W47,sales,anna,1,1,1,0,100,skipped",
    "2026-W47,sales,bo,1,0,0,1,0,missing",
    "2026-W47,ops,cai,1,1,0,0,100,done",
    "total,,anna,3,3,1,0,100,",
    "total,,bo,3,2,0,1,67,",
    "total,,cai,2,1,0,1,50,",
]


async def seed(db: Database, weeks_later: int = 0) -> None:
    """The data set; `weeks_later` > 0 adds the same history and rounds again, that many weeks on
    (more rows, same shape)."""
    async with db.transaction() as session:
        if not weeks_later:
            await import_document(session, parse_okr_text(OKRS, "okrs.yaml"), now=IMPORTED)
            await session.flush()
        people = {p.handle: p for p in (await session.execute(select(Person))).scalars()}
        krs = {k.key: k for k in (await session.execute(select(KeyResult))).scalars()}
        later = timedelta(weeks=weeks_later)
        for when, key, who, old, new, health, confidence, source, comment in HISTORY:
            session.add(
                KeyResultUpdate(
                    key_result_id=krs[key].id,
                    person_id=people[who].id if who else None,
                    created_at=when.replace(tzinfo=UTC) + later,
                    old_value=old,
                    new_value=new,
                    health=health,
                    confidence=confidence,
                    source=source,
                    comment=comment,
                )
            )
        for handle, period, status in ROUNDS:
            year, week = period.split("-W")
            moved = date.fromisocalendar(int(year), int(week), 1) + later
            label = "{}-W{:02d}".format(*moved.isocalendar()[:2])
            session.add(CheckinRound(person_id=people[handle].id, period=label, status=status))


@pytest.fixture
async def data(db):
    await seed(db)
    return db


async def report(db: Database, clock=None, **filters):
    async with db.session() as session:
        return await build_report(session, clock=clock or (lambda: NOW), **filters)


NOW = datetime(2026, 11, 22, 11, 0, tzinfo=UTC)


# --- updates ------------------------------------------------------------------------------------


async def test_csv_has_the_documented_columns_and_every_update_in_order(data):
    text = render(await report(data), "csv")
    assert text.splitlines() == [HEADER, *ROWS]
    assert HEADER == (
        "time,team,objective,key_result,title,owner,person,old_value,new_value,unit,progress,"
        "health,confidence,source,comment"
    )


@pytest.mark.parametrize(
    ("filters", "expected"),
    [
        ({"team": "ops"}, [6]),
        ({"team": "SALES"}, [0, 1, 2, 3, 4, 5]),
        ({"person": "anna"}, [1, 3, 5]),  # what she wrote, and what others wrote on hers
        ({"person": "lead"}, [5]),
        ({"person": "bo", "team": "ops"}, []),
        # days in the organisation's zone, inclusive: 8 Nov 23:30 UTC is 9 Nov in Copenhagen,
        # 10 Nov 22:30 UTC is still 10 Nov there
        ({"since": date(2026, 11, 9), "until": date(2026, 11, 10)}, [3, 4]),
        ({"until": date(2026, 11, 8)}, [0, 1, 2]),
        ({"since": date(2026, 11, 16)}, [5, 6]),
        ({"since": date(2026, 11, 17)}, []),
    ],
)
async def test_filters_by_team_person_and_days(data, filters, expected):
    lines = render(await report(data, **filters), "csv").splitlines()
    assert lines == [HEADER, *(ROWS[i] for i in expected)]


async def test_json_has_the_filters_typed_updates_and_the_rates(data):
    found = json.loads(render(await report(data, team="sales", since=date(2026, 11, 10)), "json"))
    assert list(found) == ["organization", "timezone", "filters", "updates", "checkin_rates"]
    assert found["organization"] == "Testco" and found["timezone"] == "Europe/Copenhagen"
    assert found["filters"] == {
        "team": "sales",
        "person": None,
        "since": "2026-11-10",
        "until": None,
    }
    assert found["updates"] == [
        {
            "time": "2026-11-10T23:30:00+01:00",
            "team": "sales",
            "objective": "S-1",
            "key_result": "S-1.2",
            "title": "Pipeline",
            "owner": "bo",
            "person": None,
            "old_value": 200,
            "new_value": 250,
            "unit": "DKK",
            "progress": 38,
            "health": "on_track",
            "confidence": None,
            "source": "api",
            "comment": "from CRM",
        },
        {
            "time": "2026-11-16T10:00:00+01:00",
            "team": "sales",
            "objective": "S-1",
            "key_result": "S-1.1",
            "title": "Deals closed",
            "owner": "anna",
            "person": "lead",
            "old_value": 3,
            "new_value": 4,
            "unit": "deals",
            "progress": 40,
            "health": None,
            "confidence": None,
            "source": "command",
            "comment": None,
        },
    ]
    rates = found["checkin_rates"]
    assert rates["weeks"] == ["2026-W46", "2026-W47"]  # 10 Nov (W46) .. today 22 Nov (W47)
    assert rates["teams"][0] == {
        "week": "2026-W46",
        "team": "sales",
        "person": None,
        "expected": 2,
        "checked_in": 2,
        "skipped": 0,
        "missing": 0,
        "rate": 100,
        "status": None,
    }
    assert [(r["week"], r["person"], r["status"], r["rate"]) for r in rates["people"]] == [
        ("2026-W46", "anna", "done", 100),
        ("2026-W46", "bo", "no_change", 100),
        ("2026-W47", "anna", "skipped", 100),
        ("2026-W47", "bo", "missing", 0),
        ("total", "anna", None, 100),
        ("total", "bo", None, 50),
    ]
    only_rates = json.loads(render(await report(data), "json", rates=True))
    assert "updates" not in only_rates and "checkin_rates" in only_rates


async def test_markdown_has_a_title_the_updates_and_both_rate_tables(data):
    text = render(
        await report(data, team="ops", since=date(2026, 11, 2), until=date(2026, 11, 22)), "md"
    )
    lines = text.splitlines()
    assert lines[0] == "# OKR report: Testco"
    assert lines[2] == (
        "Team: ops · Person: everyone · From 2026-11-02 to 2026-11-22 · Times in Europe/Copenhagen"
    )
    updates = lines.index("## Updates (1)")
    assert lines[updates + 2].startswith("| Time | Team | Key result | Owner | By | Old → new |")
    assert lines[updates + 4] == (
        "| 2026-11-16 11:00 | ops | O-1.1 Release pipeline done | cai | cai | – → 1 | 100% "
        "| on_track |  | dm | pipeline \\| live |"
    )
    teams = lines.index("## Check-in rate per team")
    assert lines[teams + 2 : teams + 7] == [
        "| Week | Team | Checked in | Skipped | Missing | Rate |",
        "|---|---|---|---|---|---|",
        "| 2026-W46 | ops | 0 of 1 | 0 | 1 | 0% |",
        "| 2026-W47 | ops | 1 of 1 | 0 | 0 | 100% |",
        "| total | ops | 1 of 2 | 0 | 1 | 50% |",
    ]
    people = lines.index("## Check-ins per person")
    assert lines[people + 4] == "| 2026-W46 | cai | ops | missing | 0% |"
    assert lines[people + 6] == "| total | cai |  | 1 of 2 checked in, 0 skipped | 50% |"
    assert text.rstrip().endswith("Rate = checked in / expected.")


async def test_no_updates_in_markdown_says_so(data):
    text = render(await report(data, since=date(2026, 12, 1), until=date(2026, 12, 1)), "md")
    assert "## Updates (0)\n\nNo updates." in text


# --- check-in rate -------------------------------------------------------------------------------


async def test_checkin_rate_per_team_and_person_per_week(data):
    found = await report(data, since=date(2026, 11, 2), until=date(2026, 11, 22))
    assert render(found, "csv", rates=True).splitlines() == RATES


async def test_checkin_rate_follows_the_filters(data):
    found = await report(data, person="bo", since=date(2026, 11, 2), until=date(2026, 11, 22))
    assert render(found, "csv", rates=True).splitlines() == [
        RATES[0],
        "2026-W45,sales,,1,1,0,0,100,",
        "2026-W46,sales,,1,1,0,0,100,",
        "2026-W47,sales,,1,0,0,1,0,",
        "total,sales,,3,2,0,1,67,",
        "2026-W45,sales,bo,1,1,0,0,100,done",
        "2026-W46,sales,bo,1,1,0,0,100,no_change",
        "2026-W47,sales,bo,1,0,0,1,0,missing",
        "total,,bo,3,2,0,1,67,",
    ]
    nobody = await report(data, person="lead", since=date(2026, 11, 2))
    assert nobody.teams == [] and nobody.people == []  # owns nothing: never expected


async def test_by_default_the_weeks_run_from_the_period_start_to_today(data):
    found = await report(data, team="sales")
    # 2026-Q4 starts on Thursday 1 Oct (W40); today is Sunday 22 Nov (W47)
    assert found.weeks == [f"2026-W{n}" for n in range(40, 48)]
    assert [(r.week, r.expected, r.missing) for r in found.teams[:2]] == [
        ("2026-W40", 2, 2),
        ("2026-W41", 2, 2),
    ]


async def test_statement_count_does_not_grow_with_the_rows(data):
    async def statements() -> int:
        seen = []

        def count(*_args):
            seen.append(1)

        event.listen(data.engine.sync_engine, "before_cursor_execute", count)
        try:
            found = await report(data, since=date(2026, 10, 1), until=date(2027, 1, 31))
        finally:
            event.remove(data.engine.sync_engine, "before_cursor_execute", count)
        return len(seen), len(found.updates), len(found.people)

    small, small_updates, small_people = await statements()
    await seed(data, weeks_later=3)
    await seed(data, weeks_later=6)
    large, large_updates, large_people = await statements()
    assert large_updates == small_updates + 12 and large_people == small_people
    assert large == small


# --- the command line ---------------------------------------------------------------------------


@pytest.fixture
async def cli(tmp_path):
    """A SQLite file with the data set, and the environment `okrbot` runs in."""
    url = f"sqlite:///{tmp_path / 'report.db'}"
    upgrade(url)
    database = Database(url)
    try:
        await seed(database)
    finally:
        await database.dispose()
    env = {
        k: v for k, v in os.environ.items() if not k.startswith(("SLACK_", "MICROSOFT_", "OKRBOT_"))
    }
    env.update(DATABASE_URL=url, OKRBOT_LOG_LEVEL="WARNING")
    return env


def okrbot(*args: str, env: dict, cwd: Path) -> subprocess.CompletedProcess:
    return subprocess.run(
        [OKRBOT, "report", *args], capture_output=True, text=True, env=env, cwd=cwd, timeout=120
    )


def test_okrbot_report_writes_csv_to_stdout(cli, tmp_path):
    result = okrbot(
        "--team", "sales", "--since", "2026-11-09", "--until", "2026-11-10", env=cli, cwd=tmp_path
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.splitlines() == [HEADER, ROWS[3], ROWS[4]]
    assert result.stderr == ""
    rates = okrbot(
        "--rates", "--since", "2026-11-02", "--until", "2026-11-22", env=cli, cwd=tmp_path
    )
    assert rates.returncode == 0, rates.stderr
    assert rates.stdout.splitlines() == RATES


def test_okrbot_report_writes_json_and_markdown_to_a_file(cli, tmp_path):
    result = okrbot("--person", "cai", "--format", "json", "--out", "r.json", env=cli, cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    assert result.stdout == "" and result.stderr.strip() == "Wrote r.json."
    found = json.loads((tmp_path / "r.json").read_text())
    assert [u["key_result"] for u in found["updates"]] == ["O-1.1"]
    result = okrbot("--format", "md", "--out", "r.md", env=cli, cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    assert (tmp_path / "r.md").read_text().startswith("# OKR report: Testco\n")


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--team", "nope"], "okrbot: no team 'nope' (known: sales, ops)"),
        (["--team", "slaes"], "okrbot: no team 'slaes' (closest: sales)"),
        (["--person", "nobody"], "okrbot: no person 'nobody' (known: anna, bo, cai, lead)"),
        (
            ["--since", "2026-13-01"],
            "okrbot: --since must be a date like 2026-11-02, not '2026-13-01'",
        ),
        (["--until", "20261101"], "okrbot: --until must be a date like 2026-11-02, not '20261101'"),
        (
            ["--since", "2026-11-10", "--until", "2026-11-01"],
            "okrbot: --since 2026-11-10 is after --until 2026-11-01",
        ),
        (["--format", "xml"], "okrbot: --format must be one of csv, json, md, not 'xml'"),
    ],
)
def test_bad_usage_exits_2_with_one_line(cli, tmp_path, args, message):
    result = okrbot(*args, env=cli, cwd=tmp_path)
    assert result.returncode == 2
    assert result.stderr.strip() == message
    assert result.stdout == ""


def test_an_unknown_option_is_bad_usage_too(cli, tmp_path):
    result = okrbot("--weeks", "3", env=cli, cwd=tmp_path)
    assert result.returncode == 2
    assert "Traceback" not in result.stderr


def test_a_report_of_an_empty_database_is_a_runtime_failure(tmp_path):
    env = {k: v for k, v in os.environ.items() if not k.startswith(("SLACK_", "MICROSOFT_"))}
    env.update(DATABASE_URL=f"sqlite:///{tmp_path / 'empty.db'}", OKRBOT_LOG_LEVEL="WARNING")
    result = okrbot(env=env, cwd=tmp_path)
    assert result.returncode == 1
    assert result.stderr.strip() == "okrbot: no OKRs have been imported yet"

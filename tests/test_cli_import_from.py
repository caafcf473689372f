"""`okrbot okrs import-from viva|sheet` run as a user runs it: a subprocess, sample exports on
disk (tests/landing_samples.py), a real SQLite file. Each export goes import-from -> OKR file ->
import -> `okrs export` and comes back the same; check-in history lands with its own dates; a
bad file is exit 2 naming the file and the row or JSON path, and changes nothing."""

from __future__ import annotations

import shutil
import sqlite3
import textwrap
from datetime import datetime
from pathlib import Path

import pytest

from tests.landing_samples import EXPLORER_CSV, SHEET_CSV, danish_xlsx, viva_zip, zip_items
from tests.processes import cli_env, run_okrbot


@pytest.fixture
def env(tmp_path):
    return cli_env(tmp_path)


okrbot = run_okrbot


def query(tmp_path: Path, sql: str, *params) -> list[tuple]:
    with sqlite3.connect(tmp_path / "cli.db") as conn:
        return conn.execute(sql, params).fetchall()


def counts(tmp_path: Path) -> dict[str, int]:
    tables = ("person", "team", "objective", "key_result", "key_result_update")
    return {t: query(tmp_path, f"SELECT count(*) FROM {t}")[0][0] for t in tables}


def history(tmp_path: Path, title: str) -> list[tuple]:
    return query(
        tmp_path,
        "SELECT u.created_at, u.old_value, u.new_value, u.health, u.comment, u.source "
        "FROM key_result_update u JOIN key_result k ON k.id = u.key_result_id "
        "WHERE k.title = ? ORDER BY u.created_at, u.id",
        title,
    )


def exported(tmp_path: Path, env: dict) -> str:
    result = okrbot("okrs", "export", env=env, cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    return result.stdout


def test_viva_zip_lands_with_its_history_and_exports_back_the_same(tmp_path, env):
    viva_zip(tmp_path / "viva.zip")
    args = ("okrs", "import-from", "viva", "viva.zip", "--apply", "--out", "okrs.yaml")
    result = okrbot(*args, "--organization", "Nordlys Retail", env=env, cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == (
        "Imported viva.zip: created 1 organization, 7 people, 4 teams, 7 memberships, "
        "4 objectives, 8 key results; 3 values from the file; "
        "10 check-ins of 5 key results as history."
    )
    assert "Could not be mapped (6):" in result.stderr
    assert "viva.zip:objectives.json[12]: unknown owner 'u-ghost'" in result.stderr
    assert "Wrote okrs.yaml." in result.stderr
    # the check-ins are the key result's history, with their own dates and notes
    assert history(tmp_path, "Annual revenue") == [
        ("2026-10-05 08:30:00.000000", None, 51200000.0, "on_track", "September close is in", "import"),
        ("2026-10-19 08:30:00.000000", 51200000.0, 52100000.0, "on_track", None, "import"),
        ("2026-11-16 08:30:00.000000", 52100000.0, 53600000.0, "at_risk", "Black Friday will tell", "import"),
    ]  # fmt: skip
    assert query(
        tmp_path,
        "SELECT current, health, updated_at, updated_source, file_current FROM key_result "
        "WHERE title = 'Annual revenue'",
    ) == [(53600000.0, "at_risk", "2026-11-16 08:30:00.000000", "import", 53600000.0)]
    assert [row[3:] for row in history(tmp_path, "Målrettede kampagner lanceret")] == [
        ("on_track", "to kampagner fra butiksdata", "import"),
        ("on_track", None, "import"),
    ]
    # a key result without check-ins gets its value (and status) once, now
    (returns,) = history(tmp_path, "Returns handled within 48 hours")
    assert returns[1:] == (None, 88.0, "on_track", None, "import")
    assert datetime.fromisoformat(returns[0]).year >= 2026
    # round trip: what okrbot exports is the file that was written
    written = (tmp_path / "okrs.yaml").read_text()
    assert exported(tmp_path, env) == written
    before = counts(tmp_path)
    again = okrbot(*args, env=env, cwd=tmp_path)  # the organisation's name is kept now
    assert again.returncode == 0, again.stderr
    assert again.stdout.strip() == "Imported viva.zip: nothing changed."
    assert counts(tmp_path) == before
    assert (tmp_path / "okrs.yaml").read_text() == written


def test_explorer_csv_to_a_file_then_okrs_import(tmp_path, env):
    shutil.copy(EXPLORER_CSV, tmp_path / "export.csv")
    args = ("okrs", "import-from", "viva", "export.csv", "--out", "okrs.yaml")
    result = okrbot(*args, "--organization", "Nordlys Retail", env=env, cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    assert result.stdout == ""
    lines = result.stderr.splitlines()
    assert lines[:3] == [
        "Read export.csv:",
        "  columns used: 'ID', 'Title', 'Type', 'Owner', 'Owner email', 'Team', 'Time period', "
        "'Parent ID', 'Start value', 'Target value', 'Current value', 'Unit', 'Progress', 'Status'",
        "  columns ignored: 'Description', 'Last check-in'",
    ]
    assert "Converted: 4 objectives, 8 key results, 6 people, 4 teams, 0 check-ins" in lines
    assert (
        "  export.csv:12: objective 'Open two new stores' is aligned to '9999', which is not in "
        "the export: left without alignment" in lines
    )
    assert not (tmp_path / "cli.db").exists()  # converting alone touches no database
    imported = okrbot("okrs", "import", "okrs.yaml", env=env, cwd=tmp_path)
    assert imported.returncode == 0, imported.stderr
    assert exported(tmp_path, env) == (tmp_path / "okrs.yaml").read_text()
    assert query(tmp_path, "SELECT source, count(*) FROM key_result_update GROUP BY 1") == [
        ("import", 8)
    ]


def test_danish_xlsx_lands(tmp_path, env):
    danish_xlsx(tmp_path / "eksport.xlsx")
    args = ("okrs", "import-from", "viva", "eksport.xlsx", "--apply", "--out", "okrs.yaml")
    result = okrbot(
        *args, "--locale", "da", "--timezone", "Europe/Copenhagen", env=env, cwd=tmp_path
    )
    assert result.returncode == 0, result.stderr
    assert "  columns ignored: 'Beskrivelse'" in result.stderr
    assert "eksport.xlsx:12: key result 'Tilfredse kunder' has no target value" in result.stderr
    text = (tmp_path / "okrs.yaml").read_text()
    assert "title: Øg omsætningen med 20 %" in text and "locale: da" in text
    assert exported(tmp_path, env) == text
    assert query(
        tmp_path,
        "SELECT o.key, p.key FROM objective o JOIN objective p ON p.id = o.aligned_to_id "
        "ORDER BY o.id",
    ) == [("MAR-1", "NOR-1"), ("CRM-1", "MAR-1")]


def test_the_sample_sheet_lands_with_its_weekly_values(tmp_path, env):
    args = ("okrs", "import-from", "sheet", str(SHEET_CSV), "--apply")
    result = okrbot(*args, "--timezone", "Europe/Copenhagen", env=env, cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip().endswith("; 17 check-ins of 5 key results as history.")
    assert [(row[0], row[2]) for row in history(tmp_path, "Segmented campaigns launched")] == [
        ("2026-10-05 10:00:00.000000", 2.0),  # 12:00 in Copenhagen
        ("2026-10-19 10:00:00.000000", 3.0),
        ("2026-11-02 11:00:00.000000", 4.0),
        ("2026-11-16 11:00:00.000000", 5.0),
    ]
    text = exported(tmp_path, env)
    assert text.startswith("organization: Nordlys\n")  # the team at the top
    # without --out or --apply the OKR file goes to stdout: the same file
    out = okrbot(*args[:-1], "--timezone", "Europe/Copenhagen", env=env, cwd=tmp_path)
    assert out.returncode == 0, out.stderr
    assert out.stdout == text


def test_into_an_organisation_that_is_already_there(tmp_path, env):
    (tmp_path / "okrs.yaml").write_text(
        textwrap.dedent(
            """\
            organization: Nordlys Retail
            period: 2026-Q4
            timezone: Europe/Copenhagen
            exec_channel: C0EXEC
            people:
              - {id: mette, name: Mette Lund, email: Mette@Nordlys.example, slack: U0METTE, role: lead}
              - {id: ceo, name: Sofie Berg, email: sofie@nordlys.example}
            teams:
              - {slug: marketing, name: Marketing, channel: C0MKT, leads: [mette]}
            objectives:
              - id: OLD-1
                team: marketing
                title: Keep what is there
                key_results:
                  - {id: OLD-1.1, title: Old key result, start: 0, target: 10, current: 3, owner: mette}
            """
        )
    )
    assert okrbot("okrs", "import", "okrs.yaml", env=env, cwd=tmp_path).returncode == 0
    sheet = (
        "Objective,Team,Period,Key result,Start,Target,Owner,Owner email\n"
        "More subscribers,marketing,2026-Q4,Subscribers,0,100,Mette Lund,mette@nordlys.example\n"
        "More subscribers,marketing,2026-Q4,Open rate,20,30,Sofie Berg,SOFIE@nordlys.example\n"
    )
    (tmp_path / "sheet.csv").write_text(sheet)
    result = okrbot(
        "okrs",
        "import-from",
        "sheet",
        "sheet.csv",
        "--apply",
        "--out",
        "new.yaml",
        env=env,
        cwd=tmp_path,
    )
    assert result.returncode == 0, result.stderr
    assert query(tmp_path, "SELECT name, timezone, exec_channel FROM organization") == [
        ("Nordlys Retail", "Europe/Copenhagen", "C0EXEC")
    ]
    # owners matched by email keep their handles (and Slack ids); the team keeps its lead
    assert query(
        tmp_path,
        "SELECT k.key, p.handle, p.slack_id FROM key_result k JOIN person p ON p.id = k.owner_id "
        "ORDER BY k.id",
    ) == [
        ("OLD-1.1", "mette", "U0METTE"),
        ("MAR-1.1", "mette", "U0METTE"),
        ("MAR-1.2", "ceo", None),
    ]
    assert query(tmp_path, "SELECT count(*) FROM person") == [(2,)]
    assert query(
        tmp_path,
        "SELECT t.channel, p.handle, m.role FROM team t JOIN team_member m ON m.team_id = t.id "
        "JOIN person p ON p.id = m.person_id",
    ) == [("C0MKT", "mette", "lead")]
    assert "Keep what is there" in exported(tmp_path, env)


def test_bad_files_exit_2_name_the_place_and_change_nothing(tmp_path, env):
    viva_zip(tmp_path / "viva.zip")
    args = ("okrs", "import-from", "viva", "viva.zip", "--apply")
    assert okrbot(*args, env=env, cwd=tmp_path).returncode == 0
    before = counts(tmp_path)
    (tmp_path / "okrs.yaml").write_text("kept\n")

    text = EXPLORER_CSV.read_text().replace(",0,12,5,campaigns,", ",0,tolv,5,campaigns,")
    (tmp_path / "bad.csv").write_text(text)
    result = okrbot(
        "okrs", "import-from", "viva", "bad.csv", "--apply", "--out", "okrs.yaml",
        env=env, cwd=tmp_path,
    )  # fmt: skip
    assert result.returncode == 2
    assert result.stderr == "bad.csv:5: 'Target value' must be a number (got 'tolv')\n"

    objectives = zip_items("objectives.json")
    objectives[3]["target"] = "tolv"
    viva_zip(tmp_path / "bad.zip", {"objectives.json": objectives})
    result = okrbot(
        "okrs", "import-from", "viva", "bad.zip", "--apply", "--out", "okrs.yaml",
        env=env, cwd=tmp_path,
    )  # fmt: skip
    assert result.returncode == 2
    assert result.stderr == "bad.zip:objectives.json[3].target: must be a number (got 'tolv')\n"

    sheet = SHEET_CSV.read_text().replace(
        ",2026-Q4,CO-1,omnichannel,MKT-1.3,", ",snart,CO-1,omnichannel,MKT-1.3,"
    )
    (tmp_path / "bad-sheet.csv").write_text(sheet)
    result = okrbot(
        "okrs", "import-from", "sheet", "bad-sheet.csv", "--apply", env=env, cwd=tmp_path
    )
    assert result.returncode == 2
    assert result.stderr.startswith("bad-sheet.csv:5: 'Period' is not a time period")

    missing = okrbot("okrs", "import-from", "sheet", "nope.csv", env=env, cwd=tmp_path)
    assert missing.returncode == 2
    assert missing.stderr == "nope.csv: cannot read the file: No such file or directory\n"
    wrong = okrbot("okrs", "import-from", "sheet", "viva.zip", env=env, cwd=tmp_path)
    assert wrong.returncode == 2 and wrong.stderr.startswith("viva.zip: not a readable XLSX")
    for result in (missing, wrong):
        assert "Traceback" not in result.stderr
    assert counts(tmp_path) == before
    assert (tmp_path / "okrs.yaml").read_text() == "kept\n"
    assert sorted(p.name for p in tmp_path.iterdir() if p.name.startswith(".okrs")) == []


def test_a_database_that_cannot_be_reached_writes_no_file(tmp_path, env):
    shutil.copy(EXPLORER_CSV, tmp_path / "export.csv")
    env["DATABASE_URL"] = "postgresql+psycopg://nobody@127.0.0.1:1/none"
    args = ("okrs", "import-from", "viva", "export.csv", "--apply", "--out", "okrs.yaml")
    result = okrbot(*args, env=env, cwd=tmp_path)
    assert result.returncode == 1
    assert result.stderr.startswith("okrbot: cannot migrate")
    assert sorted(p.name for p in tmp_path.iterdir()) == ["export.csv"]


def test_bad_options_exit_2(tmp_path, env):
    shutil.copy(EXPLORER_CSV, tmp_path / "export.csv")
    result = okrbot(
        "okrs", "import-from", "viva", "export.csv", "--locale", "fr", env=env, cwd=tmp_path
    )
    assert (result.returncode, result.stderr) == (
        2,
        "okrbot: --locale must be en or da, not 'fr'\n",
    )
    result = okrbot(
        "okrs",
        "import-from",
        "viva",
        "export.csv",
        "--timezone",
        "Mars/Olympus",
        env=env,
        cwd=tmp_path,
    )
    assert result.returncode == 2 and "--timezone must be an IANA time zone" in result.stderr

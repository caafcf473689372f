"""Landing OKRs from Viva Goals and spreadsheets, the pure part: cells read the way people write
them, headers matched in English and Danish, and realistic exports turned into a valid OKR file
with a report of what could not be mapped (tests/landing_samples.py builds the exports)."""

from __future__ import annotations

from datetime import UTC, date, datetime

import pytest

from bot.okrfile.landing import Settings, land
from bot.okrfile.schema import PersonSpec, parse_okr_text
from bot.okrfile.sheet import read_sheet
from bot.okrfile.tables import (
    SourceError,
    map_columns,
    parse_health,
    parse_number,
    parse_period_name,
    parse_progress,
    parse_when,
)
from bot.okrfile.viva import EXPLORER_COLUMNS, read_viva
from tests.landing_samples import (
    EXPLORER_CSV,
    SHEET_CSV,
    danish_xlsx,
    viva_zip,
    zip_items,
)


def notes(landing) -> list[str]:
    return [str(n) for n in landing.notes]


def kr(doc, title):
    return next(k for o in doc.objectives for k in o.key_results if k.title == title)


def objective(doc, title):
    return next(o for o in doc.objectives if o.title == title)


# ---- cells ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "text, decimal_comma, value",
    [
        ("4100", False, 4100),
        ("4,100", False, 4100),
        ("4.100", True, 4100),
        ("1.5", False, 1.5),
        ("1,5", True, 1.5),
        ("1,5", False, 1.5),  # cannot be thousands
        ("50.000.000", True, 50_000_000),
        ("50 000 000", True, 50_000_000),
        ("1.234,5", False, 1234.5),
        ("1,234.5", True, 1234.5),
        ("-3", False, -3),
        ("12 %", False, 12),
        (7, False, 7),
        ("", False, None),
        (None, False, None),
    ],
)
def test_numbers_as_people_write_them(text, decimal_comma, value):
    assert parse_number(text, decimal_comma) == value


@pytest.mark.parametrize("text", ["tolv", "12 campaigns", "1.2.3,4,5", "--"])
def test_what_is_not_a_number_is_refused_with_what_was_written(text):
    with pytest.raises(ValueError, match="must be a number"):
        parse_number(text)


@pytest.mark.parametrize(
    "text, label",
    [
        ("2026-Q4", "2026-Q4"),
        ("Q4 2026", "2026-Q4"),
        ("q3-2026", "2026-Q3"),
        ("2026 Q1", "2026-Q1"),
        ("4. kvartal 2026", "2026-Q4"),
        ("K2 2026", "2026-Q2"),
        ("Kvartal 3 2026", "2026-Q3"),
        ("H2 2026", "2026-07-01..2026-12-31"),
        ("1. halvår 2026", "2026-01-01..2026-06-30"),
        ("2026", "2026-01-01..2026-12-31"),
        ("2026-10-01 - 2026-12-31", "2026-Q4"),
        ("01-09-2026..30-11-2026", "2026-09-01..2026-11-30"),
    ],
)
def test_time_periods_become_spec_labels(text, label):
    assert parse_period_name(text) == label


def test_a_fiscal_period_is_refused_rather_than_guessed():
    with pytest.raises(ValueError, match="fiscal"):
        parse_period_name("FY26 Q1")
    with pytest.raises(ValueError, match="not a time period"):
        parse_period_name("next quarter")


def test_dates_progress_and_health():
    assert parse_when("2026-10-05") == date(2026, 10, 5)
    assert parse_when("2026-10-05T08:30:00Z") == datetime(2026, 10, 5, 8, 30, tzinfo=UTC)
    assert parse_when("05-10-2026") == date(2026, 10, 5)
    assert parse_when("10/5/2026") == date(2026, 10, 5)
    assert parse_when("10/5/2026", decimal_comma=True) == date(2026, 5, 10)
    with pytest.raises(ValueError, match="not a date"):
        parse_when("31-02-2026")
    assert parse_progress("45%") == pytest.approx(0.45)
    assert parse_progress(0.45) == pytest.approx(0.45)
    assert parse_progress("45") == pytest.approx(0.45)
    assert parse_health("OnTrack") == ("on_track", True)
    assert parse_health("På sporet") == ("on_track", True)
    assert parse_health("I risiko") == ("at_risk", True)
    assert parse_health("Behind") == ("off_track", True)
    assert parse_health("Not started") == (None, True)
    assert parse_health("Purple") == (None, False)


def test_headers_match_whatever_the_case_spacing_and_language():
    columns = map_columns(
        ["  TITLE ", "target_value", "Målværdi", "MAALVAERDI", "Ejer", "Notes", "start-value"],
        EXPLORER_COLUMNS,
    )
    assert columns.index == {"title": 0, "target": 1, "owner": 4, "start": 6}
    assert columns.ignored == ["Målværdi", "MAALVAERDI", "Notes"]  # a second target is not used


# ---- the Viva Goals Explorer export --------------------------------------------------------


def test_explorer_csv_in_english():
    found = read_viva(EXPLORER_CSV.read_bytes(), "export.csv")
    landing = land(found, Settings(organization="Nordlys Retail"))
    doc = landing.document
    assert landing.read[:2] == [
        "columns used: 'ID', 'Title', 'Type', 'Owner', 'Owner email', 'Team', 'Time period', "
        "'Parent ID', 'Start value', 'Target value', 'Current value', 'Unit', 'Progress', 'Status'",
        "columns ignored: 'Description', 'Last check-in'",
    ]
    assert [o.title for o in doc.objectives] == [
        "Grow revenue by 20%",
        "Turn in-store data into segmented campaigns",
        "Win back lapsed loyalty members",
        "Open two new stores",
    ]
    assert doc.period == "2026-Q4"
    assert objective(doc, "Open two new stores").period == "2026-Q3"
    # nested alignment: CRM -> marketing -> the company
    company, marketing, crm, _ = (o.id for o in doc.objectives)
    assert objective(doc, "Win back lapsed loyalty members").aligned_to == marketing
    assert objective(doc, "Turn in-store data into segmented campaigns").aligned_to == company
    assert {t.slug: t.parent for t in doc.teams} == {
        "company": None,
        "marketing": "company",
        "crm": "marketing",
        "retail": "company",
    }
    subscribers = kr(doc, "Email subscribers from in-store receipts")
    assert (subscribers.start, subscribers.target, subscribers.current) == (2000, 10000, 4100)
    assert kr(doc, "Share of revenue from omnichannel customers").unit == "%"
    # one person per email, whatever its case; owners matched by email
    anna = [p for p in doc.people if p.name == "Anna Holm"]
    assert len(anna) == 1 and anna[0].email == "anna@nordlys.example"
    assert kr(doc, "Segmented campaigns launched").owner == anna[0].id
    assert notes(landing) == [
        "export.csv:6: owner 'Jonas Krogh' of key result 'Email subscribers from in-store "
        "receipts' has no email: added as person 'jonas.krogh' without one (add their email, "
        "or Slack or Teams id, to the OKR file)",
        "export.csv:8: key result 'Loyalty programme launched' has no target value: imported "
        "as a milestone (0-100 %) at its progress, 20 %",
        "export.csv:9: 1 initiative(s) left out (rows 9): okrbot keeps objectives and key results",
        "export.csv:12: objective 'Open two new stores' is aligned to '9999', which is not in "
        "the export: left without alignment",
        "export.csv:14: key result 'Share of revenue from omnichannel customers' has no owner: "
        "given to its objective's owner",
    ]
    loyalty = kr(doc, "Loyalty programme launched")
    assert (loyalty.type, loyalty.current) == ("milestone", 20)
    assert parse_okr_text(landing.text) == doc


def test_explorer_xlsx_in_danish(tmp_path):
    data = danish_xlsx(tmp_path / "eksport.xlsx").read_bytes()
    landing = land(read_viva(data, "eksport.xlsx"), Settings(locale="da"))
    doc = landing.document
    assert "read the sheet 'OKR'er' (the workbook's active sheet)" in landing.read
    assert "columns ignored: 'Beskrivelse'" in landing.read
    assert doc.organization == "Nordlys"  # no team-less objectives: the file's top team
    assert doc.locale == "da"
    members = kr(doc, "Nye klubmedlemmer")
    assert (members.target, members.current, members.unit) == (4000, 1250, "medlemmer")
    basket = kr(doc, "Gennemsnitlig kurv")
    assert (basket.start, basket.current) == (350.5, 372.25)
    goal, club, win_back, stores = doc.objectives
    assert (club.aligned_to, win_back.aligned_to, stores.aligned_to) == (goal.id, club.id, None)
    assert stores.period == "2026-Q3" and doc.period == "2026-Q4"
    # a name without an email matches the person of that name who has one
    assert kr(doc, "Nye butikker åbnet").owner == kr(doc, "Reaktiverede medlemmer").owner.replace(
        "oliver", "lars"
    )
    text = "\n".join(notes(landing))
    assert "eksport.xlsx:10: objective 'Åbn to nye butikker' is aligned to 'Et mål der ikke" in text
    assert "eksport.xlsx:12: owner 'Karen Dahl'" in text
    assert "eksport.xlsx:12: key result 'Tilfredse kunder' has no target value" in text
    assert "1 initiative(s) left out (rows 7)" in text


def test_explorer_bad_cells_name_the_row_and_column():
    text = EXPLORER_CSV.read_text().replace(",0,12,5,campaigns,", ",0,tolv,5,campaigns,")
    text = text.replace("Q3 2026,9999", "FY26 Q1,9999")
    with pytest.raises(SourceError) as caught:
        read_viva(text.encode(), "export.csv")
    assert [str(p) for p in caught.value.problems] == [
        "export.csv:5: 'Target value' must be a number (got 'tolv')",
        "export.csv:12: 'Time period' cannot tell the dates of the fiscal period 'FY26 Q1': "
        "name it as 2025-Q4 or 2025-10-01..2025-12-31",
    ]


def test_a_file_without_the_needed_columns_says_which_it_has():
    with pytest.raises(SourceError, match=r"x.csv:1: no 'Title' column \(found: 'Overskrift'"):
        read_viva(b"Overskrift,Type\nA,Objective\n", "x.csv")
    with pytest.raises(SourceError, match="x.csv: the file has no rows"):
        read_viva(b"\n\n", "x.csv")
    with pytest.raises(SourceError, match="x.csv: no objectives found: nothing to import"):
        land(read_viva(b"Title,Type\n", "x.csv"), Settings())
    with pytest.raises(SourceError, match="x.csv: no time period: no objective names one"):
        land(read_viva(b"Title,Type\nGrow,Objective\n", "x.csv"), Settings())


def test_semicolons_and_windows_1252_from_danish_excel():
    text = "Titel;Type;Ejer;Tidsperiode;Overordnet;Målværdi;Aktuel værdi\n"
    text += "Vækst;Mål;Sofie Berg;K4 2026;;;\n"
    text += "Omsætning;Nøgleresultat;Sofie Berg;K4 2026;Vækst;1.500.000;750.000,5\n"
    landing = land(read_viva(text.encode("cp1252"), "dk.csv"), Settings())
    assert "read as Windows-1252 text (not UTF-8)" in landing.read
    revenue = kr(landing.document, "Omsætning")
    assert (revenue.target, revenue.current) == (1_500_000, 750_000.5)


# ---- the Viva Goals ZIP --------------------------------------------------------------------


def test_zip_of_json_files(tmp_path):
    data = viva_zip(tmp_path / "viva.zip", folder="VivaGoalsExport/").read_bytes()
    landing = land(read_viva(data, "viva.zip"), Settings(organization="Nordlys Retail"))
    doc = landing.document
    assert landing.read == [
        "files used: VivaGoalsExport/time_periods.json, VivaGoalsExport/users.json, "
        "VivaGoalsExport/teams.json, VivaGoalsExport/objectives.json, "
        "VivaGoalsExport/checkins.json",
        "files ignored: VivaGoalsExport/README.txt",
    ]
    assert {t.slug: (t.parent, t.leads, t.members) for t in doc.teams} == {
        "nordlys": (None, ["sofie"], []),
        "marketing": ("nordlys", ["mette"], ["anna", "jonas"]),
        "crm-loyalitet": ("marketing", ["oliver"], []),
        "e-handel": ("nordlys", ["freja"], ["emil.soerensen"]),
    }
    revenue = kr(doc, "Annual revenue")
    assert [(e.at, e.value, e.health, e.comment) for e in landing.history[revenue.id]] == [
        (datetime(2026, 10, 5, 8, 30, tzinfo=UTC), 51_200_000, "on_track", "September close is in"),
        (datetime(2026, 10, 19, 8, 30, tzinfo=UTC), 52_100_000, "on_track", None),
        (
            datetime(2026, 11, 16, 8, 30, tzinfo=UTC),
            53_600_000,
            "at_risk",
            "Black Friday will tell",
        ),
    ]
    subscribers = kr(doc, "Email subscribers from in-store receipts")  # values under "metric"
    assert (subscribers.start, subscribers.target, subscribers.current, subscribers.unit) == (
        2000, 10000, 4100, None,
    )  # fmt: skip
    summer = objective(doc, "Sælg mere online i sommerperioden")
    assert summer.period == "2026-Q3" and summer.aligned_to is None
    assert kr(doc, "Checkout conversion").owner == "freja"
    assert notes(landing) == [
        "viva.zip:checkins.json: 1 check-in(s) of objectives or of items not in objectives.json "
        "left out (okrbot keeps values on key results)",
        "viva.zip:objectives.json: 1 initiative(s) left out",
        "viva.zip:objectives.json[5]: key result 'Loyalitetsprogram lanceret' has no target "
        "value: imported as a milestone (0-100 %) at its progress, 20 %",
        "viva.zip:objectives.json[9]: objective 'Sælg mere online i sommerperioden' is aligned "
        "to 'o-old-2025', which is not in the export: left without alignment",
        "viva.zip:objectives.json[12]: unknown owner 'u-ghost' of key result 'Checkout "
        "conversion', not among the export's users: given to its objective's owner 'freja'",
        "viva.zip:teams.json[3]: owner 'Emil Sørensen' of team E-handel has no email: added as "
        "person 'emil.soerensen' without one (add their email, or Slack or Teams id, to the "
        "OKR file)",
    ]


def test_zip_problems_name_the_json_path(tmp_path):
    objectives = zip_items("objectives.json")
    objectives[3]["target"] = "tolv"
    del objectives[7]["title"]
    objectives[9]["timePeriodId"] = "tp-2027-q1"
    checkins = zip_items("checkins.json")
    checkins[2]["date"] = "i går"
    data = viva_zip(
        tmp_path / "bad.zip", {"objectives.json": objectives, "checkins.json": checkins}
    ).read_bytes()
    with pytest.raises(SourceError) as caught:
        read_viva(data, "bad.zip")
    assert [str(p) for p in caught.value.problems] == [
        "bad.zip:objectives.json[3].target: must be a number (got 'tolv')",
        "bad.zip:objectives.json[7]: missing 'title'",
        "bad.zip:objectives.json[9].timePeriodId: names time period 'tp-2027-q1', which is not "
        "in time_periods.json",
        "bad.zip:checkins.json[2].date: is not a date (got 'i går'; use 2025-10-06)",
    ]


def test_zip_with_broken_json_or_without_objectives(tmp_path):
    data = viva_zip(tmp_path / "a.zip", {"users.json": '{"value": [\n  {"id": "u-1",,}'})
    with pytest.raises(SourceError, match=r"a.zip:users.json: bad JSON at line 2, column 16"):
        read_viva(data.read_bytes(), "a.zip")
    import zipfile

    with zipfile.ZipFile(tmp_path / "b.zip", "w") as archive:
        archive.writestr("teams.json", "[]")
    with pytest.raises(SourceError, match=r"b.zip: no objectives.json in the ZIP \(found: teams"):
        read_viva((tmp_path / "b.zip").read_bytes(), "b.zip")
    with pytest.raises(SourceError, match="c.zip: not a readable ZIP file"):
        read_viva(b"PK\x03\x04broken", "c.zip")


def test_owners_already_known_keep_their_handles():
    known = (PersonSpec(id="ahol", name="Anna Holm", email="anna@nordlys.example", slack="U0A"),)
    found = read_viva(EXPLORER_CSV.read_bytes(), "export.csv")
    doc = land(found, Settings(known_people=known)).document
    assert kr(doc, "Segmented campaigns launched").owner == "ahol"
    assert next(p for p in doc.people if p.id == "ahol").slack == "U0A"


# ---- the plain sheet -----------------------------------------------------------------------


def test_the_sample_sheet():
    landing = land(read_sheet(SHEET_CSV.read_bytes(), "okrs-sheet.csv"), Settings())
    doc = landing.document
    assert [o.id for o in doc.objectives] == ["CO-1", "MKT-1", "RET-1"]
    assert [k.id for k in objective(doc, "Turn in-store data into segmented campaigns").key_results] == [
        "MKT-1.1", "MKT-1.2", "MKT-1.3", "MKT-1.4",
    ]  # fmt: skip
    assert kr(doc, "Loyalty programme launched").type == "binary"
    shrinkage = kr(doc, "Shrinkage (% of sales)")
    assert (shrinkage.type, shrinkage.max, shrinkage.current) == ("threshold", 2, 1.4)
    assert "4 date column(s) read as check-in history" in landing.read
    campaigns = landing.history["MKT-1.1"]
    assert [(e.at.date(), e.value) for e in campaigns] == [
        (date(2026, 10, 5), 2), (date(2026, 10, 19), 3), (date(2026, 11, 2), 4),
        (date(2026, 11, 16), 5),
    ]  # fmt: skip
    assert campaigns[-1].health == "on_track"
    assert kr(doc, "Segmented campaigns launched").current == 5  # the latest check-in
    assert landing.notes == []


def test_sheet_in_danish_with_problems_by_row():
    text = (
        "Mål;Afdeling;Periode;Nøgleresultat;Startværdi;Målværdi;Ejer;Ejers e-mail;Vægt\n"
        "Flere kunder;Marketing;K4 2026;Nye medlemmer;0;4.000;Anna Holm;anna@nordlys.example;2\n"
        "Flere kunder;Marketing;K4 2026;Kurv;350,5;400;Anna Holm;;\n"
    )
    doc = land(read_sheet(text.encode(), "ark.csv"), Settings()).document
    (club,) = doc.objectives
    assert [(k.title, k.target, k.weight, k.owner) for k in club.key_results] == [
        ("Nye medlemmer", 4000, 2, "anna"),
        ("Kurv", 400, 1, "anna"),
    ]
    bad = text.replace(";2\n", ";tung\n").replace("K4 2026;Kurv", "snart;Kurv")
    with pytest.raises(SourceError) as caught:
        read_sheet(bad.encode(), "ark.csv")
    assert [str(p) for p in caught.value.problems] == [
        "ark.csv:2: 'Vægt' must be a number (got 'tung')",
        "ark.csv:3: 'Periode' is not a time period okrbot can read (got 'snart'; use 2025-Q4, "
        "Q4 2025 or 2025-10-01..2025-12-31)",
    ]

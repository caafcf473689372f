"""Digest content (bot/digest/content.py), the chart (bot/digest/chart.py) and `okr digest`, on the small
organisation of tests/test_digest_queries.py. Every number is worked out by hand below.

Pace: 2026-Q4 is 92 days, 52 have passed on 22 Nov -> 52/92 = 0.5652 -> "57%"; at risk by pace
below 0.5652 - 0.25 = 0.3152. A week ago = 15 Nov 11:00 UTC.

Key results, progress now / a week ago (points):
* CO-1.1 revenue 100 -> 200: 150 -> 0.5 (50%); 130 -> 0.3 (30%): +20. On track.
* CO-2.1 NPS 30 -> 50: 32 -> 0.1 (10%) both: ±0. Last update 1 Oct 09:00: 52 days -> stale;
  0.1 < 0.3152 -> at risk by pace, 57 - 10 = 47 points behind.
* SAL-1.1 deals 0 -> 10: 7 -> 70%; 4 -> 40%: +30. On track.
* SAL-1.2 cycle 100 -> 50 (lower is better), weight 3: 90 -> (90-100)/(50-100) = 0.2 (20%);
  a week ago the start 100 -> 0%: +20. Off track -> at risk.
* SAL-1.3 binary, never updated: 0% both; stale (never); 57 points behind pace.
* SAL-2.1 milestone: 55 -> 55%; 40 -> 40%: +15.
* OPS-1.1 threshold max 2: 1 -> 100%; 3 -> 0%: +100.
* OPS-1.2 0 -> 100: 35 -> 35%; 10 -> 10%: +25 (0.35 >= 0.3152: not at risk).
* OPS-2.1 % 20 -> 80: 26 -> 0.1 (10%) both: ±0; last update the import on 27 Sep, 56 days ->
  stale; 47 points behind pace.

Objectives, own (weighted) progress now / a week ago:
* CO-1 0.5 / 0.3; CO-2 0.1 / 0.1; SAL-2 0.55 / 0.40; OPS-2 0.1 / 0.1
* SAL-1 (0.7 + 3 x 0.2 + 0) / 5 = 0.26 (26%) / (0.4 + 0 + 0) / 5 = 0.08 (8%): +18
* OPS-1 (1 + 0.35) / 2 = 0.675 (68%) / (0 + 0.1) / 2 = 0.05 (5%): +63
Roll-up: SAL-1 = mean(0.26, OPS-2 0.1) = 0.18 / mean(0.08, 0.1) = 0.09;
CO-1 = mean(0.5, SAL-1 0.18, OPS-1 0.675) = 0.4517 (45%) / mean(0.3, 0.09, 0.05) = 0.1467 (15%);
CO-2 = mean(0.1, SAL-2 0.55) = 0.325 (33%) / mean(0.1, 0.4) = 0.25 (25%).
Company = mean(0.4517, 0.325) = 0.3883 (39%) / mean(0.1467, 0.25) = 0.1983 (20%): +19.
Teams (mean of own): Testco (0.5 + 0.1) / 2 = 0.3 / 0.2: 30% (+10); Sales (0.26 + 0.55) / 2 =
0.405 (41%) / (0.08 + 0.4) / 2 = 0.24: +17; Operations (0.675 + 0.1) / 2 = 0.3875 (39%) /
(0.05 + 0.1) / 2 = 0.075 (8%): +31.

Check-ins (owners of active key results who are not away): Bo is away until 27 Nov, Finn until
`okr back`. The CEO updated CO-1.1 this week (no round needed); Anna's round is pending but she
updated SAL-1.1 on 18 Nov; Dina's round is done; Carl's only update was on 15 Nov (last week);
Eve's W47 round is done but her week is W48 already. Company: ceo, anna, carl, dina, eve asked;
3 of 5. Sales: anna, carl: 1 of 2. Operations: dina, eve: 1 of 2.
Failed deliveries this week: Carl's prompt (unreachable) and Dina's reminder (channel_not_found).
"""

from __future__ import annotations

import io
from dataclasses import replace

import matplotlib.image
import pytest

from bot.core import Core
from bot.digest.chart import MAX_TEAM_BARS, ChartBar, ChartData, chart_png, shown_teams
from bot.digest.content import exec_digest, full_message, team_digest
from bot.messages import render_text
from tests.conftest import NOW
from tests.test_digest_queries import build_world, snapshot_of

LEGEND = (
    "57% of the period has passed. (+n) is the change in points since last week; ⚠ more than"
    " 25 points behind pace; 💤 no update for 14 days."
)


@pytest.fixture
async def snap(sqlite_db):
    await build_world(sqlite_db)
    return await snapshot_of(sqlite_db)


def fields(message) -> dict[str, str]:
    return {label: value for s in message.sections for label, value in s.fields}


# --- the headline ------------------------------------------------------------------------------


async def test_headline_in_english(snap):
    digest = exec_digest(snap, NOW)
    head = digest.headline
    assert not head.ephemeral  # a channel post
    assert head.title == "Testco · weekly digest · 2026-W47"
    assert head.text == "Testco: 39% (+19 since last week)"
    company, movers, risk, facts = head.sections
    assert company.title == "Company objectives (roll-up)"
    assert [(r.key, r.percent, r.note) for r in company.rows] == [
        ("CO-1", "45%", "+30 this week"),
        ("CO-2", "33%", "+8 this week"),
    ]
    assert company.rows[0].progress == pytest.approx((0.5 + 0.18 + 0.675) / 3)
    assert movers.title == "Biggest movers this week"
    # by points; CO-1.1 and SAL-1.2 both +20 keep file order; SAL-2.1 (+15) is sixth
    assert movers.text.split("\n") == [
        "▲ +100 · OPS-1.1 Incidents per week (Operations) · 100%",
        "▲ +30 · SAL-1.1 Deals closed (Sales) · 70%",
        "▲ +25 · OPS-1.2 Automated checks (Operations) · 35%",
        "▲ +20 · CO-1.1 Revenue (Testco) · 50%",
        "▲ +20 · SAL-1.2 Sales cycle days (Sales) · 20%",
    ]
    assert risk.title == "At risk: 4 of 9 key results"
    # off track first, then the furthest behind pace (ties in file order)
    assert risk.text.split("\n") == [
        "SAL-1.2 Sales cycle days (Sales) · 20% · 🔴 off track",
        "SAL-1.3 Partner deal signed (Sales) · 0% · ⚠ 57 points behind pace",
        "CO-2.1 NPS (Testco) · 10% · ⚠ 47 points behind pace",
        "OPS-2.1 Quotes under a day (Operations) · 10% · ⚠ 47 points behind pace",
    ]
    assert facts.fields == (
        ("Check-ins this week", "3 of 5 (60%)"),
        ("Failed deliveries", "2 this week, 1 cannot be reached"),
    )
    assert head.context == (LEGEND,)


async def test_headline_in_danish(snap):
    head = exec_digest(snap, NOW, "da").headline
    assert head.title == "Testco · ugentlig status · 2026-W47"
    assert head.text == "Testco: 39 % (+19 siden sidste uge)"
    company, movers, risk, _ = head.sections
    assert [(r.percent, r.note) for r in company.rows] == [
        ("45 %", "+30 denne uge"),
        ("33 %", "+8 denne uge"),
    ]
    assert movers.text.split("\n")[0] == "▲ +100 · OPS-1.1 Incidents per week (Operations) · 100 %"
    assert risk.title == "I risiko: 4 af 9 nøgleresultater"
    assert risk.text.split("\n")[:2] == [
        "SAL-1.2 Sales cycle days (Sales) · 20 % · 🔴 ude af kurs",
        "SAL-1.3 Partner deal signed (Sales) · 0 % · ⚠ 57 point bagud i forhold til tempoet",
    ]
    assert fields(head) == {
        "Check-ins denne uge": "3 af 5 (60 %)",
        "Mislykkede leveringer": "2 denne uge, 1 kan ikke nås",
    }


async def test_more_at_risk_than_shown_are_counted(snap):
    # every key result off track: 9 at risk, 5 listed and "… and 4 more"
    krs = tuple(replace(kr, health="off_track") for kr in snap.key_results)
    head = exec_digest(replace(snap, key_results=krs), NOW).headline
    risk = head.sections[2]
    assert risk.title == "At risk: 9 of 9 key results"
    lines = risk.text.split("\n")
    assert len(lines) == 6
    assert lines[-1] == "… and 4 more"


async def test_a_quiet_week_says_so(snap):
    # every value a week ago as now: nothing moved
    krs = tuple(replace(kr, week_ago=kr.current) for kr in snap.key_results)
    head = exec_digest(replace(snap, key_results=krs, failed=()), NOW).headline
    assert head.text == "Testco: 39% (±0 since last week)"
    assert head.sections[1].text == "No key result moved this week."
    assert fields(head) == {"Check-ins this week": "3 of 5 (60%)"}  # no failures: no line


async def test_a_key_result_that_fell_moves_down(snap):
    # SAL-2.1 was at 65 a week ago (now 55); everything else as now
    krs = tuple(
        replace(kr, week_ago=65.0 if kr.key == "SAL-2.1" else kr.current) for kr in snap.key_results
    )
    digest = exec_digest(replace(snap, key_results=krs), NOW)
    assert digest.headline.sections[1].text == "▼ −10 · SAL-2.1 Onboarding revamp (Sales) · 55%"
    sales = digest.teams[1].message
    # Sales a week ago: (0.26 + 0.65) / 2 = 0.455 -> 46%; now 41%
    assert sales.title == "Sales · 41% (−5)"
    assert sales.sections[1].text.split("\n")[1] == (
        "• SAL-2.1 Onboarding revamp · 55% (−10) · 🟢 on track"
    )


# --- the team parts ----------------------------------------------------------------------------


async def test_one_part_per_team_with_objectives_in_file_order(snap):
    digest = exec_digest(snap, NOW)
    assert [(p.slug, p.name, p.channel) for p in digest.teams] == [
        ("company", "Testco", None),
        ("sales", "Sales", "C0SAL"),
        ("ops", "Operations", None),
    ]  # Legal has no objectives
    assert [p.message.title for p in digest.teams] == [
        "Testco · 30% (+10)",
        "Sales · 41% (+17)",
        "Operations · 39% (+31)",
    ]
    assert [p.message.text for p in digest.teams] == [
        "2 key results · 1 at risk · 1 stale",
        "4 key results · 2 at risk · 1 stale",
        "3 key results · 1 at risk · 1 stale",
    ]
    for part in digest.teams:
        assert part.message == team_digest(snap, part.slug, NOW)
        assert len(render_text(part.message)) < 3000  # one compact reply each


async def test_sales_in_detail(snap):
    message = team_digest(snap, "sales", NOW)
    sal1, sal2, people = message.sections
    assert sal1.title == "SAL-1 Sell more · 26% (+18)"
    assert sal1.text.split("\n") == [
        "↳ supports CO-1 Grow revenue (Testco)",
        "• SAL-1.1 Deals closed · 70% (+30) · 🟢 on track",
        "• SAL-1.2 Sales cycle days · 20% (+20) · 🔴 off track",
        "• SAL-1.3 Partner deal signed · 0% (±0) · ⚠ 57 points behind pace · 💤 never updated",
    ]
    assert sal2.title == "SAL-2 Delight buyers · 55% (+15)"
    assert sal2.text.split("\n") == [
        "↳ supports CO-2 Happy customers (Testco)",
        "• SAL-2.1 Onboarding revamp · 55% (+15) · 🟢 on track",
    ]
    assert people.title == "People"
    assert people.fields == (
        ("Check-ins this week", "1 of 2 (50%)"),
        ("Not checked in", "Carl Dahl"),
        ("Away", "Bo Berg (until 27 Nov 2026)"),
        ("Cannot be reached", "Carl Dahl"),
    )
    assert message.context == (LEGEND,)


async def test_operations_in_detail(snap):
    message = team_digest(snap, "OPS", NOW)  # slugs match whatever the case
    ops1, ops2, people = message.sections
    assert ops1.title == "OPS-1 Run smoothly · 68% (+63)"
    assert ops1.text.split("\n")[1:] == [
        "• OPS-1.1 Incidents per week · 100% (+100) · 🟢 on track",
        "• OPS-1.2 Automated checks · 35% (+25)",
    ]
    assert ops2.text.split("\n") == [
        "↳ supports SAL-1 Sell more (Sales)",
        "• OPS-2.1 Quotes under a day · 10% (±0) · ⚠ 47 points behind pace"
        " · 💤 no update for 56 days",
    ]
    assert people.fields == (
        ("Check-ins this week", "1 of 2 (50%)"),
        ("Not checked in", "Eve Lund"),  # her round is last week's: she is in W48
        ("Away", "Finn Mo"),  # away until `okr back`: no date
        ("Delivery failed", "Dina Friis (channel_not_found)"),
    )


async def test_the_company_team_and_a_stale_key_result(snap):
    message = team_digest(snap, "company", NOW)
    co1, co2, people = message.sections
    assert co1.text == "• CO-1.1 Revenue · 50% (+20) · 🟢 on track"
    assert co2.text == (
        "• CO-2.1 NPS · 10% (±0) · ⚠ 47 points behind pace · 💤 no update for 52 days"
    )
    assert people.fields == (("Check-ins this week", "1 of 1 (100%)"),)


async def test_team_part_in_danish(snap):
    message = team_digest(snap, "sales", NOW, "da")
    assert message.title == "Sales · 41 % (+17)"
    assert message.text == "4 nøgleresultater · 2 i risiko · 1 uden opdatering"
    sal1, _, people = message.sections
    assert sal1.text.split("\n")[0] == "↳ understøtter CO-1 Grow revenue (Testco)"
    assert sal1.text.split("\n")[3] == (
        "• SAL-1.3 Partner deal signed · 0 % (±0) · ⚠ 57 point bagud i forhold til tempoet"
        " · 💤 aldrig opdateret"
    )
    assert people.title == "Personer"
    assert people.fields == (
        ("Check-ins denne uge", "1 af 2 (50 %)"),
        ("Mangler check-in", "Carl Dahl"),
        ("Væk", "Bo Berg (til 27. nov. 2026)"),
        ("Kan ikke nås", "Carl Dahl"),
    )


async def test_a_team_without_objectives_and_an_unknown_slug(snap):
    message = team_digest(snap, "legal", NOW)
    assert message.text == "Legal has no objectives for the current period."
    with pytest.raises(KeyError):
        team_digest(snap, "nosuchteam", NOW)


async def test_after_the_absence_bo_is_asked_again(snap):
    # Monday 30 Nov: Bo is back and nobody has checked in for W49 yet
    later = NOW.replace(day=30)
    people = snap.people
    message = team_digest(replace(snap, people=people, checkins=(), failed=()), "sales", later)
    assert fields(message)["Check-ins this week"] == "0 of 3 (0%)"
    assert fields(message)["Not checked in"] == "Anna Holm, Bo Berg, Carl Dahl"
    assert "Away" not in fields(message)


# --- the chart ---------------------------------------------------------------------------------


async def test_chart_numbers(snap):
    chart = exec_digest(snap, NOW).chart
    assert chart.title == "Testco · progress per team · 2026-W47"
    assert [(b.label, b.percent, b.change, b.level) for b in chart.teams] == [
        ("Testco", 30, 10, 0),
        ("Sales", 41, 17, 1),
        ("Operations", 39, 31, 1),
    ]
    assert [(b.label, b.percent, b.change, b.team) for b in chart.objectives] == [
        ("CO-1 Grow revenue", 50, 20, "Testco"),
        ("CO-2 Happy customers", 10, 0, "Testco"),
        ("SAL-1 Sell more", 26, 18, "Sales"),
        ("SAL-2 Delight buyers", 55, 15, "Sales"),
        ("OPS-1 Run smoothly", 68, 63, "Operations"),
        ("OPS-2 Support sales", 10, 0, "Operations"),
    ]
    assert (chart.pace, chart.pace_label) == (57, "pace 57%")


def _read_png(data: bytes):
    assert data[:8] == b"\x89PNG\r\n\x1a\n"
    return matplotlib.image.imread(io.BytesIO(data), format="png")


async def test_chart_png_is_a_png_matplotlib_can_read(snap):
    chart = exec_digest(snap, NOW).chart
    image = _read_png(chart_png(chart))
    height, width = image.shape[:2]
    assert height > 0 and width > 0
    # without the objective panel the picture is shorter
    teams_only = _read_png(chart_png(replace(chart, objectives=())))
    assert 0 < teams_only.shape[0] < height
    assert teams_only.shape[1] == width


def test_a_big_organisation_charts_its_top_levels():
    bars = [ChartBar("Company", 40, 1, 0)]
    for d in range(10):
        bars.append(ChartBar(f"Department {d}", 50, 2, 1))
        bars += [ChartBar(f"Team {d}.{n}", 60, -3, 2) for n in range(9)]
    chart = ChartData("Big", "progress (%)", tuple(bars), (), pace=57, pace_label="pace 57%")
    shown = shown_teams(chart)
    assert len(chart.teams) == 101 > MAX_TEAM_BARS
    assert [b.level for b in shown] == [0] + [1] * 10
    image = _read_png(chart_png(chart))
    assert image.shape[0] < 1000  # eleven bars, not a hundred


def test_an_empty_chart_still_draws():
    image = _read_png(chart_png(ChartData("Nothing", "progress (%)", (), ())))
    assert image.shape[0] > 0


# --- okr digest --------------------------------------------------------------------------------


@pytest.fixture
async def core(sqlite_db, clock, snap):  # `snap` has built the organisation
    return Core(sqlite_db, clock)


async def test_okr_digest_shows_the_whole_digest_privately(core, snap):
    message = await core.command(await core.person(handle="ceo"), "okr digest")
    assert not message.error
    assert message.ephemeral
    expected = full_message(exec_digest(snap, NOW))
    assert message == replace(expected, ephemeral=True)
    titles = [s.title for s in message.sections]
    assert titles[:3] == [
        "Company objectives (roll-up)",
        "Biggest movers this week",
        "At risk: 4 of 9 key results",
    ]
    assert "▸ Sales · 41% (+17)" in titles
    assert "▸ Operations · 39% (+31)" in titles
    text = render_text(message)
    assert "Not checked in: Carl Dahl" in text
    assert "Cannot be reached: Carl Dahl" in text


async def test_okr_digest_team_in_the_readers_language(core, snap):
    anna = await core.person(handle="anna")  # Danish
    message = await core.command(anna, "/okr digest Sales")
    assert message.ephemeral and not message.error
    assert message == replace(team_digest(snap, "sales", NOW, "da"), ephemeral=True)
    assert message.title == "Sales · 41 % (+17)"
    by_name = await core.command(await core.person(handle="ceo"), "okr digest operations")
    assert by_name.title == "Operations · 39% (+31)"  # the display name works too


async def test_okr_digest_of_an_unknown_team_names_the_closest(core):
    message = await core.command(await core.person(handle="ceo"), "okr digest salse")
    assert message.error
    assert message.text == "I don't know the team or command “salse”."
    assert message.context == ("Closest teams: sales", "Type `okr help` for the commands.")
    message = await core.command(await core.person(handle="ceo"), "okr digest zzzz")
    assert message.context[0] == "Teams: company, sales, ops, legal"


async def test_okr_digest_of_a_team_without_objectives(core):
    message = await core.command(await core.person(handle="ceo"), "okr digest legal")
    assert not message.error
    assert message.text == "Legal has no objectives for the current period."

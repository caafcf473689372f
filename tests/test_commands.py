"""The `okr ...` chat commands (SPEC §4) on the demo organisation (bot/okrfile/data/nordlys.yaml plus the
check-in HISTORY of bot/okrfile/demo.py), driven through `Core.command` as an adapter would.

Every expected number below is worked out by hand from the demo file and the SPEC §2 rules.

The clock: `now` = Sunday 2026-11-22 11:00 UTC = 12:00 in Copenhagen (CET, UTC+1).
* Period 2026-Q4 = 1 Oct .. 31 Dec = 31 + 30 + 31 = 92 days. Elapsed on 22 Nov:
  31 (October) + 21 = 52 days -> pace 52/92 = 0.5652 -> "57%".
  At risk by pace: progress < 0.5652 - 0.25 = 0.3152.
* Seeding (demo._seed_history): this week's Monday is 2026-11-16. Owners who checked in on time
  have their 4 entries on 26 Oct, 3 Nov (+1 day shift), 9 Nov and 16 Nov (10:15..10:18 local);
  the late ones (jonas, oliver) one week earlier: 19 Oct, 27 Oct, 2 Nov, 10 Nov.
  Days since the last update (UTC dates, 10:1x local is 09:1x/08:1x UTC, same day):
  on time 22 - 16 = 6 days; late 22 Nov - 10 Nov = 12 days.
* ISO week of 2026-11-22 (a Sunday) is 2026-W47; 16 Nov is its Monday, 10 Nov is in W46.
"""

from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import select, text

from bot.core import Core
from bot.messages import Message, ProgressRow, Section, render_text
from bot.okrfile.demo import load_demo
from storage.models import KeyResult, KeyResultUpdate, Person, Team

MARKETING_SUPPORTS = "↳ supports CO-1 Grow revenue by 20% (Nordlys)"
MKT_1_TITLE = "MKT-1 Turn in-store data into segmented campaigns"
PACE_EN = "57% of the period has passed; ⚠ marks key results more than 25 points behind that pace."
ALL_SLUGS = ["company", "retail", "ecommerce", "marketing"]


# --- helpers -----------------------------------------------------------------------------------


@pytest.fixture
async def core(sqlite_db, clock, now) -> Core:
    async with sqlite_db.transaction() as session:
        await load_demo(session, now)
    return Core(sqlite_db, clock)


async def ask(core: Core, handle: str | None, words: str) -> Message:
    person = await core.person(handle=handle) if handle else None
    if handle:
        assert person is not None, f"no demo person {handle!r}"
    return await core.command(person, words)


def section(message: Message, title_start: str) -> Section:
    found = [s for s in message.sections if (s.title or "").startswith(title_start)]
    assert len(found) == 1, f"{title_start!r} in {[s.title for s in message.sections]}"
    return found[0]


def row(message: Message, key: str) -> ProgressRow:
    found = [r for s in message.sections for r in s.rows if r.key == key]
    assert len(found) == 1, f"{key!r} in {keys(message)}"
    return found[0]


def keys(message: Message) -> list[str]:
    return [r.key for s in message.sections for r in s.rows]


async def db_state(db) -> dict:
    """Everything a command could change: history, inbox, check-ins and the latest values."""
    async with db.session() as session:
        counts = {
            table: (await session.execute(text(f"SELECT count(*) FROM {table}"))).scalar_one()
            for table in ("key_result_update", "raw_reply", "checkin_round", "person", "team")
        }
        values = (
            await session.execute(
                text(
                    "SELECT key, current, health, updated_at, updated_by_id FROM key_result"
                    " ORDER BY key"
                )
            )
        ).all()
    return {"counts": counts, "values": [tuple(v) for v in values]}


# --- okr <team> ------------------------------------------------------------------------------


async def test_marketing_in_english(core):
    message = await ask(core, "mette", "okr marketing")
    assert not message.error
    assert message.ephemeral  # a leader's answer is private unless shared

    # MKT-1.1: (5-0)/(12-0) = 0.4167 -> "42%"
    # MKT-1.2: (4100-2000)/(10000-2000) = 2100/8000 = 0.2625 -> "26%"
    # MKT-1.3: (150-180)/(120-180) = -30/-60 = 0.5 -> "50%" (lower is better)
    # MKT-1.4: binary, never updated -> 0 -> "0%"
    # MKT-1.5: (17-12)/(25-12) = 5/13 = 0.3846 -> "38%"
    # MKT-1 own = (0.4167 + 0.2625 + 0.5 + 0 + 0.3846) / 5 = 1.5638 / 5 = 0.3128 -> "31%"
    # team = mean of its one objective = 0.3128 -> "31%"
    assert message.title == "Marketing · 2026-Q4 · 31%"
    assert len(message.sections) == 1
    mkt1 = section(message, "MKT-1 ")
    assert mkt1.title == f"{MKT_1_TITLE} · 31%"
    assert mkt1.text == MARKETING_SUPPORTS
    assert keys(message) == ["MKT-1.1", "MKT-1.2", "MKT-1.3", "MKT-1.4", "MKT-1.5"]
    assert message.context[0] == PACE_EN  # 52/92 = 0.5652 -> "57%"
    assert not any("Sub-teams" in line for line in message.context)  # marketing has none

    r = row(message, "MKT-1.1")
    assert r.title == "Segmented campaigns launched"
    assert (r.percent, r.value) == ("42%", "5 / 12 campaigns")
    assert r.progress == pytest.approx(5 / 12)
    assert (r.health, r.health_label) == ("on_track", "on track")
    assert r.note == "Anna Holm · updated 6 days ago"  # anna's last check-in: Mon 16 Nov
    assert not r.at_risk  # 0.4167 >= 0.3152 and on track

    r = row(message, "MKT-1.2")
    assert (r.percent, r.value) == ("26%", "4,100 / 10,000")  # no unit in the file
    assert r.progress == pytest.approx(0.2625)
    assert (r.health, r.health_label) == ("at_risk", "at risk")
    assert r.note == "Jonas Krogh · updated 12 days ago"  # jonas is late: last was Tue 10 Nov
    assert r.at_risk  # health at_risk (and 0.2625 < 0.3152 too)

    r = row(message, "MKT-1.3")
    assert (r.percent, r.value) == ("50%", "150 / 120 DKK")
    assert (r.health, r.health_label) == ("on_track", "on track")
    assert r.note == "Anna Holm · updated 6 days ago"
    assert not r.at_risk  # 0.5 >= 0.3152

    r = row(message, "MKT-1.4")
    assert (r.percent, r.value) == ("0%", "not done")
    assert (r.health, r.health_label) == (None, None)
    assert r.note == "Anna Holm · no updates yet"
    assert r.at_risk  # 0 < 0.3152: behind pace

    r = row(message, "MKT-1.5")
    assert (r.percent, r.value) == ("38%", "17 / 25%")
    assert (r.health, r.health_label) == ("on_track", "on track")
    assert r.note == "Jonas Krogh · updated 12 days ago"
    assert not r.at_risk  # 0.3846 >= 0.3152 and on track

    rendered = render_text(message)
    assert rendered.startswith("Marketing · 2026-Q4 · 31%\n")
    assert MARKETING_SUPPORTS in rendered
    # bars: round(0.2625 * 10) = 3 of 10; round(0 * 10) = 0; health emoji, ⚠ only without health
    assert "███░░░░░░░  26%  4,100 / 10,000  🟡 at risk\n" in rendered
    assert "░░░░░░░░░░   0%  not done  ⚠\n" in rendered
    assert "████░░░░░░  42%  5 / 12 campaigns  🟢 on track\n" in rendered
    assert rendered.count("⚠") == 2  # MKT-1.4's row and the pace legend


async def test_marketing_in_danish(core):
    message = await ask(core, "anna", "okr marketing")  # anna's locale is da
    assert not message.error
    assert message.title == "Marketing · 2026-Q4 · 31 %"
    mkt1 = section(message, "MKT-1 ")
    assert mkt1.title == f"{MKT_1_TITLE} · 31 %"
    assert mkt1.text == "↳ understøtter CO-1 Grow revenue by 20% (Nordlys)"
    assert message.context[0] == (
        "57 % af perioden er gået; ⚠ markerer nøgleresultater mere end 25 point bagud."
    )
    expected = {
        # key: (percent, value, health label, note) -- same arithmetic as in English
        "MKT-1.1": (
            "42 %",
            "5 / 12 campaigns",
            "på sporet",
            "Anna Holm · opdateret for 6 dage siden",
        ),
        "MKT-1.2": (
            "26 %",
            "4.100 / 10.000",
            "i risiko",
            "Jonas Krogh · opdateret for 12 dage siden",
        ),
        "MKT-1.3": ("50 %", "150 / 120 DKK", "på sporet", "Anna Holm · opdateret for 6 dage siden"),
        "MKT-1.4": ("0 %", "ikke færdig", None, "Anna Holm · ingen opdateringer endnu"),
        "MKT-1.5": ("38 %", "17 / 25 %", "på sporet", "Jonas Krogh · opdateret for 12 dage siden"),
    }
    for key, (percent, value, health, note) in expected.items():
        r = row(message, key)
        assert (r.percent, r.value, r.health_label, r.note) == (percent, value, health, note), key
    assert [k for k in expected if row(message, k).at_risk] == ["MKT-1.2", "MKT-1.4"]
    assert "4.100 / 10.000  🟡 i risiko" in render_text(message)


async def test_team_company_shows_the_company_team(core):
    message = await ask(core, "mette", "okr team company")
    assert not message.error
    # CO-1.1: (53.6M-50M)/(60M-50M) = 0.36 -> "36%"; CO-1 own = 0.36
    # CO-2.1: (21-10)/(50-10) = 11/40 = 0.275 -> "28%" (half up); CO-2 own = 0.275
    # team = (0.36 + 0.275) / 2 = 0.3175 -> "32%"
    assert message.title == "Nordlys · 2026-Q4 · 32%"
    assert [s.title for s in message.sections] == [
        "CO-1 Grow revenue by 20% · 36%",
        "CO-2 Be one shop across stores and online · 28%",
    ]
    assert all(s.text is None for s in message.sections)  # top level: supports nothing
    r = row(message, "CO-1.1")
    assert (r.percent, r.value, r.health) == ("36%", "53.6M / 60M DKK", "at_risk")
    assert r.note == "Kirsten Dahl · updated 6 days ago"
    assert r.at_risk  # health at_risk (0.36 itself is not behind pace)
    r = row(message, "CO-2.1")
    assert (r.percent, r.value, r.health) == ("28%", "21 / 50%", "at_risk")
    assert r.at_risk  # health, and 0.275 < 0.3152
    assert message.context == (PACE_EN, "Sub-teams: Retail, E-commerce, Marketing")


@pytest.mark.parametrize(
    "words",
    [
        "okr Marketing",
        "okr MARKETING",
        "okr team marketing",
        "okr team Marketing",
        "/okr marketing",
    ],
)
async def test_team_by_slug_or_display_name_in_any_case(core, words):
    message = await ask(core, "mette", words)
    assert not message.error
    assert message.title == "Marketing · 2026-Q4 · 31%"


@pytest.mark.parametrize("words", ["okr e-commerce", "okr E-COMMERCE", "okr team ecommerce"])
async def test_team_display_name_differs_from_slug(core, words):
    message = await ask(core, "mette", words)
    assert not message.error
    # ECOM-1: (0 + 7/24 + 1) / 3 = (0 + 0.2917 + 1) / 3 = 0.4306 -> "43%"
    #   ECOM-1.1 binary not done = 0; ECOM-1.2 7/24; ECOM-1.3 threshold 3 <= max 5 holds = 1
    # ECOM-2: weights 2 and 1: (2 * 1.7/3 + 0.3/0.6) / 3 = (1.1333 + 0.5) / 3 = 0.5444 -> "54%"
    # team = (0.4306 + 0.5444) / 2 = 0.4875 -> "49%"
    assert message.title == "E-commerce · 2026-Q4 · 49%"
    assert [s.title.rsplit(" · ", 1)[1] for s in message.sections] == ["43%", "54%"]
    ecom13 = row(message, "ECOM-1.3")
    assert ecom13.value.startswith("3 errors") and "≤ 5" in ecom13.value
    assert (ecom13.percent, ecom13.at_risk) == ("100%", False)  # holds; on track this week
    assert row(message, "ECOM-1.1").value == "not done"


async def test_share_makes_the_answer_public(core):
    private = await ask(core, "mette", "okr marketing")
    shared = await ask(core, "mette", "okr marketing share")
    assert private.ephemeral is True
    assert shared.ephemeral is False
    assert shared.title == private.title and shared.sections == private.sections
    assert (await ask(core, "mette", "okr team Marketing share")).ephemeral is False
    # an error is never shared
    failed = await ask(core, "mette", "okr markting share")
    assert failed.error and failed.ephemeral is True


# --- okr company / okr tree --------------------------------------------------------------------


# Own progress of every objective (key results as listed; weight 1 unless said):
#   CO-1   0.36                                              (see the company team test)
#   CO-2   0.275
#   RET-1  (1/3 + 2100/4000 + 60/100) / 3 = (0.3333 + 0.525 + 0.6) / 3 = 0.4861 -> 49%
#   RET-2  ((11-5)/35 + 8/24 + (36-45)/(30-45)) / 3 = (0.1714 + 0.3333 + 0.6) / 3 = 0.3683 -> 37%
#   ECOM-1 0.4306 -> 43%, ECOM-2 0.5444 -> 54%, MKT-1 0.3128 -> 31%  (see above)
# Roll-up (mean of own progress and the roll-ups of the objectives aligned to it):
#   CO-1 <- RET-1, ECOM-2, MKT-1: (0.36 + 0.4861 + 0.5444 + 0.3128) / 4 = 1.7033 / 4 = 0.4258 -> 43%
#   CO-2 <- RET-2, ECOM-1:        (0.275 + 0.3683 + 0.4306) / 3 = 1.0738 / 3 = 0.3579 -> 36%
# At risk by pace (< 0.3152): only MKT-1 (0.3128).
TREE = [
    # (key, level, percent, team, at_risk)
    [
        ("CO-1", 0, "43%", "Nordlys", False),
        ("RET-1", 1, "49%", "Retail", False),
        ("ECOM-2", 1, "54%", "E-commerce", False),
        ("MKT-1", 1, "31%", "Marketing", True),
    ],
    [
        ("CO-2", 0, "36%", "Nordlys", False),
        ("RET-2", 1, "37%", "Retail", False),
        ("ECOM-1", 1, "43%", "E-commerce", False),
    ],
]


@pytest.mark.parametrize("words", ["okr company", "okr tree", "okr Company", "okr TREE"])
async def test_alignment_tree(core, words):
    message = await ask(core, "mette", words)
    assert not message.error
    assert message.title == "Nordlys Retail · alignment · 2026-Q4"
    shown = [
        [(r.key, r.level, r.percent, r.note, r.at_risk) for r in s.rows] for s in message.sections
    ]
    assert shown == TREE
    co1 = row(message, "CO-1")
    assert co1.title == "Grow revenue by 20%"
    mkt1 = (5 / 12 + 21 / 80 + 1 / 2 + 0 + 5 / 13) / 5
    assert co1.progress == pytest.approx((0.36 + 35 / 72 + 49 / 90 + mkt1) / 4)
    assert message.context == (
        "Roll-up: each objective's own key results averaged with the objectives aligned to it.",
    )
    rendered = render_text(message)
    # level 1 is indented two more spaces than level 0; round(0.4258 * 10) = 4 of 10
    assert "  CO-1 Grow revenue by 20%\n    ████░░░░░░  43%  · Nordlys\n" in rendered
    assert "    MKT-1 Turn in-store data into segmented campaigns\n" in rendered
    assert "      ███░░░░░░░  31%  ⚠  · Marketing\n" in rendered


async def test_company_word_is_the_tree_not_the_company_team(core):
    tree = await ask(core, "mette", "okr company")
    team = await ask(core, "mette", "okr team company")
    assert tree.title == "Nordlys Retail · alignment · 2026-Q4"
    assert team.title == "Nordlys · 2026-Q4 · 32%"


# --- okr me --------------------------------------------------------------------------------------


async def test_me_for_a_late_member(core):
    message = await ask(core, "jonas", "okr me")
    assert not message.error
    assert message.title == "Jonas Krogh: your key results"
    assert [s.title for s in message.sections] == [MKT_1_TITLE]
    assert keys(message) == ["MKT-1.2", "MKT-1.5"]
    assert row(message, "MKT-1.2").percent == "26%"  # 2100/8000
    assert row(message, "MKT-1.5").percent == "38%"  # 5/13
    # jonas's last check-in was in W46 (10 Nov): this week's is missing
    assert message.context == ("This week's check-in (2026-W47) is not done yet.",)


async def test_me_for_another_late_member(core):
    message = await ask(core, "oliver", "okr me")
    assert [s.title for s in message.sections] == [
        "ECOM-1 Connect the tills to the commerce platform"
    ]
    assert keys(message) == ["ECOM-1.1", "ECOM-1.2"]
    # ECOM-1.2: 7/24 = 0.2917 -> "29%", behind pace (< 0.3152) and at risk by health too
    assert (row(message, "ECOM-1.2").percent, row(message, "ECOM-1.2").at_risk) == ("29%", True)
    assert message.context == ("This week's check-in (2026-W47) is not done yet.",)


async def test_me_for_a_member_who_checked_in(core):
    message = await ask(core, "anna", "okr me")  # in Danish: anna's locale
    assert message.title == "Anna Holm: dine nøgleresultater"
    assert keys(message) == ["MKT-1.1", "MKT-1.3", "MKT-1.4"]
    assert [row(message, k).percent for k in keys(message)] == ["42 %", "50 %", "0 %"]
    assert message.context == ("Denne uges check-in (2026-W47) er klaret ✓",)  # Mon 16 Nov


async def test_me_for_a_lead_with_key_results_in_two_objectives(core):
    message = await ask(core, "ceo", "okr me")
    assert message.title == "Kirsten Dahl: your key results"
    assert [s.title for s in message.sections] == [
        "CO-1 Grow revenue by 20%",
        "CO-2 Be one shop across stores and online",
    ]
    assert [(r.key, r.percent) for s in message.sections for r in s.rows] == [
        ("CO-1.1", "36%"),  # 3.6M / 10M
        ("CO-2.1", "28%"),  # 11 / 40 = 0.275, half up
    ]
    assert message.context == (
        "This week's check-in (2026-W47) is done ✓",  # on time: Mon 16 Nov
        "You lead: Nordlys",
    )


async def test_me_for_a_lead_without_key_results(core):
    message = await ask(core, "mette", "okr me")
    assert not message.error
    assert message.title == "Mette Lund: your key results"
    assert message.sections == ()
    assert message.text == "You own no key results in the current period."
    assert "You lead: Marketing" in message.context


async def test_me_without_key_results_does_not_claim_a_missing_checkin(core):
    message = await ask(core, "mette", "okr me")
    assert not any("not done yet" in line for line in message.context)


async def test_me_for_a_stranger(core):
    message = await ask(core, None, "okr me")
    assert message.error
    assert message.text == (
        "I don't know who you are yet: ask an admin to add you to the OKR file."
    )


# --- okr focus -----------------------------------------------------------------------------------


async def test_focus_omnichannel(core):
    message = await ask(core, "mette", "okr focus omnichannel")
    assert not message.error
    assert message.title == "Focus: omnichannel"
    # own progress (not roll-up): CO-1 0.36, CO-2 0.275, RET-2 0.3683, ECOM-1 0.4306, MKT-1 0.3128
    # average = (0.36 + 0.275 + 0.3683 + 0.4306 + 0.3128) / 5 = 1.7466 / 5 = 0.3493 -> "35%"
    # teams: company, retail, ecommerce, marketing = 4
    assert message.text == "5 objectives in 4 teams · 35% on average"
    shown = [(r.key, r.percent, r.note, r.at_risk) for s in message.sections for r in s.rows]
    assert shown == [
        ("CO-1", "36%", "Nordlys", False),
        ("CO-2", "28%", "Nordlys", True),  # 0.275 < 0.3152
        ("RET-2", "37%", "Retail", False),
        ("ECOM-1", "43%", "E-commerce", False),
        ("MKT-1", "31%", "Marketing", True),  # 0.3128 < 0.3152
    ]


async def test_focus_in_danish(core):
    message = await ask(core, "anna", "okr focus omnichannel")
    assert message.title == "Fokus: omnichannel"
    assert message.text == "5 mål i 4 teams · 35 % i gennemsnit"  # as in English above
    assert [r.percent for s in message.sections for r in s.rows] == [
        "36 %",
        "28 %",
        "37 %",
        "43 %",
        "31 %",
    ]


async def test_focus_tag_in_any_case(core):
    message = await ask(core, "mette", "okr focus OmniChannel")
    assert not message.error
    assert message.text == "5 objectives in 4 teams · 35% on average"


async def test_focus_without_a_tag(core):
    message = await ask(core, "mette", "okr focus")
    assert message.error
    assert message.text == "Which focus area? For example `okr focus omnichannel`."
    assert message.context == ("Focus areas: omnichannel",)


async def test_focus_unknown_tag(core):
    message = await ask(core, "mette", "okr focus loyalty")
    assert message.error
    assert message.text == "No objective has the focus area “loyalty”."
    assert message.context == ("Focus areas: omnichannel",)


# --- okr history ---------------------------------------------------------------------------------


def history_lines(message: Message) -> list[tuple[str, str, str, list[str]]]:
    """Each line "date · who · old → new · extras..." as (date, who, "old → new", extras)."""
    out = []
    for line in message.text.split("\n"):
        date, who, change, *extras = line.split(" · ")
        out.append((date, who, change, extras))
    return out


@pytest.mark.parametrize("key", ["MKT-1.2", "mkt-1.2", "Mkt-1.2"])
async def test_history_newest_first(core, key):
    message = await ask(core, "mette", f"okr history {key}")
    assert not message.error
    assert message.title == "MKT-1.2 Email subscribers from in-store receipts: history"
    # jonas (late): 19 Oct, 27 Oct (+1 day), 2 Nov, 10 Nov (+1 day); the first old value is the
    # start (2000) because the file gives no `current`
    lines = history_lines(message)
    assert [line[:3] for line in lines] == [
        ("10 Nov 2026", "Jonas Krogh", "3,900 → 4,100"),
        ("2 Nov 2026", "Jonas Krogh", "3,300 → 3,900"),
        ("27 Oct 2026", "Jonas Krogh", "2,600 → 3,300"),
        ("19 Oct 2026", "Jonas Krogh", "2,000 → 2,600"),
    ]
    healths = [extras[0] for *_, extras in lines]
    assert healths == ["at risk", "at risk", "on track", "on track"]
    assert lines[0][3][-1] == "“sign-up at the till is slow”"  # the comment, quoted
    assert not any("“" in " ".join(extras) for *_, extras in lines[1:])  # no other comments


async def test_history_in_danish_with_an_import(core):
    message = await ask(core, "anna", "okr history MKT-1.5")
    assert message.title == "MKT-1.5 Share of revenue from omnichannel customers: historik"
    lines = history_lines(message)
    # 4 check-ins by jonas (14 -> 14 -> 15 -> 16 -> 17), then the import of `current: 14` five
    # weeks before now (22 Nov 11:00 UTC - 35 days = 18 Oct), which has no person
    assert [(date, who) for date, who, _, _ in lines] == [
        ("10. nov. 2026", "Jonas Krogh"),
        ("2. nov. 2026", "Jonas Krogh"),
        ("27. okt. 2026", "Jonas Krogh"),
        ("19. okt. 2026", "Jonas Krogh"),
        ("18. okt. 2026", "OKR-fil"),
    ]
    changes = [change.replace(" %", "") for _, _, change, _ in lines]  # unit optional on old
    assert changes == ["16 → 17", "15 → 16", "14 → 15", "14 → 14", "– → 14"]
    assert lines[0][3][0] == "på sporet"
    assert "på sporet" not in lines[3][3]  # the first check-in gave no health


async def _anna_checks_in_after_midnight(db) -> None:
    """Anna reports MKT-1.1 = 6 at 00:30 on Tuesday 17 Nov in Copenhagen (23:30 UTC on the 16th)."""
    when = datetime(2026, 11, 17, 0, 30, tzinfo=ZoneInfo("Europe/Copenhagen"))
    async with db.transaction() as session:
        kr = (
            await session.execute(select(KeyResult).where(KeyResult.key == "MKT-1.1"))
        ).scalar_one()
        anna = (await session.execute(select(Person).where(Person.handle == "anna"))).scalar_one()
        session.add(
            KeyResultUpdate(
                key_result_id=kr.id,
                person_id=anna.id,
                created_at=when,
                old_value=5,
                new_value=6,
                health="on_track",
                source="dm",
            )
        )
        kr.current, kr.updated_at, kr.updated_by_id, kr.updated_source = 6, when, anna.id, "dm"


async def test_history_dates_are_local(core, sqlite_db):
    await _anna_checks_in_after_midnight(sqlite_db)
    message = await ask(core, "mette", "okr history MKT-1.1")
    # organisation and viewer are both in Europe/Copenhagen: the check-in was on 17 Nov there
    assert history_lines(message)[0][:2] == ("17 Nov 2026", "Anna Holm")


async def test_updated_days_ago_counts_local_days(core, sqlite_db):
    await _anna_checks_in_after_midnight(sqlite_db)
    message = await ask(core, "mette", "okr marketing")
    # local dates: Sun 22 Nov - Tue 17 Nov = 5 days (UTC dates would give 22 - 16 = 6)
    assert row(message, "MKT-1.1").note == "Anna Holm · updated 5 days ago"


async def test_history_unknown_key_suggests_the_closest(core):
    message = await ask(core, "mette", "okr history MKT-12")
    assert message.error
    assert message.text == "There is no key result “MKT-12”."
    (closest,) = message.context
    assert closest.startswith("Closest: MKT-1.2")  # only a dot missing: the closest by far
    suggested = closest.removeprefix("Closest: ").split(", ")
    assert 1 <= len(suggested) <= 3


async def test_history_unknown_key_tied_suggestions(core):
    message = await ask(core, "mette", "okr history mkt-1.9")
    (closest,) = message.context
    suggested = closest.removeprefix("Closest: ").split(", ")
    assert len(suggested) == 3
    assert all(k.startswith("MKT-1.") for k in suggested)


async def test_history_without_a_key(core):
    message = await ask(core, "mette", "okr history")
    assert message.error
    assert message.text == "Which key result? For example `okr history CO-1.1`."


# --- okr / okr help ------------------------------------------------------------------------------


@pytest.mark.parametrize("words", ["okr", "okr help", "/okr", "okr HELP", ""])
async def test_help(core, words):
    message = await ask(core, "mette", words)
    assert not message.error
    assert message.title == "okrbot: your OKRs where you talk"
    (commands,) = message.sections
    assert commands.title == "Commands"
    assert [label for label, _ in commands.fields] == [
        "okr <team>",
        "okr <team> share",
        "okr me",
        "okr company | okr tree",
        "okr focus <tag>",
        "okr history <kr>",
        "okr digest [<team>]",
        "okr help",
    ]
    assert message.context == (
        "Teams: company, retail, ecommerce, marketing",
        "Focus areas: omnichannel",
    )
    rendered = render_text(message)
    assert "  okr me: your key results and this week's check-in" in rendered


async def test_help_in_danish(core):
    message = await ask(core, "anna", "okr help")
    assert message.sections[0].title == "Kommandoer"
    assert message.context[0] == "Teams: company, retail, ecommerce, marketing"


# --- unknown words and words not available yet ---------------------------------------------------


async def test_unknown_word_suggests_the_closest_team(core, sqlite_db):
    before = await db_state(sqlite_db)
    message = await ask(core, "mette", "okr markting")
    assert message.error
    assert message.text == "I don't know the team or command “markting”."
    assert message.context == ("Closest teams: marketing", "Type `okr help` for the commands.")
    assert message.sections == ()
    assert await db_state(sqlite_db) == before


async def test_unknown_team_after_the_team_word(core):
    message = await ask(core, "mette", "okr team retial")
    assert message.error
    assert message.context[0] == "Closest teams: retail"


async def test_nothing_close_lists_all_slugs(core, sqlite_db):
    before = await db_state(sqlite_db)
    message = await ask(core, "mette", "okr zzzz")
    assert message.error
    assert message.text == "I don't know the team or command “zzzz”."
    assert message.context == (
        "Teams: company, retail, ecommerce, marketing",
        "Type `okr help` for the commands.",
    )
    assert await db_state(sqlite_db) == before


async def test_unknown_word_as_a_stranger_changes_nothing(core, sqlite_db):
    before = await db_state(sqlite_db)
    message = await ask(core, None, "okr zzzz")
    assert message.error
    assert await db_state(sqlite_db) == before


async def _add_sales_teams(db, count: int) -> None:
    async with db.transaction() as session:
        for i in range(1, count + 1):
            session.add(Team(slug=f"sales-{i}", name=f"Sales {i}", position=10 + i))


async def test_at_most_ten_slugs_when_nothing_is_close(core, sqlite_db):
    await _add_sales_teams(sqlite_db, 8)  # 4 + 8 = 12 teams
    message = await ask(core, "mette", "okr zzzz")
    listed = message.context[0].removeprefix("Teams: ").split(", ")
    assert len(listed) == 10
    assert len(set(listed)) == 10
    assert set(listed) <= set(ALL_SLUGS) | {f"sales-{i}" for i in range(1, 9)}


async def test_at_most_three_closest_slugs(core, sqlite_db):
    await _add_sales_teams(sqlite_db, 8)
    message = await ask(core, "mette", "okr sales")
    # "sales" against "sales-N": 2 * 5 / (5 + 7) = 0.83 for all eight
    closest = message.context[0].removeprefix("Closest teams: ").split(", ")
    assert len(closest) == 3
    assert all(slug.startswith("sales-") for slug in closest)


async def test_reading_commands_change_nothing(core, sqlite_db):
    before = await db_state(sqlite_db)
    for words in (
        "okr marketing share",
        "okr me",
        "okr tree",
        "okr focus omnichannel",
        "okr history MKT-1.2",
        "okr digest",
        "okr digest marketing",
        "okr help",
    ):
        assert not (await ask(core, "jonas", words)).error, words
    assert await db_state(sqlite_db) == before


async def test_team_without_a_name_asks_which_team(core):
    message = await ask(core, "mette", "okr team")
    assert message.error
    assert message.text == "Which team? For example `okr team company`."
    assert message.context == ("Teams: company, retail, ecommerce, marketing",)


async def test_every_answer_carries_the_language_it_is_written_in(core):
    """Adapters render words of their own (modal labels, App Home) in the answer's language,
    which the message carries: nobody guesses it from the words."""
    danish = await ask(core, "anna", "okr marketing")  # anna: locale da in the demo
    english = await ask(core, "emma", "okr marketing")  # emma: the organisation's default (en)
    assert (danish.locale, english.locale) == ("da", "en")
    assert (await ask(core, "anna", "okr away until tomorrow")).locale == "da"  # an error too
    assert (await ask(core, "anna", "okr checkin")).locale == "da"  # the check-in service's
    from adapters.slack.views import home_view

    assert "Mine nøgleresultater" in str(home_view(danish, None))
    assert "My key results" in str(home_view(english, None))

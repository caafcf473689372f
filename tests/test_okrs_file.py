"""The OKR file (SPEC §2, §8): loading, line-numbered errors, dumping."""

from __future__ import annotations

from datetime import date
from textwrap import dedent, indent

import pytest

from bot.okrfile.dump import dump_okr_document
from bot.okrfile.schema import (
    OkrDocument,
    OkrFileError,
    Problem,
    Schedule,
    load_okr_file,
    parse_okr_text,
    parse_period,
)

# SPEC §2, verbatim.
SPEC_EXAMPLE = """\
organization: Nordlys Retail        # display name
period: 2026-Q4                     # default period of objectives (YYYY-Qn or YYYY-MM-DD..YYYY-MM-DD)
timezone: Europe/Copenhagen         # default IANA zone
locale: en                          # default language of messages and replies: en | da
exec_channel: "C0EXEC"              # channel that gets the Friday digest (platform channel id)
checkin: {day: mon, time: "09:30", remind_after_hours: 24}
digest:  {day: fri, time: "15:00"}

people:
  - id: anna                        # handle used inside this file
    name: Anna Holm
    email: anna@nordlys.example
    slack: U0ANNA                   # Slack user id (optional)
    teams: 5c1e...                  # Teams AAD object id (optional)
    timezone: Europe/Copenhagen     # optional, else default
    locale: da                      # optional, else default
    role: member                    # member | lead | admin

teams:
  - {slug: company, name: Nordlys, leads: [ceo]}
  - slug: marketing
    name: Marketing
    parent: company
    channel: "C0MKT"
    leads: [mette]
    members: [anna, jonas]

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
    aligned_to: CO-1                # the objective this one supports
    focus: [omnichannel]
    key_results:
      - {id: MKT-1.1, title: Segmented campaigns launched, unit: campaigns, start: 0, target: 12, owner: anna}
      - {id: MKT-1.2, title: Email subscribers from in-store receipts, start: 2000, target: 10000, owner: jonas}
      - {id: MKT-1.3, title: Cost per acquisition, unit: DKK, start: 180, target: 120, owner: anna}   # lower is better: inferred from target < start
      - {id: MKT-1.4, title: Loyalty programme launched, type: binary, owner: anna}
      - {id: MKT-1.5, title: Share of revenue from omnichannel customers, unit: "%", start: 12, target: 25, current: 14, owner: jonas}
"""  # noqa: E501

# The SPEC's people list shows one person only; ceo, mette and jonas are referenced but not
# listed. A real file lists everyone, so the loadable example adds them (no line moves before).
SPEC_FILE = SPEC_EXAMPLE.replace(
    "    role: member                    # member | lead | admin\n",
    "    role: member\n"
    "  - {id: ceo, name: Chief Executive, role: admin}\n"
    "  - {id: mette, name: Mette Lund, role: lead}\n"
    "  - {id: jonas, name: Jonas Berg}\n",
)

# Lines 1-8 of every small test file; objectives start at line 9.
HEAD = """\
organization: Acme
period: 2026-Q4
people:
  - {id: anna, name: Anna}
  - {id: bo, name: Bo}
teams:
  - {slug: company, name: Acme}
  - {slug: marketing, name: Marketing, parent: company}
"""


def okr(text: str) -> OkrDocument:
    return parse_okr_text(dedent(text), "okrs.yaml")


def problems(text: str) -> list[Problem]:
    with pytest.raises(OkrFileError) as info:
        parse_okr_text(dedent(text), "okrs.yaml")
    assert str(info.value) == "\n".join(str(p) for p in info.value.problems)
    return info.value.problems


def problem(text: str) -> Problem:
    """The one problem of `text`; its message must name the file as given."""
    found = problems(text)
    assert len(found) == 1, found
    assert str(found[0]).startswith(f"okrs.yaml:{found[0].line}: ")
    return found[0]


def objectives(text: str) -> str:
    return HEAD + dedent(text)


# ---- the SPEC example ----------------------------------------------------------------------


def test_spec_example_loads_with_exact_values():
    doc = parse_okr_text(SPEC_FILE, "okrs.yaml")
    assert (doc.organization, doc.period, doc.timezone, doc.locale) == (
        "Nordlys Retail",
        "2026-Q4",
        "Europe/Copenhagen",
        "en",
    )
    assert doc.exec_channel == "C0EXEC"
    assert doc.checkin == Schedule(day="mon", time="09:30", remind_after_hours=24)
    assert doc.digest == Schedule(day="fri", time="15:00")
    anna = doc.people[0]
    assert (anna.id, anna.name, anna.email, anna.slack, anna.teams) == (
        "anna",
        "Anna Holm",
        "anna@nordlys.example",
        "U0ANNA",
        "5c1e...",
    )
    assert (anna.timezone, anna.locale, anna.role) == ("Europe/Copenhagen", "da", "member")
    company, marketing = doc.teams
    assert (company.slug, company.leads, company.parent) == ("company", ["ceo"], None)
    assert (marketing.parent, marketing.channel) == ("company", "C0MKT")
    assert (marketing.leads, marketing.members) == (["mette"], ["anna", "jonas"])
    co1, mkt1 = doc.objectives
    assert (co1.focus, mkt1.aligned_to) == (["omnichannel"], "CO-1")
    assert co1.key_results[0].start == 50_000_000 and co1.key_results[0].target == 60_000_000
    krs = {kr.id: kr for kr in mkt1.key_results}
    assert (krs["MKT-1.1"].unit, krs["MKT-1.1"].start, krs["MKT-1.1"].target) == (
        "campaigns",
        0,
        12,
    )
    assert krs["MKT-1.2"].unit is None and krs["MKT-1.2"].owner == "jonas"
    cpa = krs["MKT-1.3"]
    assert (cpa.type, cpa.unit, cpa.start, cpa.target, cpa.current) == (
        "metric",
        "DKK",
        180,
        120,
        None,
    )
    loyalty = krs["MKT-1.4"]
    assert (loyalty.type, loyalty.start, loyalty.target, loyalty.current) == ("binary", 0, 1, None)
    share = krs["MKT-1.5"]
    assert (share.unit, share.start, share.target, share.current) == ("%", 12, 25, 14)
    assert all(kr.weight == 1.0 for kr in mkt1.key_results)
    assert doc.objective_period(mkt1) == parse_period("2026-Q4")
    assert (
        doc.person_locale(anna) == "da"
        and doc.person_timezone(doc.people[1]) == "Europe/Copenhagen"
    )
    assert doc.team_checkin(marketing) is doc.checkin


def test_spec_example_as_printed_only_lacks_the_people_it_references():
    found = problems(SPEC_EXAMPLE)
    assert [(p.line, p.message) for p in found] == [
        (20, "team company: unknown person 'ceo' in 'leads'"),
        (25, "team marketing: unknown person 'mette' in 'leads'"),
        (26, "team marketing: unknown person 'jonas' in 'members'"),
        (34, "key result CO-1.1: unknown owner 'ceo'"),
        (42, "key result MKT-1.2: unknown owner 'jonas'"),
        (45, "key result MKT-1.5: unknown owner 'jonas'"),
    ]


def test_load_okr_file_reads_the_file(tmp_path, monkeypatch):
    (tmp_path / "okrs.yaml").write_text(SPEC_FILE, encoding="utf-8")
    monkeypatch.chdir(tmp_path)
    assert load_okr_file("okrs.yaml") == parse_okr_text(SPEC_FILE)
    assert load_okr_file(tmp_path / "okrs.yaml").organization == "Nordlys Retail"


# ---- values and normalisation --------------------------------------------------------------


def test_unquoted_times_and_days_are_kept_as_written():
    doc = okr(
        """\
        organization: Acme
        period: 2026-Q4
        checkin: {day: Tue, time: 9:30}
        digest: {day: fri, time: 15:00, remind_after_hours: 2}
        """
    )
    assert doc.checkin == Schedule(day="tue", time="09:30")
    assert doc.digest == Schedule(day="fri", time="15:00", remind_after_hours=2)


def test_defaults_of_a_minimal_file():
    doc = okr("organization: Acme\nperiod: 2026-10-01..2026-12-31\n")
    assert (doc.timezone, doc.locale, doc.exec_channel) == ("UTC", "en", None)
    assert doc.checkin == Schedule(day="mon", time="09:30", remind_after_hours=24)
    assert doc.digest == Schedule(day="fri", time="15:00")
    assert doc.people == doc.teams == doc.objectives == []


def test_key_result_types_are_normalised():
    doc = okr(
        objectives(
            """\
            objectives:
              - id: O-1
                team: company
                title: Everything
                period: 2026-11-01..2026-11-30
                key_results:
                  - {id: M, title: Metric, target: 12, current: 4.5, owner: anna, weight: 2}
                  - {id: B1, title: Done, type: binary, current: done, owner: anna}
                  - {id: B2, title: Bool, type: binary, current: false, owner: anna}
                  - {id: B3, title: One, type: Binary, current: 1, owner: anna}
                  - {id: MS, title: Milestone, type: milestone, current: 40, owner: bo}
                  - {id: T1, title: Uptime, min: 99.5, owner: bo}
                  - {id: T2, title: Bugs, type: threshold, max: 2, current: 1, owner: bo}
                  - {id: 1.10, title: Numeric id, start: 10, target: 5, owner: bo}
            """
        )
    )
    obj = doc.objectives[0]
    kr = {k.id: k for k in obj.key_results}
    assert (kr["M"].type, kr["M"].start, kr["M"].target, kr["M"].current) == ("metric", 0, 12, 4.5)
    assert kr["M"].weight == 2
    assert [kr[b].current for b in ("B1", "B2", "B3")] == [1.0, 0.0, 1.0]
    assert (kr["B3"].type, kr["B3"].start, kr["B3"].target) == ("binary", 0, 1)
    assert (kr["MS"].start, kr["MS"].target, kr["MS"].unit) == (0, 100, "%")
    assert (kr["T1"].type, kr["T1"].min, kr["T1"].max, kr["T1"].target) == (
        "threshold",
        99.5,
        None,
        None,
    )
    assert (kr["T2"].type, kr["T2"].max) == ("threshold", 2)
    assert kr["1.10"].target == 5  # ids are kept exactly as written
    period = doc.objective_period(obj)
    assert (period.start, period.end) == (date(2026, 11, 1), date(2026, 11, 30))


def test_parse_period():
    q4 = parse_period("2026-Q4")
    assert (q4.label, q4.start, q4.end) == ("2026-Q4", date(2026, 10, 1), date(2026, 12, 31))
    assert (parse_period("2024-Q1").start, parse_period("2024-Q1").end) == (
        date(2024, 1, 1),
        date(2024, 3, 31),
    )
    assert parse_period("2026-Q2").end == date(2026, 6, 30)
    span = parse_period("2026-10-01..2026-10-01")
    assert span.contains(date(2026, 10, 1)) and not span.contains(date(2026, 10, 2))
    assert q4.contains(date(2026, 12, 31)) and not q4.contains(date(2027, 1, 1))
    for bad in ("2026-Q5", "2026", "2026-12-01..2026-11-01", "2026-02-30..2026-03-01"):
        with pytest.raises(ValueError, match="period"):
            parse_period(bad)
    with pytest.raises(ValueError, match=r"YYYY-Qn or YYYY-MM-DD\.\.YYYY-MM-DD"):
        parse_period("Q4")


# ---- YAML-level errors ---------------------------------------------------------------------


def test_yaml_syntax_error_has_its_line():
    p = problem("organization: Acme\nperiod: 2026-Q4\npeople: [anna\nteams: []\n")
    assert p.line == 4 and "YAML syntax error" in p.message


def test_top_level_must_be_a_mapping():
    p = problem("\n- organization: Acme\n")
    assert p.line == 2 and "not a mapping" in p.message
    assert "empty" in problem("# nothing\n").message


def test_duplicate_key_in_one_mapping():
    p = problem("organization: Acme\nperiod: 2026-Q4\norganization: Other\n")
    assert (p.line, p.message) == (3, "duplicate key 'organization' (first at line 1)")


# ---- schema errors -------------------------------------------------------------------------


def test_unknown_key_names_key_and_item():
    p = problem(
        objectives(
            """\
            objectives:
              - id: MKT-1
                team: marketing
                title: Campaigns
                key_results:
                  - id: MKT-1.1
                    title: Campaigns launched
                    tagret: 12
                    owner: anna
            """
        )
    )
    assert p.line == 16
    assert p.message.startswith("unknown key 'tagret' in key result MKT-1.1 (allowed: id, title,")


def test_unknown_top_level_key():
    p = problem("organization: Acme\nperiod: 2026-Q4\nperiods: 2026-Q3\n")
    assert p.line == 3 and "unknown key 'periods'" in p.message


def test_missing_key_points_at_the_item():
    p = problem(
        objectives(
            """\
            objectives:
              - id: MKT-1
                team: marketing
                title: Campaigns
                key_results:
                  - {id: MKT-1.0, title: Fine, target: 1, owner: bo}
                  - id: MKT-1.1
                    title: Campaigns launched
                    target: 12
            """
        )
    )
    assert (p.line, p.message) == (15, "key result MKT-1.1: missing 'owner'")


def test_missing_top_level_key():
    p = problem("\norganization: Acme\n")
    assert (p.line, p.message) == (2, "missing top-level key 'period'")


def test_metric_without_target_is_missing_target():
    p = problem(
        objectives(
            """\
            objectives:
              - id: O-1
                team: company
                title: T
                key_results:
                  - {id: K, title: No target, start: 3, owner: anna}
            """
        )
    )
    assert (p.line, p.message) == (14, "key result K: missing 'target'")


def test_wrong_type():
    p = problem(
        objectives(
            """\
            objectives:
              - id: O-1
                team: company
                title: T
                key_results:
                  - id: K
                    title: Revenue
                    start: a lot
                    target: 10
                    owner: anna
            """
        )
    )
    assert (p.line, p.message) == (16, "key result K: 'start' must be a number")


def test_wrong_structure_types():
    found = problems(
        """\
        organization: Acme
        period: 2026-Q4
        people: anna
        teams:
          - company
        checkin: monday
        """
    )
    assert [(p.line, p.message) for p in found] == [
        (3, "'people' must be a list"),
        (5, "item 1 of 'teams' must be a mapping"),
        (6, "'checkin' must be a mapping"),
    ]


# ---- references ----------------------------------------------------------------------------


def test_unknown_team_of_objective():
    p = problem(objectives("objectives:\n  - {id: O-1, team: sales, title: T}\n"))
    assert (p.line, p.message) == (10, "objective O-1: unknown team 'sales'")


def test_unknown_parent_team():
    p = problem(
        """\
        organization: Acme
        period: 2026-Q4
        teams:
          - slug: marketing
            name: Marketing
            parent: compny
        """
    )
    assert (p.line, p.message) == (6, "team marketing: unknown parent team 'compny'")


def test_unknown_person_in_leads_and_members():
    found = problems(
        """\
        organization: Acme
        period: 2026-Q4
        people:
          - {id: anna, name: Anna}
        teams:
          - slug: marketing
            name: Marketing
            leads: [mette]
            members:
              - anna
              - jonas
        """
    )
    assert [(p.line, p.message) for p in found] == [
        (8, "team marketing: unknown person 'mette' in 'leads'"),
        (11, "team marketing: unknown person 'jonas' in 'members'"),
    ]


def test_unknown_owner():
    p = problem(
        objectives(
            """\
            objectives:
              - id: O-1
                team: company
                title: T
                key_results:
                  - id: K
                    title: Revenue
                    target: 10
                    owner: carl
            """
        )
    )
    assert (p.line, p.message) == (17, "key result K: unknown owner 'carl'")


def test_unknown_aligned_to():
    p = problem(
        objectives(
            """\
            objectives:
              - id: MKT-1
                team: marketing
                title: T
                aligned_to: CO-9
            """
        )
    )
    assert (p.line, p.message) == (
        13,
        "objective MKT-1: 'aligned_to' names unknown objective 'CO-9'",
    )


def test_duplicate_ids_say_where_the_first_was():
    found = problems(
        """\
        organization: Acme
        period: 2026-Q4
        people:
          - {id: anna, name: Anna}
          - {id: anna, name: Anna Again}
        teams:
          - {slug: company, name: Acme}
          - {slug: company, name: Acme Again}
        objectives:
          - id: O-1
            team: company
            title: T
            key_results:
              - {id: K-1, title: A, target: 1, owner: anna}
          - id: O-1
            team: company
            title: Again
            key_results:
              - {id: K-1, title: B, target: 1, owner: anna}
        """
    )
    assert [(p.line, p.message) for p in found] == [
        (5, "duplicate person id 'anna' (first at line 4)"),
        (8, "duplicate team slug 'company' (first at line 7)"),
        (15, "duplicate objective id 'O-1' (first at line 10)"),
        (19, "duplicate key result id 'K-1' (first at line 14)"),
    ]


def test_cycle_in_team_parent():
    found = problems(
        """\
        organization: Acme
        period: 2026-Q4
        teams:
          - {slug: a, name: A, parent: b}
          - {slug: b, name: B, parent: a}
          - {slug: c, name: C, parent: a}
          - slug: d
            name: D
            parent: d
        """
    )
    assert [(p.line, p.message) for p in found] == [
        (4, "cycle in parent: a -> b -> a"),
        (9, "cycle in parent: d -> d"),
    ]


def test_cycle_in_aligned_to():
    found = problems(
        objectives(
            """\
            objectives:
              - {id: A, team: company, title: T, aligned_to: C}
              - {id: B, team: company, title: T, aligned_to: A}
              - id: C
                team: company
                title: T
                aligned_to: B
              - {id: D, team: company, title: T, aligned_to: D}
            """
        )
    )
    assert [(p.line, p.message) for p in found] == [
        (10, "cycle in aligned_to: A -> C -> B -> A"),
        (16, "cycle in aligned_to: D -> D"),
    ]


# ---- key-result rules ----------------------------------------------------------------------


def kr_problem(key_result: str) -> Problem:
    """The one problem of a file whose only key result (at line 14) is `key_result`."""
    return problem(
        objectives(
            """\
            objectives:
              - id: O-1
                team: company
                title: T
                key_results:
            """
        )
        + indent(dedent(key_result), "      ")
    )


def test_metric_with_start_equal_to_target():
    p = kr_problem(
        """\
              - id: K
                title: Flat
                start: 5
                target: 5
                owner: anna
        """
    )
    assert (p.line, p.message) == (
        17,
        "key result K: 'target' equals 'start' (5): no progress possible",
    )


def test_min_or_max_on_a_non_threshold_type():
    p = kr_problem(
        """\
              - id: K
                title: Revenue
                type: metric
                target: 10
                max: 20
                owner: anna
        """
    )
    assert p.line == 18
    assert p.message == "key result K: 'max' is only for a threshold key result (not metric)"
    p = kr_problem("      - {id: K, title: Done, type: binary, min: 1, owner: anna}\n")
    assert p.line == 14 and "'min' is only for a threshold" in p.message


def test_threshold_with_both_bounds():
    p = kr_problem(
        """\
              - id: K
                title: Temperature
                min: 18
                max: 24
                owner: anna
        """
    )
    assert (p.line, p.message) == (
        17,
        "key result K: a threshold takes one of 'min' or 'max', not both",
    )


def test_threshold_without_a_bound():
    p = kr_problem(
        """\
              - id: K
                title: Uptime
                type: threshold
                owner: anna
        """
    )
    assert p.line == 16 and p.message.startswith("key result K: a threshold needs 'min'")


def test_threshold_with_a_target():
    p = kr_problem("      - {id: K, title: Bugs, max: 2, target: 0, owner: anna}\n")
    assert p.line == 14 and "a threshold has no 'target'" in p.message


def test_bad_type():
    p = kr_problem(
        """\
              - id: K
                title: Revenue
                type: percentage
                owner: anna
        """
    )
    assert (p.line, p.message) == (
        16,
        "key result K: 'type' must be one of metric, binary, milestone, threshold"
        " (got 'percentage')",
    )


def test_milestone_current_outside_0_to_100():
    p = kr_problem(
        """\
              - id: K
                title: Website
                type: milestone
                current: 120
                owner: anna
        """
    )
    assert (p.line, p.message) == (
        17,
        "key result K: 'current' of a milestone must be between 0 and 100",
    )


def test_binary_current_must_be_done_or_not():
    p = kr_problem("      - {id: K, title: Launch, type: binary, current: 3, owner: anna}\n")
    assert p.line == 14 and "'current' of a binary key result" in p.message


def test_weight_must_be_positive():
    p = kr_problem("      - {id: K, title: R, target: 1, weight: 0, owner: anna}\n")
    assert (p.line, p.message) == (14, "key result K: 'weight' must be greater than 0")


# ---- settings ------------------------------------------------------------------------------


def test_bad_period_top_level_and_per_objective():
    found = problems(
        """\
        organization: Acme
        period: 2026-Q5
        teams:
          - {slug: company, name: Acme}
        objectives:
          - id: O-1
            team: company
            title: T
            period: 2026-12-01..2026-11-01
        """
    )
    assert [p.line for p in found] == [2, 9]
    assert found[0].message.startswith("'period': '2026-Q5' is not a period")
    assert "YYYY-Qn or YYYY-MM-DD..YYYY-MM-DD" in found[0].message
    assert found[1].message.startswith("objective O-1: 'period': ")
    assert "ends before it starts" in found[1].message


def test_bad_time_zone_top_level_and_per_person():
    found = problems(
        """\
        organization: Acme
        period: 2026-Q4
        timezone: Europe/Copenhagn
        people:
          - id: anna
            name: Anna
            timezone: Mars/Olympus
        """
    )
    zone = "must be an IANA time zone such as Europe/Copenhagen"
    assert [(p.line, p.message) for p in found] == [
        (3, f"'timezone' {zone} (got 'Europe/Copenhagn')"),
        (7, f"person anna: 'timezone' {zone} (got 'Mars/Olympus')"),
    ]


def test_values_that_are_not_text():
    found = problems(
        """\
        organization:
        period: [2026-Q4]
        people:
          - {id: anna, name: true, email: {at: x}}
        """
    )
    assert [(p.line, p.message) for p in found] == [
        (1, "'organization' must have a value"),
        (2, "'period' must be text, not a list"),
        (4, "person anna: 'name' must be text (quote it)"),
        (4, "person anna: 'email' must be text, not a mapping"),
    ]


def test_bad_locale_and_role():
    found = problems(
        """\
        organization: Acme
        period: 2026-Q4
        locale: de
        people:
          - {id: anna, name: Anna, locale: sv}
          - id: bo
            name: Bo
            role: boss
        """
    )
    assert [(p.line, p.message) for p in found] == [
        (3, "'locale' must be one of en, da (got 'de')"),
        (5, "person anna: 'locale' must be one of en, da (got 'sv')"),
        (8, "person bo: 'role' must be one of member, lead, admin (got 'boss')"),
    ]


def test_bad_day_and_time_in_schedules():
    found = problems(
        """\
        organization: Acme
        period: 2026-Q4
        checkin:
          day: monday
          time: 9.30
        teams:
          - slug: company
            name: Acme
            digest: {day: fri, time: 24:00, remind_after_hours: -1}
        """
    )
    assert [(p.line, p.message) for p in found] == [
        (4, "'checkin': 'day' must be one of mon, tue, wed, thu, fri, sat, sun (got 'monday')"),
        (5, "'checkin': 'time' must be HH:MM from 00:00 to 23:59 (got '9.30')"),
        (9, "team company 'digest': 'time' must be HH:MM from 00:00 to 23:59 (got '24:00')"),
        (9, "team company 'digest': 'remind_after_hours' must be greater than 0"),
    ]


def test_channels_are_slack_ids_or_teams_conversations():
    doc = okr(
        """\
        organization: Acme
        period: 2026-Q4
        exec_channel: teams:19:abc@thread.tacv2
        teams:
          - {slug: company, name: Acme, channel: G01PRIVATE}
        """
    )
    assert (doc.exec_channel, doc.teams[0].channel) == ("teams:19:abc@thread.tacv2", "G01PRIVATE")
    found = problems(
        """\
        organization: Acme
        period: 2026-Q4
        exec_channel: "#exec"
        teams:
          - slug: company
            name: Acme
            channel: "teams:"
        """
    )
    expected = "must be a Slack channel id (C...) or teams:<conversation id>"
    assert [p.line for p in found] == [3, 7]
    assert found[0].message == f"'exec_channel' {expected} (got '#exec')"
    assert found[1].message == f"team company: 'channel' {expected} (got 'teams:')"


def test_bad_slug():
    p = problem("organization: Acme\nperiod: 2026-Q4\nteams:\n  - {slug: Sales Team, name: S}\n")
    assert p.line == 4 and p.message.startswith("team Sales Team: 'slug' must be lower-case")


# ---- reporting -----------------------------------------------------------------------------


def test_all_problems_are_reported_together_sorted_by_line():
    found = problems(
        objectives(
            """\
            objectives:
              - id: O-1
                team: nowhere
                title: T
                key_results:
                  - {id: K, title: R, start: x, target: 1, owner: anna}
            """
        )
    )
    assert [(p.line, p.message) for p in found] == [
        (11, "objective O-1: unknown team 'nowhere'"),
        (14, "key result K: 'start' must be a number"),
    ]


def test_errors_name_the_file_as_given(tmp_path, monkeypatch):
    (tmp_path / "conf").mkdir()
    (tmp_path / "conf" / "okrs.yaml").write_text("organization: Acme\nperiod: someday\n")
    monkeypatch.chdir(tmp_path)
    with pytest.raises(OkrFileError) as info:
        load_okr_file("conf/okrs.yaml")
    assert str(info.value).startswith("conf/okrs.yaml:2: 'period': 'someday' is not a period")
    assert info.value.problems[0].file == "conf/okrs.yaml"


def test_unreadable_file(tmp_path):
    missing = tmp_path / "nope.yaml"
    with pytest.raises(OkrFileError) as info:
        load_okr_file(missing)
    (p,) = info.value.problems
    assert (p.file, p.line) == (str(missing), 1)
    assert "No such file" in p.message


def test_not_utf8(tmp_path):
    path = tmp_path / "okrs.yaml"
    path.write_bytes(b"organization: Acme\nperiod: 2026-Q4 \xff\n")
    with pytest.raises(OkrFileError) as info:
        load_okr_file(path)
    assert info.value.problems[0].line == 2


# ---- dumping -------------------------------------------------------------------------------


def test_dump_round_trips_the_spec_example():
    doc = parse_okr_text(SPEC_FILE)
    text = dump_okr_document(doc)
    assert parse_okr_text(text) == doc
    assert dump_okr_document(parse_okr_text(text)) == text
    assert text.startswith(
        "organization: Nordlys Retail\nperiod: 2026-Q4\ntimezone: Europe/Copenhagen\n"
    )
    assert "  - {slug: company, name: Nordlys, leads: [ceo]}\n" in text
    assert "start: 50000000, target: 60000000" in text  # ints stay ints
    assert "{id: MKT-1.4, title: Loyalty programme launched, type: binary, owner: anna}" in text
    assert "\npeople:\n" in text and "\nteams:\n" in text and "\nobjectives:\n" in text
    assert "checkin" not in text  # the defaults are left out


def test_dump_round_trips_every_feature():
    doc = okr(
        """\
        organization: "Acme: the company"
        period: 2026-10-01..2026-12-31
        timezone: America/New_York
        locale: da
        exec_channel: teams:19:exec@thread.tacv2
        checkin: {day: tue, time: "08:00"}
        digest: {day: thu, time: 16:30, remind_after_hours: 3}
        people:
          - {id: anna, name: Anna, email: a@x.example, slack: U1, locale: en, timezone: UTC, role: admin}
          - {id: "007", name: "yes"}
        teams:
          - slug: company
            name: Acme
            channel: C123
            leads: [anna]
            members: ["007"]
            checkin: {day: wed, time: "10:15", remind_after_hours: 48}
          - {slug: r-and-d, name: R&D, parent: company}
        objectives:
          - id: O-1
            team: r-and-d
            title: "Ship #1, then #2"
            period: 2026-Q4
            focus: [omnichannel, ai]
            key_results:
              - {id: K1, title: Revenue, unit: $, start: 1.5, target: 2.25, current: 1.75, owner: anna, weight: 0.5}
              - {id: K2, title: Launched, type: binary, current: true, owner: "007"}
              - {id: K3, title: Not launched, type: binary, current: not done, owner: anna}
              - {id: K4, title: Website, type: milestone, current: 40, owner: anna}
              - {id: K5, title: Uptime, unit: "%", min: 99.9, current: 99.95, owner: anna}
              - {id: K6, title: Incidents, start: 3, max: 2, owner: anna}
              - {id: "1.10", title: A very long key result title that will not fit on one line at all, target: 1e6, owner: anna}
          - {id: O-2, team: company, title: Parent, key_results: []}
          - {id: O-3, team: company, title: Child, aligned_to: O-2}
        """  # noqa: E501
    )
    text = dump_okr_document(doc)
    assert parse_okr_text(text) == doc
    assert "digest: {day: thu, time: '16:30', remind_after_hours: 3}" in text
    assert "start: 1.5, target: 2.25" in text and "target: 1000000" in text
    assert "current: true" in text and "current: false" in text
    bare = OkrDocument(organization="X", period="2026-Q1")
    assert dump_okr_document(bare) == "organization: X\nperiod: 2026-Q1\n"
    assert parse_okr_text(dump_okr_document(bare)) == bare

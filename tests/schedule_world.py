"""A small organisation spread over three time zones, for the schedule and outbox tests.

Anna is in Copenhagen, Bob in New York, Kenji in Tokyo; Pia (Copenhagen) is away until the
end of November. Check-ins on Monday 09:30 local, reminders 24 hours later, digests on Friday
15:00 Copenhagen time to `C0EXEC` and to the marketing channel `C0MKT`. The period runs from
October 2026 to June 2027, across the European and US daylight-saving changes.
"""

from __future__ import annotations

from datetime import date, datetime, timedelta

from bot.okrfile.importer import import_document
from bot.okrfile.schema import parse_okr_text

OKRS = """
organization: Nordlys Retail
period: 2026-10-01..2027-06-30
timezone: Europe/Copenhagen
locale: en
exec_channel: "C0EXEC"
checkin: {day: mon, time: "09:30", remind_after_hours: 24}
digest: {day: fri, time: "15:00"}
people:
  - {id: ceo, name: Kirsten Dahl, email: kirsten@nordlys.example, slack: U0CEO, role: admin}
  - {id: anna, name: Anna Holm, email: anna@nordlys.example, slack: U0ANNA}
  - {id: bob, name: Bob Stone, email: bob@nordlys.example, slack: U0BOB, timezone: America/New_York}
  - {id: kenji, name: Kenji Sato, email: kenji@nordlys.example, slack: U0KENJI, timezone: Asia/Tokyo}
  - {id: pia, name: Pia Lund, email: pia@nordlys.example, slack: U0PIA}
teams:
  - {slug: company, name: Nordlys, leads: [ceo]}
  - {slug: marketing, name: Marketing, parent: company, channel: "C0MKT", leads: [anna], members: [bob, kenji, pia]}
objectives:
  - id: CO-1
    team: company
    title: Grow revenue by 20%
    key_results:
      - {id: CO-1.1, title: Annual revenue, unit: DKK, start: 50000000, target: 60000000, owner: ceo}
  - id: MKT-1
    team: marketing
    title: Turn in-store data into segmented campaigns
    aligned_to: CO-1
    key_results:
      - {id: MKT-1.1, title: Segmented campaigns launched, unit: campaigns, start: 0, target: 12, owner: anna}
      - {id: MKT-1.2, title: Email subscribers, start: 2000, target: 10000, owner: bob}
      - {id: MKT-1.3, title: Store sign-ups, start: 0, target: 500, owner: kenji}
      - {id: MKT-1.4, title: Loyalty programme launched, type: binary, owner: pia}
"""

SLACK_USERS = {
    "U0CEO": {"email": "kirsten@nordlys.example", "tz": "Europe/Copenhagen"},
    "U0ANNA": {"email": "anna@nordlys.example", "tz": "Europe/Copenhagen"},
    "U0BOB": {"email": "bob@nordlys.example", "tz": "America/New_York"},
    "U0KENJI": {"email": "kenji@nordlys.example", "tz": "Asia/Tokyo"},
    "U0PIA": {"email": "pia@nordlys.example", "tz": "Europe/Copenhagen"},
}


def around(today: date) -> str:
    """A period from two months before `today` to half a year after it."""
    return f"{today - timedelta(days=60)}..{today + timedelta(days=180)}"


async def load_world(db, imported_at: datetime, text: str = OKRS, period: str | None = None):
    if period is not None:
        text = text.replace("period: 2026-10-01..2027-06-30", f"period: {period}")
    doc = parse_okr_text(text, "okrs.yaml")
    async with db.transaction() as session:
        await import_document(session, doc, now=imported_at)


def crowd(members: int, period: str) -> str:
    """An OKR file of `members` people in teams of 100, each owning one key result of their
    team's objective, Slack user ids U000000, U000001, ... (for load: tests and bench)."""
    lines = [
        "organization: Crowd",
        f"period: {period}",
        "timezone: Europe/Copenhagen",
        "locale: en",
        "people:",
    ]
    lines += [f"  - {{id: p{n}, name: Person {n}, slack: U{n:06d}}}" for n in range(members)]
    teams = [range(t, min(members, t + 100)) for t in range(0, members, 100)]
    lines.append("teams:")
    for t, people in enumerate(teams):
        ids = ", ".join(f"p{n}" for n in people)
        lines.append(f"  - {{slug: t{t}, name: Team {t}, members: [{ids}]}}")
    lines.append("objectives:")
    for t, people in enumerate(teams):
        lines += [
            f"  - id: O{t}",
            f"    team: t{t}",
            f"    title: Objective {t}",
            "    key_results:",
        ]
        lines += [
            f"      - {{id: KR{n}, title: Result {n}, start: 0, target: 10, owner: p{n}}}"
            for n in people
        ]
    return "\n".join(lines) + "\n"

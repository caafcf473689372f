"""The demo organisation: Nordlys Retail's OKRs plus a few weeks of check-in history, so that
`okrbot run` on an empty database shows living numbers at once."""

from __future__ import annotations

from datetime import datetime, timedelta
from importlib import resources
from zoneinfo import ZoneInfo

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from bot.clock import iso_week, local_date, monday_of
from bot.okrfile.importer import ImportReport, import_document
from bot.okrfile.schema import OkrDocument, parse_okr_text, parse_period
from bot.updates import record_update
from storage.models import CheckinRound, KeyResult, Person

DEMO_FILE = "data/nordlys.yaml"
DEMO_PERSONA = "mette"  # the marketing lead: `okr marketing` is her first question

# Weekly check-ins, oldest first: (value, health, comment). The last one is this week's
# latest value; the dates are counted back from today.
HISTORY: dict[str, list[tuple[float, str | None, str | None]]] = {
    "CO-1.1": [
        (51_200_000, "on_track", None),
        (52_100_000, "on_track", None),
        (52_900_000, "on_track", "October close is in"),
        (53_600_000, "at_risk", None),
    ],
    "CO-2.1": [
        (14, "on_track", None),
        (17, "on_track", None),
        (19, "at_risk", None),
        (21, "at_risk", "waiting for the POS integration"),
    ],
    "RET-1.1": [
        (0, "on_track", None),
        (1, "on_track", "Odense opened"),
        (1, "on_track", None),
        (1, "at_risk", "Aalborg lease delayed"),
    ],
    "RET-1.2": [
        (38_400, None, None),
        (38_900, "on_track", None),
        (39_600, "on_track", None),
        (40_100, "on_track", None),
    ],
    "RET-1.3": [
        (20, "on_track", None),
        (35, "on_track", None),
        (50, "on_track", None),
        (60, "on_track", "shelving delivered"),
    ],
    "RET-2.1": [
        (7, "on_track", None),
        (9, "at_risk", None),
        (10, "at_risk", None),
        (11, "off_track", "blocked by the till update"),
    ],
    "RET-2.2": [
        (2, "on_track", None),
        (4, "on_track", None),
        (6, "on_track", None),
        (8, "at_risk", None),
    ],
    "RET-2.3": [
        (44, None, None),
        (41, "on_track", None),
        (38, "on_track", None),
        (36, "on_track", "new printers helped"),
    ],
    "ECOM-1.1": [
        (0, "on_track", None),
        (0, "on_track", None),
        (0, "at_risk", None),
        (0, "at_risk", "vendor API rate limits"),
    ],
    "ECOM-1.2": [
        (0, "on_track", None),
        (3, "on_track", None),
        (5, "on_track", None),
        (7, "at_risk", None),
    ],
    "ECOM-1.3": [
        (9, "off_track", None),
        (6, "at_risk", None),
        (4, "on_track", None),
        (3, "on_track", None),
    ],
    "ECOM-2.1": [
        (12_400_000, "on_track", None),
        (12_800_000, "on_track", None),
        (13_300_000, "on_track", "Black Friday pre-sales"),
        (13_700_000, "on_track", None),
    ],
    "ECOM-2.2": [
        (1.9, "on_track", None),
        (1.9, "at_risk", None),
        (2.0, "on_track", None),
        (2.1, "on_track", "new checkout page"),
    ],
    "MKT-1.1": [
        (2, "on_track", None),
        (3, "on_track", None),
        (4, "on_track", None),
        (5, "on_track", "two campaigns from store data"),
    ],
    "MKT-1.2": [
        (2_600, "on_track", None),
        (3_300, "on_track", None),
        (3_900, "at_risk", None),
        (4_100, "at_risk", "sign-up at the till is slow"),
    ],
    "MKT-1.3": [
        (176, "on_track", None),
        (168, "on_track", None),
        (161, "on_track", None),
        (150, "on_track", None),
    ],
    "MKT-1.5": [
        (14, None, None),
        (15, "on_track", None),
        (16, "on_track", None),
        (17, "on_track", None),
    ],
}
WEEKS = 4
NOT_YET_THIS_WEEK = {"jonas", "oliver"}  # so `okr me` and digests show someone missing


def demo_document(now: datetime) -> OkrDocument:
    """The demo file, moved to the current quarter if its own period is over or not yet begun."""
    text = resources.files(__package__).joinpath(DEMO_FILE).read_text(encoding="utf-8")
    doc = parse_okr_text(text, "nordlys.yaml")
    today = local_date(now, doc.timezone)
    if not parse_period(doc.period).contains(today):
        quarter = (today.month - 1) // 3 + 1
        doc = doc.model_copy(update={"period": f"{today.year}-Q{quarter}"})
    return doc


async def load_demo(session: AsyncSession, now: datetime) -> ImportReport:
    """Import the demo OKRs and write their check-in history (the caller commits)."""
    doc = demo_document(now)
    report = await import_document(session, doc, now=now - timedelta(weeks=WEEKS + 1))
    await _seed_history(session, doc, now)
    return report


async def _seed_history(session: AsyncSession, doc: OkrDocument, now: datetime) -> None:
    krs = {kr.key: kr for kr in (await session.execute(select(KeyResult))).scalars()}
    people = {p.id: p for p in (await session.execute(select(Person))).scalars()}
    zone = ZoneInfo(doc.timezone)
    monday = monday_of(local_date(now, doc.timezone))
    if datetime(monday.year, monday.month, monday.day, 12, tzinfo=zone) > now:
        monday -= timedelta(weeks=1)  # early on a Monday: this week's check-ins are still to come
    checked_in: dict[tuple[int, str], datetime] = {}
    for key, weeks in HISTORY.items():
        kr = krs[key]
        late = people[kr.owner_id].handle in NOT_YET_THIS_WEEK
        for index, (value, health, comment) in enumerate(weeks):
            # the last entry is this week's check-in (last week's for the late ones)
            weeks_back = len(weeks) - 1 - index + late
            shift = timedelta(days=index % 2 if weeks_back else 0)
            day = monday - timedelta(weeks=weeks_back) + shift
            when = datetime(day.year, day.month, day.day, 10, 15 + index, tzinfo=zone)
            record_update(
                session,
                kr,
                value,
                at=when,
                source="dm",
                person_id=kr.owner_id,
                health=health,
                comment=comment,
                old_value=kr.current if kr.current is not None else kr.start,
            )
            period = iso_week(when, people[kr.owner_id].timezone or doc.timezone)
            checked_in[(kr.owner_id, period)] = when
    for (person_id, period), when in checked_in.items():
        session.add(
            CheckinRound(
                person_id=person_id,
                period=period,
                status="done",
                prompted_at=when,
                completed_at=when,
            )
        )

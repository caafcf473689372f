"""Time is passed in: the composition root hands `system_clock` to the core; tests pass theirs."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, date, datetime
from zoneinfo import ZoneInfo

Clock = Callable[[], datetime]


def system_clock() -> datetime:
    return datetime.now(UTC)


def fixed_clock(moment: datetime) -> Clock:
    if moment.tzinfo is None:
        raise ValueError("a clock gives aware datetimes")
    return lambda: moment


def local_date(moment: datetime, timezone: str) -> date:
    return moment.astimezone(ZoneInfo(timezone)).date()


def iso_week(moment: datetime, timezone: str) -> str:
    """The check-in period: the ISO week in the given zone, e.g. "2026-W47"."""
    year, week, _ = local_date(moment, timezone).isocalendar()
    return f"{year}-W{week:02d}"

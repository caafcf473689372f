"""Time is passed in: the composition root hands `system_clock` to the core; tests pass theirs."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

Clock = Callable[[], datetime]


def system_clock() -> datetime:
    return datetime.now(UTC)


def fixed_clock(moment: datetime) -> Clock:
    if moment.tzinfo is None:
        raise ValueError("a clock gives aware datetimes")
    return lambda: moment


class MovableClock:
    """A clock that stands still until moved (tests): `clock.now = ...` or `clock.advance(...)`."""

    def __init__(self, moment: datetime) -> None:
        if moment.tzinfo is None:
            raise ValueError("a clock gives aware datetimes")
        self.now = moment

    def __call__(self) -> datetime:
        return self.now

    def advance(self, **delta: float) -> datetime:
        self.now += timedelta(**delta)
        return self.now


def local_date(moment: datetime, timezone: str) -> date:
    return moment.astimezone(ZoneInfo(timezone)).date()


def iso_week(moment: datetime, timezone: str) -> str:
    """The check-in period: the ISO week in the given zone, e.g. "2026-W47"."""
    year, week, _ = local_date(moment, timezone).isocalendar()
    return f"{year}-W{week:02d}"


def monday_of(day: date) -> date:
    """The Monday that starts `day`'s ISO week."""
    return day - timedelta(days=day.weekday())


def week_start(moment: datetime, timezone: str) -> datetime:
    """Monday 00:00 of the moment's ISO week in `timezone`, as an aware datetime."""
    zone = ZoneInfo(timezone)
    return datetime.combine(monday_of(moment.astimezone(zone).date()), time(0), tzinfo=zone)

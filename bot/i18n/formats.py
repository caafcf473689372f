"""Numbers, values, percentages and relative times per locale (en, da). Pure."""

from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo

from bot.i18n import t
from bot.progress import as_percent

# units written before the number in English ("DKK 150" reads oddly; we keep "150 DKK" in both
# languages, as Danish and most of Europe write it), and units glued to the number
_GLUED = {"%"}


def format_number(value: float, locale: str, *, compact: bool = True, decimals: int = 2) -> str:
    """`4100` -> "4,100" (en) / "4.100" (da); `1.5` -> "1.5" / "1,5"; millions compact."""
    if compact and abs(value) >= 1_000_000:
        scaled = value / 1_000_000
        text = _group(scaled, 1)
        return t(locale, "million", n=_localise(text, locale))
    return _localise(_group(value, decimals), locale)


def _group(value: float, decimals: int) -> str:
    text = f"{value:,.{decimals}f}"
    if "." in text:
        text = text.rstrip("0").rstrip(".")
    return "0" if text in ("-0", "") else text


def _localise(en_text: str, locale: str) -> str:
    if locale == "da":
        return en_text.replace(",", "\x00").replace(".", ",").replace("\x00", ".")
    return en_text


def with_unit(number: str, unit: str | None, locale: str) -> str:
    if not unit:
        return number
    if unit in _GLUED and locale != "da":
        return f"{number}{unit}"
    return f"{number} {unit}"


def format_value(value: float | None, unit: str | None, locale: str) -> str:
    if value is None:
        return "–"
    return with_unit(format_number(value, locale), unit, locale)


def format_percent(progress: float | None, locale: str) -> str:
    """A whole percent, rounded half up: 0.125 -> "13%" (en) / "13 %" (da)."""
    whole = as_percent(progress)
    return "–" if whole is None else with_unit(str(whole), "%", locale)


def format_ago(when: datetime | None, now: datetime, locale: str, zone: str = "UTC") -> str:
    """Whole calendar days between the two moments, counted in the reader's time zone."""
    if when is None:
        return t(locale, "never")
    tz = ZoneInfo(zone)
    days = (now.astimezone(tz).date() - when.astimezone(tz).date()).days
    if days <= 0:
        return t(locale, "today")
    if days == 1:
        return t(locale, "yesterday")
    if days < 14:
        return t(locale, "days_ago", n=days)
    if days < 60:
        return t(locale, "weeks_ago", n=days // 7)
    return t(locale, "months_ago", n=days // 30)


def format_date(when: datetime, locale: str, zone: str = "UTC") -> str:
    when = when.astimezone(ZoneInfo(zone))
    month = t(locale, "months").split()[when.month - 1]
    return t(locale, "date", day=when.day, month=month, year=when.year)

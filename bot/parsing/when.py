"""Dates, week numbers, times and durations in a clause: their digits are never a value.

`until week 32`, `uge 47`, `4 January`, `4. januar`, `jan 12th`, `17/11` (after a word that
says "when"), `2026-12-01`, `12.01.2027`, `kl. 14.30`, `3pm`, `the 7th`, `in 2027`, `in 2 weeks`.
Found before numbers are read; the words stay in the comment.
"""

from __future__ import annotations

import re
from functools import lru_cache

_MONTHS = (
    "januar|january|jan|februar|february|feb|marts|march|mar|april|apr|maj|may|juni|june|jun|"
    "juli|july|jul|august|aug|september|sept|sep|oktober|october|okt|oct|november|nov|"
    "december|dec"
)
_DAY = r"(?:0?[1-9]|[12]\d|3[01])"
_MONTH = r"(?:0?[1-9]|1[0-2])"
_YEAR = r"(?:19|20)\d{2}"
_ORDINAL = r"(?:st|nd|rd|th|\.)"
# words after which a bare day/month ("17/11", "22.12") is a date
_WHEN = (
    r"on|by|from|until|till|since|back|due|after|before|pr|fra|siden|tilbage|indtil|inden|før|"
    r"efter|opgjort|målt|measured|updated|opdateret|as of|per|status|d|den|(?<!op )(?<!ned )til"
)
_WEEKDAY = r"mandag|tirsdag|onsdag|torsdag|fredag|monday|tuesday|wednesday|thursday|friday"

_PATTERNS = (
    # weeks: "week 32", "uge 51 og 52", "weeks 32-33", "w50", "wk 48"
    # (not "per week 10", "pr. uge 12": a title's "per week" and its value)
    # (the words whole: "from week 1", "fra uge 3" are weeks, whatever "om" and "a" end)
    r"(?<!\bper )(?<!\bpr )(?<!\bpr\. )(?<!\beach )(?<!\bevery )(?<!\bhver )(?<!\bom )"
    r"(?<!\ba )"
    r"\b(?:weeks?|wk|uger?|ugerne|kw)\.?\s?(?P<week>\d{1,2})"
    r"(?:\s?(?:-|og|and|to|til|&)\s?(?P<last_week>\d{1,2})\b(?!\s?[)/]))?\b",  # "wk1 - 2)"
    r"\bw\d{1,2}\b",
    r"\bw/c\b",  # "w/c 14 Dec": the week commencing
    # full dates: "2026-12-01", "12.01.2027", "24/11/26"
    r"\b\d{4}-\d{2}-\d{2}\b",
    rf"\b{_DAY}[./-]{_MONTH}[./-](?:\d{{4}}|\d{{2}})\b",
    # day and month name: "4 January", "4. januar", "3-14 august", "the 2nd of may", "1. april 2027"
    rf"\b(?:{_DAY}{_ORDINAL}?\s?(?:-|til|to)\s?)?{_DAY}{_ORDINAL}?\s?(?:of\s)?(?:{_MONTHS})\b\.?"
    rf"(?:\s{_YEAR}\b)?",
    # month name and day: "Jan 12th", "nov 10", "December 3, 2026"
    rf"\b(?:{_MONTHS})\.?\s{_DAY}(?:st|nd|rd|th)?\b(?:,?\s{_YEAR}\b)?",
    # ordinals: "the 7th", "Monday 24th"; Danish "d. 12.", "den 4."
    rf"\b{_DAY}(?:st|nd|rd|th)\b",
    rf"\bd\.?\s{_DAY}\b(?:\.\s?{_MONTH}\b)?\.?",
    rf"\bden\s{_DAY}\.(?:\s?{_MONTH}\.?)?",
    # times: "kl. 14.30", "kl 9", "3pm", "9:30 am", "at 09:30"
    r"\b(?:kl|klokken)\.?\s?\d{1,2}(?:[.:]\d{2})?\b",
    r"\b\d{1,2}(?:[.:]\d{2})?\s?(?:am|pm)\b",
    r"\b(?:at|from|until|by|before|after|around)\s\d{1,2}:\d{2}\b",
    r"\b[01]\d:[0-5]\d\b",
    # years and quarters with a year: "in 2027", "Q1 2027"
    rf"\b(?:in|i|by|since|siden|from|fra|until|til|before|før|after|efter)\s{_YEAR}\b(?![-/.]\d)",
    rf"\bq[1-4]\s?{_YEAR}\b",
    # durations: "in 2 weeks", "for 3 months", "2 ugers ferie"
    r"\b\d{1,2}\s?(?:weeks?|uger|ugers|months?|måneder|måneders|years?)\b",
)
_ANY = re.compile("|".join(f"(?:{p})" for p in _PATTERNS))
# a bare day/month after a "when" word: the date is the span, not the word
_DAY_MONTH = re.compile(
    rf"\b(?:(?:{_WHEN})\.?\s(?:(?:{_WEEKDAY})\s)?|(?:{_WEEKDAY})\s)"
    rf"(?P<date>{_DAY}[./]{_MONTH}|{_MONTH}/{_DAY})\.?(?![\d.,]|\w)"  # "on 12/15": month first
)

# a span of days after a leave or "when" word: "juleferie 20.12-4.1", "off 22/12-2/1" (not
# "co2 3.5-4.2", a range of values)
_LEAVE = r"\w*ferie|fri|off|away|out|væk|holiday|vacation|leave|orlov|barsel|syg|sick|ooo|pto"
_DAY_RANGE = re.compile(
    rf"\b(?:{_LEAVE}|{_WHEN})\.?\s(?:(?:{_WEEKDAY})\s)?"
    rf"(?P<date>{_DAY}[./]{_MONTH}\.?\s?-\s?{_DAY}[./]{_MONTH})\b\.?(?!\d|[.,]\d)"
)

# "ved 1. kontakt", "i 2. kvartal": a Danish ordinal after a preposition names a thing (the
# match ends at its digits, before the dot)
ORDINAL_THING = re.compile(
    r"(?:(?<=\bved )|(?<=\btil )|(?<=\bfor )|(?<=\bfra )|(?<=\bden )|(?<=\bdet )|(?<=\bthe )"
    r"|(?<=\bhver )|(?<=\bi )|(?<=\bpå )|(?<=\bde )|(?<=\bin )|(?<=\bat )|(?<=\befter )"
    r"|(?<=\bevery ))\d{1,2}(?=\.\s[a-zæøå]{2,})"
)
# weekday words: "back monday", "tilbage fredag"
WEEKDAYS = frozenset(_WEEKDAY.split("|"))
MONTHS = frozenset(_MONTHS.split("|"))


def time_spans(text: str) -> list[tuple[int, int]]:
    """Spans of the date, week, time and duration expressions of a clause, in order."""
    if not _DIGIT.search(text):
        return []
    return list(_time_spans(text))


_DIGIT = re.compile(r"\d")


@lru_cache(maxsize=4096)
def _time_spans(text: str) -> tuple[tuple[int, int], ...]:
    spans = [_span(m) for m in _ANY.finditer(text)]
    spans += [m.span("date") for m in _DAY_MONTH.finditer(text)]
    if "-" in text:
        spans += [m.span("date") for m in _DAY_RANGE.finditer(text)]
    return tuple(sorted(spans))


def _span(m: re.Match) -> tuple[int, int]:
    """A week range runs forward ("weeks 32-33", "uge 51 og 52"): in "week 47 - 6" the 6 is
    no week but what was said for it."""
    last = m.group("last_week")
    if last is not None and int(last) <= int(m.group("week")):
        return m.start(), m.end("week")
    return m.span()

"""Numbers in a clause, read the way the member's locale writes them.

`4,100` is four thousand one hundred in English and 4.1 in Danish; `4.100` the other way round.
Suffixes scale (`4.5k`, `1.2M`, `1,2 mio.`, `12 tusind`), currency words are dropped, `%` and
`pct`/`procent` mark a percentage, and number words (`six`, `seks`) are numbers.

A number is read with what is written onto it: a unit glued or after it (`3.2kg`, `4,5t`,
`4.1 h`) is kept as the number's unit, with its decimals. Digits glued to other letters are a
name, not a number (`4G`, `5g`, `2nd`, `3pm`; `CO2`, `B2B`, `Q3` start with a letter).
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass
from functools import lru_cache

from bot.parsing.vocab import (
    GLUED_NAMES,
    NUMBER_WORDS_DA,
    NUMBER_WORDS_EN,
    ONE_WORDS,
    PERCENT_WORDS,
    SCALE_WORDS,
    UNIT_ALIASES,
)


@dataclass(frozen=True)
class Number:
    value: float
    start: int  # span in the clause text
    end: int
    percent: bool = False
    sign: int = 0  # +1 / -1 when written with an explicit sign ("+2", "-3")
    word: bool = False  # written as a word ("six")
    unit: str | None = None  # canonical unit written onto it ("3.2kg" -> "kg")


_SCALE = "|".join(
    re.escape(w) for w in sorted(SCALE_WORDS, key=len, reverse=True) if w not in ("t",)
)
_PERCENT = "|".join(re.escape(w) for w in sorted(PERCENT_WORDS, key=len, reverse=True))
_CURRENCY_BEFORE = r"(?:(?:dkk|kr\.?|eur|usd|\$|€)\s?)?"
_UNIT = "|".join(re.escape(w) for w in sorted(UNIT_ALIASES, key=len, reverse=True))
_DIGITS = re.compile(
    r"(?<![\w.,])(?P<sign>(?<![\w])[+-])?" + _CURRENCY_BEFORE + r"(?P<num>\d+(?:[.,]\d+)*)"
    r"(?:\s?(?P<scale>" + _SCALE + r")(?![\w]))?"
    r"(?:\s?(?P<pct>" + _PERCENT + r")(?![\w]))?"
    r"(?:\s?(?P<unit>" + _UNIT + r")(?![\w]))?"
    r"(?P<glued>[^\W\d_][\w-]*)?",  # other letters glued on: a name ("4g", "2nd"), no number
    re.IGNORECASE,
)


@lru_cache(maxsize=4096)
def to_float(text: str, locale: str) -> float | None:
    """`4,100` -> 4100 (en) or 4.1 (da); `1.5` / `1,5` -> 1.5 in either when unambiguous."""
    group, decimal = (".", ",") if locale == "da" else (",", ".")
    if re.fullmatch(r"\d+", text):
        return float(text)
    grouped = rf"\d{{1,3}}(?:{re.escape(group)}\d{{3}})+(?:{re.escape(decimal)}\d+)?"
    if re.fullmatch(grouped, text):
        return float(text.replace(group, "").replace(decimal, "."))
    plain_decimal = rf"\d+{re.escape(decimal)}\d+"
    if re.fullmatch(plain_decimal, text):
        return float(text.replace(decimal, "."))
    # the other locale's decimal separator, when it cannot be a thousands separator
    if re.fullmatch(rf"\d+{re.escape(group)}\d{{1,2}}", text) or re.fullmatch(
        rf"\d+{re.escape(group)}\d{{4,}}", text
    ):
        return float(text.replace(group, "."))
    return None


_WORD_TABLES = {"da": {**NUMBER_WORDS_EN, **NUMBER_WORDS_DA}, "en": dict(NUMBER_WORDS_EN)}


def _word_table(locale: str) -> dict[str, float]:
    return _WORD_TABLES["da" if locale == "da" else "en"]


_WORD_PATTERNS: dict[str, re.Pattern] = {}


def _word_pattern(locale: str) -> re.Pattern:
    if locale not in _WORD_PATTERNS:
        words = sorted(_word_table(locale), key=len, reverse=True)
        alternatives = "|".join(re.escape(w) for w in words)
        _WORD_PATTERNS[locale] = re.compile(
            r"(?<![\w-])(?P<word>" + alternatives + r")"
            r"(?:\s(?P<scale>tusind|thousand|million|millioner|mio\.?))?(?![\w-])"
        )
    return _WORD_PATTERNS[locale]


_ONE = re.compile(
    r"(?<![\w-])(?:" + "|".join(ONE_WORDS) + r")(?=\s(?:[a-zæøå]+\s)?(?:more|extra|additional|mere|"
    r"til|flere|less|fewer|færre|mindre)\b)"
)


_LETTERS = re.compile(r"[^\W\d_]+")
# the words a number word or "one more" starts with: a clause without any has none
_WORD_STARTS = frozenset(w.split()[0] for table in _WORD_TABLES.values() for w in table) | set(
    ONE_WORDS
)


def find_numbers(clause: str, locale: str) -> list[Number]:
    found: list[Number] = []
    digits = _DIGIT.search(clause) is not None
    words = not _WORD_STARTS.isdisjoint(_LETTERS.findall(clause))
    if not words:
        return _digit_numbers(clause, locale) if digits else found
    found = _digit_numbers(clause, locale) if digits else found
    taken = [(n.start, n.end) for n in found]
    for m in _word_pattern(locale).finditer(clause):
        if any(s < m.end() and m.start() < e for s, e in taken):
            continue
        value = _word_table(locale)[m.group("word")]
        if m.group("scale"):
            value *= SCALE_WORDS[m.group("scale").rstrip(".")]
        found.append(Number(float(value), m.start(), m.end(), word=True))
    for m in _ONE.finditer(clause):
        found.append(Number(1.0, m.start(), m.end(), word=True))
    return sorted(found, key=_start)


_DIGIT = re.compile(r"\d")
_HYPHENED = re.compile(r"-[^\W\d_]{2,}")


def _start(number: Number) -> int:
    return number.start


def _digit_numbers(clause: str, locale: str) -> list[Number]:
    found: list[Number] = []
    for m in _DIGITS.finditer(clause):
        if m.group("glued") or clause[m.end() : m.end() + 1].isdigit():
            continue
        if _HYPHENED.match(clause, m.end()):
            continue  # "14001-certificering", "24-timers", "3-year": part of a word
        value = to_float(m.group("num"), locale)
        if value is None or len(m.group("num")) > 18:
            continue  # not a number, or not one anybody means (a run of digits)
        scale = m.group("scale")
        if scale:
            value *= SCALE_WORDS[scale.lower()]
        sign = {"+": 1, "-": -1}.get(m.group("sign") or "", 0)
        if sign == -1 and m.start() > 0 and clause[m.start() - 1].isalnum():
            sign = 0  # "mkt-1" style: the dash joins, it is not a minus
        unit = UNIT_ALIASES[m.group("unit").lower()] if m.group("unit") else None
        if unit in GLUED_NAMES and m.start("unit") == m.end("num"):
            continue  # "4G": a name, no number
        if math.isfinite(value):
            found.append(Number(value, m.start(), m.end(), bool(m.group("pct")), sign, unit=unit))
    return found

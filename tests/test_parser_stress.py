"""The parser's safety invariant under generated replies: a value is written only when exactly
one reading of the number and of its key result is plausible; every other case asks.

Replies are composed from a member's own key results (ids, positions, title words, units) with
a value meant for one of them, then dressed the way people write: dates, week numbers and
times, names with digits, remarks in parentheses and side remarks that carry numbers of their
own, units glued on. Whatever the composition, the parser may ask or give up, but it must never
save a value other than the one meant, nor touch another key result.
"""

from __future__ import annotations

import pytest
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st

from bot.parsing import UPDATES, PromptKR, parse_reply
from bot.parsing.clauses import canonical_unit
from bot.parsing.matching import phrase_refs, word_refs
from tests.test_parser_corpus import prompts

STRESS = settings(max_examples=400, deadline=None, suppress_health_check=[HealthCheck.too_slow])

MEMBERS = {
    **{f"field/{m}": tuple(krs) for m, krs in prompts("field_okrs.yaml").items()},
    **{f"corpus/{m}": tuple(krs) for m, krs in prompts("okrs.yaml").items()},
}
MONTHS = {"en": ("January", "March", "Nov", "December"), "da": ("januar", "marts", "nov.", "maj")}

# what people wrap around a value; {n} is a number that is not the value
REMARKS = {
    "en": (
        "(was {n})", "({n} last week)", "(incl. {n} in Leeds)", "(+{n} this week)",
        "(target {n})", "vs {n} last week", ", up from {n}", ", {n} of them in Leeds",
        "- {n} of {n} sites done", ", expected to hit {n} in week 50", "(fuel surcharge up {n}%)",
        ", previously {n}", ", last month {n}", "(before: {n})", ", mostly from site {n}",
        ", {n} of it from the north", ", two of them late", ", racking done by {n} Dec",
    ),
    "da": (
        "(var {n})", "(sidste uge {n})", "(inkl. {n} i Odense)", "(+{n})", "(mål {n})",
        "mod {n} sidst", ", op fra {n}", "- heraf {n} i Aarhus", ", {n} nye i Odense",
        ", forventet {n} i uge 50", ", sidste måned {n}", "(tidligere {n})",
        ", mest fra hal {n} i Vejle", ", {n} af det fra Aarhus", ", reolerne er klar",
    ),
}  # fmt: skip
DATES = {
    "en": (
        "until week {w}", "in week {w}", "on {d} {month}", "since {month} {d}", "by Friday {d}/11",
        "at 09:{d:02d}", "as of {d} {month} 2026", "back on the {d}th", "report due 2026-12-{d:02d}",
    ),
    "da": (
        "til og med uge {w}", "i uge {w}", "pr. {d}. {month}", "siden d. {d}.", "kl. 14.{d:02d}",
        "fra {d}/11", "opgjort {d}.11.2026", "til og med {d}. {month}", "målt {d}.11",
        "ferie {d}.12-{w}.1",
    ),
}  # fmt: skip
NAMES = ("Q3", "Q4 2026", "5G", "B2B", "H2", "CO2", "top 3", "hal B2", "W2", "24/7", "nr. 4", "C3")
# a week or a time said first, with a separator after it: "week 48: 7", "uge 47 - 24"
LEADS = {
    "en": ("week {w}:", "wk{w} -", "w{w}:", "week {w} -", "at 9:{d:02d}:"),
    "da": ("uge {w}:", "uge {w} -", "kl. 9:", "i uge {w}:"),
}
# words about the value that name another of the member's key results: "thanks to deliveries"
ABOUT = {
    "en": ("thanks to the {word} team", "after the {word} review"),
    "da": ("pga. {word} her", "trods travlhed med {word} her"),
}
# where the value is from, named with a number: "pap 40 t fra lager 3"
LINKED = {
    "en": ("from {word} {n}", "at the {word} {n}", ", mostly from {word} {n}"),
    "da": ("fra {word} {n}", "i {word} {n}", ", mest fra {word} {n} i Vejle"),
}


def names_a_key_result(name: str, krs: tuple[PromptKR, ...]) -> bool:
    return bool(word_refs(name.lower(), krs) or phrase_refs(name.lower(), krs))


def written(value: float, locale: str, decimals: int) -> str:
    text = f"{value:.{decimals}f}"
    return text.replace(".", ",") if locale == "da" else text


@st.composite
def composed(draw):
    """(member's key results, the key result meant, the value meant, the reply, locale)."""
    member = draw(st.sampled_from(sorted(MEMBERS)))
    krs = MEMBERS[member]
    kr = draw(st.sampled_from([k for k in krs if k.type in ("metric", "milestone")] or [None]))
    if kr is None:
        return krs, None, None, "skip", "en"
    locale = draw(st.sampled_from(("en", "da")))
    low, high = (0.0, 100.0) if kr.type == "milestone" else sorted((kr.start, kr.target))
    decimals = draw(st.sampled_from((0, 0, 1, 2)))
    step = 10**-decimals
    units = round((high - low) / step)
    value = round(low + draw(st.integers(0, max(units, 0))) * step, decimals)
    number = written(value, locale, decimals)
    unit = canonical_unit(kr.unit)
    if kr.unit == "%" or kr.type == "milestone":
        number += draw(st.sampled_from(("%", " %", " pct")))
    elif unit:
        number += draw(st.sampled_from(("", " ", ""))) + kr.unit
    name = draw(
        st.sampled_from(
            (f"{kr.key}:", f"{kr.key.lower()}", f"#{kr.position}", f"{kr.position})", kr.title)
        )
    )
    separator = " "
    if name in (kr.title, kr.key.lower()):
        separator = draw(st.sampled_from((" ", ": ", " - ", " = ")))
    main = f"{name}{separator}{number}"
    parts = [main]
    n = draw(st.integers(1, 999))
    month = draw(st.sampled_from(MONTHS[locale]))
    others = [w for k in krs if k is not kr for w in k.title.lower().split() if len(w) >= 4]
    for _ in range(draw(st.integers(1, 3))):
        kind = draw(st.sampled_from(("remark", "date", "name", "lead", "about", "linked")))
        if kind == "lead":
            w, d = draw(st.integers(1, 52)), draw(st.integers(0, 59))
            parts.insert(0, draw(st.sampled_from(LEADS[locale])).format(w=w, d=d))
        elif kind == "about" and others:
            word = draw(st.sampled_from(others))
            about = draw(st.sampled_from(ABOUT[locale])).format(word=word)
            parts.insert(parts.index(main) + 1, about)
        elif kind == "linked" and others:
            word = draw(st.sampled_from(others))
            linked = draw(st.sampled_from(LINKED[locale])).format(word=word, n=n)
            parts.insert(parts.index(main) + 1, linked)
        elif kind == "remark":
            parts.append(draw(st.sampled_from(REMARKS[locale])).format(n=n))
        elif kind == "date":
            template = draw(st.sampled_from(DATES[locale]))
            w, d = draw(st.integers(1, 52)), draw(st.integers(1, 28))
            parts.append(template.format(w=w, d=d, month=month))
        else:
            # a name of another thing: one that names the member's own key result is no dress
            foreign = [x for x in NAMES if not names_a_key_result(x, krs)]
            name_with_digits = draw(st.sampled_from(foreign))
            parts.insert(draw(st.sampled_from((0, len(parts)))), f"{name_with_digits} update:")
    text = " ".join(parts).replace(" ,", ",")
    if draw(st.booleans()):
        text = text.replace(" - ", " – ")
    return krs, kr, value, text, locale


def check_no_wrong_write(krs: tuple[PromptKR, ...], kr, value, text: str, locale: str) -> None:
    result = parse_reply(text, krs, locale)
    if result.status != UPDATES:
        return  # asking, or not understanding, never changes a number
    got = {(u.kr, round(u.value, 6)) for u in result.updates}
    assert kr is not None and got == {(kr.key, round(value, 6))}, (
        f"wrong write: {text!r} meant {kr.key if kr else None}={value}, saved {sorted(got)}"
    )


@STRESS
@given(case=composed())
def test_a_composed_reply_never_writes_a_value_other_than_the_one_meant(case):
    check_no_wrong_write(*case)


@STRESS
@given(case=composed(), extra=st.integers(1, 999))
def test_a_second_bare_number_never_becomes_the_value(case, extra):
    """A second number said as plainly as the value ("vans 20 21") is a second reading: ask."""
    krs, kr, value, text, locale = case
    assume(kr is not None)
    result = parse_reply(f"{text} {extra}", krs, locale)
    if result.status == UPDATES:
        got = {(u.kr, round(u.value, 6)) for u in result.updates}
        assert got == {(kr.key, round(value, 6))}, (text, extra, got)


@STRESS
@given(
    member=st.sampled_from(sorted(MEMBERS)),
    locale=st.sampled_from(("en", "da")),
    phrase=st.sampled_from(
        (
            "on vacation", "away", "ferie", "Jeg holder ferie", "OOO", "no change", "uændret",
            "alt uændret", "same as last week", "på barsel", "out sick", "syg",
            "travelling all week", "nothing's changed", "kan ikke nå det", "fri frem til",
            "der er ikke sket noget", "uforandret", "juleferie", "no time this week",
        )
    ),
    when=st.sampled_from(("en", "da")),
    w=st.integers(1, 53),
    d=st.integers(1, 28),
)  # fmt: skip
def test_a_skip_or_no_change_with_a_date_never_writes(member, locale, phrase, when, w, d):
    template = DATES[when][(w + d) % len(DATES[when])]
    text = f"{phrase} {template.format(w=w, d=d, month=MONTHS[when][d % 4])}"
    result = parse_reply(text, MEMBERS[member], locale)
    assert result.status != UPDATES, (text, result)


@pytest.mark.parametrize(
    ("member", "text", "locale"),
    [
        ("field/ruth", "FLT-1.2: 20 (was 18), 2 of them in Leeds, until week 50", "en"),
        ("field/karen", "FIN-1.3: 41 (mål 35) til og med uge 46", "da"),
        ("field/soren", "LAG-1.1: 38,5t – heraf 6t fra Kolding", "da"),
        ("field/omar", "Q4 update: SAL-1.1: 35 (incl. 3 in Leeds)", "en"),
        ("field/tom", "week 48: 7", "en"),
        ("field/ruth", "vans - 21", "en"),
        ("field/ruth", "NPS 30 thanks to faster deliveries", "en"),
        ("field/mette", "uge 47 - 24", "da"),
    ],
)
def test_composed_examples_are_read(member, text, locale):
    """A few of the compositions, read all the way: the meant value is saved."""
    result = parse_reply(text, MEMBERS[member], locale)
    assert result.status == UPDATES, result.question
    assert len(result.updates) == 1

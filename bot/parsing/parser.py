"""A check-in reply to key-result updates (SPEC §5). Precision first: whatever could mean two
things saves nothing and asks one short question.

The safety invariant: a value is written only when exactly one reading of the number and of its
key result is plausible; every other case asks. `_decide` is the one place that turns what a
clause says into a written value, and it enforces that.
"""

from __future__ import annotations

import re
from collections.abc import Sequence

from bot.i18n import t
from bot.i18n.formats import format_number, format_value
from bot.parsing.clauses import Item, analyse, canonical_unit
from bot.parsing.matching import choose, vocab_of, word_refs
from bot.parsing.model import (
    CLARIFY,
    NO_CHANGE,
    SKIP,
    UNRECOGNIZED,
    UPDATES,
    ParseResult,
    Pending,
    PromptKR,
    Update,
)
from bot.parsing.text import clean, split

FAR_FACTOR = 10  # SPEC §8: more than 10 x |target - start| from the nearer end asks first
SCALES = (1e3, 1e6, 1e9)  # "pipeline 3.4" for a key result in millions may mean 3.4 million


class _Ask(Exception):
    def __init__(self, message: str, pending: Pending | None = None, /, **values) -> None:
        self.key, self.pending, self.values = message, pending, values


def parse_reply(text: str, krs: Sequence[PromptKR], locale: str = "en") -> ParseResult:
    """Pure: the member's key results (as prompted) and language in, the reading out."""
    krs = tuple(krs)
    cleaned = clean(text)
    if not cleaned or not krs:
        return ParseResult(UNRECOGNIZED)
    try:
        return _parse(cleaned, krs, locale)
    except _Ask as ask:
        return ParseResult(CLARIFY, question=_question(ask, krs, locale), pending=ask.pending)


def _parse(cleaned: str, krs: tuple[PromptKR, ...], locale: str) -> ParseResult:
    placed: list[tuple[int, int, Item]] = []  # (line, sentence, item)
    vocab = vocab_of(krs)
    for line_no, sentences in enumerate(split(cleaned, vocab.names, vocab.words)):
        for sentence_no, clauses in enumerate(sentences):
            for clause in clauses:
                placed.extend((line_no, sentence_no, item) for item in analyse(clause, krs, locale))
    _asides(placed)
    _totals_after_mentions(placed)
    items = [item for _, _, item in placed]
    for item in items:
        if item.problem:
            raise _Ask(item.problem[0], **item.problem[1])
        if item.participle and "?" in cleaned:  # "contract signed? not sure yet"
            raise _Ask("parse.unclear", key=min(item.keys))
    _resolve_bare_values(items, krs, {id(item): line for line, _, item in placed})
    by_key = {kr.key: kr for kr in krs}
    updates: dict[str, Update] = {}
    mentions: list[tuple[str, Item]] = []
    for item in items:
        if item.keys is None:
            continue
        if len(item.keys) == 1 and _is_mention(item):
            mentions.append((next(iter(item.keys)), item))
            continue
        if len(item.keys) > 1 and not (
            item.has_value or item.health or item.confidence is not None
        ):
            continue
        update = _decide(item, krs)
        if update is not None:
            key = update.kr
            previous = updates.get(key)
            if previous is not None and previous.value != update.value:
                raise _Ask("parse.two_values", key=key, a=previous.value, b=update.value)
            updates[key] = _merge(previous, update)
    for key, item in mentions:  # a key result named with words but no value
        if key in updates:
            u = updates[key]
            updates[key] = Update(
                u.kr, u.value, u.health, u.confidence, _join(u.comment, item.comment)
            )
        elif item.comment:
            raise _Ask("parse.unclear", key=key)
        elif updates and not item.intent:  # "customers 33, top 10 renewed": renewed how many?
            raise _Ask("parse.no_value", titles=f"{key} {_title(krs, key)}")
    _attach_modifiers(placed, updates, by_key)
    if not updates:
        return _without_updates(items, krs)
    result = tuple(updates[kr.key] for kr in krs if kr.key in updates)
    far = [u for u in result if _far_outside(by_key[u.kr], u.value)]
    if far:
        raise _Ask(
            "parse.confirm", Pending("confirm", updates=result), key=far[0].kr, value=far[0].value
        )
    return ParseResult(UPDATES, result)


def _is_mention(item: Item) -> bool:
    return (
        not item.has_value and item.health is None and item.confidence is None and not item.intent
    )


def _ordered(keys, krs) -> tuple[str, ...]:
    return tuple(kr.key for kr in krs if kr.key in keys)


def _resolve_bare_values(items: list[Item], krs: tuple[PromptKR, ...], lines: dict) -> None:
    """Values with no key result named: the only key result, or one per line in order (a
    value named by words counts in its place; on one line, only bare values do)."""
    bare = [i for i in items if i.keys is None and i.has_value]
    if not bare:
        return
    if len(krs) == 1:
        for item in bare:
            item.keys = frozenset({krs[0].key})
        return
    content = [i for i in items if i.has_value or (i.keys is not None and not i.intent)]
    in_order = all(
        (i.keys is None and not i.remarks and not i.comment) or i.keys == {kr.key}
        for i, kr in zip(content, krs, strict=False)
    )
    one_a_line = len({lines[id(i)] for i in content}) == len(content)
    all_bare = all(i.keys is None for i in content)
    if len(content) == len(krs) and in_order and (one_a_line or all_bare):
        for item, kr in zip(content, krs, strict=True):
            item.keys, item.explicit = frozenset({kr.key}), True
        return
    raise _Ask("parse.which", Pending("which", tuple(kr.key for kr in krs), text=bare[0].text))


def _asides(placed) -> None:
    """A clause that reads as a remark on a value said before it on the same line ("vans 20,
    2 of them in Leeds", "mest fra lager 2") is part of the comment, not a value."""
    valued_lines = set()
    for line, _, item in placed:
        if line in valued_lines and (item.remark or (item.aside and item.keys is None)):
            item.number, item.extra_numbers, item.relative = None, [], 0
            item.keys, item.binary, item.problem = None, None, None
            item.comment = item.text.strip(" ,.;:-")
        elif item.keys is not None and item.has_value:
            valued_lines.add(line)


def _totals_after_mentions(placed) -> None:
    """ "lagerhal C3 har fået solceller, så 4 i alt": a bare value said as what that makes
    ("so", "så", "now", "in total", "står på ... nu") right after a key result named without
    a value, in the same sentence, is that key result's value; so is a bare value after a key
    result said as a heading ("webplatform: fase 2 er afsluttet, 60 %")."""
    for index, (line, sentence, item) in enumerate(placed):
        if index == 0 or item.keys is not None or item.number is None or item.aside:
            continue
        before_line, before_sentence, before = placed[index - 1]
        headed = _HEADED.match(before.text) and _ONLY_VALUE.fullmatch(item.text)
        if not (_MAKES.search(item.text) or headed):  # "webplatform: fase 2 afsluttet, 60 %"
            continue
        if (before_line, before_sentence) != (line, sentence) or before.keys is None:
            continue
        if len(before.keys) == 1 and _is_mention(before) and not before.problem:
            item.keys = before.keys


_HEADED = re.compile(r"^[^:,\d]{2,40}:\s")
_ONLY_VALUE = re.compile(r"[+-]?\d+(?:[.,]\d+)?\s?(?:%|pct|procent|percent)?")
_MAKES = re.compile(
    r"^(?:so|så|now|nu|dvs|altså|which makes|that makes|making it|bringing it to|det giver"
    r"|står på|står nu på|er på|er nu på|ligger på|ligger nu på|is at|is now|now at|sits at"
    r"|stands at)\b"
    r"|\b(?:i alt|in total|totalt|samlet|total|now|nu)$"
)


def _decide(item: Item, krs: tuple[PromptKR, ...]) -> Update | None:
    """What the item writes, or a question. The one place that decides write-vs-ask: every
    reading of the item (each key result it may name x each value its numbers may mean for
    it) is collected, and a value is written only when exactly one is plausible."""
    by_key = {kr.key: kr for kr in krs}
    if len(item.keys) > 1:  # words that name two key results, with something to write
        raise _Ask("parse.which", Pending("which", _ordered(item.keys, krs), text=item.text))
    (key,) = item.keys
    kr = by_key[key]
    if item.dash and item.number is not None:
        item.relative = _dash_reading(kr, item)
    numbers = [item.number, *item.extra_numbers] if item.number is not None else [None]
    readings: set[float] = set()
    for number in numbers:
        readings |= _readings(kr, item, number)
    if len(readings) > 1:
        if len(numbers) == 1 and item.number is not None:
            low, high = sorted(readings)[:2]
            raise _Ask("parse.scale", key=kr.key, value=low, scaled=high)
        raise _Ask("parse.two_numbers", key=kr.key)
    value = next(iter(readings)) if readings else None
    if value is None:
        if item.health is None and item.confidence is None and item.comment is None:
            return None
        if item.intent:  # "no change on campaigns"
            return None
        value = kr.current if kr.current is not None else (kr.start or 0.0)
        if kr.type == "binary" and kr.current is None:
            value = 0.0
    return Update(kr.key, value, item.health, item.confidence, item.comment)


def _dash_reading(kr: PromptKR, item: Item) -> int:
    """A spaced dash before the value ("vans - 21") separates, like a colon, or subtracts:
    0 or -1, whichever gives the only plausible value; else ask."""
    plausible = []
    for relative in (0, -1):
        item.relative = relative
        try:
            value = _value(kr, item, item.number)
        except _Ask:
            continue
        if value is not None and _plausible(kr, value):
            plausible.append(relative)
    if len(plausible) != 1:
        raise _Ask("parse.unclear", key=kr.key)
    return plausible[0]


def _plausible(kr: PromptKR, value: float) -> bool:
    """Not far outside, and not below zero for a key result that counts from zero up."""
    if kr.start is None or kr.target is None:
        return True
    return not _far_outside(kr, value) and not value < 0 <= min(kr.start, kr.target)


def _readings(kr: PromptKR, item: Item, number) -> set[float]:
    """The values one number may plausibly mean for the key result (none, one, or two when a
    missing "k" / "M" would also fit: "pipeline 3.4" for a key result of 2M-5M)."""
    if number is not None and number.unit and not number.percent:
        unit = canonical_unit(kr.unit)
        if unit != number.unit:
            if kr.unit:
                raise _Ask("parse.unit", key=kr.key, unit=kr.unit)
            raise _Ask("parse.unclear", key=kr.key)
    value = _value(kr, item, number)
    if value is None:
        return set()
    readings = {value}
    if (
        number is not None
        and kr.type == "metric"
        and not (number.percent or item.relative or number.word)
        and kr.start is not None
        and kr.target is not None
    ):
        low, high = sorted((kr.start, kr.target))
        if 0 < value < low and value * SCALES[0] <= high:  # below, and fits once scaled
            readings |= {value * s for s in SCALES if low <= value * s <= high}
    return readings


def _value(kr: PromptKR, item: Item, number) -> float | None:
    if kr.type == "binary":
        return _binary_value(kr, item, number)
    if number is None:
        if item.binary is not None and kr.type == "milestone":
            return 100.0 if item.binary else None
        if item.binary is not None:
            raise _Ask("parse.not_binary", key=kr.key)
        return None
    amount = number.value
    if number.percent and kr.unit != "%" and kr.type not in ("milestone", "threshold"):
        if item.relative:
            raise _Ask("parse.unclear", key=kr.key)
        start, target = kr.start or 0.0, kr.target if kr.target is not None else 0.0
        return round(start + amount / 100 * (target - start), 6)
    if item.relative:
        base = kr.current if kr.current is not None else kr.start
        if base is None:
            raise _Ask("parse.unclear", key=kr.key)
        return round(base + item.relative * amount, 6)
    if kr.type == "milestone" and not 0 <= amount <= 100:
        raise _Ask("parse.milestone", key=kr.key)
    return amount


def _binary_value(kr: PromptKR, item: Item, number) -> float | None:
    if item.binary is not None and number is None:
        return item.binary
    if number is None:
        return None
    if item.number_first:  # "1 i b2b-portal": one of what? a count, not a done
        raise _Ask("parse.not_binary", key=kr.key)
    if number.percent and number.value in (0, 100):
        return number.value / 100
    if not number.percent and number.value in (0, 1) and not item.relative:
        return number.value
    raise _Ask("parse.not_binary", key=kr.key)


def _merge(previous: Update | None, update: Update) -> Update:
    if previous is None:
        return update
    return Update(
        update.kr,
        update.value,
        update.health or previous.health,
        update.confidence if update.confidence is not None else previous.confidence,
        _join(previous.comment, update.comment),
    )


def _join(*comments: str | None) -> str | None:
    return " · ".join(c for c in comments if c) or None


def _attach_modifiers(placed, updates: dict[str, Update], by_key) -> None:
    """Health, confidence or a comment said on their own: for the update of the same
    sentence said just before (or after), else for every update of the reply."""
    for index, (line, sentence, item) in enumerate(placed):
        if not item.is_modifier or (
            item.health is None and item.confidence is None and not item.comment
        ):
            continue
        if item.intent:
            continue
        neighbour = _neighbour(placed, index, line, sentence)
        targets = [neighbour] if neighbour in updates else list(updates)
        for key in targets:
            u = updates[key]
            updates[key] = Update(
                u.kr,
                u.value,
                u.health or item.health,
                u.confidence if u.confidence is not None else item.confidence,
                _join(u.comment, item.comment),
            )


def _neighbour(placed, index: int, line: int, sentence: int) -> str | None:
    same = [
        (i, it)
        for i, (ln, sn, it) in enumerate(placed)
        if ln == line and sn == sentence and it.keys is not None and len(it.keys) == 1
    ]
    before = [it for i, it in same if i < index]
    after = [it for i, it in same if i > index]
    chosen = before[-1] if before else (after[0] if after else None)
    return next(iter(chosen.keys)) if chosen else None


def _without_updates(items: list[Item], krs: tuple[PromptKR, ...]) -> ParseResult:
    intents = {i.intent for i in items if i.intent}
    if "skip" in intents:
        return ParseResult(SKIP)
    if "no_change" in intents:
        return ParseResult(NO_CHANGE)
    health = next((i.health for i in items if i.health), None)
    confidence = next((i.confidence for i in items if i.confidence is not None), None)
    named = [i for i in items if i.keys is not None]
    if (health or confidence is not None) and not named:
        return ParseResult(
            UPDATES,
            tuple(Update(kr.key, _unchanged(kr), health, confidence) for kr in krs),
        )
    if any(i.binary is not None for i in items):
        raise _Ask("parse.which", Pending("which", tuple(kr.key for kr in krs), text=items[0].text))
    if named:  # key results named, but no value for them
        keys = _ordered(frozenset().union(*(i.keys for i in named)), krs)
        raise _Ask("parse.no_value", titles=", ".join(f"{k} {_title(krs, k)}" for k in keys))
    return ParseResult(UNRECOGNIZED)


def _title(krs: tuple[PromptKR, ...], key: str) -> str:
    return next(kr.title for kr in krs if kr.key == key)


def _unchanged(kr: PromptKR) -> float:
    if kr.current is not None:
        return kr.current
    return 0.0 if kr.type in ("binary", "milestone") else (kr.start or 0.0)


def _far_outside(kr: PromptKR, value: float) -> bool:
    if kr.type in ("binary", "threshold") or kr.start is None or kr.target is None:
        return False
    span = abs(kr.target - kr.start)
    low, high = min(kr.start, kr.target), max(kr.start, kr.target)
    distance = low - value if value < low else value - high if value > high else 0.0
    return distance > FAR_FACTOR * span


def _question(ask: _Ask, krs: tuple[PromptKR, ...], locale: str) -> str:
    by_key = {kr.key: kr for kr in krs}
    values = dict(ask.values)
    if ask.pending and ask.pending.kind == "which":
        options = " ".join(
            f"{n}) {by_key[key].title}" for n, key in enumerate(ask.pending.candidates, 1)
        )
        return t(locale, "parse.which", options=options)
    if "key" in values and values["key"] in by_key:
        kr = by_key[values["key"]]
        values["title"] = kr.title
        for name in ("value", "a", "b", "scaled"):
            if name in values:
                values[name] = format_value(values[name], kr.unit, locale)
        if kr.start is not None and kr.target is not None:
            values["range"] = (
                f"{format_number(kr.start, locale)}–{format_value(kr.target, kr.unit, locale)}"
            )
    values.setdefault("example", _example(by_key.get(values.get("key"), krs[0]), locale))
    return t(locale, ask.key, **values)


def _example(kr: PromptKR, locale: str) -> str:
    """A reply that would give the key result a value: its longest title word and its target,
    written as the member's locale writes numbers ("bruttomargin 35", "nettoomsætning 95 mio.")."""
    words = re.findall(r"[A-Za-zÆØÅæøå]{4,}", kr.title)
    value = format_number(kr.target or 1, locale)
    if not words:
        return f"{kr.position}: {value}"
    return f"{max(words, key=len).lower()} {value}"


def resolve_answer(
    pending: Pending, text: str, krs: Sequence[PromptKR], locale: str = "en"
) -> ParseResult | None:
    """The member's answer to a question; None when the message is not an answer to it."""
    krs = tuple(krs)
    cleaned = (clean(text) or "").strip(" .!")
    if pending.kind == "confirm":
        if cleaned in ("yes", "y", "ja", "jo", "yes please", "ja tak", "correct", "korrekt", "ok"):
            return ParseResult(UPDATES, pending.updates)
        return None
    chosen = _pick(cleaned, pending.candidates, krs)
    if chosen is None:
        return None
    return parse_reply(f"{chosen} {pending.text}", krs, locale)


def _pick(answer: str, candidates: tuple[str, ...], krs: tuple[PromptKR, ...]) -> str | None:
    m = re.fullmatch(r"#?(\d{1,2})[.)]?", answer)
    if m:
        n = int(m.group(1))
        return candidates[n - 1] if 1 <= n <= len(candidates) else None
    lowered = {key.lower(): key for key in candidates}
    if answer in lowered:
        return lowered[answer]
    named = choose(word_refs(answer, tuple(kr for kr in krs if kr.key in candidates)))
    return next(iter(named)) if len(named) == 1 else None

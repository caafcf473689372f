"""One clause of a reply: what it refers to, its number, health, confidence and comment."""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from bot.parsing.matching import Ref, choose, word_refs
from bot.parsing.model import PromptKR
from bot.parsing.numbers import Number, find_numbers
from bot.parsing.vocab import (
    ABSOLUTE_BEFORE,
    BLOCKER_WORDS,
    CURRENCY_WORDS,
    DONE_WORDS,
    DOWN_AFTER,
    DOWN_BEFORE,
    HEALTH_PHRASES,
    NO_CHANGE_PHRASES,
    NOT_DONE_WORDS,
    SKIP_PHRASES,
    SMALL_TALK,
    STOPWORDS,
    TOTAL_WORDS,
    UP_AFTER,
    UP_BEFORE,
)


@dataclass
class Item:
    """What one clause (or one part of a clause naming several key results) says."""

    text: str
    keys: frozenset[str] | None = None  # None: no key result named
    explicit: bool = False
    number: Number | None = None
    relative: int = 0  # +1 add, -1 subtract, 0 absolute
    binary: float | None = None
    health: str | None = None
    confidence: float | None = None
    comment: str | None = None
    intent: str | None = None  # no_change | skip
    problem: tuple[str, dict] | None = None
    extra_numbers: list[Number] = field(default_factory=list)

    @property
    def has_value(self) -> bool:
        return self.number is not None or self.binary is not None

    @property
    def is_modifier(self) -> bool:
        """Only health, confidence or a comment: it belongs to updates said elsewhere."""
        return self.keys is None and not self.has_value


def _phrases(options) -> re.Pattern:
    ordered = sorted(options, key=len, reverse=True)
    alternatives = "|".join(re.escape(p) for p in ordered)
    return re.compile(r"(?<![\w-])(?:" + alternatives + r")(?![\w-])")


_HEALTH = _phrases([p for p in HEALTH_PHRASES if p[0].isalnum()])
_HEALTH_EMOJI = re.compile("|".join(re.escape(p) for p in HEALTH_PHRASES if not p[0].isalnum()))
_BLOCKER = re.compile(r"(?<![\w-])(?:" + "|".join(map(re.escape, BLOCKER_WORDS)) + r")\b.*$")
_NO_CHANGE = _phrases(NO_CHANGE_PHRASES)
_SKIP = _phrases(SKIP_PHRASES)
_DONE = _phrases(DONE_WORDS)
_TOTAL = _phrases(TOTAL_WORDS)
_NOT_DONE = _phrases(NOT_DONE_WORDS)
_CONFIDENCE = [
    re.compile(
        r"(?:confidence|confident|sikkerhed|tillid)\s*(?:is|er|:|=|of|på)?\s*(\d+(?:[.,]\d+)?)\s*(/\s*10|%|out of 10|ud af 10)?"
    ),
    re.compile(
        r"(?<![\d.,])(\d+(?:[.,]\d+)?)\s*(/\s*10|%|out of 10|ud af 10)\s*(?:confident|confidence|sikker|sikkerhed)"
    ),
]
_POSITION = re.compile(
    r"^(?:#|nr\.?\s?|no\.?\s?)?(\d{1,2})\s*(?:[:)]|\.(?=\s))\s*|^#(\d{1,2})\b\s*"
    r"|^(\d{1,2})\s+(?=" + "|".join(re.escape(w) for w in DONE_WORDS + NOT_DONE_WORDS) + r")"
)
_HASH = re.compile(r"(?<![\w#])#(\d{1,2})\b")
_ID = re.compile(r"(?<![\w-])([a-zæøå]{1,12}-\d+(?:\.\d+)*)(?![\w-]|\.\d)")
_FILLER = frozenset(
    STOPWORDS
    | CURRENCY_WORDS
    | {"-", ":", "=", "~", "…", "/", "&", "+", "ca.", "approx", "about", "roughly"}
)
_COMMENT_TRIM = " -–:,.;!?()[]\"'*"


def _blank(text: str, start: int, end: int) -> str:
    return text[:start] + " " * (end - start) + text[end:]


def _confidence(text: str) -> tuple[float | None, str]:
    for pattern in _CONFIDENCE:
        m = pattern.search(text)
        if not m:
            continue
        raw = float(m.group(1).replace(",", "."))
        scale = (m.group(2) or "").replace(" ", "")
        if scale in ("/10", "outof10", "udaf10") or (not scale and raw <= 10):
            value = raw / 10
        else:
            value = raw / 100
        if 0 <= value <= 1:
            return value, _blank(text, m.start(), m.end())
    return None, text


def _health(text: str) -> tuple[str | None, str | None, str]:
    """(health, blocker comment, text without them)."""
    blocker = _BLOCKER.search(text)
    comment = None
    health = None
    if blocker:
        comment = blocker.group().strip(_COMMENT_TRIM)
        if blocker.group().startswith(("blocked", "blokeret")):
            health = "off_track"
        text = _blank(text, blocker.start(), blocker.end())
    for pattern in (_HEALTH, _HEALTH_EMOJI):
        for m in pattern.finditer(text):
            found = HEALTH_PHRASES[m.group()]
            if health is None or _severity(found) > _severity(health):
                health = found
            text = _blank(text, m.start(), m.end())
    return health, comment, text


def _severity(health: str) -> int:
    return ("on_track", "at_risk", "off_track").index(health)


def _intent(text: str) -> tuple[str | None, str]:
    """ "skip" / "no change", when the clause says that and not just contains the word
    ("mostly from the holiday sale" is not a holiday)."""
    for name, pattern in (("skip", _SKIP), ("no_change", _NO_CHANGE)):
        m = pattern.search(text)
        if not m:
            continue
        rest = _blank(text, m.start(), m.end()).split()
        talk = [w for w in rest if any(c.isalpha() for c in w)]
        if m.start() == 0 or all(w.strip(_COMMENT_TRIM) in _FILLER | SMALL_TALK for w in talk):
            return name, _blank(text, m.start(), m.end())
    return None, text


def _explicit_refs(text: str, krs: tuple[PromptKR, ...]) -> tuple[list[Ref], str, tuple | None]:
    refs: list[Ref] = []
    problem = None
    m = _POSITION.match(text)
    hashes = [] if m else list(_HASH.finditer(text))
    for match in ([m] if m else []) + hashes:
        position = int(next(g for g in match.groups() if g))
        if 1 <= position <= len(krs):
            key = krs[position - 1].key
            refs.append(Ref(frozenset({key}), match.start(), match.end(), explicit=True))
        else:
            problem = ("parse.unknown_position", {"position": position, "n": len(krs)})
        text = _blank(text, match.start(), match.end())
    by_key = {kr.key.lower(): kr.key for kr in krs}
    for match in _ID.finditer(text):
        token = match.group(1)
        if token in by_key:
            refs.append(Ref(frozenset({by_key[token]}), match.start(), match.end(), explicit=True))
        elif re.search(r"\d", token) and re.match(r"[a-zæøå]+-\d", token):
            problem = ("parse.unknown_kr", {"key": token.upper()})
        text = _blank(text, match.start(), match.end())
    return refs, text, problem


_CURRENCY = re.compile(r"(?<![\w])(dkk|kr\.?|kroner|\$|€|eur|euro|usd)(?![\w])")
_FAMILY = {
    "dkk": "dkk",
    "kr": "dkk",
    "kr.": "dkk",
    "kroner": "dkk",
    "$": "usd",
    "usd": "usd",
    "€": "eur",
    "eur": "eur",
    "euro": "eur",
}


def _by_currency(text: str, krs: tuple[PromptKR, ...]) -> list[Ref]:
    """ "145 kr." names the member's only key result counted in kroner."""
    m = _CURRENCY.search(text)
    if not m:
        return []
    family = _FAMILY[m.group(1)]
    keys = [kr.key for kr in krs if _FAMILY.get((kr.unit or "").lower()) == family]
    return [Ref(frozenset(keys), m.start(), m.end())] if len(keys) == 1 else []


def _group(refs: list[Ref], text: str) -> list[Ref]:
    """Adjacent word mentions ("email subscribers") form one mention."""
    groups: list[list[Ref]] = []
    for ref in sorted(refs, key=lambda r: r.start):
        if ref.explicit:
            groups.append([ref])
            continue
        if groups and not groups[-1][0].explicit:
            between = text[groups[-1][-1].end : ref.start].split()
            if all(w in _FILLER for w in between):
                groups[-1].append(ref)
                continue
        groups.append([ref])
    out = []
    for group in groups:
        keys = group[0].keys if group[0].explicit else choose(group)
        binary_only = all(r.binary_word for r in group)
        out.append(
            Ref(keys, group[0].start, group[-1].end, group[0].explicit, binary_word=binary_only)
        )
    return out


def analyse(clause: str, krs: tuple[PromptKR, ...], locale: str, depth: int = 0) -> list[Item]:
    """The items of one clause: one per key result it names (a clause may name several)."""
    intent, text = _intent(clause)
    confidence, text = _confidence(text)
    health, blocker, text = _health(text)
    explicit, text, problem = _explicit_refs(text, krs)
    words = [
        r for r in word_refs(text, krs) if not any(e.start <= r.start < e.end for e in explicit)
    ]
    refs = _group(explicit + words, text)
    numbers = find_numbers(text, locale)
    if not refs and numbers:
        refs = _by_currency(text, krs)
    # a done-like word is a value, not a mention, when something else names the key result
    named = [r for r in refs if not r.binary_word]
    if named:
        refs = named
    if len({r.keys for r in refs}) == 1:
        refs = refs[:1]  # the same key result named again is part of the comment
    if depth == 0 and len(refs) > 1:
        pieces = _split_at_refs(clause, refs, numbers)
        if pieces:
            items = [i for p in pieces for i in analyse(p, krs, locale, depth + 1)]
            _share(items, health, confidence, blocker)
            return items
    item = Item(text=clause, intent=intent, health=health, confidence=confidence, problem=problem)
    if len(refs) > 1:
        item.keys = frozenset().union(*(r.keys for r in refs))
    elif refs:
        item.keys, item.explicit = refs[0].keys, refs[0].explicit
    covered = [(r.start, r.end) for r in refs]
    _binary(item, text)
    _choose_number(item, text, numbers)
    item.comment = blocker or _comment(text, covered, numbers, item)
    return [item]


def _split_at_refs(clause: str, refs: list[Ref], numbers: list[Number]) -> list[str] | None:
    """Cut "campaigns 6 subscribers 4500", "6 campaigns, 4500 subscribers" or
    "conversion 2.3% and 2 errors" into one piece per key result."""
    if not numbers:
        return None
    cuts = []
    for index, (previous, ref) in enumerate(zip(refs, refs[1:], strict=False)):
        between = [n for n in numbers if previous.end <= n.start < ref.start]
        before_previous = [
            n for n in numbers if (refs[index - 1].end if index else 0) <= n.start < previous.start
        ]
        if len(between) >= 2 or (between and before_previous):
            cuts.append(between[-1].start if len(between) >= 2 else between[0].start)
        else:
            cuts.append(ref.start)
    bounds = [0, *cuts, len(clause)]
    pieces = [clause[a:b].strip() for a, b in zip(bounds, bounds[1:], strict=False)]
    return [p for p in pieces if p] if len(pieces) > 1 else None


def _share(items: list[Item], health, confidence, blocker) -> None:
    """Health said once for a clause naming several key results counts for each of them."""
    for item in items:
        item.health = item.health or health
        item.confidence = item.confidence if item.confidence is not None else confidence
        item.comment = item.comment or blocker


def _binary(item: Item, text: str) -> None:
    for value, pattern in ((0.0, _NOT_DONE), (1.0, _DONE)):
        m = pattern.search(text)
        if m:
            item.binary = value
            return


def _marker(text: str, number: Number) -> tuple[int, bool]:
    """(+1/-1 for a relative change, True when an absolute marker says "to")."""
    before = text[: number.start].split()
    after = text[number.end :].split()
    last_two = " ".join(before[-2:])
    last = before[-1] if before else ""
    nxt = after[0].strip(".,!") if after else ""
    markers = set(UP_AFTER) | set(DOWN_AFTER)
    if nxt not in markers and len(after) == 2 and not any(c.isdigit() for c in nxt):
        nxt = after[1].strip(".,!")  # "2 campaigns more", "2 kampagner til" (marker at the end)
    if any(last_two.endswith(p) for p in ABSOLUTE_BEFORE if " " in p) or last in ABSOLUTE_BEFORE:
        return 0, True
    if _TOTAL.search(text):
        return 0, False
    if number.sign:
        return number.sign, False
    if last in UP_BEFORE or last_two in UP_BEFORE:
        return 1, False
    if last in DOWN_BEFORE or last_two in DOWN_BEFORE:
        return -1, False
    if nxt in UP_AFTER:
        return 1, False
    if nxt in DOWN_AFTER:
        return -1, False
    return 0, False


def _choose_number(item: Item, text: str, numbers: list[Number]) -> None:
    if not numbers:
        return
    marked = [(n, *_marker(text, n)) for n in numbers]
    absolute = [m for m in marked if m[2]]
    chosen = absolute[-1] if absolute else marked[0]
    rest = [n for n, _, _ in marked if n is not chosen[0]]
    item.number, item.relative = chosen[0], chosen[1]
    item.extra_numbers = [n for n in rest if not n.word and not _is_of_target(text, n)]


def _is_of_target(text: str, number: Number) -> bool:
    before = text[: number.start].rstrip()
    return before.endswith(("/", " of", " ud af", " af", " out of", "from", " fra"))


def _comment(text: str, covered, numbers: list[Number], item: Item) -> str | None:
    for start, end in covered:
        text = _blank(text, start, end)
    if item.number is not None:
        text = _blank(text, item.number.start, item.number.end)
    for pattern in (_DONE, _NOT_DONE):
        text = pattern.sub(" ", text)
    words = [w for w in text.split() if w.strip(_COMMENT_TRIM)]
    meaningful = [w for w in words if w.strip(_COMMENT_TRIM) not in _FILLER | _MARKERS]
    if sum(len(w) for w in meaningful) < 4:
        return None
    comment = " ".join(words).strip(_COMMENT_TRIM)
    return comment or None


_MARKERS = frozenset(
    w for p in UP_BEFORE + UP_AFTER + DOWN_BEFORE + DOWN_AFTER + ABSOLUTE_BEFORE for w in p.split()
)

"""One clause of a reply: what it refers to, its number, health, confidence and comment.

Before any number is read, the clause's dates, week numbers and times (when.py) and the names
with digits of the member's titles ("top 10", "Warehouse 2") are set aside. Of the numbers left,
those in parentheses or said as a side remark ("was 6", "heraf 4", "up from 3.1", a part after
" - ") belong to the comment; the clause's main value is the one number that remains.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field, replace

from bot.parsing.matching import Ref, choose, completion, phrase_refs, word_refs
from bot.parsing.model import PromptKR
from bot.parsing.numbers import Number, find_numbers
from bot.parsing.vocab import (
    ABSOLUTE_BEFORE,
    BLOCKER_WORDS,
    CURRENCY_WORDS,
    DONE_WORDS,
    DOWN_AFTER,
    DOWN_BEFORE,
    FORECAST_WORDS,
    HEALTH_PHRASES,
    NEGATIONS,
    NO_CHANGE_CUES,
    NO_CHANGE_NEGATABLE,
    NO_CHANGE_PHRASES,
    NO_CHANGE_WORDS,
    NOT_DONE_WORDS,
    PART_AFTER,
    REMARK_BEFORE,
    SKIP_CUES,
    SKIP_NEGATABLE,
    SKIP_PHRASES,
    SKIP_PREFIXES,
    SKIP_SUFFIXES,
    SKIP_WORDS,
    SMALL_TALK,
    STOPWORDS,
    TOTAL_WORDS,
    UNIT_ALIASES,
    UP_AFTER,
    UP_BEFORE,
)
from bot.parsing.when import MONTHS, ORDINAL_THING, WEEKDAYS, time_spans


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
    aside: bool = False  # its number reads as a remark on a value said before it, not a value
    remarks: int = 0  # numbers said beside the value ("was 6"): not one value per line
    # after a value on its line, the whole clause is a remark on it: "mest fra lager 2",
    # "0.6M of it from renewals", "racking done by 18 Dec", "two suppliers refused site visits"
    remark: bool = False
    participle: bool = False  # done or not done said with the title's own word ("signed")
    dash: bool = False  # "vans - 21": the spaced dash is a separator or a minus
    number_first: bool = False  # the number said before the words that name the key result

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
    if "confiden" not in text and "sikker" not in text and "tillid" not in text:
        return None, text
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


def _health(text: str) -> tuple[str | None, str | None, str, list[tuple[int, int]]]:
    """(health, blocker comment, text without them, the blocker's span)."""
    blocker = _BLOCKER.search(text)
    comment = None
    health = None
    spans = []
    if blocker:
        comment = blocker.group().strip(_COMMENT_TRIM)
        spans.append(blocker.span())
        if blocker.group().startswith(("blocked", "blokeret")):
            health = "off_track"
        text = _blank(text, blocker.start(), blocker.end())
    said = [*_HEALTH.finditer(text)]
    if not text.isascii():
        said += _HEALTH_EMOJI.finditer(text)  # 🟢 🟡 🔴
    for m in said:
        found = HEALTH_PHRASES[m.group()]
        if health is None or _severity(found) > _severity(health):
            health = found
        text = _blank(text, m.start(), m.end())
    return health, comment, text, spans


def _severity(health: str) -> int:
    return ("on_track", "at_risk", "off_track").index(health)


def _intent(text: str, refs: list[Ref] = (), dated: bool = False) -> tuple[str | None, str]:
    """ "skip" / "no change", when the clause says that and not just contains the word
    ("mostly from the holiday sale" is not a holiday). Words naming key results may stand
    with it: "vans unchanged" is no change for that key result."""
    phrased = []
    for name, pattern in (("skip", _SKIP), ("no_change", _NO_CHANGE)):
        m = pattern.search(text)
        if not m:
            continue
        rest = _blank(text, m.start(), m.end())
        for ref in refs:
            rest = _blank(rest, ref.start, ref.end)
        if m.start() == 0 or not _unexplained(rest, refs, _FILLER_OR_TALK):
            return name, _blank(text, m.start(), m.end())
        phrased += [(name, other.span()) for other in pattern.finditer(text)]
    return _said_in_words(text, refs, dated, phrased)


def _unexplained(text: str, refs, known: frozenset[str]) -> list[str]:
    """The words of `text` (key-result mentions blanked) that are none of `known`. One word
    right after a mention is part of its name: "support time unchanged", and so is a word
    glued to it with a slash: "picks/hr unchanged"."""
    after_ref = {ref.end for ref in refs}
    out = []
    for m in _TOKEN.finditer(text):
        word = m.group().strip(_COMMENT_TRIM)
        if not any(c.isalpha() for c in word) or word in known:
            continue
        if word.startswith("/") and m.start() in after_ref:
            after_ref.discard(m.start())
            continue
        gap = text[: m.start()].rstrip()
        if len(gap) in after_ref and text[len(gap) : m.start()].isspace():
            after_ref.discard(len(gap))
            continue
        out.append(word)
    return out


_TOKEN = re.compile(r"\S+")


def _said_in_words(text: str, refs, dated: bool, phrased=()) -> tuple[str | None, str]:
    """ "no change" / "skip" said in words of their own, not a set phrase: every word is one
    the intent uses ("nothing's changed", "der er ikke sket noget siden sidst", "travelling
    all week", "kan ikke nå det i denne uge"), with a cue; a negatable cue only when negated
    ("NPS has changed" is no "no change"). A clause with a number left is not one."""
    rest = text
    for ref in refs:
        rest = _blank(rest, ref.start, ref.end)
    for _, (start, end) in phrased:  # "ingen opdatering denne uge - spring over"
        rest = _blank(rest, start, end)
    if _DIGITS.search(rest):
        return None, text
    words = [w.strip(_COMMENT_TRIM) for w in rest.split()]
    words = [w for w in words if any(c.isalpha() for c in w)]
    if not words and not phrased:
        return None, text
    negated = any(w in NEGATIONS for w in words)
    for name, cues, negatable, known in _INTENT_WORDS:
        cued = [w for w in words if w in cues or (name == "skip" and _leave_compound(w))]
        if name == "skip" and (dated or any(w in _WEEKDAYS for w in words)):
            cued += [w for w in words if w in _BACK]  # "back on the 14th", "tilbage mandag"
        if negated and any(w in negatable for w in words):
            cued.append("negated")
        cued += [said for said, _ in phrased if said == name]
        if not cued or (name == "no_change" and _negated_same(text.split())):
            continue
        left = _unexplained(rest, refs, known)
        if name == "skip":
            left = [w for w in left if not _leave_compound(w)]
        if not left:
            return name, _blank(text, 0, len(text))
    return None, text


_BACK = frozenset({"back", "tilbage", "returning", "retur"})
_WEEKDAYS = WEEKDAYS | {"tomorrow", "imorgen", "next"}


def _leave_compound(word: str) -> bool:
    """A Danish compound of a leave word: "juleferie", "barselsorlov", "tjenesterejse"."""
    return len(word) >= 5 and (word.startswith(SKIP_PREFIXES) or word.endswith(SKIP_SUFFIXES))


def _negated_same(words: list[str]) -> bool:
    """ "not the same", "ikke det samme": a change, not the same."""
    for index, word in enumerate(words):
        if word in ("same", "samme") and any(
            w in NEGATIONS for w in words[max(0, index - 3) : index]
        ):
            return True
    return False


def _explicit_refs(text: str, krs: tuple[PromptKR, ...]) -> tuple[list[Ref], str, tuple | None]:
    refs: list[Ref] = []
    problem = None
    # a position starts the clause, after a lead set aside ("wk1 - 2) 120": week 1, #2)
    lead = len(text) - len(text.lstrip(" -:"))
    m = _POSITION.match(text[lead:])
    found = [(m.groups(), lead + m.start(), lead + m.end())] if m else []
    if not m:
        found = [(h.groups(), h.start(), h.end()) for h in _HASH.finditer(text)]
    for groups, start, end in found:
        position = int(next(g for g in groups if g))
        if 1 <= position <= len(krs):
            key = krs[position - 1].key
            refs.append(Ref(frozenset({key}), start, end, explicit=True))
        else:
            problem = ("parse.unknown_position", {"position": position, "n": len(krs)})
        text = _blank(text, start, end)
    by_key = None
    for match in _ID.finditer(text):
        token = match.group(1)
        if by_key is None:
            by_key = {kr.key.lower(): kr.key for kr in krs}
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


def _by_unit(numbers: list[Number], krs: tuple[PromptKR, ...]) -> list[Ref]:
    """ "4.2h" names the member's only key result counted in hours."""
    units = {n.unit for n in numbers if n.unit}
    if len(units) != 1:
        return []
    (unit,) = units
    keys = [kr.key for kr in krs if canonical_unit(kr.unit) == unit]
    n = next(n for n in numbers if n.unit)
    return [Ref(frozenset(keys), n.start, n.end)] if len(keys) == 1 else []


def canonical_unit(unit: str | None) -> str | None:
    return UNIT_ALIASES.get((unit or "").lower().rstrip("."))


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


_PARENS = re.compile(r"\([^()]*\)?")
_DASH_REMARK = re.compile(r"\s-\s+(?=[^\d\s+-])")  # "75% - 2 of 3 aisles racked"
_TOP_N = re.compile(r"\btop[\s-]?(\d{1,3})\b(?![.,]\d)")  # "top 10", "top-3": a name
# identifiers said with a number: "nr. 4 tændes", "hall no. 3", "the 24/7 line" (a number at
# the start of a clause is a prompt position, see _POSITION)
_IDENTIFIER = re.compile(
    r"(?:\b(?:nr|number|nummer)|(?<=\S )no)\.?\s?(\d{1,4})\b(?!\s*[:)]|[.,]\d)"
    r"|\b(24\s?[/x]\s?7)(?![\d.,])"
)
_FORECAST = _phrases(FORECAST_WORDS)


def _restore(text: str, original: str, spans) -> str:
    """`text` with the characters of `spans` put back from `original` (dates stay in comments)."""
    for start, end in spans:
        text = text[:start] + original[start:end] + text[end:]
    return text


def analyse(clause: str, krs: tuple[PromptKR, ...], locale: str, depth: int = 0) -> list[Item]:
    """The items of one clause: one per key result it names (a clause may name several)."""
    when = time_spans(clause)
    text = clause
    for start, end in when:
        text = _blank(text, start, end)
    confidence, text = _confidence(text)
    health, blocker, text, kept = _health(text)
    named = phrase_refs(text, krs)  # "top 10", "warehouse 2": names, their digits no value
    names = [(m.start(1), m.end(1)) for m in _TOP_N.finditer(text)]
    identifiers = (
        [m.span(m.lastindex) for m in _IDENTIFIER.finditer(text)] if _DIGITS.search(text) else []
    )
    names += identifiers
    names += [(r.start, r.end) for r in named]
    words = word_refs(text, krs)
    if words and _TIME_REMARK.search(text):  # "last month 1": no word of a title
        spans = [m.span() for m in _TIME_REMARK.finditer(text)]
        words = [r for r in words if not _within(r.start, spans)]
    if named:
        words = [r for r in words if not any(e.start <= r.start < e.end for e in named)]
    if identifiers or _DIGITS.search(text):  # "fase 2", "i zone 3": unless a title says it
        things = [
            m
            for m in _NUMBERED_THING.finditer(text)
            if not any(_within(r.start, [m.span(1)]) for r in words)
        ]
        identifiers += [m.span(2) for m in things]
        names += [m.span(2) for m in things]
        ordinals = [m.span() for m in ORDINAL_THING.finditer(text)]  # "ved 1. kontakt"
        identifiers += ordinals
        names += ordinals
    for start, end in names:
        text = _blank(text, start, end)
    explicit, text, problem = _explicit_refs(text, krs)
    if explicit:
        words = [r for r in words if not any(e.start <= r.start < e.end for e in explicit)]
    parens = [m.span() for m in _PARENS.finditer(text)] if "(" in text else []
    refs = _group(explicit + [r for r in named + words if not _within(r.start, parens)], text)
    said = text  # the intent's words stay in the comment of a value: "back from holiday"
    intent, text = _intent(text, refs, dated=bool(when))
    numbers = find_numbers(text, locale)
    units = [r for r in words if any(n.start < r.start < n.end for n in numbers)]
    if units:  # "4 min from ...": a unit said with a number is the number's, no mention
        words = [r for r in words if r not in units]
        refs = _group(explicit + [r for r in named + words if not _within(r.start, parens)], text)
    regions = _remark_regions(text, numbers, parens)
    inside = [r for r in words + named if _within(r.start, regions)] if regions else []
    if regions:
        refs = [r for r in refs if not _within(r.start, regions)]
    if refs and not numbers and not _DONE.search(text) and not _NOT_DONE.search(text):
        links = [m.start() for m in _ABOUT_LINK.finditer(text)]  # "rødt pga. platformsskiftet"
        if links:
            refs = [r for r in refs if r.explicit or r.start < links[0]]
    mentions = refs
    if not refs and numbers:
        refs = _by_unit(numbers, krs) or _by_currency(text, krs)
    # a done-like word is a value, not a mention, when something else names the key result
    named_refs = [r for r in refs if not r.binary_word]
    if named_refs:
        refs = named_refs
    remarks = [n for n in numbers if _within(n.start, regions) or _after_remark_word(text, n)]
    values = [n for n in numbers if n not in remarks]
    refs = _narrowed(text, refs, values)
    refs, unclear, asides = _outside_comment(text, refs, values, words + named)
    if asides:
        remarks += asides
        values = [n for n in values if n not in asides]
    if unclear:
        problem = problem or ("parse.unclear", {"key": min(unclear)})
    if len(refs) > 1 and not values:
        refs = _before_done(text, refs)
    if len({r.keys for r in refs}) == 1:
        refs = refs[:1]  # the same key result named again is part of the comment
    # a remark that names another key result with a number of its own: which is meant?
    others = [r for r in inside if r.keys - {k for ref in refs for k in ref.keys}]
    if others and any(_within(n.start, regions) for n in numbers):
        problem = problem or ("parse.unclear", {"key": next(iter(others[0].keys))})
    if depth == 0 and len(refs) > 1 and not unclear:
        pieces = _split_at_refs(clause, refs, values)
        if pieces:
            items = [i for p in pieces for i in analyse(p, krs, locale, depth + 1)]
            _share(items, health, confidence, blocker)
            return items
    item = Item(text=clause, intent=intent, health=health, confidence=confidence, problem=problem)
    item.remarks = len(remarks)
    if len(refs) > 1:
        item.keys = frozenset().union(*(r.keys for r in refs))
    elif refs:
        item.keys, item.explicit = refs[0].keys, refs[0].explicit
    _binary(item, text)
    if item.binary is not None and identifiers:  # "fase 2 er afsluttet": that phase is done
        done = (_DONE if item.binary else _NOT_DONE).search(text)
        if done and any(end <= done.start() for _, end in identifiers):
            item.binary = None
    if item.binary is None and item.keys is not None and len(item.keys) == 1 and not values:
        (kr,) = [k for k in krs if k.key in item.keys]
        if kr.type == "binary":  # "code of conduct signed", "not signed yet"
            item.binary = completion(text, kr.title)
            item.participle = item.binary is not None
    _choose_number(item, text, values)
    item.number_first = bool(refs) and item.number is not None and item.number.end <= refs[0].start
    covered = _covered(text, refs, mentions, item)
    if not item.has_value:  # "legal finally signed it": a name inside the words stays
        covered = [(a, b) for a, b in covered if not text[:a].strip(_COMMENT_TRIM)]
    if item.keys is None and item.number is not None:
        item.aside = _reads_as_aside(text, item.number)
    item.remark = _reads_as_remark(text, item)
    base = said if intent and item.has_value else text
    restored = when + kept + identifiers + [(r.start, r.end) for r in named]
    comment = _comment(_restore(base, clause, restored), covered, item)
    item.comment = comment if blocker and comment and blocker in comment else blocker or comment
    return [item]


def _outside_comment(
    text: str, refs: list[Ref], values: list[Number], words: list[Ref]
) -> tuple[list[Ref], frozenset[str] | None, list[Number]]:
    """The mentions that are not words of the comment; the key result a comment word names
    when a number follows it (is that number a value for it, or part of the remark?); and the
    numbers of a remark said with a preposition.

    Once a key result is named with its value, a later word that names another one, after
    words that say something about the value, is part of that comment: "NPS 30 thanks to
    faster deliveries" is about NPS, whatever "deliveries" could name. So is a place or a
    thing named with a preposition and a number: "pap 40 t fra lager 3" (from warehouse 3).
    Right after the value ("B2B 33 top 10 renewed") or after "but" it still names a key
    result. `words` are all the words that name key results, done-like ones too."""
    if refs and values and values[0].end <= refs[0].start:
        # the value said first: "33 % i margin", "34 new B2B customers signed"; a name after
        # words about the value is part of them: "120 thanks to the segmented team"
        between = [w.strip(_COMMENT_TRIM) for w in text[values[0].end : refs[0].start].split()]
        if any(w in _ABOUT_LINKS for w in between):
            return [r for r in refs if r.explicit], None, []
        return refs, None, []
    if len(refs) < 2 or not values:
        return refs, None, []  # nothing to set aside
    value = next((n for n in values if n.start >= refs[0].end), None)
    if value is None:
        return refs, None, []
    kept: list[Ref] = []
    asides = [
        n
        for ref in words
        if ref.start >= value.end and ref.keys != refs[0].keys
        for n in [_linked(text, value, ref, values)]
        if n is not None
    ]
    for ref in refs:
        if ref.start < value.end or ref.keys == refs[0].keys or ref.explicit:
            kept.append(ref)
            continue
        if any(k.keys != refs[0].keys for k in kept):  # a second key result named before
            kept.append(ref)
            continue
        own = [n for n in values if value.end <= n.start < ref.start and n not in asides]
        if own and _glues(text[own[-1].end : ref.start]):  # "og 2 fejl": its value first
            lead = [w.strip(_COMMENT_TRIM) for w in text[value.end : own[-1].start].split()]
            if lead and lead[0] in _PREPOSITIONS | _ABOUT_LINKS:
                # "0 fra lager 1 i kundetilfredshed": the 1 may be the warehouse's: which?
                return refs, ref.keys, []
            kept.append(ref)
            continue
        between = [w.strip(_COMMENT_TRIM) for w in text[value.end : ref.start].split()]
        said = [
            w for w in between if w and w not in _FILLER_OR_MARKER and not _BARE_NUMBER.fullmatch(w)
        ]
        after = next((n for n in values if n.start >= ref.end), None)
        if after is not None and _linked(text, value, ref, values) is after:
            continue  # "fra lager 3": where the value is from, not a value
        if _after_link(between):
            if after is not None:  # "at the CO2 hub 2": 2 of what?
                return refs, ref.keys, []
            continue  # "3.6M from top 10 accounts": where it comes from
        if (not said and not own) or (said and said[0] in _CONJUNCTIONS):
            kept.append(ref)  # right after the value ("B2B 33 top 10 renewed"), or "but NPS"
        elif after is not None:
            return refs, ref.keys, []  # a number after a word of the comment: which is it?
    return kept, None, asides


def _before_done(text: str, refs: list[Ref]) -> list[Ref]:
    """ "code of conduct: done 🎉 the last one was the packaging supplier": once a key result
    is said done, a word naming another after words about it is part of the comment."""
    done = _DONE.search(text) or _NOT_DONE.search(text)
    if done is None or not any(r.start < done.start() for r in refs):
        return refs
    kept = []
    for ref in refs:
        between = [w.strip(_COMMENT_TRIM) for w in text[done.end() : ref.start].split()]
        if ref.start < done.start() or not any(w and w not in _FILLER for w in between):
            kept.append(ref)
    return kept


def _after_link(between: list[str]) -> bool:
    """The words before a mention end with a preposition ("from", "fra lager", "at the")."""
    return [w for w in between if w not in _ARTICLES][-1:] in ([p] for p in _PREPOSITIONS)


def _linked(text: str, value: Number, ref: Ref, values: list[Number]) -> Number | None:
    """The number of a remark said with a preposition after the value, right after the word
    that names a key result: the 3 of "pap 40 t fra lager 3"."""
    between = [w.strip(_COMMENT_TRIM) for w in text[value.end : ref.start].split()]
    after = next((n for n in values if n.start >= ref.end), None)
    if after is None or not _after_link(between) or text[ref.end : after.start].strip():
        return None
    return after


_BARE_NUMBER = re.compile(r"[+-]?\d+(?:[.,]\d+)*%?")


def _glues(text: str) -> bool:
    """Only words that join a value to what it counts: "2 fejl", "33 % i margin", "29 on NPS",
    not "1 from the portal"."""
    said = [w.strip(_COMMENT_TRIM) for w in text.split()]
    return all(w in _FILLER_OR_MARKER and w not in _REMARK_LINKS for w in said)


_REMARK_LINKS = frozenset({"from", "fra", "at", "hos", "with", "med", "for", "ved"})


# words that start saying why or how, not what: "120 thanks to the segmented team"
_ABOUT_LINKS = frozenset(
    {"thanks", "thx", "due", "because", "after", "since", "despite", "trods", "pga", "takket"}
    | {"grundet", "efter", "siden", "via", "through", "gennem", "without", "uden", "from", "fra"}
)
_ABOUT_LINK = re.compile(
    r"(?<![\w-])(?:" + "|".join(sorted(_ABOUT_LINKS)) + r"|due to|because of)\b"
)
_PREPOSITIONS = _REMARK_LINKS | {"in", "i", "på", "af", "of"}


def _narrowed(text: str, refs: list[Ref], values: list[Number]) -> list[Ref]:
    """One value with words that could name several key results, and later words of the
    clause, after the value, that name one of those only: that one ("26 suppliers through the
    tier-1 audit", "suppliers 26 in the tier-1 audit" are the suppliers audited, not those who
    signed). Not across "and" / "but", where a second key result may be meant."""
    if len(refs) < 2 or len(values) != 1:
        return refs
    first, later, value = refs[0], refs[1:], values[0]
    if first.explicit or len(first.keys) < 2 or len({r.keys for r in later}) != 1:
        return refs
    keys = later[0].keys
    if len(keys) != 1 or not keys < first.keys or later[0].start < value.end:
        return refs
    start = max(first.end, value.end)
    between = {w.strip(_COMMENT_TRIM) for w in text[start : later[0].start].split()}
    if between & (_CONJUNCTIONS | _AND):
        return refs
    return [replace(first, keys=keys)]


_AND = frozenset({"and", "og", "&", "+"})
_ARTICLES = frozenset({"the", "a", "an", "den", "det", "de", "en", "et", "our", "vores"})
_CONJUNCTIONS = frozenset({"but", "men", "while", "mens", "whereas", "plus", "samt", "også"})


def _covered(text: str, refs: list[Ref], mentions: list[Ref], item: Item) -> list[tuple[int, int]]:
    """The spans that name the item's key result: its mention, and the same key result named
    again right by the value ("CO2 is at 3.4 kg per delivery"), not later in a remark."""
    spans = [(r.start, r.end) for r in refs]
    if item.number is None:
        return spans
    start, end = item.number.start, item.number.end
    for ref in refs:  # "support time 3.7h", "euro 6-lastbiler 68": one more word of the name,
        # right before the value
        words = text[ref.end : start].split() if ref.end <= start else []
        word = words[0].removeprefix("-") if len(words) == 1 else ""
        if word.isalpha() and word not in _FILLER_OR_MARKER:
            spans.append((ref.end, start))
    for ref in mentions:
        if (ref.start, ref.end) in spans or not item.keys or not ref.keys <= item.keys:
            continue
        between = text[min(end, ref.start) : ref.start] + text[ref.end : max(ref.end, start)]
        if all(w in _FILLER and w != "-" for w in between.split()):
            spans.append((ref.start, ref.end))
    return spans


def _within(position: int, spans) -> bool:
    return any(a <= position < b for a, b in spans)


def _remark_regions(text: str, numbers: list[Number], parens) -> list[tuple[int, int]]:
    """The parts of a clause said beside the value: parentheses, what follows "heraf" /
    "incl." / "of which", and what follows " - " or an "N of M things" once a number has been
    said. Numbers and key-result words there are comment."""
    regions = list(parens)
    for pattern in (_DASH_REMARK, _PART):
        m = pattern.search(text)
        if m and any(n.end <= m.start() for n in numbers):  # "move 75% - 2 of 3 aisles"
            regions.append((m.start(), len(text)))
    opened = _REMARK_OPEN.search(text)  # "heraf 2 med nye 77 kWh batterier"
    if opened:
        regions.append((opened.start(), len(text)))
    return regions


def _after_remark_word(text: str, number: Number) -> bool:
    """ "was 6", "var 5,8", "up from 3.1", "vs 4.4h", "mål 35": what it was or should be."""
    before = text[: number.start].split()
    if _remark_word_ends(before):
        return True
    while before and before[-1].strip(":=") in _COPULAS:  # "målet er 35", "target is 30"
        before.pop()
    return _remark_word_ends(before)


def _remark_word_ends(before: list[str]) -> bool:
    return bool(before) and (before[-1] in REMARK_BEFORE or " ".join(before[-2:]) in REMARK_BEFORE)


_COPULAS = frozenset({"", "is", "er", "was", "var", "of", "på", "at", "around", "ca", "ca.", "~"})


_PART = re.compile(r"(?<![\d.,])\d+\s(?:of|af|ud af)\s\d+\s[a-zæøå]")  # "2 of 3 aisles"
_PART_OF_WHOLE = re.compile(r"(?<![\d.,])\d+\s?(?:of|af|ud af|/)\s?\d+(?![\d.,])")
_REMARK_OPEN = re.compile(r"\b(?:heraf|of which|incl|including|inkl|inklusive)\b")


def _reads_as_aside(text: str, number: Number) -> bool:
    """A number without a key result that says something about a value given before it:
    a part ("2 of them in Leeds", "12 new in Odense", "3 to go"), a forecast ("expected to hit
    25"), or a number word ("two big deals pending")."""
    if number.word or _FORECAST.search(text):
        return True
    after = " ".join(text[number.end :].split()[:2])
    if _TOTAL.match(after):  # "så 4 i alt": a total, no part
        return False
    if _PART_OF_WHOLE.search(text):  # "fase 2 af 3 i gang"
        return True
    return any(after == p or after.startswith(p + " ") for p in PART_AFTER) and bool(
        text[number.end :].strip()
    )


# things counted with a number: "fase 2", "phase 3", "zone 3", "hal 4", "sprint 12"
_NUMBERED_THING = re.compile(
    r"\b(phase|fase|step|trin|etape|stage|wave|bølge|round|runde|sprint|release|version|zone|"
    r"hal|hall|site|rute|route|line|linje|gate|dock|lane|bay|level|niveau|floor|etage|batch|"
    r"pilot|milepæl|milestone|part|del|lot|region|område|afdeling|store|butik)\s?(\d{1,3})\b"
    r"(?![.,]\d|\s?(?:%|pct|procent|percent))"
)
_TIME_REMARK = _phrases([p for p in REMARK_BEFORE if " " in p])
_LEAD_PREPOSITION = re.compile(
    r"^(?:(?:mest|mostly|mainly|primært|primarily|især|especially|largely|all|alle|most|heraf|"
    r"typically|typisk|only|kun)\s)?(?:from|fra|hos|ved|i|in|med|with|thanks to|takket være|"
    r"due to|pga\.?|because of|grundet|on account of)\s"
)
# "6 point fra målet", "3 to go", "0.4 short of target": how far from the target, not a value
_TO_TARGET = re.compile(
    r"^\s*(?:[^\W\d_]{1,8}\s)?(?:fra målet|from (?:the )?(?:target|goal)|to (?:the )?target|"
    r"til målet|to go|short|under (?:the )?target|below (?:the )?target|above (?:the )?target|"
    r"over (?:the )?target|under målet|over målet|mangler|tilbage|left|remaining)\b"
)
_PART_OF = re.compile(
    r"^\s*(?:of it|of that|of them|of those|of which|af dem|af det|af dette|af disse|heraf)\b"
)


def _reads_as_remark(text: str, item: Item) -> bool:
    """Said after a value on its line, the clause is a remark on that value: it starts with
    a preposition ("mest fra lager 2 i Horsens", "thanks to 3 new drivers"), its number is
    a part of the value ("0.6M of it from renewals"), it says something else is done
    ("racking done by 18 Dec") or it tells with a number word ("two suppliers refused
    site visits")."""
    said = text.strip(_COMMENT_TRIM)
    if _LEAD_PREPOSITION.match(said) and not _TOTAL.match(said):
        return True
    number = item.number
    if number is not None and (
        _PART_OF.match(text[number.end :]) or _TO_TARGET.match(text[number.end :])
    ):
        return True
    if item.keys is None and item.binary is not None and number is None:
        rest = _NOT_DONE.sub(" ", _DONE.sub(" ", text))
        return any(w.strip(_COMMENT_TRIM) not in _FILLER_OR_TALK for w in rest.split())
    if number is not None and number.word:
        after = [w for w in text[number.end :].split() if w.strip(_COMMENT_TRIM) not in _FILLER]
        return len(after) >= 3
    return False


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


def _marker(text: str, number: Number, total: bool) -> tuple[int, bool]:
    """(+1/-1 for a relative change, True when an absolute marker says "to")."""
    before = text[: number.start].split()
    after = text[number.end :].split()
    last_two = " ".join(before[-2:])
    last = before[-1] if before else ""
    nxt = after[0].strip(".,!") if after else ""
    if (
        nxt not in _AFTER_MARKERS
        and len(after) >= 2
        and not any(c.isdigit() for c in nxt)
        and (
            len(after) == 2 or (after[1].strip(".,!") in _MORE_OR_FEWER and nxt not in _NOT_COUNTED)
        )
    ):
        # "2 campaigns more", "2 kampagner til" (marker at the end), "1 hal mere med solceller"
        nxt = after[1].strip(".,!")
    elif nxt == "til" and len(after) > 1:
        nxt = ""  # "37t til og med uge 46": "til" is "more" only at the end of the clause
    if last in ABSOLUTE_BEFORE or last_two.endswith(_ABSOLUTE_PHRASES):
        return 0, True
    if total:
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
    """The clause's main value: the number marked as absolute ("down to 150"), else the first;
    any other number (not a number word, not an "of 12") is a second reading."""
    if not numbers:
        return
    total = _TOTAL.search(text) is not None  # "2 nye butikker i alt"
    marked = [(n, *_marker(text, n, total)) for n in numbers]
    absolute = [m for m in marked if m[2]]
    chosen = absolute[-1] if absolute else marked[0]
    rest = [n for n, _, _ in marked if n is not chosen[0]]
    item.number, item.relative = chosen[0], chosen[1]
    item.dash = item.relative == -1 and text[: chosen[0].start].rstrip().endswith(" -")
    item.extra_numbers = [n for n in rest if not n.word and not _is_of_target(text, n)]


def _is_of_target(text: str, number: Number) -> bool:
    before = text[: number.start].rstrip()
    return before.endswith(("/", " of", " ud af", " af", " out of", "from", " fra"))


def _comment(text: str, covered, item: Item) -> str | None:
    for start, end in covered:
        text = _blank(text, start, end)
    if item.number is not None:
        text = _blank(text, *_with_markers(text, item.number))
    for pattern in (_DONE, _NOT_DONE):
        # a done-like word is the value of a binary key result or says no more than the
        # value; in the member's words about a number it stays: "since the portal went live"
        stripped = pattern.sub(" ", text)
        if (item.binary is not None and item.number is None) or not _meaningful(stripped):
            text = stripped
    said = [w for w in text.split() if w.strip(_COMMENT_TRIM)]
    if not _meaningful(text):
        return None
    while said and said[0].strip(_COMMENT_TRIM) in _LEADING:
        said.pop(0)
    while said and said[-1].strip(_COMMENT_TRIM) in _LEADING:
        said.pop()
    comment = " ".join(said).strip(_COMMENT_TRIM)
    if comment.count("(") > comment.count(")"):
        comment += ")"  # "(was 6)": the trim took its closing parenthesis
    return comment or None


def _meaningful(text: str) -> bool:
    """Whether the words left say something (not only filler and value markers)."""
    said = (w.strip(_COMMENT_TRIM) for w in text.split())
    return sum(len(w) for w in said if w and w not in _FILLER_OR_MARKER) >= 4


def _with_markers(text: str, number: Number) -> tuple[int, int]:
    """The value's span with the words that only say how it is given ("down to", "er nu på",
    "is at", "kr.") around it."""
    start, end = number.start, number.end
    while True:
        before = text[:start].rstrip()
        word = before.split()[-1] if before.split() else ""
        if word and (word in _MARKERS or word in CURRENCY_WORDS or word == "="):
            start = len(before) - len(word)
            continue
        break
    while True:
        after = text[end:]
        words = after.split()
        if words and (words[0] in CURRENCY_WORDS or words[0] in _AFTER_VALUE):
            end += len(after) - len(after.lstrip()) + len(words[0])
            continue
        break
    return start, end


_AFTER_VALUE = frozenset({"i", "alt", "in", "total", "totalt", "now", "nu", "so", "far"})
_LEADING = frozenset({"-", "and", "og", "but", "men", ",", "&", "+", "so", "så"})
_MARKERS = frozenset(
    w for p in UP_BEFORE + UP_AFTER + DOWN_BEFORE + DOWN_AFTER + ABSOLUTE_BEFORE for w in p.split()
)
_FILLER_OR_MARKER = _FILLER | _MARKERS
_FILLER_OR_TALK = _FILLER | SMALL_TALK
_DIGITS = re.compile(r"\d")
_INTENT_WORDS = (
    (
        "skip",
        SKIP_CUES,
        SKIP_NEGATABLE,
        _FILLER_OR_TALK | SKIP_WORDS | MONTHS | SKIP_CUES | SKIP_NEGATABLE | NEGATIONS,
    ),
    (
        "no_change",
        NO_CHANGE_CUES,
        NO_CHANGE_NEGATABLE,
        _FILLER_OR_TALK | NO_CHANGE_WORDS | NO_CHANGE_CUES | NO_CHANGE_NEGATABLE | NEGATIONS,
    ),
)
_AFTER_MARKERS = frozenset(UP_AFTER) | frozenset(DOWN_AFTER)
_MORE_OR_FEWER = _AFTER_MARKERS - {"til", "nye", "added"}
_NOT_COUNTED = _ABOUT_LINKS | _PREPOSITIONS | _CONJUNCTIONS | _FILLER  # "27 efter flere ..."
_ABSOLUTE_PHRASES = tuple(p for p in ABSOLUTE_BEFORE if " " in p)

"""Which key result a clause talks about: prompt positions, ids, and words of the title or
unit (stems, Danish synonyms, title acronyms, one-letter typos, Danish compounds and
inflections: `omsætningen` for `Nettoomsætning`), names with digits (`CO2`, `4G-backup`) and
title phrases with a number (`top 10`, `Warehouse 2`)."""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import lru_cache

from rapidfuzz.distance import OSA

from bot.parsing.model import PromptKR
from bot.parsing.vocab import (
    CURRENCY_WORDS,
    DONE_WORDS,
    HEALTH_PHRASES,
    NEGATIONS,
    NOT_DONE_WORDS,
    STOPWORDS,
    SYNONYMS,
)

# a word, or a name with digits in it ("co2", "4g-backup", "b2b"); a number with a unit glued
# to it ("3.2kg") is a number, see numbers.py
_WORD = re.compile(
    r"(?<![\w.,])\d+-?[a-zæøå](?:[\w'-]*[a-zæøåéü0-9])?"  # "4g-backup", "14001-certificering"
    r"|(?<!\d)[a-zæøåéü][a-zæøåéü0-9'-]*[a-zæøåéü0-9]"
)
# "top 10", "warehouse 2", "ISO 14001", "Art. 30" (a word shortened with a dot), "within 4h"
# (a unit glued to the number of a name)
_PHRASE = re.compile(
    r"\b([a-zæøå]{3,})(?:\.\s?|[\s-])?(\d{1,5}(?:-\d{1,5})?)(?=(?:km|kg|h|t|l|min|m)?\b)"
    r"(?![.,]\d)"
)
# the number first: "EV chargers at 12 depots" (not a unit: "per 100 km" is the phrase above)
_PHRASE_NUMBER_FIRST = re.compile(r"(?<![\d.,])\b(\d{1,3})\s([a-zæøå]{4,})\b")
_BINARY_WORDS = frozenset(w for phrase in DONE_WORDS + NOT_DONE_WORDS for w in phrase.split())
_NOT_TERMS = frozenset(STOPWORDS | CURRENCY_WORDS | set(HEALTH_PHRASES)) | {"%", "pct"}


@dataclass(frozen=True)
class Ref:
    """A mention of one or more key results at a span of the clause."""

    keys: frozenset[str]
    start: int
    end: int
    explicit: bool = False  # a position or id, not words
    binary_word: bool = False  # only a done/launched-like word of a title


_DANISH_ENDINGS = ("erne", "ene", "en", "et", "er", "ne", "e", "s")


@lru_cache(maxsize=8192)
def stem(word: str) -> str:
    word = word.strip("'-").removesuffix("'s")
    if word in SYNONYMS:
        return SYNONYMS[word]
    if len(word) >= 5:  # a typo of a Danish word we know ("kampanger", "butiker")
        close = [w for w in SYNONYMS if _typo(word, w)]
        if len({SYNONYMS[w] for w in close}) == 1:
            return SYNONYMS[close[0]]
    if len(word) > 4 and word.endswith("ies"):
        return word[:-3] + "y"
    if (len(word) > 3 or _has_digit(word)) and word.endswith("s") and not word.endswith("ss"):
        return word[:-1]
    return word


@lru_cache(maxsize=4096)
def terms_of(title: str, unit: str | None) -> frozenset[str]:
    """The words that identify a key result: title words, unit and the title's acronym."""
    words = [w for w in _WORD.findall(title.lower())]
    terms = {stem(w) for w in words if w not in _NOT_TERMS and (len(w) >= 3 or _has_digit(w))}
    for w in words:  # a Danish compound names what its known parts name ("nettoomsætning")
        terms.update(SYNONYMS[k] for k in _compound_parts(w))
    for w in words:
        if "-" in w:
            terms.update(
                stem(p)
                for p in w.split("-")
                if (len(p) >= 3 or _has_digit(p) and len(p) >= 2) and p not in _NOT_TERMS
            )
    initials = "".join(w[0] for w in re.findall(r"[a-zæøå]+", title.lower()))
    if len(initials) >= 2:
        terms.add(initials)
    if unit and unit.lower() not in CURRENCY_WORDS and unit != "%":
        terms.add(stem(unit.lower()))
    return frozenset(terms)


@lru_cache(maxsize=4096)
def phrases_of(title: str) -> tuple[str, ...]:
    """Title phrases with a number in them ("top 10", "warehouse 2"): a name, not a value."""
    title = title.lower()
    phrases = [f"{word} {number}" for word, number in _PHRASE.findall(title)]
    phrases += [f"{number} {unit}" for number, unit in _GLUED_NAME.findall(title)]  # "4h"
    phrases += [
        f"{number} {word}"
        for number, word in _PHRASE_NUMBER_FIRST.findall(title)
        if word not in _NOT_TERMS and word.rstrip("s") not in _UNIT_WORDS
    ]
    return tuple(phrases)


_GLUED_NAME = re.compile(r"(?<![\w.,])(\d{1,5})(km|kg|h|t|l|min)\b")
_UNIT_WORDS = frozenset(
    {"kilo", "kilogram", "tonne", "hour", "minute", "minut", "second", "sekund", "liter", "litre"}
)


@lru_cache(maxsize=65536)
def _names(candidates: frozenset[str], terms: frozenset[str]) -> bool:
    return any(_close(c, t) for c in candidates for t in terms)


def _has_digit(word: str) -> bool:
    return any(c.isdigit() for c in word)


@lru_cache(maxsize=4096)
def _compound_parts(word: str) -> tuple[str, ...]:
    return tuple(k for k in _SYNONYM_ROOTS if k in word and k != word)


_SYNONYM_ROOTS = tuple(k for k in SYNONYMS if len(k) >= 6)


@lru_cache(maxsize=65536)
def _close(word: str, term: str) -> bool:
    if word == term:
        return True
    if word.isascii() and term.isascii() and len(word) >= 4 and len(term) >= 5:
        root = _root(word)  # "picks", "picking" and "picked"; "renewals" and "renewed"
        if root == _root(term) and (root != word or root != term) and len(root) >= 4:
            return True
    return _compound(word, term) or _typo(word, term)


def _typo(word: str, term: str) -> bool:
    """One letter off ("kampanger", "butiker"), for words of five letters or more; two
    letters swapped after the first ("vnas" for "vans"), for shorter ones too."""
    if len(word) == len(term) >= 3 and word[0] == term[0] and _swapped(word, term):
        return True
    if len(term) < 5 or len(word) < 4 or abs(len(word) - len(term)) > 1:
        return False
    return OSA.distance(word, term, score_cutoff=1) <= 1


def _swapped(word: str, term: str) -> bool:
    differ = [i for i, (a, b) in enumerate(zip(word, term, strict=True)) if a != b]
    return (
        len(differ) == 2
        and differ[1] == differ[0] + 1
        and word[differ[0]] == term[differ[1]]
        and word[differ[1]] == term[differ[0]]
    )


# English endings of one root: "renewals" and "renewed", "signing" and "signed"
_ENGLISH_ENDINGS = (
    *("ications", "ication", "ations", "ation", "ments", "ment", "ings", "ing", "ied", "ies"),
    *("ances", "ance", "als", "al", "ed", "ers", "er", "es", "s"),
)


def _root(word: str) -> str:
    for ending in _ENGLISH_ENDINGS:
        if len(word) - len(ending) >= 4 and word.endswith(ending):
            return word[: -len(ending)]
    return word


def _bare(word: str) -> str:
    """A Danish word without its definite or plural ending ("hallerne" -> "hall")."""
    for ending in _DANISH_ENDINGS:
        if len(word) - len(ending) >= 5 and word.endswith(ending):
            return word[: -len(ending)]
    return word


def _compound(word: str, term: str) -> bool:
    """One word is a compound of, or an inflection of, the other: "omsætningen" and
    "nettoomsætning", "marginen" and "bruttomargin", "hallerne" and "lagerhaller"."""
    if len(word) < 5 or len(term) < 5 or "-" in word + term or _has_digit(word + term):
        return False
    for a, b in ((word, term), (_bare(word), term), (word, _bare(term))):
        shorter, longer = (a, b) if len(a) <= len(b) else (b, a)
        if len(shorter) >= 5 and (longer.startswith(shorter) or longer.endswith(shorter)):
            return True
    # "omsætningstal" and "nettoomsætning": the shared part ends one word and starts the other
    # (compared without endings: "elforbruget" and "vandforbrug" share an end, no more)
    word, term = _bare(word), _bare(term)
    common = _longest_common(word, term)
    if common < 7 or common < 0.6 * min(len(word), len(term)):
        return False
    for x, y in ((word, term), (term, word)):
        for part in {x[:common], x[-common:]}:
            same_place = (y.startswith(part) and x.startswith(part)) or (
                y.endswith(part) and x.endswith(part)
            )
            if part in y and not same_place:
                return True
    return False


def _longest_common(a: str, b: str) -> int:
    best = 0
    previous = [0] * (len(b) + 1)
    for ca in a:
        row = [0]
        for j, cb in enumerate(b):
            row.append(previous[j] + 1 if ca == cb else 0)
        best = max(best, max(row))
        previous = row
    return best


class _Vocab:
    """The words of one prompt's key results, and which key results each word said names
    (kept per prompt: the same words come back in every reply)."""

    __slots__ = ("terms", "phrases", "names", "words", "_memo")

    def __init__(self, krs: tuple[PromptKR, ...]) -> None:
        self.terms = tuple((kr.key, terms_of(kr.title, kr.unit)) for kr in krs)
        self.phrases = tuple(
            (frozenset({kr.key}), pattern) for kr in krs for pattern in _phrase_patterns(kr.title)
        )
        self.names = tuple(phrase for kr in krs for phrase in phrases_of(kr.title))
        # the title words a shortening with a dot may stand for ("nettoomsætn."), and the words
        # of names with a number, whose dot ends no sentence ("Art. 30", "art. 30")
        self.words = frozenset(
            w for kr in krs for w in _WORD.findall(kr.title.lower()) if len(w) >= 6
        ) | {f"{name.split()[0]}." for name in self.names if name.split()[0].isalpha()}
        self._memo: dict[tuple[str, str | None], frozenset[str]] = {}

    def keys(self, word: str, joined: str | None) -> frozenset[str]:
        memo = (word, joined)
        keys = self._memo.get(memo)
        if keys is None:
            candidates = {word, stem(word)}
            if "-" in word:  # "sync-fejl", "omnichannel-kunder"
                candidates |= {stem(part) for part in word.split("-") if len(part) >= 3}
            if joined:
                candidates.add(joined)  # "fit out" = "fit-out"
            said = frozenset(candidates)
            keys = frozenset(key for key, terms in self.terms if _names(said, terms))
            if len(self._memo) < 1024:
                self._memo[memo] = keys
        return keys


def vocab_of(krs: tuple[PromptKR, ...]) -> _Vocab:
    """The prompt's vocabulary: one reply asks for it once a clause, with the same tuple."""
    last = _last_vocab
    if last[0] is krs:
        return last[1]
    return _remember(krs, _vocab(krs))


@lru_cache(maxsize=256)
def _vocab(krs: tuple[PromptKR, ...]) -> _Vocab:
    return _Vocab(krs)


def _remember(krs: tuple[PromptKR, ...], vocab: _Vocab) -> _Vocab:
    global _last_vocab
    _last_vocab = (krs, vocab)
    return vocab


_last_vocab: tuple = (None, None)


def word_refs(clause: str, krs: tuple[PromptKR, ...]) -> list[Ref]:
    """Every word of the clause that names one or more of the key results."""
    vocab = vocab_of(krs)
    refs: list[Ref] = []
    matches = list(_WORD.finditer(clause))
    for index, m in enumerate(matches):
        word = m.group()
        if word in _NOT_TERMS or len(word) < 2:
            continue
        joined = None
        if index + 1 < len(matches) and matches[index + 1].start() == m.end() + 1:
            joined = f"{word}-{matches[index + 1].group()}"
        keys = vocab.keys(word, joined)
        if keys:
            refs.append(Ref(keys, m.start(), m.end(), binary_word=word in _BINARY_WORDS))
    return refs


@lru_cache(maxsize=4096)
def _phrase_patterns(title: str) -> tuple[re.Pattern, ...]:
    patterns = []
    for phrase in phrases_of(title):
        word, number = phrase.split()
        if word.isdigit() and number in ("km", "kg", "h", "t", "l", "min"):  # "4h", "4 h"
            patterns.append(re.compile(rf"(?<![\w.,]){word}\s?{number}\b"))
            continue
        if word.isdigit():  # "12 depots", "12 depot", "12-depots"
            number, stem_ = word, re.escape(number.rstrip("s"))
            patterns.append(re.compile(rf"(?<![\d.,])\b{number}[\s-]?{stem_}\w{{0,3}}\b"))
            continue
        # "per 100 km", "per 100km": a unit glued to the number of the name
        patterns.append(
            re.compile(
                rf"\b{re.escape(word)}(?:\.\s?|[\s-])?{number}(?:{_GLUED_UNIT})?\b(?![.,]\d)"
            )
        )
    return tuple(patterns)


def phrase_refs(clause: str, krs: tuple[PromptKR, ...]) -> list[Ref]:
    """Title phrases with a number ("top 10", "top-10", "warehouse 2") said in the clause."""
    phrases = vocab_of(krs).phrases
    if not phrases or not _DIGIT.search(clause):
        return []
    return [
        Ref(keys, m.start(), m.end()) for keys, pattern in phrases for m in pattern.finditer(clause)
    ]


_DIGIT = re.compile(r"\d")
_GLUED_UNIT = "(?:km|kg|kwh|mwh|m2|m|t|h|l|min|pct|%)"


def choose(refs: list[Ref]) -> frozenset[str]:
    """The key results a group of word mentions points at: the best-supported ones."""
    strong = [r for r in refs if not r.binary_word] or refs
    scores: dict[str, int] = {}
    for ref in strong:
        for key in ref.keys:
            scores[key] = scores.get(key, 0) + 1
    if not scores:
        return frozenset()
    best = max(scores.values())
    return frozenset(key for key, score in scores.items() if score == best)


def completion(text: str, title: str) -> float | None:
    """A binary key result's own past participle said as done or not done: "code of conduct
    signed" (1), "not signed yet" (0), "iso 14001 certified" for "ISO 14001 certification
    achieved", "underskrevet" for "Aftale underskrevet"."""
    every_word = _WORD.findall(title.lower())
    title_words = [w for w in every_word if len(w) >= 4]
    said = _WORD.findall(text)
    for index, word in enumerate(said):
        if len(word) < 5 or not word.endswith(_PARTICIPLE_ENDINGS):
            continue
        if any(word == t or (word.isascii() and _root(word) == _root(t)) for t in title_words):
            before = said[:index]
            # said of the key result itself, not by someone: "legal finally signed it"
            if any(not _of_title(w, every_word) for w in before if w not in _NEGATED):
                return None
            if any(w in _NEGATED for w in before[-3:]):
                return 0.0
            if "?" in text or any(w in _NEGATED or w == "no" for w in said[index + 1 :]):
                return None  # "signed? not sure yet": ask
            return 1.0
    return None


def _of_title(word: str, title_words: list[str]) -> bool:
    return word in STOPWORDS or any(_close(word, t) or _close(stem(word), t) for t in title_words)


_PARTICIPLE_ENDINGS = ("ed", "et", "ået")
_NEGATED = NEGATIONS | {"yet", "endnu"}

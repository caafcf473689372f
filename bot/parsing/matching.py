"""Which key result a clause talks about: prompt positions, ids, and words of the title or
unit (stems, Danish synonyms, title acronyms, one-letter typos)."""

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
    NOT_DONE_WORDS,
    STOPWORDS,
    SYNONYMS,
)

_WORD = re.compile(r"[a-zæøåéü][a-zæøåéü'-]*[a-zæøåéü]|[a-zæøå]{2,}")
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


@lru_cache(maxsize=8192)
def stem(word: str) -> str:
    word = word.strip("'-").removesuffix("'s")
    if word in SYNONYMS:
        return SYNONYMS[word]
    if len(word) >= 5:  # a typo of a Danish word we know ("kampanger", "butiker")
        close = [w for w in SYNONYMS if _close(word, w)]
        if len({SYNONYMS[w] for w in close}) == 1:
            return SYNONYMS[close[0]]
    if len(word) > 4 and word.endswith("ies"):
        return word[:-3] + "y"
    if len(word) > 3 and word.endswith("s") and not word.endswith("ss"):
        return word[:-1]
    return word


@lru_cache(maxsize=4096)
def terms_of(title: str, unit: str | None) -> frozenset[str]:
    """The words that identify a key result: title words, unit and the title's acronym."""
    words = [w for w in _WORD.findall(title.lower())]
    terms = {stem(w) for w in words if w not in _NOT_TERMS and len(w) >= 3}
    for w in words:
        if "-" in w:
            terms.update(stem(p) for p in w.split("-") if len(p) >= 4 and p not in _NOT_TERMS)
    initials = "".join(w[0] for w in re.findall(r"[a-zæøå]+", title.lower()))
    if len(initials) >= 2:
        terms.add(initials)
    if unit and unit.lower() not in CURRENCY_WORDS and unit != "%":
        terms.add(stem(unit.lower()))
    return frozenset(terms)


def _close(word: str, term: str) -> bool:
    if word == term:
        return True
    if len(term) < 5 or len(word) < 4 or abs(len(word) - len(term)) > 1:
        return False
    return OSA.distance(word, term, score_cutoff=1) <= 1


def word_refs(clause: str, krs: tuple[PromptKR, ...]) -> list[Ref]:
    """Every word of the clause that names one or more of the key results."""
    vocab = {kr.key: terms_of(kr.title, kr.unit) for kr in krs}
    refs: list[Ref] = []
    matches = list(_WORD.finditer(clause))
    for index, m in enumerate(matches):
        word = m.group()
        if word in _NOT_TERMS or len(word) < 2:
            continue
        candidates = {word, stem(word)}
        if "-" in word:  # "sync-fejl", "omnichannel-kunder"
            candidates |= {stem(part) for part in word.split("-") if len(part) >= 3}
        if index + 1 < len(matches) and matches[index + 1].start() == m.end() + 1:
            candidates.add(f"{word}-{matches[index + 1].group()}")  # "fit out" = "fit-out"
        keys = frozenset(
            key
            for key, terms in vocab.items()
            if any(_close(c, t) for c in candidates for t in terms)
        )
        if keys:
            refs.append(Ref(keys, m.start(), m.end(), binary_word=word in _BINARY_WORDS))
    return refs


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

"""Cleaning and splitting a reply: platform markup out, lower case, lines, sentences, clauses."""

from __future__ import annotations

import html
import re
import unicodedata

from bot.parsing.when import ORDINAL_THING, time_spans

MAX_REPLY_CHARS = 2000  # a check-in answer is short; anything longer is not one

_SLACK_LINK = re.compile(r"<((?:https?|mailto):[^|>\s]*)\|([^>]*)>")
_SLACK_ANGLE = re.compile(r"<(?:[@#!][^>]*|(?:https?|mailto):[^>]*)>")
_TEAMS_AT = re.compile(r"<at\b[^>]*>.*?</at>", re.IGNORECASE | re.DOTALL)
_HTML_BREAK = re.compile(r"<\s*(?:br|/p|/div|/li)\s*/?\s*>", re.IGNORECASE)
_HTML_TAG = re.compile(r"</?[a-z][a-z0-9]*\b[^<>]*>", re.IGNORECASE)
_STRIKE = re.compile(r"~[^~\n]+~")
_EMPHASIS_MARK = re.compile(r"[*_`]")
_EMPHASIS = re.compile(r"(?<![\w*_])([*_`]{1,3})(?=\S)([^*_`\n]+?)(?<=\S)\1(?![\w*_])")
_BULLET = re.compile(r"^\s*[-*•–·>]+\s+")
_SPACES = re.compile(r"[ \t\u00a0\u202f]+")
# abbreviations whose dot does not end a sentence
_ABBREVIATIONS = re.compile(
    r"\b(mio|mia|mill|kr|pct|ca|nr|no|approx|dvs|fx|bl\.a|inkl|ekskl|incl|excl|e\.g|i\.e|etc|vs|pr|pga|kl|"
    r"jf|osv|mv|d)\.",
    re.I,
)
# "4. januar": a Danish ordinal date, not the end of a sentence
_ORDINAL_DATE = re.compile(
    r"(?<=\b\d)\.(?=\s(?:jan|feb|mar|apr|maj|jun|jul|aug|sep|okt|nov|dec))"
    r"|(?<=\b\d\d)\.(?=\s(?:jan|feb|mar|apr|maj|jun|jul|aug|sep|okt|nov|dec))"
)
_SENTENCE_END = re.compile(r"(?<=[^\d\s])[.!?]+(?=\s|$)|(?<=\d)[.!?]+(?=\s+[^\d\s])|[!?]+")
_CLAUSE_SEP = re.compile(
    r"\s*;\s*|(?<!\d),(?!\d)\s*|(?<=\d),(?=\s)\s*|,\s+|\s+/\s+"
    r"|(?<=[\d%a-zæøå])\s+(?=#\d{1,2}\b)"  # "#1 4,650 #2 18.5%"
    r"|(?:(?<=[\d%])|(?<=\d[mk]))\s+(?=\d{1,2}\s?[:)]\s?\S)"  # "1:6 2:145", "1) 2 2) 14.3M"
    # "morning 👋 1) 4,620 2) 18", but not "uge 47: 24"
    r"|(?<!uge)(?<!week)(?<!wk)(?<!kw)(?<!\bat)(?<!kl)(?<!kl\.)\s+(?!0\d:)(?=\d{1,2}\s?[:)]\s?[+-]?\d)"
)


def clean(text: str) -> str | None:
    """Normalised reply text, or None when it cannot be a check-in answer (too long)."""
    if len(text) > MAX_REPLY_CHARS * 4:
        return None
    # each step only where its mark is in the text: most replies are a short plain line
    if not text.isascii():
        text = unicodedata.normalize("NFC", text)
    if "<" in text:
        text = _TEAMS_AT.sub(" ", text)
        text = _HTML_BREAK.sub("\n", text)
        text = _HTML_TAG.sub(" ", text)
    if "&" in text:
        text = html.unescape(text)
    if "<" in text:
        text = _SLACK_LINK.sub(r" \2 ", text)
        text = _SLACK_ANGLE.sub(" ", text)
    if "~" in text:
        text = _STRIKE.sub(" ", text)
    if _EMPHASIS_MARK.search(text):
        text = _EMPHASIS.sub(r"\2", text)
    if not text.isprintable():  # control and format characters (category C) become spaces
        text = "".join(
            ch if ch in "\n\t" or unicodedata.category(ch)[0] != "C" else " " for ch in text
        )
    if not text.isascii():
        text = text.replace("\u2212", "-").replace("\u2013", "-").replace("\u2014", "-")
        text = text.replace("\u2019", "'").replace("\u201c", '"').replace("\u201d", '"')
    if len(text) > MAX_REPLY_CHARS:
        return None
    lines = [_SPACES.sub(" ", _BULLET.sub("", line)).strip() for line in text.lower().split("\n")]
    return "\n".join(line for line in lines if line)


def split(
    text: str, names: tuple[str, ...] = (), words: frozenset[str] = frozenset()
) -> list[list[list[str]]]:
    """Lines -> sentences -> clauses. `names` are phrases with a number ("warehouse 2") that a
    split must not cut into a word and a position; `words` are the titles' words, whose
    shortenings with a dot ("nettoomsætn. 88,1") end no sentence."""
    out = []
    for line in text.split("\n"):
        if "." in line:
            protected = _ABBREVIATIONS.sub(_kept_dot, line)
            protected = _ORDINAL_DATE.sub(_KEPT_DOT, protected)
            # "ved 1. kontakt": a Danish ordinal after a preposition, not a sentence end
            for m in reversed(list(ORDINAL_THING.finditer(protected))):
                protected = protected[: m.end()] + _KEPT_DOT + protected[m.end() + 1 :]
            if words:
                protected = _SHORTENED.sub(lambda m: _shortened(m, words), protected)
        else:
            protected = line
        sentences = []
        ends = _SENTENCE_END.split(protected) if _END_MARK.search(protected) else [protected]
        for sentence in ends:
            sentence = sentence.replace(_KEPT_DOT, ".")
            pieces = _clauses(sentence) if _SEPARATOR_MARK.search(sentence) else [sentence]
            clauses = _rejoin([c.strip(" .:") for c in pieces], names)
            clauses = [c for c in clauses if c]
            if clauses:
                sentences.append(clauses)
        if sentences:
            out.append(sentences)
    return out


_PARENS = re.compile(r"\([^()]*\)?")
# a sentence can end only at one of these, and be cut into clauses only where one stands
_END_MARK = re.compile(r"[.!?]")
_SEPARATOR_MARK = re.compile(r"[;,/#:)]")


# the dot of an abbreviation or an ordinal date while the line is cut into sentences: it is
# put back after, so "pga." and "4. januar" read in comments as the member wrote them
_KEPT_DOT = "\ue000"


def _kept_dot(m: re.Match) -> str:
    return m.group(1) + _KEPT_DOT


_SHORTENED = re.compile(r"\b([^\W\d_]{3,})\.(?=\s)")


def _shortened(m: re.Match, words: frozenset[str]) -> str:
    """A title word shortened with a dot ("nettoomsætn."), or the word of a title's name with a
    number ("Art." of "GDPR Art. 30 register"): no sentence ends there."""
    word = m.group(1)
    if f"{word}." in words or (
        len(word) >= 4 and any(len(w) > len(word) and w.startswith(word) for w in words)
    ):
        return word + _KEPT_DOT
    return m.group()


def _clauses(sentence: str) -> list[str]:
    """The sentence cut at clause separators, never inside parentheses ("(was 1) 1") nor
    inside a date, week or time ("week 48: 7" is no position 48)."""
    inside = None
    out, start = [], 0
    for m in _CLAUSE_SEP.finditer(sentence):
        if m.end() == m.start():
            continue
        if inside is None:
            inside = [m.span() for m in _PARENS.finditer(sentence)] + time_spans(sentence)
        if any(a < m.start() < b for a, b in inside):
            continue
        out.append(sentence[start : m.start()])
        start = m.end()
    out.append(sentence[start:])
    return out


def _rejoin(clauses: list[str], names: tuple[str, ...]) -> list[str]:
    if len(clauses) < 2 or not names:
        return clauses
    out: list[str] = []
    for clause in clauses:
        if (
            out
            and out[-1]
            and clause
            and any(
                out[-1].endswith(name.split()[0]) and clause.startswith(name.split()[1])
                for name in names
            )
        ):
            out[-1] = f"{out[-1]} {clause}"
        else:
            out.append(clause)
    return out

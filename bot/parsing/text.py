"""Cleaning and splitting a reply: platform markup out, lower case, lines, sentences, clauses."""

from __future__ import annotations

import html
import re
import unicodedata

MAX_REPLY_CHARS = 2000  # a check-in answer is short; anything longer is not one

_SLACK_LINK = re.compile(r"<((?:https?|mailto):[^|>\s]*)\|([^>]*)>")
_SLACK_ANGLE = re.compile(r"<(?:[@#!][^>]*|(?:https?|mailto):[^>]*)>")
_TEAMS_AT = re.compile(r"<at\b[^>]*>.*?</at>", re.IGNORECASE | re.DOTALL)
_HTML_BREAK = re.compile(r"<\s*(?:br|/p|/div|/li)\s*/?\s*>", re.IGNORECASE)
_HTML_TAG = re.compile(r"</?[a-z][a-z0-9]*\b[^<>]*>", re.IGNORECASE)
_STRIKE = re.compile(r"~[^~\n]+~")
_EMPHASIS = re.compile(r"(?<![\w*_])([*_`]{1,3})(?=\S)([^*_`\n]+?)(?<=\S)\1(?![\w*_])")
_BULLET = re.compile(r"^\s*[-*•–·>]+\s+")
_SPACES = re.compile(r"[ \t\u00a0\u202f]+")
# abbreviations whose dot does not end a sentence
_ABBREVIATIONS = re.compile(
    r"\b(mio|mia|mill|kr|pct|ca|nr|no|approx|dvs|fx|bl\.a|inkl|ekskl|incl|excl|e\.g|i\.e|etc|vs)\.",
    re.I,
)
_SENTENCE_END = re.compile(r"(?<=[^\d\s])[.!?]+(?=\s|$)|(?<=\d)[.!?]+(?=\s+[^\d\s])|[!?]+")
_CLAUSE_SEP = re.compile(
    r"\s*;\s*|(?<!\d),(?!\d)\s*|(?<=\d),(?=\s)\s*|,\s+|\s+/\s+"
    r"|(?<=[\d%a-zæøå])\s+(?=#\d{1,2}\b)"  # "#1 4,650 #2 18.5%"
    r"|(?<=[\d%mk])\s+(?=\d{1,2}\s?[:)]\s?\S)"  # "1:6 2:145", "1) 2 2) 14.3M"
    r"|\s+(?=\d{1,2}\s?[:)]\s?[+-]?\d)"  # "morning 👋 1) 4,620 2) 18"
)


def clean(text: str) -> str | None:
    """Normalised reply text, or None when it cannot be a check-in answer (too long)."""
    if len(text) > MAX_REPLY_CHARS * 4:
        return None
    text = unicodedata.normalize("NFC", text)
    text = _TEAMS_AT.sub(" ", text)
    text = _HTML_BREAK.sub("\n", text)
    text = _HTML_TAG.sub(" ", text)
    text = html.unescape(text)
    text = _SLACK_LINK.sub(r" \2 ", text)
    text = _SLACK_ANGLE.sub(" ", text)
    text = _STRIKE.sub(" ", text)
    text = _EMPHASIS.sub(r"\2", text)
    text = "".join(ch if ch in "\n\t" or unicodedata.category(ch)[0] != "C" else " " for ch in text)
    text = text.replace("\u2212", "-").replace("\u2013", "-").replace("\u2014", "-")
    text = text.replace("\u2019", "'").replace("\u201c", '"').replace("\u201d", '"')
    if len(text) > MAX_REPLY_CHARS:
        return None
    lines = [_SPACES.sub(" ", _BULLET.sub("", line)).strip() for line in text.lower().split("\n")]
    return "\n".join(line for line in lines if line)


def split(text: str) -> list[list[list[str]]]:
    """Lines -> sentences -> clauses."""
    out = []
    for line in text.split("\n"):
        protected = _ABBREVIATIONS.sub(lambda m: m.group(1), line)
        sentences = []
        for sentence in _SENTENCE_END.split(protected):
            clauses = [c.strip(" .:") for c in _CLAUSE_SEP.split(sentence)]
            clauses = [c for c in clauses if c]
            if clauses:
                sentences.append(clauses)
        if sentences:
            out.append(sentences)
    return out

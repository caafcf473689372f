"""Replies the parser once read wrongly, pinned so they stay right."""

from __future__ import annotations

import pytest

from bot.parsing import PromptKR, parse_reply

ANNA = [
    PromptKR(1, "MKT-1.1", "Segmented campaigns launched", "metric", "campaigns", 0, 12, 5),
    PromptKR(2, "MKT-1.3", "Cost per acquisition", "metric", "DKK", 180, 120, 150),
    PromptKR(3, "MKT-1.4", "Loyalty programme launched", "binary", None, 0, 1, 0),
]
LARS = [
    PromptKR(1, "RET-1.1", "New stores opened", "metric", "stores", 0, 3, 1),
    PromptKR(2, "RET-1.3", "Aarhus flagship fit-out", "milestone", "%", 0, 100, 60),
]


@pytest.mark.parametrize(
    ("krs", "locale", "text", "expected"),
    [
        # a relative marker after the key result's word, at the end of the clause
        (ANNA, "en", "2 campaigns more", [("MKT-1.1", 7)]),
        (ANNA, "da", "2 kampagner mere", [("MKT-1.1", 7)]),
        (ANNA, "da", "2 kampagner til", [("MKT-1.1", 7)]),
        (LARS, "en", "1 store more", [("RET-1.1", 2)]),
        (LARS, "da", "en butik mere", [("RET-1.1", 2)]),
        # "til" before a word is not "more": six campaigns for Christmas
        (ANNA, "da", "6 kampagner til jul", [("MKT-1.1", 6)]),
        # "i alt" makes a total of what would otherwise read as a change
        (LARS, "da", "2 nye butikker i alt", [("RET-1.1", 2)]),
        # the same key result named twice: the second is part of the comment
        (ANNA, "en", "campaigns 6, the campaigns from store data", [("MKT-1.1", 6)]),
    ],
)
def test_reads(krs, locale, text, expected):
    result = parse_reply(text, krs, locale)
    assert result.status == "updates", result.question
    assert [(u.kr, u.value) for u in result.updates] == expected


def test_a_huge_number_is_not_a_value():
    result = parse_reply("1: " + "9" * 400, ANNA, "en")
    assert result.status != "updates"


def test_a_health_word_inside_another_word_is_not_a_health():
    result = parse_reply("fit-out 70 % - gulvet er lagt", LARS, "da")
    assert [(u.kr, u.value, u.health) for u in result.updates] == [("RET-1.3", 70, None)]

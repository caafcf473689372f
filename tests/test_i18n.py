"""Catalogues and local formats (pure)."""

from __future__ import annotations

import string
from datetime import UTC, datetime, timedelta

import pytest

from bot.commands.answers import value_text
from bot.i18n import da, en, t
from bot.i18n.formats import format_ago, format_date, format_number, format_percent, format_value
from bot.messages import Message, ProgressRow, Section, progress_bar, render_text
from storage.models import KeyResult


def placeholders(template: str) -> set[str]:
    return {name for _, name, _, _ in string.Formatter().parse(template) if name}


def test_catalogues_have_the_same_keys_and_placeholders():
    assert set(da.MESSAGES) == set(en.MESSAGES)
    for key, template in en.MESSAGES.items():
        assert placeholders(da.MESSAGES[key]) == placeholders(template), key


def test_unknown_locale_falls_back_to_english():
    assert t("fr", "today") == "today"
    assert t(None, "today") == "today"


@pytest.mark.parametrize(
    ("value", "en_text", "da_text"),
    [
        (4100, "4,100", "4.100"),
        (1.5, "1.5", "1,5"),
        (0, "0", "0"),
        (12, "12", "12"),
        (1234.567, "1,234.57", "1.234,57"),
        (-2.5, "-2.5", "-2,5"),
        (52_400_000, "52.4M", "52,4 mio."),
        (50_000_000, "50M", "50 mio."),
    ],
)
def test_numbers_per_locale(value, en_text, da_text):
    assert format_number(value, "en") == en_text
    assert format_number(value, "da") == da_text


def test_values_and_percentages():
    assert format_value(150, "DKK", "en") == "150 DKK"
    assert format_value(14, "%", "en") == "14%"
    assert format_value(14, "%", "da") == "14 %"
    assert format_value(None, "DKK", "en") == "–"
    assert format_percent(0.125, "en") == "13%"
    assert format_percent(0.2625, "da") == "26 %"
    assert format_percent(None, "en") == "–"


def test_relative_times_and_dates():
    now = datetime(2026, 11, 22, 11, 0, tzinfo=UTC)
    assert format_ago(now - timedelta(hours=2), now, "en") == "today"
    assert format_ago(now - timedelta(days=1), now, "da") == "i går"
    assert format_ago(now - timedelta(days=6), now, "en") == "6 days ago"
    assert format_ago(now - timedelta(days=20), now, "da") == "for 2 uger siden"
    assert format_ago(now - timedelta(days=90), now, "en") == "3 months ago"
    assert format_ago(None, now, "en") == "never"
    assert format_date(now, "en") == "22 Nov 2026"
    assert format_date(now, "da") == "22. nov. 2026"


def kr(**fields) -> KeyResult:
    base = dict(key="X-1", objective_id=1, title="t", owner_id=1)
    return KeyResult(**{**base, **fields})


def test_value_text_per_type():
    assert (
        value_text(kr(type="metric", start=0, target=12, current=5, unit="campaigns"), "en")
        == "5 / 12 campaigns"
    )
    assert (
        value_text(kr(type="metric", start=2000, target=10000, current=None), "da")
        == "2.000 / 10.000"
    )
    assert value_text(kr(type="binary", start=0, target=1, current=1), "da") == "færdig"
    assert value_text(kr(type="binary", start=0, target=1, current=None), "en") == "not done"
    assert (
        value_text(kr(type="milestone", start=0, target=100, current=60, unit="%"), "en")
        == "60 / 100%"
    )
    assert (
        value_text(kr(type="threshold", max=5, current=3, unit="errors"), "en")
        == "3 errors (keep ≤ 5)"
    )
    assert value_text(kr(type="threshold", min=95, current=None, unit="%"), "da") == "– (hold ≥ 95)"


def test_progress_bars_and_plain_rendering():
    assert progress_bar(0.42) == "████░░░░░░"
    assert progress_bar(1.7) == "█" * 10
    assert progress_bar(None) == "·" * 10
    message = Message(
        title="Marketing",
        sections=(
            Section(
                title="MKT-1",
                rows=(
                    ProgressRow(
                        key="MKT-1.1",
                        title="Campaigns",
                        progress=0.5,
                        percent="50%",
                        value="6 / 12",
                        health="at_risk",
                        health_label="at risk",
                        note="Anna",
                        at_risk=True,
                    ),
                ),
            ),
        ),
        context=("footer",),
    )
    assert render_text(message).splitlines() == [
        "Marketing",
        "=========",
        "",
        "MKT-1",
        "  MKT-1.1 Campaigns",
        "    █████░░░░░  50%  6 / 12  🟡 at risk",
        "    Anna",
        "",
        "footer",
    ]

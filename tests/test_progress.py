from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import date

import pytest
from hypothesis import given
from hypothesis import strategies as st

from bot.progress import (
    HEALTHS,
    PACE_TOLERANCE,
    as_percent,
    direction,
    expected_progress,
    is_at_risk,
    kr_progress,
    objective_progress,
    rollup,
)


@dataclass(frozen=True)
class KR:
    type: str = "metric"
    start: float | None = None
    target: float | None = None
    current: float | None = None
    min: float | None = None
    max: float | None = None
    weight: float = 1.0


def metric(start, target, current, weight=1.0):
    return KR(start=start, target=target, current=current, weight=weight)


def test_constants():
    assert HEALTHS == ("on_track", "at_risk", "off_track")
    assert PACE_TOLERANCE == 0.25


# --- direction -------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("start", "target", "expected"),
    [(0, 12, 1), (180, 120, -1), (5, 5, 0), (-3, -1, 1), (2.5, -2.5, -1)],
)
def test_direction(start, target, expected):
    assert direction(start, target) == expected


# --- metric ----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("start", "target", "current", "expected"),
    [
        (0, 12, 3, 0.25),
        (2000, 10000, 6000, 0.5),
        (12, 25, 14, 2 / 13),
        (50_000_000, 60_000_000, 55_000_000, 0.5),
        (0, 12, 0, 0.0),
        (0, 12, 12, 1.0),
        (0, 12, 20, 1.0),  # clamped above
        (0, 12, -4, 0.0),  # clamped below
        (-10, 10, 0, 0.5),
    ],
)
def test_metric_higher_is_better(start, target, current, expected):
    assert kr_progress(metric(start, target, current)) == pytest.approx(expected)


@pytest.mark.parametrize(
    ("current", "expected"),
    [(150, 0.5), (180, 0.0), (200, 0.0), (120, 1.0), (100, 1.0), (165, 0.25)],
)
def test_metric_lower_is_better(current, expected):
    assert kr_progress(metric(180, 120, current)) == pytest.approx(expected)


def test_metric_lower_is_better_exact_half():
    assert kr_progress(metric(180, 120, 150)) == 0.5


def test_metric_current_none_counts_as_start():
    assert kr_progress(metric(0, 12, None)) == 0.0
    assert kr_progress(metric(180, 120, None)) == 0.0


def test_metric_start_none_counts_as_zero():
    assert kr_progress(metric(None, 10, 4)) == pytest.approx(0.4)
    assert kr_progress(metric(None, -10, -5)) == pytest.approx(0.5)  # lower is better from 0


def test_metric_target_none_is_zero():
    assert kr_progress(metric(0, None, 5)) == 0.0
    assert kr_progress(metric(None, None, None)) == 0.0


def test_metric_start_equals_target_no_division_error():
    assert kr_progress(metric(5, 5, 5)) == 1.0
    assert kr_progress(metric(5, 5, 6)) == 0.0
    assert kr_progress(metric(5, 5, 4)) == 0.0
    assert kr_progress(metric(5, 5, None)) == 0.0


def test_type_none_or_empty_is_metric():
    assert kr_progress(KR(type=None, start=0, target=10, current=5)) == 0.5
    assert kr_progress(KR(type="", start=0, target=10, current=5)) == 0.5


def test_unknown_type_raises():
    with pytest.raises(ValueError, match="okr"):
        kr_progress(KR(type="okr", start=0, target=1, current=1))


def test_huge_values_do_not_overflow():
    big = 1.7e308
    assert kr_progress(metric(-big, big, 0.0)) == pytest.approx(0.5)
    assert kr_progress(metric(big, -big, 0.0)) == pytest.approx(0.5)


def test_nan_current_is_no_progress():
    assert kr_progress(metric(0, 10, math.nan)) == 0.0


# --- milestone -------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("current", "expected"),
    [(None, 0.0), (0, 0.0), (40, 0.4), (100, 1.0), (130, 1.0), (-5, 0.0)],
)
def test_milestone_defaults_to_0_100(current, expected):
    assert kr_progress(KR(type="milestone", current=current)) == pytest.approx(expected)


def test_milestone_with_explicit_range():
    assert kr_progress(KR(type="milestone", start=0, target=100, current=75)) == 0.75


# --- binary ----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("current", "expected"),
    [(None, 0.0), (0, 0.0), (0.5, 0.0), (0.999, 0.0), (1, 1.0), (1.0, 1.0), (2, 1.0)],
)
def test_binary(current, expected):
    assert kr_progress(KR(type="binary", current=current)) == expected


# --- threshold -------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("current", "expected"),
    [(1, 1.0), (2, 1.0), (2.0001, 0.0), (5, 0.0), (-1, 1.0)],
)
def test_threshold_max(current, expected):
    assert kr_progress(KR(type="threshold", max=2, current=current)) == expected


@pytest.mark.parametrize(
    ("current", "expected"),
    [(99.5, 1.0), (95, 1.0), (94.99, 0.0), (50, 0.0)],
)
def test_threshold_min(current, expected):
    assert kr_progress(KR(type="threshold", min=95, current=current)) == expected


def test_threshold_current_none_falls_back_to_start():
    assert kr_progress(KR(type="threshold", max=2, start=1, current=None)) == 1.0
    assert kr_progress(KR(type="threshold", max=2, start=3, current=None)) == 0.0
    assert kr_progress(KR(type="threshold", min=95, start=97, current=None)) == 1.0


def test_threshold_current_wins_over_start():
    assert kr_progress(KR(type="threshold", max=2, start=1, current=3)) == 0.0


def test_threshold_cannot_be_judged():
    assert kr_progress(KR(type="threshold", max=2)) == 0.0
    assert kr_progress(KR(type="threshold", min=95)) == 0.0
    assert kr_progress(KR(type="threshold", current=1)) == 0.0  # no bound at all


def test_threshold_with_both_bounds():
    kr = KR(type="threshold", min=10, max=20, current=15)
    assert kr_progress(kr) == 1.0
    assert kr_progress(KR(type="threshold", min=10, max=20, current=9)) == 0.0
    assert kr_progress(KR(type="threshold", min=10, max=20, current=21)) == 0.0


# --- objective progress ----------------------------------------------------------------------


def test_objective_progress_weighted():
    krs = [
        KR(type="binary", current=1, weight=1),  # 1
        metric(0, 10, 0, weight=1),  # 0
        metric(0, 10, 5, weight=2),  # 0.5
    ]
    assert objective_progress(krs) == pytest.approx(0.5)


def test_objective_progress_plain_mean_with_default_weights():
    krs = [metric(0, 12, 3), metric(180, 120, 150), KR(type="binary")]
    assert objective_progress(krs) == pytest.approx((0.25 + 0.5 + 0.0) / 3)


def test_objective_progress_weight_none_counts_as_one():
    krs = [metric(0, 10, 10, weight=None), metric(0, 10, 0, weight=None)]
    assert objective_progress(krs) == pytest.approx(0.5)


def test_objective_progress_zero_weight_ignored():
    krs = [metric(0, 10, 10, weight=0), metric(0, 10, 2, weight=1)]
    assert objective_progress(krs) == pytest.approx(0.2)


def test_objective_progress_none_cases():
    assert objective_progress([]) is None
    assert objective_progress(iter([])) is None
    assert objective_progress([metric(0, 10, 5, weight=0)]) is None


def test_objective_progress_accepts_generator():
    assert objective_progress(metric(0, 4, c) for c in (1, 3)) == pytest.approx(0.5)


# --- roll-up ---------------------------------------------------------------------------------


def test_rollup_three_levels():
    own = {"CO-1": 0.2, "MKT-1": 0.4, "MKT-2": 0.8, "SEO-1": 0.6}
    aligned = {"CO-1": None, "MKT-1": "CO-1", "MKT-2": "CO-1", "SEO-1": "MKT-1"}
    result = rollup(own, aligned)
    # SEO-1 has no children: its own progress.
    assert result["SEO-1"] == pytest.approx(0.6)
    # MKT-1: mean(own 0.4, SEO-1 0.6) = 0.5
    assert result["MKT-1"] == pytest.approx(0.5)
    assert result["MKT-2"] == pytest.approx(0.8)
    # CO-1: mean(own 0.2, MKT-1 0.5, MKT-2 0.8) = 0.5
    assert result["CO-1"] == pytest.approx(0.5)
    assert list(result) == list(own)


def test_rollup_company_without_own_key_results():
    own = {"CO-1": None, "MKT-1": 0.4, "OPS-1": 0.9, "SEO-1": 0.8}
    aligned = {"MKT-1": "CO-1", "OPS-1": "CO-1", "SEO-1": "MKT-1"}
    result = rollup(own, aligned)
    assert result["MKT-1"] == pytest.approx(0.6)  # mean(0.4, 0.8)
    assert result["CO-1"] == pytest.approx(0.75)  # mean(0.6, 0.9), no own value


def test_rollup_skips_children_without_progress():
    own = {"CO-1": 0.3, "MKT-1": None, "OPS-1": None}
    aligned = {"MKT-1": "CO-1", "OPS-1": "MKT-1"}
    result = rollup(own, aligned)
    assert result == {"CO-1": pytest.approx(0.3), "MKT-1": None, "OPS-1": None}


def test_rollup_nothing_to_average():
    assert rollup({"A": None}, {}) == {"A": None}
    assert rollup({}, {}) == {}


def test_rollup_unknown_parent_is_top_level():
    own = {"A": 0.5, "B": 0.1}
    result = rollup(own, {"A": "GONE", "B": "A", "X": "A"})
    assert result == {"A": pytest.approx(0.3), "B": pytest.approx(0.1)}


def test_rollup_self_alignment_is_ignored():
    assert rollup({"A": 0.4}, {"A": "A"}) == {"A": pytest.approx(0.4)}


def test_rollup_cycle_terminates():
    own = {"A": 0.0, "B": 0.5, "C": 1.0}
    aligned = {"A": "B", "B": "C", "C": "A"}
    result = rollup(own, aligned)
    assert set(result) == {"A", "B", "C"}
    assert all(v is not None and 0.0 <= v <= 1.0 for v in result.values())
    # Walking up from A: A -> B -> C -> A; the closing edge C -> A is dropped, so C is top level.
    assert result["A"] == pytest.approx(0.0)
    assert result["B"] == pytest.approx(0.25)
    assert result["C"] == pytest.approx(0.625)


def test_rollup_cycle_with_tail():
    own = {"T": 1.0, "A": 0.0, "B": 0.0}
    aligned = {"T": "A", "A": "B", "B": "A"}  # T hangs off a two-cycle
    result = rollup(own, aligned)
    # From T: T -> A -> B -> A; B -> A is dropped, B is top level.
    assert result["T"] == pytest.approx(1.0)
    assert result["A"] == pytest.approx(0.5)
    assert result["B"] == pytest.approx(0.25)


def test_rollup_deep_chain_no_recursion_error():
    n = 10_000
    own = {i: 1.0 for i in range(n)}
    aligned = {i: i - 1 for i in range(1, n)}
    result = rollup(own, aligned)
    assert len(result) == n
    assert result[0] == pytest.approx(1.0)
    assert result[n - 1] == pytest.approx(1.0)


def test_rollup_deep_chain_values():
    n = 10_000
    own = {i: (1.0 if i == n - 1 else None) for i in range(n)}
    aligned = {i: i - 1 for i in range(1, n)}
    result = rollup(own, aligned)
    assert all(v == pytest.approx(1.0) for v in result.values())


def test_rollup_deep_cycle_terminates():
    n = 10_000
    own = {i: 0.5 for i in range(n)}
    aligned = {i: (i - 1) % n for i in range(n)}
    result = rollup(own, aligned)
    assert all(v == pytest.approx(0.5) for v in result.values())


# --- expected progress -----------------------------------------------------------------------

Q4_START = date(2026, 10, 1)
Q4_END = date(2026, 12, 31)


@pytest.mark.parametrize(
    ("today", "expected"),
    [
        (date(2026, 9, 1), 0.0),  # before the start
        (date(2026, 9, 30), 0.0),
        (Q4_START, 0.0),
        (date(2026, 10, 2), 1 / 92),
        (date(2026, 11, 15), 45 / 92),
        (Q4_END, 91 / 92),
        (date(2027, 1, 1), 1.0),
        (date(2027, 6, 1), 1.0),  # after the end
    ],
)
def test_expected_progress(today, expected):
    assert expected_progress(Q4_START, Q4_END, today) == pytest.approx(expected)


def test_expected_progress_single_day_period():
    day = date(2026, 10, 1)
    assert expected_progress(day, day, day) == 0.0
    assert expected_progress(day, day, date(2026, 10, 2)) == 1.0


def test_expected_progress_inverted_period_no_division_error():
    assert expected_progress(date(2026, 10, 5), date(2026, 10, 1), date(2026, 10, 1)) == 0.0
    assert expected_progress(date(2026, 10, 5), date(2026, 10, 1), date(2026, 10, 5)) == 1.0


# --- at risk ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("progress", "expected", "at_risk"),
    [
        (0.25, 0.5, False),  # exactly 25 points behind
        (0.3, 0.55, False),  # exactly 25 behind on paper, float noise after subtraction
        (0.2, 0.45, False),
        (0.05, 0.3, False),
        (0.24, 0.5, True),
        (0.2499, 0.5, True),
        (0.0, 0.26, True),
        (0.0, 0.25, False),
        (0.9, 0.5, False),
        (0.0, 0.0, False),
        (0.74, 1.0, True),
        (0.75, 1.0, False),
    ],
)
def test_is_at_risk_pace(progress, expected, at_risk):
    assert is_at_risk(progress, expected, None) is at_risk
    assert is_at_risk(progress, expected, "on_track") is at_risk


@pytest.mark.parametrize("health", ["at_risk", "off_track"])
def test_is_at_risk_health(health):
    assert is_at_risk(1.0, 0.0, health) is True


# --- as_percent ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("progress", "percent"),
    [
        (None, None),
        (0.0, 0),
        (1.0, 100),
        (0.5, 50),
        (0.125, 13),
        (0.124, 12),
        (0.005, 1),
        (0.004999, 0),
        (0.145, 15),  # 0.145 * 100 == 14.499999999999998 in binary
        (0.285, 29),
        (0.995, 100),
        (1 / 3, 33),
        (2 / 3, 67),
        (45 / 92, 49),
    ],
)
def test_as_percent(progress, percent):
    assert as_percent(progress) == percent


def test_as_percent_returns_int():
    assert type(as_percent(0.5)) is int


def test_as_percent_rejects_nan():
    with pytest.raises(ValueError):
        as_percent(math.nan)


# --- property --------------------------------------------------------------------------------

finite = st.floats(allow_nan=False, allow_infinity=False)


@given(
    kind=st.sampled_from(["metric", "milestone", "binary", "threshold"]),
    start=st.none() | finite,
    target=st.none() | finite,
    current=st.none() | finite,
    lo=st.none() | finite,
    hi=st.none() | finite,
)
def test_kr_progress_always_in_unit_interval(kind, start, target, current, lo, hi):
    kr = KR(type=kind, start=start, target=target, current=current, min=lo, max=hi)
    value = kr_progress(kr)
    assert 0.0 <= value <= 1.0

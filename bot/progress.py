"""Progress arithmetic for key results and objectives (SPEC §2).

Pure functions only: no I/O and no clock. Dates are always passed in.

* :func:`kr_progress` — progress of one key result, 0..1, for every key-result type.
* :func:`objective_progress` — an objective's own progress (weighted mean of its key results).
* :func:`rollup` — roll-up progress along ``aligned_to`` links (plain mean of own progress and
  the roll-up of every objective aligned to it), iterative and cycle-safe.
* :func:`expected_progress` / :func:`is_at_risk` — pace.
* :func:`as_percent` — whole percent for display.
"""

from __future__ import annotations

import math
from collections.abc import Hashable, Iterable, Mapping
from datetime import date
from decimal import ROUND_HALF_UP, Decimal
from typing import Protocol, TypeVar

__all__ = [
    "HEALTHS",
    "KR_TYPES",
    "PACE_TOLERANCE",
    "KeyResultLike",
    "as_percent",
    "direction",
    "expected_progress",
    "is_at_risk",
    "kr_progress",
    "objective_progress",
    "rollup",
]

HEALTHS = ("on_track", "at_risk", "off_track")
KR_TYPES = ("metric", "binary", "milestone", "threshold")
PACE_TOLERANCE = 0.25  # more than 25 points behind pace = at risk

# Absorbs float noise in the pace comparison, so that e.g. 0.3 against 0.55 (exactly 25 points
# behind on paper, 0.30000000000000004 after subtraction) is not reported as at risk.
_EPSILON = 1e-9

K = TypeVar("K", bound=Hashable)


class KeyResultLike(Protocol):
    """What the progress functions read from a key result (attribute access only).

    Declared as read-only properties so that ORM rows, pydantic models and frozen dataclasses
    all satisfy it structurally. ``None`` is tolerated at run time for ``type`` (-> metric)
    and ``weight`` (-> 1) as well.
    """

    @property
    def type(self) -> str: ...  # "metric" | "binary" | "milestone" | "threshold"

    @property
    def start(self) -> float | None: ...

    @property
    def target(self) -> float | None: ...

    @property
    def current(self) -> float | None: ...

    @property
    def min(self) -> float | None: ...  # threshold: keep value >= min

    @property
    def max(self) -> float | None: ...  # threshold: keep value <= max

    @property
    def weight(self) -> float: ...


def direction(start: float, target: float) -> int:
    """+1 when higher is better, -1 when lower is better (target < start), 0 when equal."""
    if target > start:
        return 1
    if target < start:
        return -1
    return 0


def _clamp01(value: float) -> float:
    if math.isnan(value):
        return 0.0
    return min(1.0, max(0.0, value))


def _linear(start: float, target: float, current: float | None) -> float:
    """(current - start) / (target - start), clamped to 0..1; ``None`` current = start."""
    if current is None:
        return 0.0
    sign = direction(start, target)
    if sign == 0:
        return 1.0 if current == target else 0.0
    # Decide the ends by comparison first: exact, and immune to overflow.
    if sign > 0:
        if current <= start:
            return 0.0
        if current >= target:
            return 1.0
    else:
        if current >= start:
            return 0.0
        if current <= target:
            return 1.0
    num = current - start
    den = target - start
    if math.isinf(num) or math.isinf(den):  # huge finite inputs: halve before subtracting
        num = current / 2 - start / 2
        den = target / 2 - start / 2
    return _clamp01(num / den)


def _threshold(kr: KeyResultLike) -> float:
    value = kr.current if kr.current is not None else kr.start
    if value is None or (kr.max is None and kr.min is None):
        return 0.0  # the bound cannot be judged
    if kr.max is not None and not value <= kr.max:
        return 0.0
    if kr.min is not None and not value >= kr.min:
        return 0.0
    return 1.0


def kr_progress(kr: KeyResultLike) -> float:
    """Progress of one key result, always in 0..1.

    * metric: (current - start) / (target - start), clamped; lower-is-better follows from
      target < start. current None -> 0; start None counts as 0; target None -> 0.0;
      start == target -> 1.0 when current == target else 0.0.
    * milestone: a metric on 0..100 (start defaults to 0, target to 100).
    * binary: 1.0 when current >= 1 (done), else 0.0 (None = not done).
    * threshold: 1.0 while the bound holds (current <= max, current >= min; both when both are
      given), else 0.0; current None falls back to start; nothing to judge -> 0.0.

    ``type`` None or "" counts as metric; an unknown type raises ValueError.
    """
    kind = kr.type or "metric"
    if kind == "binary":
        return 1.0 if kr.current is not None and kr.current >= 1 else 0.0
    if kind == "threshold":
        return _threshold(kr)
    if kind == "milestone":
        start = kr.start if kr.start is not None else 0.0
        target = kr.target if kr.target is not None else 100.0
        return _linear(start, target, kr.current)
    if kind == "metric":
        if kr.target is None:
            return 0.0
        start = kr.start if kr.start is not None else 0.0
        return _linear(start, kr.target, kr.current)
    raise ValueError(f"unknown key-result type {kind!r} (expected one of {', '.join(KR_TYPES)})")


def objective_progress(krs: Iterable[KeyResultLike]) -> float | None:
    """Weighted mean of :func:`kr_progress` (weight None -> 1, negative -> 0).

    None when there are no key results or their total weight is 0.
    """
    return weighted_progress((kr.weight, kr_progress(kr)) for kr in krs)


def weighted_progress(items: Iterable[tuple[float | None, float]]) -> float | None:
    """An objective's own progress from its key results' (weight, progress), the one rule:
    the weighted mean (weight None -> 1, negative -> 0), clamped to 0..1; None when there are
    none or their total weight is 0. For callers that have the progress computed already."""
    total = 0.0
    weighted = 0.0
    for raw, progress in items:
        weight = 1.0 if raw is None else max(0.0, float(raw))
        if weight == 0.0:
            continue
        total += weight
        weighted += weight * progress
    if total <= 0.0 or not math.isfinite(total):
        return None
    return _clamp01(weighted / total)


def _effective_parents(own: Mapping[K, object], aligned_to: Mapping[K, K | None]) -> dict[K, K]:
    """Parent links restricted to ``own``, with every cycle broken at its back edge.

    Walking up from each objective (in ``own`` order), the edge that would close a cycle is
    dropped, which makes its tail a top-level objective. Each objective is walked once: O(n).
    """
    parent: dict[K, K] = {}
    for node in own:
        up = aligned_to.get(node)
        if up is not None and up in own:
            parent[node] = up

    done: set[K] = set()
    for node in own:
        if node in done:
            continue
        path: list[K] = []
        on_path: set[K] = set()
        current: K | None = node
        while current is not None and current not in done:
            if current in on_path:
                # path[-1] -> current closes the cycle: drop that back edge.
                del parent[path[-1]]
                break
            path.append(current)
            on_path.add(current)
            current = parent.get(current)
        done.update(path)
    return parent


def rollup(
    own: Mapping[K, float | None], aligned_to: Mapping[K, K | None]
) -> dict[K, float | None]:
    """Roll-up progress of every objective in ``own``.

    Roll-up of o = plain mean of ``own[o]`` (when not None) and the roll-up of every objective
    aligned to o (children whose roll-up is None are skipped); None when there is nothing to
    average. Objectives whose ``aligned_to`` is None, missing or not in ``own`` are top level.
    Iterative (no recursion limit), O(n), and cycles are broken rather than followed.
    """
    parent = _effective_parents(own, aligned_to)
    children: dict[K, list[K]] = {node: [] for node in own}
    for node, up in parent.items():
        children[up].append(node)

    # Breadth-first from the top level; after cycle breaking every node is reachable.
    order: list[K] = [node for node in own if node not in parent]
    i = 0
    while i < len(order):
        order.extend(children[order[i]])
        i += 1

    sums: dict[K, float] = {}
    counts: dict[K, int] = {}
    for node in own:
        value = own[node]
        sums[node], counts[node] = (0.0, 0) if value is None else (float(value), 1)

    result: dict[K, float | None] = {}
    for node in reversed(order):  # children always come before their parent
        value = sums[node] / counts[node] if counts[node] else None
        result[node] = value
        up = parent.get(node)
        if up is not None and value is not None:
            sums[up] += value
            counts[up] += 1
    return {node: result[node] for node in own}


def expected_progress(period_start: date, period_end: date, today: date) -> float:
    """Elapsed share of the inclusive period: (today - start) / (days in period), clamped.

    0 on and before the first day, 1 after the last day. A period that ends before it
    starts counts as over once it has started.
    """
    total = (period_end - period_start).days + 1
    elapsed = (today - period_start).days
    if total <= 0:
        return 0.0 if elapsed < 0 else 1.0
    return _clamp01(elapsed / total)


def is_at_risk(progress: float, expected: float, health: str | None) -> bool:
    """At risk when health is at_risk / off_track, or more than 25 points behind pace."""
    if health in ("at_risk", "off_track"):
        return True
    return progress < expected - PACE_TOLERANCE - _EPSILON


def as_percent(progress: float | None) -> int | None:
    """Whole percent, rounding half up (0.125 -> 13, 0.005 -> 1); None -> None.

    Rounds the shortest decimal form of the float, so 0.145 gives 15 although
    0.145 * 100 is 14.499999999999998 in binary floating point.
    """
    if progress is None:
        return None
    if not math.isfinite(progress):
        raise ValueError(f"progress must be finite, got {progress!r}")
    percent = Decimal(repr(float(progress))) * 100
    return int(percent.quantize(Decimal(1), rounding=ROUND_HALF_UP))

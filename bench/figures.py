"""What the benchmarks measure with and how they print it: percentiles, the okrbot-against-bare
comparison table of the HTTP benchmarks, SQL statement and garbage-collector counters. Not a
script of its own."""

from __future__ import annotations

import gc
import math
import statistics
import time
from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import event

from storage.db import Database

# ---- counters ------------------------------------------------------------------------------


class StatementCounter:
    """Counts the SQL statements sent to the database: one per cursor execute (an executemany
    counts once; an ORM insert that SQLAlchemy splits into batches counts once per batch)."""

    def __init__(self, db: Database) -> None:
        self.count = 0
        self.statements: list[str] = []
        event.listen(db.engine.sync_engine, "before_cursor_execute", self._seen)

    def _seen(self, _conn, _cursor, statement, _params, _context, _many) -> None:
        self.count += 1
        self.statements.append(" ".join(statement.split()))

    def reset(self) -> None:
        self.count = 0
        self.statements = []


class GcTimer:
    """Time spent in the garbage collector (gc.callbacks), to explain the slow tail."""

    def __init__(self) -> None:
        self.seconds = 0.0
        self._start: float | None = None
        gc.callbacks.append(self._seen)

    def _seen(self, phase: str, _info: dict) -> None:
        if phase == "start":
            self._start = time.perf_counter()
        elif self._start is not None:
            self.seconds += time.perf_counter() - self._start
            self._start = None

    def close(self) -> None:
        gc.callbacks.remove(self._seen)


# ---- figures and report ----------------------------------------------------------------------


def pct(values: list[float], q: float) -> float:
    """Nearest-rank percentile."""
    ordered = sorted(values)
    return ordered[max(0, math.ceil(q / 100 * len(ordered)) - 1)]


def ms(value: float) -> str:
    return f"{value:.1f} ms" if value < 100 else f"{value:,.0f} ms"


def verdict(ok: bool) -> str:
    return "ok" if ok else "MISS"


@dataclass
class Columns:
    """What the per-round table calls its figures."""

    latency: str  # "ack", "turn"
    rate: str  # "req/s"
    rate_width: int
    tail: str  # the last column's heading


@dataclass
class Comparison:
    """okrbot against the bare server, round by round (medians over the rounds)."""

    names: tuple[str, str]  # okrbot's, the bare server's
    by: dict[str, list[list[float]]]  # name -> latencies of each round
    ratio50: float
    ratio99: float

    def med(self, name: str, q: float) -> float:
        return statistics.median(pct(xs, q) for xs in self.by[name])

    def pooled(self, name: str) -> list[float]:
        return [x for xs in self.by[name] for x in xs]


def compare(
    rounds: Sequence[Any], names: tuple[str, str], n_rounds: int, columns: Columns,
    latencies: Callable[[Any], list[float]], tail: Callable[[Any], str],
) -> Comparison:  # fmt: skip
    """Print the per-round table, the medians over the rounds and the pooled figures."""
    okr_name, bare_name = names
    print()
    print(
        f"{'round':<6}{'server':<16}{'p50 ' + columns.latency:>10}"
        f"{'p99 ' + columns.latency:>10}{'max':>10}{columns.rate:>{columns.rate_width}}"
        f"{'errors':>8}   {columns.tail}"
    )
    ratios50: list[float] = []
    ratios99: list[float] = []
    for number in range(1, n_rounds + 1):
        pair = {r.server: r for r in rounds if r.number == number}
        for name in names:
            r = pair[name]
            xs = latencies(r)
            print(
                f"{number:<6}{name:<16}{ms(pct(xs, 50)):>10}{ms(pct(xs, 99)):>10}"
                f"{ms(max(xs)):>10}{len(xs) / r.seconds:>{columns.rate_width}.0f}"
                f"{sum(r.errors.values()):>8}   {tail(r)}"
            )
        a, b = latencies(pair[okr_name]), latencies(pair[bare_name])
        ratios50.append(pct(a, 50) / pct(b, 50))
        ratios99.append(pct(a, 99) / pct(b, 99))
        print(f"{'':<6}{'ratio':<16}{ratios50[-1]:>9.2f}x{ratios99[-1]:>9.2f}x")

    by = {name: [latencies(r) for r in rounds if r.server == name] for name in names}
    c = Comparison(names, by, statistics.median(ratios50), statistics.median(ratios99))
    print()
    heading = f"{columns.latency} latency, median of {n_rounds} rounds"
    print(f"{heading}{' ' * (6 - len(columns.latency))}{'p50':>9}  {'p99':>9}")
    for name in names:
        print(f"  {name:<36}{ms(c.med(name, 50)):>9}  {ms(c.med(name, 99)):>9}")
    print(f"  {'ratio okrbot/bare (median of rounds)':<36}{c.ratio50:>8.2f}x  {c.ratio99:>8.2f}x")
    a, b = c.pooled(okr_name), c.pooled(bare_name)
    print(
        f"all rounds pooled ({len(a):,} / {len(b):,} {columns.latency}s): okrbot p50 "
        f"{ms(pct(a, 50))} p99 {ms(pct(a, 99))}; bare p50 {ms(pct(b, 50))} p99 {ms(pct(b, 99))}; "
        f"ratio {pct(a, 50) / pct(b, 50):.2f}x / {pct(a, 99) / pct(b, 99):.2f}x"
    )
    return c


def print_errors(rounds: Sequence[Any]) -> Counter:
    """The failed requests of all rounds, by server and status; printed if any."""
    errors: Counter = Counter()
    for r in rounds:
        errors.update({f"{r.server}: {k}": v for k, v in r.errors.items()})
    if errors:
        print(f"failed requests: {dict(errors)}")
    return errors

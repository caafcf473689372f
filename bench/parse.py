"""Benchmark of the check-in reply parser and of a reply's way through the service. A script that
prints figures, not a test.

(a) Parser throughput on one core (one process, no threads): every reply of the labelled corpus
    (tests/corpus/replies.yaml) with its member's prompt (tests/corpus/okrs.yaml), repeated to
    ~20,000 parses after a warm-up pass. Target: at least 5,000 replies per second.
(b) Reply-to-confirmation latency through the real service on SQLite: a fresh database with the
    demo organisation, then ~300 check-in replies of demo members through
    `Core.direct_message` (the raw reply is stored, parsed, the updates saved in one
    transaction and the confirmation rendered with `render_text`). Target: median under 15 ms.

    .venv/bin/python bench/parse.py
    .venv/bin/python bench/parse.py --parses 50000 --replies 1000
"""

from __future__ import annotations

import argparse
import asyncio
import gc
import math
import platform
import statistics
import sys
import tempfile
import time
from collections import Counter, defaultdict
from datetime import UTC, datetime
from pathlib import Path

import yaml
from sqlalchemy import func, select

import bot.checkin.service
from bot.clock import fixed_clock
from bot.core import Core
from bot.messages import render_text
from bot.okrfile.demo import load_demo
from bot.okrfile.schema import load_okr_file
from bot.parsing import UPDATES, PromptKR, parse_reply
from storage.db import Database, upgrade
from storage.models import RawReply

ROOT = Path(__file__).resolve().parent.parent
CORPUS = ROOT / "tests" / "corpus"
# Sunday 22 November 2026, 12:00 in Copenhagen: week 47 of 2026-Q4 (as in the tests)
NOW = datetime(2026, 11, 22, 11, 0, tzinfo=UTC)
THROUGHPUT_TARGET = 5_000  # replies per second
LATENCY_TARGET_MS = 15.0  # median, reply to rendered confirmation

# Check-in replies of the demo members (bot/okrfile/data/nordlys.yaml), each one unambiguous
# update so that every message is answered with a confirmation, never a question. Relative
# changes come in pairs that cancel out, so the values stay near the demo's own however often
# the list runs.
# anna, lars, sofie and mikkel write Danish; jonas, emma and oliver English.
REPLIES: tuple[tuple[str, str], ...] = (
    ("anna", "kampagner 6, på sporet"),
    ("jonas", "subscribers 4.5k"),
    ("anna", "campaigns +1"),
    ("emma", "revenue 13,9 mio. kr"),
    ("lars", "butikker +1"),
    ("jonas", "share 18%"),
    ("anna", "kampagner -1"),
    ("sofie", "kvitteringer 12 %"),
    ("mikkel", "butikker 9, lidt bagud"),
    ("oliver", "stores 8, on track"),
    ("emma", "conversion 2.2%, errors 2"),
    ("anna", "CPA 145 kr."),
    ("jonas", "1: 4,650\n2: 18.5%"),
    ("lars", "fit-out 70 %"),
    ("mikkel", "checkout-tid 35 sek"),
    ("sofie", "omsætning pr. kvadratmeter 40.500 kr"),
    ("lars", "butikker 1 færre"),
    ("oliver", "POS integration not live yet, blocked by vendor API limits"),
    ("emma", "2: 14.0M\n3: 2.15%"),
    ("anna", "kampagner 5, CPA 150 kr., loyalitetsprogrammet ikke lanceret endnu"),
    ("jonas", "subscribers up to 4,800, confidence 7/10"),
    ("mikkel", "#1 8"),
    ("sofie", "2: 11,5"),
    ("emma", "errors down to 3, on track"),
    ("jonas", "subscribers 4,100; share 17%"),
)


# ---- (a) parser throughput -----------------------------------------------------------------


def corpus_prompts() -> dict[str, list[PromptKR]]:
    doc = load_okr_file(CORPUS / "okrs.yaml")
    out: dict[str, list[PromptKR]] = defaultdict(list)
    for objective in doc.objectives:
        for kr in objective.key_results:
            out[kr.owner].append(PromptKR.of(len(out[kr.owner]) + 1, kr, key=kr.id))
    return out


def percentile(values: list[float], share: float) -> float:
    ordered = sorted(values)
    return ordered[max(0, math.ceil(share * len(ordered)) - 1)]


def bench_parser(parses: int) -> None:
    entries = yaml.safe_load((CORPUS / "replies.yaml").read_text(encoding="utf-8"))
    members = corpus_prompts()
    work = [(e["text"], tuple(members[e["member"]]), e["locale"]) for e in entries]
    rounds = max(1, round(parses / len(work)))
    statuses = Counter()
    for text, krs, locale in work:  # warm-up: regex compilation, word caches
        statuses[parse_reply(text, krs, locale).status] += 1

    per_reply_ns: list[int] = []
    by_text: dict[str, list[int]] = defaultdict(list)
    clock = time.perf_counter_ns
    started, cpu_started = time.perf_counter(), time.process_time()
    for _ in range(rounds):
        for text, krs, locale in work:
            t0 = clock()
            parse_reply(text, krs, locale)
            elapsed = clock() - t0
            per_reply_ns.append(elapsed)
            by_text[text].append(elapsed)
    wall = time.perf_counter() - started
    cpu = time.process_time() - cpu_started

    n = len(per_reply_ns)
    rate = n / wall
    median_us = statistics.median(per_reply_ns) / 1000
    p99_us = percentile(per_reply_ns, 0.99) / 1000
    verdict = "ok" if rate >= THROUGHPUT_TARGET else "BELOW TARGET"
    mix = ", ".join(f"{status} {count}" for status, count in statuses.most_common())
    print(f"(a) parser, one core: {len(work)} corpus replies ({mix}) x {rounds} = {n:,} parses")
    print(
        f"    throughput {rate:,.0f} replies/s  (target >= {THROUGHPUT_TARGET:,}) {verdict};"
        f"  {wall:.2f} s in all"
    )
    # on a shared machine the wall clock also counts the others' work; CPU time is the parser's
    print(f"    CPU time   {n / cpu:,.0f} replies/s  ({cpu:.2f} s of CPU)")
    print(
        f"    per reply  median {median_us:.0f} µs  p99 {p99_us:.0f} µs  "
        f"max {max(per_reply_ns) / 1000:.0f} µs"
    )
    slowest = sorted(by_text.items(), key=lambda item: statistics.median(item[1]), reverse=True)
    print("    slowest replies (median):")
    for text, times in slowest[:3]:
        shown = text.replace("\n", "⏎")
        shown = shown if len(shown) <= 60 else shown[:59] + "…"
        print(f"      {statistics.median(times) / 1000:6.0f} µs  {shown!r}")


# ---- (b) reply to confirmation through the service -----------------------------------------


class ParseTimer:
    """Time spent in the parser while the service runs: wraps the names that
    `bot.checkin.service` calls."""

    def __init__(self) -> None:
        self.seconds = 0.0
        self._originals = {
            name: getattr(bot.checkin.service, name) for name in ("parse_reply", "resolve_answer")
        }

    def __enter__(self) -> ParseTimer:
        for name, original in self._originals.items():
            setattr(bot.checkin.service, name, self._timed(original))
        return self

    def __exit__(self, *_exc) -> None:
        for name, original in self._originals.items():
            setattr(bot.checkin.service, name, original)

    def _timed(self, function):
        def timed(*args, **kwargs):
            t0 = time.perf_counter()
            try:
                return function(*args, **kwargs)
            finally:
                self.seconds += time.perf_counter() - t0

        return timed


async def bench_service(workdir: Path, replies: int, warmup: int) -> None:
    url = f"sqlite:///{workdir / 'bench.db'}"
    upgrade(url)
    db = Database(url)
    try:
        async with db.transaction() as session:
            await load_demo(session, NOW)
        core = Core(db, fixed_clock(NOW))
        people = {handle: await core.person(handle=handle) for handle, _ in REPLIES}
        missing = [handle for handle, person in people.items() if person is None]
        if missing:
            raise SystemExit(f"not in the demo organisation: {', '.join(missing)}")

        timer = ParseTimer()

        async def one(handle: str, text: str) -> tuple[float, float]:
            """(milliseconds from the message to its rendered answer, of which parsing)."""
            parse_before = timer.seconds
            t0 = time.perf_counter()
            message = await core.direct_message(people[handle], text, platform="bench")
            rendered = render_text(message) if message is not None else ""
            elapsed = time.perf_counter() - t0
            if message is None or message.extra.get("kind") != "confirmation":
                raise SystemExit(f"{handle}: {text!r} was not confirmed:\n{rendered}")
            return elapsed * 1000, (timer.seconds - parse_before) * 1000

        total_ms: list[float] = []
        parse_ms: list[float] = []
        with timer:
            for index in range(warmup):  # first connection, statement caches
                await one(*REPLIES[index % len(REPLIES)])
            for index in range(replies):
                elapsed, parsing = await one(*REPLIES[index % len(REPLIES)])
                total_ms.append(elapsed)
                parse_ms.append(parsing)

        async with db.session() as session:
            query = select(RawReply.status, func.count()).group_by(RawReply.status)
            counted = {status: n for status, n in await session.execute(query)}
    finally:
        await db.dispose()

    median_ms = statistics.median(total_ms)
    verdict = "ok" if median_ms < LATENCY_TARGET_MS else "OVER TARGET"
    share = sum(parse_ms) / sum(total_ms)
    rest = [t - p for t, p in zip(total_ms, parse_ms, strict=True)]
    print(
        f"(b) reply -> confirmation, SQLite, Core.direct_message + render_text: "
        f"{replies} replies of {len({h for h, _ in REPLIES})} demo members "
        f"after {warmup} warm-up"
    )
    print(
        f"    latency    median {median_ms:.2f} ms  p95 {percentile(total_ms, 0.95):.2f} ms  "
        f"max {max(total_ms):.2f} ms  (target median < {LATENCY_TARGET_MS:g} ms) {verdict}"
    )
    print(
        f"    parsing    median {statistics.median(parse_ms):.2f} ms per reply = {share:.1%} of "
        f"the time; the rest (store raw, read, save, render) median "
        f"{statistics.median(rest):.2f} ms"
    )
    print(f"    raw replies stored by status: {counted}")
    if set(counted) != {UPDATES}:
        raise SystemExit("every reply of the benchmark should have saved updates")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--parses", type=int, default=20_000, help="parses for (a)")
    parser.add_argument("--replies", type=int, default=300, help="timed replies for (b)")
    parser.add_argument("--warmup", type=int, default=25, help="untimed replies before (b)")
    parser.add_argument("--skip-service", action="store_true", help="only (a)")
    args = parser.parse_args(argv)
    if args.parses < 1 or args.replies < 1 or args.warmup < 0:
        parser.error("--parses and --replies must be positive, --warmup not negative")

    print(
        f"okrbot parser benchmark: Python {platform.python_version()}, {platform.machine()}, "
        f"gc {'on' if gc.isenabled() else 'off'}; clock {NOW.isoformat()}"
    )
    started = time.perf_counter()
    bench_parser(args.parses)
    if not args.skip_service:
        with tempfile.TemporaryDirectory(prefix="okrbot-bench-parse-") as tmp:
            asyncio.run(bench_service(Path(tmp), args.replies, args.warmup))
    print(f"(whole run {time.perf_counter() - started:.1f} s)")
    return 0


if __name__ == "__main__":
    sys.exit(main())

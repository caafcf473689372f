"""How fast to send to a platform that does not say its limit: pure arithmetic, no I/O.

A pace is a rate (messages per second) and a token bucket spent at that rate. It adapts to the
outcomes of the sends, the way TCP finds a path's capacity:

- it starts from a safe rate and, while the platform accepts everything and the senders want
  more than the rate gives them, multiplies it quickly (probing);
- when a window of outcomes shows that the platform refuses a real share of the sends (429),
  the rate is cut by a constant factor; after the fast climb, down to what the platform
  accepted over the last half second when that is less (the climb of 4x per second is seen
  to overshoot only once the platform's second is used up, often at 3 to 5 times its limit),
  never below a quarter; then it holds for the Retry-After, because the answers of sends
  made at the old rate are still arriving;
- afterwards it grows slowly again while the platform accepts (additive increase per accepted
  message, multiplicative decrease on refusals).

A stray refusal among many accepted sends is not a limit and changes nothing. The configured
rate, if any, is a ceiling. Time is passed in (seconds; a wall clock when several processes
share one pace through the database), so the tests move it.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, replace


@dataclass(frozen=True)
class Policy:
    start: float = 10.0  # the first rate towards a platform the bot has not sent to yet
    floor: float = 0.5
    ceiling: float | None = None  # the configured rate: an upper bound, not the speed
    probe_growth: float = 4.0  # factor per second while probing (doubles every half second)
    growth: float = 1.1  # factor per second of accepted sends after the first refusals
    backoff: float = 0.85  # factor on refusals
    window: float = 1.0  # seconds of outcomes one decision looks at
    refused_share: float = 0.05  # share of refused sends in a window that means "too fast"
    min_refused: int = 2  # and at least this many (one 429 alone is no limit)
    alarm_share: float = 0.25  # a share of the latest sends that cuts before the window ends
    alarm_refused: int = 5
    memory: float = 0.5  # seconds over which the accepted rate is averaged
    burst: float = 0.1  # seconds' worth of tokens that may be spent at once

    def clamp(self, rate: float) -> float:
        top = self.ceiling if self.ceiling is not None else math.inf
        return max(min(rate, top), min(self.floor, top))

    def burst_tokens(self, rate: float) -> float:
        return max(rate * self.burst, 1.0)


@dataclass(frozen=True)
class Pace:
    rate: float
    probing: bool = True
    tokens: float = 1.0
    stamp: float = 0.0  # when `tokens` and `rate` were brought up to date
    hungry: bool = False  # the last take wanted more tokens than there were
    window_start: float = 0.0
    accepted: int = 0  # outcomes in the window since window_start
    refused: int = 0
    hold_until: float = 0.0  # no change of rate before this moment
    took: float = 0.0  # accepted per second, a moving average over `memory`
    refusing: float = 0.0  # refused per second, likewise
    took_stamp: float = 0.0


def fresh(policy: Policy, now: float) -> Pace:
    """The pace of a platform never sent to."""
    return Pace(rate=policy.clamp(policy.start), stamp=now, window_start=now, took_stamp=now)


def advance(pace: Pace, policy: Policy, now: float) -> Pace:
    """Tokens for the time passed, and growth for it when the senders were held back by the
    rate all along (not when they had little to send, or nothing for a while) and no refusal
    is being waited out."""
    dt = max(0.0, now - pace.stamp)
    tokens = min(policy.burst_tokens(pace.rate), pace.tokens + dt * pace.rate)
    rate = pace.rate
    if pace.hungry and dt <= policy.window and now > pace.hold_until:
        grown = now - max(pace.stamp, pace.hold_until)
        factor = policy.probe_growth if pace.probing else policy.growth
        rate = rate * factor**grown
    return replace(pace, rate=policy.clamp(rate), tokens=tokens, stamp=max(now, pace.stamp))


def record(
    pace: Pace,
    policy: Policy,
    now: float,
    *,
    accepted: int = 0,
    refused: int = 0,
    retry_after: float = 0.0,
) -> Pace:
    """Outcomes of sends: `accepted` by the platform, `refused` with a 429 (the longest
    Retry-After among them)."""
    decay = math.exp(-max(0.0, now - pace.took_stamp) / policy.memory)
    took = pace.took * decay + accepted / policy.memory
    refusing = pace.refusing * decay + refused / policy.memory
    pace = replace(pace, took=took, refusing=refusing, took_stamp=now)
    if now < pace.window_start:  # waiting out a cut: these were sent at the old rate
        return pace
    accepted, refused = pace.accepted + accepted, pace.refused + refused
    full = now - pace.window_start >= policy.window
    if not _too_fast(policy, pace, accepted, refused, full):
        if full:
            return replace(pace, window_start=now, accepted=0, refused=0)
        return replace(pace, accepted=accepted, refused=refused)
    rate = pace.rate * policy.backoff
    if pace.probing:
        # after a fast climb what the platform took is the better guess (never below a quarter);
        # later, near the limit, the accepted rate measured from late and bunched answers is
        # too low a guess, and the constant factor alone is the cut
        rate = max(min(rate, took), pace.rate * 0.25)
    resume = now + max(retry_after, policy.window)
    rate = policy.clamp(rate)
    return replace(
        pace,
        rate=rate,
        probing=False,
        tokens=min(pace.tokens, policy.burst_tokens(rate)),
        hungry=False,
        hold_until=resume,
        window_start=resume,
        accepted=0,
        refused=0,
    )


def _too_fast(policy: Policy, pace: Pace, accepted: int, refused: int, full: bool) -> bool:
    """Whether a window's refusals are a limit: a real share of a whole window, or of the
    latest sends even before the window is over (a stray 429 is not a limit)."""
    recent = pace.took + pace.refusing
    if refused >= policy.alarm_refused and pace.refusing >= policy.alarm_share * recent:
        return True
    return full and refused >= max(policy.min_refused, policy.refused_share * (accepted + refused))


def take(pace: Pace, policy: Policy, want: int) -> tuple[Pace, int, float]:
    """Up to `want` whole tokens: the pace after, how many were granted, and, when not all
    were, how long until the rest (up to a burst's worth) will be there, so that a sender
    asks again for a batch and not for every single token."""
    granted = max(0, min(want, math.floor(pace.tokens)))
    tokens = pace.tokens - granted
    short = granted < want
    wait = 0.0
    if short:
        batch = min(want - granted, math.floor(policy.burst_tokens(pace.rate)))
        wait = max(0.0, (max(batch, 1) - tokens) / pace.rate)
    return replace(pace, tokens=tokens, hungry=short), granted, wait


def step(
    pace: Pace | None,
    policy: Policy,
    now: float,
    *,
    want: int = 0,
    accepted: int = 0,
    refused: int = 0,
    retry_after: float = 0.0,
) -> tuple[Pace, int, float]:
    """One exchange of a sender with its pace: report outcomes, take tokens."""
    pace = advance(pace if pace is not None else fresh(policy, now), policy, now)
    pace = record(pace, policy, now, accepted=accepted, refused=refused, retry_after=retry_after)
    if want <= 0:
        return pace, 0, 0.0
    return take(pace, policy, want)

"""The pace that adapts to a platform's unknown limit: pure arithmetic on a clock the tests move."""

from __future__ import annotations

import pytest

from adapters.pace_policy import Policy, fresh, step

POLICY = Policy()


def busy(pace, seconds: float, *, now: float, tick: float = 0.01, refuse=lambda sent: False):
    """Senders that always want more than the pace gives: every token is a send, answered at
    once, accepted unless `refuse(sent so far)`. Returns the pace, the clock and the counts."""
    accepted = refused = 0
    outcome = (0, 0)
    end = now + seconds
    while now < end:
        pace, granted, _ = step(
            pace, POLICY, now, want=64, accepted=outcome[0], refused=outcome[1], retry_after=1
        )
        no = sum(1 for n in range(granted) if refuse(accepted + refused + n))
        outcome = (granted - no, no)
        accepted, refused = accepted + granted - no, refused + no
        now += tick
    return pace, now, accepted, refused


def test_a_new_platform_starts_at_the_safe_rate_and_acceptance_raises_it():
    pace = fresh(POLICY, 0.0)
    assert pace.rate == POLICY.start and pace.probing
    pace, now, accepted, refused = busy(pace, 2.0, now=0.0)
    assert refused == 0 and pace.probing
    assert pace.rate > 10 * POLICY.start  # about 4x per second while probing
    assert accepted > 4 * POLICY.start


def test_a_429_storm_slows_the_pace_and_it_holds_for_the_retry_after():
    pace = fresh(POLICY, 0.0)
    pace, now, _, _ = busy(pace, 1.5, now=0.0)
    before = pace.rate
    pace, _, _ = step(pace, POLICY, now, accepted=10, refused=20, retry_after=3)
    cut = pace.rate
    assert cut < before and not pace.probing
    # the answers to sends made at the old rate keep coming: no second cut, no growth
    pace, _, _ = step(pace, POLICY, now + 1, want=64, refused=30, retry_after=3)
    pace, _, _ = step(pace, POLICY, now + 2.9, want=64)
    assert pace.rate == cut
    # refusals after the hold cut again
    pace, _, _ = step(pace, POLICY, now + 3.1, want=64, refused=30, retry_after=1)
    assert pace.rate < cut


def test_the_end_of_the_climb_cuts_to_what_the_platform_accepted_even_far_below_half():
    """A platform that takes 30 sends per whole second shows the first refusals only when its
    second is used up, when the climb is already several times past the limit: halving would
    leave the pace far above it for many cuts (and many 429s)."""
    windows: dict[int, int] = {}

    def refused_at(now: float) -> bool:
        taken = windows.get(int(now), 0)
        windows[int(now)] = taken + 1
        return taken >= 30

    pace, now, outcome, before = fresh(POLICY, 0.0), 0.0, (0, 0), 0.0
    while pace.probing:
        before = pace.rate
        pace, granted, _ = step(
            pace, POLICY, now, want=64, accepted=outcome[0], refused=outcome[1], retry_after=1
        )
        no = sum(refused_at(now) for _ in range(granted))
        outcome, now = (granted - no, no), now + 0.01
    assert before > 2.5 * 30  # the climb went far past the limit before it saw it
    assert 0.6 * 30 <= pace.rate <= 1.5 * 30 < 0.5 * before


def test_near_the_limit_a_cut_is_the_constant_factor_whatever_was_measured_as_accepted():
    """After the climb, the accepted rate averaged from answers that arrive late and in bunches
    reads low; cutting to it would leave the pace well under the limit for seconds."""
    pace = fresh(POLICY, 0.0)
    pace, now, _, _ = busy(pace, 1.0, now=0.0)
    pace, _, _ = step(pace, POLICY, now, accepted=5, refused=40, retry_after=1)
    assert not pace.probing
    pace, now, _, _ = busy(pace, 2.0, now=now + 1.0)
    # a bunch of refusals after a quiet moment: little accepted lately
    before = step(pace, POLICY, now + 0.4)[0].rate
    pace, _, _ = step(pace, POLICY, now + 0.4, refused=40, retry_after=1)
    assert pace.took < 0.5 * before
    assert pace.rate == pytest.approx(before * POLICY.backoff)


def test_a_stray_429_among_many_accepted_sends_is_no_limit():
    pace = fresh(POLICY, 0.0)
    pace, now, accepted, refused = busy(pace, 3.0, now=0.0, refuse=lambda n: n % 50 == 49)
    assert refused > 0 and pace.probing  # never cut


def test_after_the_first_limit_the_pace_grows_slowly_while_accepted():
    pace = fresh(POLICY, 0.0)
    pace, now, _, _ = busy(pace, 1.0, now=0.0)
    pace, _, _ = step(pace, POLICY, now, accepted=5, refused=40, retry_after=1)
    cut = pace.rate
    pace, now, _, _ = busy(pace, 3.0, now=now + 1.0)
    assert cut * 1.2 < pace.rate < cut * 1.1**3 * 1.05


def test_the_configured_rate_is_a_ceiling_not_the_speed():
    capped = Policy(ceiling=7.0)
    pace = fresh(capped, 0.0)
    assert pace.rate == 7.0
    for n in range(1, 300):
        pace, _, _ = step(pace, capped, n / 100, want=64, accepted=1)
    assert pace.rate == 7.0
    high = Policy(ceiling=1000.0)
    assert fresh(high, 0.0).rate == POLICY.start  # a high ceiling does not make it the speed


def test_senders_with_little_to_send_do_not_raise_the_pace():
    pace = fresh(POLICY, 0.0)
    for n in range(1, 500):
        pace, granted, _ = step(pace, POLICY, n / 100, want=1 if n % 20 == 0 else 0, accepted=1)
    assert pace.rate == POLICY.start


def test_tokens_are_granted_at_the_rate_and_the_wait_for_the_next_is_said():
    pace = fresh(Policy(start=10.0, probe_growth=1.0), 0.0)
    pace, granted, wait = step(pace, Policy(start=10.0, probe_growth=1.0), 0.0, want=3)
    assert granted == 1 and wait == pytest.approx(0.1)
    pace, granted, wait = step(pace, Policy(start=10.0, probe_growth=1.0), 0.1, want=3)
    assert granted == 1


@pytest.mark.parametrize("limit", [20, 50, 100, 200])
def test_against_a_platform_with_an_unknown_limit_the_pace_finds_it(limit):
    """A platform that accepts `limit` sends per whole second and refuses the rest with a 429
    (as the fake Slack does). Over a minute the pace gets at least 0.9 of what it allows and
    keeps refusals to a small share."""
    windows: dict[int, int] = {}
    clock = {"now": 0.0}

    def refuse(_n: int) -> bool:
        second = int(clock["now"])
        if windows.get(second, 0) >= limit:
            return True
        windows[second] = windows.get(second, 0) + 1
        return False

    pace = fresh(POLICY, 0.0)
    accepted = refused = 0
    outcome = (0, 0)
    while clock["now"] < 60:
        pace, granted, _ = step(
            pace, POLICY, clock["now"], want=64, accepted=outcome[0], refused=outcome[1],
            retry_after=1,
        )  # fmt: skip
        no = sum(refuse(0) for _ in range(granted))
        outcome = (granted - no, no)
        accepted, refused = accepted + granted - no, refused + no
        clock["now"] += 0.01
    assert accepted >= 0.9 * limit * 60
    assert refused <= 0.1 * (accepted + refused)

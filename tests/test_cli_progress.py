"""How a CLI round shows its progress: plain lines when stderr is not a terminal, a bar when
it is; both with sent / failed / waiting, the rate and the pace."""

from __future__ import annotations

import io

from bot.cli.progress import BarProgress, PlainProgress, progress_view
from scheduler.worker import RoundProgress

PACE = {"slack:T1": 52.4}


def test_plain_lines_come_every_few_seconds_and_once_at_the_end():
    out = io.StringIO()
    view = PlainProgress(lambda: PACE, out=out, every=0.0)
    view(RoundProgress(total=1000, sent=120, failed=2, seconds=3.0, rate=48.25))
    view(RoundProgress(total=1000, sent=1000 - 2, failed=2, seconds=21.2, rate=47.0, done=True))
    first, last = out.getvalue().splitlines()
    assert first == (
        "delivering: 120 sent, 2 failed, 878 waiting of 1000; 48.2 messages/s (pace slack 52/s)"
    )
    assert last.startswith("delivered in 21 s: 998 sent, 2 failed, 0 waiting of 1000")
    quiet = io.StringIO()
    view = PlainProgress(lambda: PACE, out=quiet)  # every five seconds: not yet
    view(RoundProgress(total=10, sent=1, failed=0, seconds=0.5, rate=2.0))
    assert quiet.getvalue() == ""


class Terminal(io.StringIO):
    def isatty(self) -> bool:
        return True


def test_a_terminal_gets_a_bar_and_keeps_the_last_line():
    out = Terminal()
    view = progress_view(lambda: PACE, out)
    assert isinstance(view, BarProgress)
    view(RoundProgress(total=10, sent=4, failed=0, seconds=1.0, rate=4.0))
    view(RoundProgress(total=10, sent=10, failed=0, seconds=2.5, rate=4.0, done=True))
    assert "delivered in 2 s: 10 sent, 0 failed, 0 waiting of 10" in out.getvalue()
    assert isinstance(progress_view(lambda: PACE, io.StringIO()), PlainProgress)

"""How a CLI delivery round shows its progress on stderr: a live bar on a terminal (rich), plain
lines every few seconds otherwise (logs, CI, pipes), and one last line when the round is over.
Both say how many messages were sent, failed for good and are still waiting, the rate they go
out at, and the pace the platform allows as learned so far."""

from __future__ import annotations

import sys
import time
from collections.abc import Callable
from typing import TextIO

LINE_EVERY = 5.0  # seconds between two plain lines


def describe(p, pace: dict[str, float]) -> str:
    """`120 sent, 0 failed, 880 waiting of 1000; 48.2 messages/s (pace slack 52/s)`."""
    paces = ", ".join(f"{scope.split(':')[0]} {rate:.0f}/s" for scope, rate in pace.items())
    text = (
        f"{p.sent} sent, {p.failed} failed, {p.waiting} waiting of {p.total}; "
        f"{p.rate:.1f} messages/s"
    )
    return text + (f" (pace {paces})" if paces else "")


class PlainProgress:
    """A line every `every` seconds and one at the end: `delivering: ...`, `delivered: ...`."""

    def __init__(
        self,
        pace: Callable[[], dict[str, float]],
        *,
        out: TextIO | None = None,
        every: float = LINE_EVERY,
    ) -> None:
        self.pace, self.out, self.every = pace, out or sys.stderr, every
        self._last = time.monotonic()

    def __call__(self, p) -> None:
        now = time.monotonic()
        if p.done:
            self._line(f"delivered in {p.seconds:.0f} s: {describe(p, self.pace())}")
        elif now - self._last >= self.every:
            self._last = now
            self._line(f"delivering: {describe(p, self.pace())}")

    def _line(self, text: str) -> None:
        print(text, file=self.out, flush=True)

    def close(self) -> None:
        pass


class BarProgress:
    """A rich progress bar on the terminal, gone when the round is over (the last line stays)."""

    def __init__(self, pace: Callable[[], dict[str, float]], *, out: TextIO | None = None):
        from rich.console import Console
        from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn

        self.pace = pace
        self.console = Console(file=out or sys.stderr)
        self.bar = Progress(
            TextColumn("delivering"),
            BarColumn(),
            MofNCompleteColumn(),
            TextColumn("{task.description}"),
            console=self.console,
            transient=True,
        )
        self.task = None

    def __call__(self, p) -> None:
        if self.task is None:
            self.bar.start()
            self.task = self.bar.add_task("", total=p.total)
        self.bar.update(
            self.task, completed=p.sent + p.failed, description=describe(p, self.pace())
        )
        if p.done:
            self.close()
            line = f"delivered in {p.seconds:.0f} s: {describe(p, self.pace())}"
            self.console.print(line, markup=False, highlight=False, soft_wrap=True)

    def close(self) -> None:
        if self.task is not None:
            self.bar.stop()
            self.task = None


def progress_view(pace: Callable[[], dict[str, float]], stream: TextIO | None = None):
    """The bar on a terminal, plain lines elsewhere."""
    stream = stream or sys.stderr
    if stream.isatty():
        return BarProgress(pace, out=stream)
    return PlainProgress(pace, out=stream)

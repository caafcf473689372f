"""What a platform's outbox sender promises, and how a send can fail (SPEC §8).

The delivery worker (`scheduler/`) hands each outbox row to the sender of one platform; the
sender raises one of these errors, and the worker decides what happens next:

- `RateLimited`: the platform refused (429); nothing was accepted, so retry after
  `retry_after` seconds: this message only, the others go on.
- `OutcomeUnknown`: a 5xx, a timeout, a lost connection: the platform may have the message.
  The row is marked uncertain and the next attempt reconciles first (Slack), or re-sends and
  counts a possible duplicate (Teams, which cannot read a chat's history).
- `PermanentFailure`: cannot succeed (`user_not_found`, `channel_not_found`, a connector 404,
  ...): failed for good at once, error kept.
- `Unreachable`: a permanent failure because the bot has no way to reach the person yet.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Protocol

from bot.messages import Message
from storage.models import Person


class DeliveryError(Exception):
    pass


class RateLimited(DeliveryError):
    def __init__(self, retry_after: float, detail: str = "rate limited") -> None:
        super().__init__(f"{detail} (retry after {retry_after:g} s)")
        self.retry_after = retry_after


class OutcomeUnknown(DeliveryError):
    pass


class PermanentFailure(DeliveryError):
    pass


class Unreachable(PermanentFailure):
    def __init__(self, detail: str) -> None:
        super().__init__(f"unreachable: {detail}")


@dataclass
class DigestParts:
    """A digest as posted: a headline, replies in its thread, and an optional chart."""

    headline: Message
    replies: list[tuple[str, Message]] = field(default_factory=list)  # (part name, message)
    chart_png: bytes | None = None
    chart_title: str = "okrbot digest"


Checkpoint = Callable[[dict], Awaitable[None]]


class Sender(Protocol):
    """One platform's outbound edge for the outbox."""

    platform: str

    async def reaches(self, person: Person) -> bool:
        """Whether this platform is the person's (a platform id, an email, a conversation)."""
        ...

    async def send_prompt(
        self, person: Person, *, key: str, reminder: bool, uncertain: bool
    ) -> dict:
        """This week's prompt (or its reminder) in the person's DM; returns where it went."""
        ...

    async def send_digest(
        self,
        channel: str,
        parts: DigestParts,
        *,
        key: str,
        uncertain: bool,
        progress: dict,
        checkpoint: Checkpoint,
    ) -> dict:
        """Headline, thread replies and chart, resuming after the parts in `progress`."""
        ...

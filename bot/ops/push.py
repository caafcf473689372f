"""Values pushed by other systems (SPEC §7 `POST /api/v1/key-results/{id}/value`).

The HTTP edge (adapters/api.py) hands over the key result's id and the decoded JSON body; this
service checks the body against the key result and records the update with source `api`, in one
transaction, as a history row like every other source. Errors are plain exceptions the edge maps
to status codes: :class:`UnknownKeyResult` (404) and :class:`InvalidPush` (422).
"""

from __future__ import annotations

import math
import uuid
from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING

from bot.clock import Clock
from bot.progress import HEALTHS, as_percent, kr_progress
from bot.updates import record_update
from storage import repo
from storage.db import Database
from storage.models import KeyResult

if TYPE_CHECKING:
    from bot.metrics import Metrics

SOURCE = "api"
COMMENT_MAX = 1000  # characters
FIELDS = ("value", "health", "comment")


class PushError(Exception):
    """A push that records nothing; the message says why, in one line."""


class UnknownKeyResult(PushError):
    """No live key result has that id (archived ones are unknown)."""


class InvalidPush(PushError):
    """The body does not describe a value for this key result."""


@dataclass(frozen=True)
class PushValue:
    """A checked body: a finite value, an optional health and an optional comment."""

    value: float
    health: str | None = None
    comment: str | None = None
    boolean: bool = False  # sent as true / false: only a binary key result takes that


@dataclass(frozen=True)
class PushResult:
    """The key result after the update."""

    key: str
    title: str
    value: float
    previous: float | None
    unit: str | None
    progress: float
    health: str | None
    updated_at: datetime

    def as_json(self) -> dict:
        return {
            "id": self.key,
            "title": self.title,
            "value": _plain(self.value),
            "previous_value": _plain(self.previous),
            "unit": self.unit,
            "progress": round(self.progress, 4),
            "progress_percent": as_percent(self.progress),
            "health": self.health,
            "updated_at": self.updated_at.isoformat().replace("+00:00", "Z"),
        }


def _plain(value: float | None) -> float | int | None:
    """4100.0 -> 4100 in JSON; fractions stay as they are."""
    if value is not None and float(value).is_integer():
        return int(value)
    return value


def read_body(body: object) -> PushValue:
    """Check the shape of a decoded JSON body (pure); the key result's own rules come later."""
    if not isinstance(body, dict):
        raise InvalidPush('the body must be a JSON object like {"value": 4100}')
    unknown = sorted(str(name) for name in body if name not in FIELDS)
    if unknown:
        raise InvalidPush(f"unknown field {unknown[0]!r} (allowed: {', '.join(FIELDS)})")
    if "value" not in body or body["value"] is None:
        raise InvalidPush("'value' is required")
    raw = body["value"]
    if isinstance(raw, bool):
        value = 1.0 if raw else 0.0
    elif isinstance(raw, int | float):
        try:
            value = float(raw)
        except OverflowError:
            raise InvalidPush("'value' must be a finite number") from None
    else:
        raise InvalidPush("'value' must be a number")
    if not math.isfinite(value):
        raise InvalidPush("'value' must be a finite number")
    health = body.get("health")
    if health is not None and health not in HEALTHS:
        raise InvalidPush(f"'health' must be one of {', '.join(HEALTHS)} or null")
    comment = body.get("comment")
    if comment is not None:
        if not isinstance(comment, str):
            raise InvalidPush("'comment' must be a string")
        comment = comment.strip() or None
        if comment is not None and len(comment) > COMMENT_MAX:
            raise InvalidPush(f"'comment' is longer than {COMMENT_MAX} characters")
    return PushValue(value, health, comment, boolean=isinstance(raw, bool))


def check_value(kr: KeyResult, pushed: PushValue) -> None:
    """The value must fit the key result's type: binary 0 or 1, milestone 0..100."""
    if pushed.boolean and kr.type != "binary":
        raise InvalidPush(f"{kr.key} is a {kr.type or 'metric'} key result: send a number")
    if kr.type == "binary" and pushed.value not in (0.0, 1.0):
        raise InvalidPush(f"{kr.key} is done or not: send 1 / true (done) or 0 / false")
    if kr.type == "milestone" and not 0 <= pushed.value <= 100:
        raise InvalidPush(f"{kr.key} is a milestone: send a percent from 0 to 100")


class PushService:
    """Pass the process's `Metrics` to count pushed updates with the others (source `api`)."""

    def __init__(self, db: Database, clock: Clock, metrics: Metrics | None = None) -> None:
        self.db = db
        self.clock = clock
        self.metrics = metrics

    async def push(self, key: str, body: object) -> PushResult:
        """Record the body's value for the key result `key` (e.g. "MKT-1.1")."""
        pushed = read_body(body)
        async with self.db.transaction() as session:
            found = await repo.key_result_by_key(session, key.strip())
            if found is None or found.archived:
                raise UnknownKeyResult(f"there is no key result {key!r}")
            objectives = await repo.objectives_by_ids(session, [found.objective_id])
            if not objectives or objectives[0].archived:
                raise UnknownKeyResult(f"there is no key result {key!r}")
            # the row again, locked against concurrent updates (PostgreSQL)
            kr = (await repo.key_results_by_ids(session, [found.id]))[found.id]
            check_value(kr, pushed)
            now = self.clock()
            previous = kr.current
            record_update(
                session,
                kr,
                pushed.value,
                at=now,
                source=SOURCE,
                health=pushed.health,
                comment=pushed.comment,
                batch_id=uuid.uuid4().hex,
            )
            result = PushResult(
                key=kr.key,
                title=kr.title,
                value=pushed.value,
                previous=previous,
                unit=kr.unit,
                progress=kr_progress(kr),
                health=kr.health,
                updated_at=now,
            )
        if self.metrics is not None:
            self.metrics.update_saved(SOURCE)
        return result

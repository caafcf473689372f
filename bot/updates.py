"""Recording a key-result update: the one way a key result's value changes.

Check-ins, the form, `okr set`, undo, the push API, the OKR file's import and the demo all
call `record_update`: it appends the history row (who, when, old and new value, health,
confidence, comment, source, the raw reply and the batch it belongs to) and sets the key
result's current value, health and confidence and who changed it last. History is append-only:
a correction or an undo is a new row.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy.ext.asyncio import AsyncSession

from storage.models import KeyResult, KeyResultUpdate

_CURRENT = object()


def record_update(
    session: AsyncSession,
    kr: KeyResult,
    value: float | None,
    *,
    at: datetime,
    source: str,
    person_id: int | None = None,
    health: str | None = None,
    confidence: float | None = None,
    comment: str | None = None,
    raw_reply_id: int | None = None,
    batch_id: str | None = None,
    undoes_batch: str | None = None,
    restore: bool = False,
    old_value: float | None | object = _CURRENT,
) -> KeyResultUpdate:
    """Append the update of `kr` to `value` and apply it (the caller commits).

    A health or confidence left out keeps the key result's own; with `restore` (an undo) they
    are set exactly as given, None included. `old_value` is the value before, when the caller
    has already changed `kr.current` itself (the import) or history starts elsewhere (the demo).
    """
    row = KeyResultUpdate(
        key_result_id=kr.id,
        person_id=person_id,
        created_at=at,
        old_value=kr.current if old_value is _CURRENT else old_value,
        new_value=value,
        health=health,
        confidence=confidence,
        comment=comment,
        source=source,
        raw_reply_id=raw_reply_id,
        batch_id=batch_id,
        undoes_batch=undoes_batch,
        old_health=kr.health,
        old_confidence=kr.confidence,
    )
    session.add(row)
    kr.current = value
    if restore:
        kr.health, kr.confidence = health, confidence
    else:
        kr.health = health or kr.health
        kr.confidence = confidence if confidence is not None else kr.confidence
    kr.updated_at, kr.updated_by_id, kr.updated_source = at, person_id, source
    return row

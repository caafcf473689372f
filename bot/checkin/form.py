"""Reading a submitted check-in form: every field checked, nothing saved while one is wrong."""

from __future__ import annotations

import math

from bot.i18n import t
from bot.parsing import Update
from bot.parsing.numbers import to_float
from bot.progress import HEALTHS
from storage.models import KeyResult, Objective

_DONE = {"1", "done", "yes", "true", "ja", "færdig"}
_NOT_DONE = {"0", "not done", "no", "false", "nej", "ikke færdig", ""}


def read_form(
    values: dict[str, dict],
    owned: list[tuple[KeyResult, Objective]],
    locale: str,
    *,
    machine_numbers: bool = False,
) -> tuple[list[Update], dict[str, str]]:
    """(updates for the fields that changed, errors by key-result id). Platform number inputs
    send machine numbers ("4100.5"); typed text is read in the member's language."""
    updates: list[Update] = []
    errors: dict[str, str] = {}
    krs = {kr.key: kr for kr, _ in owned}
    for key in values:
        if key not in krs:
            errors[key] = t(locale, "form.error.unknown", key=key)
    for key, kr in krs.items():
        field = values.get(key)
        if field is None:
            continue
        raw = str(field.get("value") or "").strip()
        health = field.get("health") or None
        comment = (field.get("comment") or "").strip() or None
        if health is not None and health not in HEALTHS:
            errors[key] = t(locale, "form.error.health", health=health)
            continue
        value, error = _value(kr, raw, locale, machine_numbers)
        if error:
            errors[key] = error
            continue
        if value is None:
            value = kr.current
        if value is None and (health or comment):
            value = kr.start if kr.type != "binary" else 0.0
        if value is None:
            continue
        before = kr.current if kr.current is not None or kr.type != "binary" else 0.0
        if value != before or (health and health != kr.health) or comment:
            updates.append(Update(key, value, health, None, comment))
    return updates, errors


def _value(
    kr: KeyResult, raw: str, locale: str, machine: bool = False
) -> tuple[float | None, str | None]:
    if kr.type == "binary":
        lowered = raw.lower()
        if lowered in _DONE:
            return 1.0, None
        if lowered in _NOT_DONE:
            return (0.0 if raw else None), None
        return None, t(locale, "form.error.binary")
    if not raw:
        return None, None
    number = _machine(raw) if machine else to_float(raw.replace(" ", "").removesuffix("%"), locale)
    if number is None:
        try:
            number = float(raw.replace(",", "."))
        except ValueError:
            return None, t(locale, "form.error.number", value=raw)
    if kr.type == "milestone" and not 0 <= number <= 100:
        return None, t(locale, "form.error.milestone")
    return number, None


def _machine(raw: str) -> float | None:
    try:
        number = float(raw.strip())
    except ValueError:
        return None
    return number if math.isfinite(number) else None

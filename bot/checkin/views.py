"""What a check-in looks like: the prompt, the form, the confirmation. Pure functions."""

from __future__ import annotations

import re
from dataclasses import replace

from bot.commands.answers import View, kr_row
from bot.i18n import t
from bot.i18n.formats import format_number, format_value
from bot.messages import Action, Form, FormField, Message, ProgressRow, Section
from bot.parsing import PromptKR
from bot.progress import HEALTHS
from storage.models import KeyResult, Objective

# action ids of the prompt's and the confirmation's buttons
NO_CHANGE = "checkin.no_change"
SKIP = "checkin.skip"
OPEN_FORM = "checkin.form"
UNDO = "checkin.undo"
FORM_ID = "checkin.form"


def prompt_krs(owned: list[tuple[KeyResult, Objective]]) -> list[PromptKR]:
    return [PromptKR.of(n, kr) for n, (kr, _) in enumerate(owned, 1)]


def example_answer(owned: list[tuple[KeyResult, Objective]], locale: str) -> str:
    """A one-line answer built from the member's own first key result."""
    if not owned:
        return "1: 6"
    kr = owned[0][0]
    if kr.type == "binary":
        word = t(locale, "done")
        return f"1: {word}"
    words = re.findall(r"[A-Za-zÆØÅæøå]{4,}", kr.unit or "") or sorted(
        re.findall(r"[A-Za-zÆØÅæøå]{4,}", kr.title)[:3], key=len, reverse=True
    )
    base = kr.current if kr.current is not None else kr.start or 0
    span = abs((kr.target or 0) - (kr.start or 0)) or 1
    step = _nice(span / 20)
    if kr.target is not None and kr.start is not None and kr.target < kr.start:
        step = -step
    value = format_number(base + step, locale)
    health = t(locale, "health.on_track")
    if words and kr.unit not in ("%",):
        return f"{words[0].lower()} {value}, {health}"
    return f"1: {value}, {health}"


def _nice(step: float) -> float:
    """A round step near the given one: 1, 2, 5, 10, 20, 50, ..."""
    magnitude = 1.0
    while magnitude * 10 <= step:
        magnitude *= 10
    for factor in (1, 2, 5, 10):
        if step <= factor * magnitude:
            return max(1.0, factor * magnitude)
    return magnitude * 10


def as_reminder(prompt: Message) -> Message:
    """The prompt again, as the week's one reminder."""
    extra = prompt.extra or {}
    if "week" not in extra:
        return prompt  # nothing to check in this week: the message says so
    return replace(
        prompt,
        title=t(extra.get("locale", "en"), "checkin.reminder_title", week=extra["week"]),
        extra={**(prompt.extra or {}), "kind": "reminder"},
    )


def prompt_message(owned: list[tuple[KeyResult, Objective]], week: str, view: View) -> Message:
    loc = view.locale
    if not owned:
        return Message(locale=loc, text=t(loc, "checkin.none"))
    rows = tuple(
        replace(kr_row(kr, objective, view), key=f"{n}. {kr.key}")
        for n, (kr, objective) in enumerate(owned, 1)
    )
    return Message(
        locale=loc,
        title=t(loc, "checkin.title", week=week),
        text=t(loc, "checkin.intro", example=example_answer(owned, loc)),
        sections=(Section(rows=rows),),
        context=(t(loc, "checkin.hint"),),
        actions=(
            Action(NO_CHANGE, t(loc, "checkin.button.no_change"), week),
            Action(SKIP, t(loc, "checkin.button.skip"), week),
            Action(OPEN_FORM, t(loc, "checkin.button.form"), week, style="primary"),
        ),
        extra={"kind": "prompt", "week": week, "locale": loc},
    )


def form_message(owned: list[tuple[KeyResult, Objective]], week: str, view: View) -> Message:
    loc = view.locale
    fields = []
    for kr, _ in owned:
        if kr.type == "binary":
            kind, value = "binary", ("1" if (kr.current or 0) >= 1 else "0")
            hint = t(loc, "form.hint.binary")
        else:
            kind = "number"
            value = (
                format_number(kr.current, loc, compact=False, decimals=6)
                if kr.current is not None
                else ""
            )
            hint = _target_hint(kr, loc)
        number = (1.0 if (kr.current or 0) >= 1 else 0.0) if kind == "binary" else kr.current
        fields.append(FormField(kr.key, kr.title, kind, value, kr.health, hint, number))
    return Message(
        locale=loc,
        title=t(loc, "form.title", week=week),
        form=Form(
            id=FORM_ID,
            title=t(loc, "form.title", week=week),
            fields=tuple(fields),
            submit=t(loc, "form.submit"),
            health_options=tuple((h, t(loc, f"health.{h}")) for h in HEALTHS),
        ),
        context=(t(loc, "form.console"),),
        extra={"kind": "form", "week": week},
    )


def _target_hint(kr: KeyResult, locale: str) -> str:
    if kr.type == "threshold":
        bound = kr.max if kr.max is not None else kr.min
        return t(locale, "form.hint.threshold", bound=format_value(bound, kr.unit, locale))
    return t(locale, "form.hint.target", target=format_value(kr.target, kr.unit, locale))


def confirmation(
    changed: list[tuple[KeyResult, Objective, float | None]], batch_id: str, view: View
) -> Message:
    """What was saved: each key result with its new value and progress, and Undo."""
    loc = view.locale
    rows: list[ProgressRow] = []
    for kr, objective, old in changed:
        row = kr_row(kr, objective, view)
        before = format_value(old, kr.unit, loc) if kr.type != "binary" else None
        note = t(loc, "confirm.was", value=before) if before and old != kr.current else ""
        rows.append(replace(row, note=note))
    return Message(
        locale=loc,
        title=t(loc, "checkin.saved"),
        sections=(Section(rows=tuple(rows)),),
        actions=(Action(UNDO, t(loc, "checkin.undo"), batch_id),),
        extra={"kind": "confirmation", "batch": batch_id},
    )

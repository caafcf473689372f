"""Teams' look of the neutral `Message`: Adaptive Cards as plain dicts (no botbuilder); a card
goes into an activity as `attachment(card)`. Pure functions: nothing talks to Teams.

Cards declare `CARD_VERSION` ("1.5", what Teams renders on desktop and mobile) and use only
elements of that version: `TextBlock`, `RichTextBlock`/`TextRun` (a row's bar line),
`Container`, `ColumnSet`/`Column`, `FactSet`, `ActionSet`, `Input.Number`/`.ChoiceSet`/`.Text`
and `Action.Submit`. Enumerated values are written exactly as the schema's enums spell them
(`bolder`, `medium`, `none`, but `associatedInputs: "None"`).

Buttons: every `Action` is an `Action.Submit` whose `data` is `{"okrbot": action.id, "value":
action.value}`; the form's Save button is `{"okrbot": "checkin.submit", "value": <week>}` (the
week of the form, "" when unknown). Teams merges the card's inputs into that data: a message
activity's `value` (Action.Submit), or `value["action"]["data"]` of an `invoke` named
`adaptiveCard/action`. `card_values` reads either back into `(action_id, action_value,
fields)`. The buttons other than Save do not carry the inputs (`associatedInputs: None`).

The check-in inputs are built in `adapters/teams/elements.py`; `card_values` returns them as
`Checkins.submit_form` takes them.

Teams' limit: one message (the whole activity) must stay under about 28 KB. `message_cards`
and `prompt_cards` therefore return one or more cards, each at most `CARD_BUDGET` bytes of JSON
(measured with non-ASCII characters escaped, the larger of the two encodings) so that the
activity around it fits; the caller sends one activity per card. The first card carries the
title; a continuation starts with a small "title · 2/3" line; the context lines and the buttons
come in the last card; every card with inputs has its own Save button (a partial form is fine:
`submit_form` only looks at the key results it is given). `message_card` / `prompt_card` build
one card whatever its size.

Text: the core's own; `fallback_text` is the plain rendering for a text-only activity; send it
with `textFormat: "plain"` (its indented lines would be code blocks as markdown). Teams shows
an activity's `text` above its card, so a card activity should carry no `text` (at most a short
`summary`).
"""

from __future__ import annotations

import json
import math
from collections.abc import Iterable, Sequence
from dataclasses import replace

from adapters.teams.elements import (  # noqa: F401 (re-exported)
    ACTIONS_LIMIT,
    CARD_BUDGET,
    CARD_VERSION,
    COMMENT,
    CONTENT_TYPE,
    DATA_KEY,
    ELLIPSIS,
    EM_SPACE,
    HEALTH,
    MARKER_LIMIT,
    MESSAGE_LIMIT,
    OPEN_FORM,
    SCHEMA_URL,
    SUBMIT,
    TEXT_LIMIT,
    VALUE,
    _container,
    _facts,
    _small,
    _text,
    _texts,
    clip,
    field_items,
    payload_size,
    row_items,
    split_text,
    submit_action,
)
from bot.messages import (
    Action,
    Form,
    FormField,
    Message,
    ProgressRow,
    Section,
    render_text,
)


# -- the body as units ----------------------------------------------------------------------------
def _head(message: Message) -> list[dict]:
    title = (message.title or "").strip()
    if not title:
        return []
    return [_text(title, weight="bolder", size="medium", style="heading")]


def _matches(row: ProgressRow, field: FormField) -> bool:
    """Whether a prompt's row ("1. MKT-1.1") shows the form's field ("MKT-1.1")."""
    return row.key == field.key or row.key.endswith(f" {field.key}")


def _section_units(
    section: Section,
    first: bool,
    error: bool,
    inline: list[FormField],
    form: Form | None,
    locale: str | None,
) -> list[list[dict]]:
    color = {"color": "attention"} if error else {}
    lead = _texts(section.title, weight="bolder", **color) + _texts(section.text, **color)
    if lead and not first:
        lead[0] = {**lead[0], "separator": True, "spacing": "medium"}
    body: list[list[dict]] = []
    for row in section.rows:
        items = row_items(row)
        field = next((f for f in inline if _matches(row, f)), None)
        if field is not None and form is not None:
            inline.remove(field)
            items += field_items(field, form, locale=locale, inline=True)
        body.append([_container(items, spacing="medium")])
    body += [[facts] for facts in _facts(section.fields)]
    units = [[block] for block in lead]
    if units and body:  # a section's title stays with its first row
        units[-1] += body.pop(0)
    return units + body


def _body_units(
    message: Message, form: Form | None, locale: str | None, *, inline: bool
) -> list[list[dict]]:
    """The body after the title, as units: element groups that stay together in one card."""
    color = {"color": "attention"} if message.error else {}
    units = [[block] for block in _texts(message.text, **color)]
    pending = list(form.fields) if form else []
    matching = pending if inline else []
    for n, section in enumerate(message.sections):
        first = n == 0 and not units
        units += _section_units(section, first, message.error, matching, form, locale)
    if form is not None and pending:
        title = (form.title or "").strip()
        if title and title != (message.title or "").strip():
            units.append([_text(title, weight="bolder", separator=bool(units))])
        for field in pending:
            separated = bool(units)
            items = field_items(field, form, locale=locale)
            units.append([_container(items, separator=separated, spacing="medium")])
    if message.form is None:  # a form message's context is the console's how-to
        units += [[_small(piece)] for line in message.context for piece in split_text(line)]
    return units


def _actions(message: Message, form: Form | None, week: str) -> tuple[Action | None, list[Action]]:
    """(the Save action when there is a form, the other buttons)."""
    save = Action(SUBMIT, form.submit, week, style="primary") if form else None
    others = [a for a in message.actions if not (form and a.id in (OPEN_FORM, SUBMIT))]
    return save, others


def _action_elements(save: Action | None, others: Sequence[Action]) -> list[dict]:
    elements = [submit_action(save)] if save else []
    return elements + [submit_action(a, with_inputs=save is None) for a in others]


# -- cards ----------------------------------------------------------------------------------------
def _card(body: list[dict], actions: list[dict]) -> dict:
    """A card with at most `ACTIONS_LIMIT` buttons in its action bar (the rest in ActionSets)."""
    body = list(body)
    extra = actions[ACTIONS_LIMIT:]
    for i in range(0, len(extra), ACTIONS_LIMIT):
        body.append({"type": "ActionSet", "actions": extra[i : i + ACTIONS_LIMIT]})
    if not body:
        body = [_text(ELLIPSIS)]  # never an empty card
    card = {
        "type": "AdaptiveCard",
        "$schema": SCHEMA_URL,
        "version": CARD_VERSION,
        "body": body,
    }
    if actions:
        card["actions"] = actions[:ACTIONS_LIMIT]
    return card


def _has_inputs(elements: Iterable[dict]) -> bool:
    for element in elements:
        if str(element.get("type", "")).startswith("Input."):
            return True
        children = element.get("items") or element.get("columns") or []
        if _has_inputs(children):
            return True
    return False


def _unit_size(unit: list[dict]) -> int:
    return sum(payload_size(e) + 2 for e in unit)  # each element and its ", " in the body


def _clip_strings(value: object, limit: int, key: str = "") -> object:
    if isinstance(value, dict):
        return {k: _clip_strings(v, limit, k) for k, v in value.items()}
    if isinstance(value, list):
        return [_clip_strings(v, limit, key) for v in value]
    if isinstance(value, str) and key in ("text", "label", "placeholder", "title"):
        return clip(value, limit)
    return value


def _shrink(unit: list[dict], room: int) -> list[dict]:
    """A unit too large for one card, with its texts clipped until it fits."""
    for limit in (1000, 500, 200, 100, 50, 20):
        clipped = [_clip_strings(e, limit) for e in unit]
        if _unit_size(clipped) <= room:
            return clipped  # type: ignore[return-value]
    return [_text(ELLIPSIS)]


def _pack(units: list[list[dict]], room: int) -> list[list[dict]]:
    chunks: list[list[dict]] = []
    current: list[dict] = []
    used = 0
    for unit in units:
        size = _unit_size(unit)
        if size > room:
            unit = _shrink(unit, room)
            size = _unit_size(unit)
        if current and used + size > room:
            chunks.append(current)
            current, used = [], 0
        if not current and unit[0].get("separator"):
            unit = [{k: v for k, v in unit[0].items() if k != "separator"}, *unit[1:]]
        current.extend(unit)
        used += size
    chunks.append(current)
    return chunks


def _marker(title: str, n: int, total: int) -> dict:
    title = clip(title.strip(), MARKER_LIMIT)
    return _small(f"{title} · {n}/{total}" if title else f"{n}/{total}")


def _cards(
    message: Message,
    form: Form | None,
    locale: str | None,
    *,
    inline: bool,
    split: bool,
) -> list[dict]:
    week = str(message.extra.get("week") or "")
    head = _head(message)
    units = _body_units(message, form, locale, inline=inline)
    save, others = _actions(message, form, week)
    if not split:
        body = head + [e for unit in units for e in unit]
        return [_card(body, _action_elements(save if _has_inputs(body) else None, others))]
    # room for the body: the budget less the card around it with every button and a marker
    frame = _card([_marker(message.title or "", 999, 999)], _action_elements(save, others))
    room = CARD_BUDGET - payload_size(frame)
    chunks = _pack([head, *units] if head else units, room)
    total = len(chunks)
    cards = []
    for n, chunk in enumerate(chunks, 1):
        body = list(chunk)
        if n > 1:
            body.insert(0, _marker(message.title or "", n, total))
        with_save = save if _has_inputs(body) else None
        buttons = _action_elements(with_save, others if n == total else [])
        cards.append(_card(body, buttons))
    return cards


# -- public ---------------------------------------------------------------------------------------
def message_cards(message: Message, *, locale: str | None = None) -> list[dict]:
    """A message as one or more Adaptive Cards, each small enough for one Teams message
    (`CARD_BUDGET`); the caller sends one activity per card, in order. A message with a form
    carries its inputs (see `message_card`)."""
    locale = locale or message.locale
    return _cards(message, message.form, locale, inline=False, split=True)


def message_card(message: Message, *, locale: str | None = None) -> dict:
    """An Adaptive Card for any `Message`, whatever its size (see `message_cards` for sending).

    The title is a bold medium heading; then the text; each section's title and text, its rows
    (`row_items`) and its fields as a `FactSet`; the context lines small and subtle; the buttons
    as `Action.Submit`. A message with a `form` (the check-in form) carries per key result the
    value, health and comment inputs and a Save button ("checkin.submit") before its other
    buttons ("Open form" is left out: the form is here); its context (the console's how-to) is
    left out. `locale` (the member's) reads the prefilled numbers and names the inputs; by
    default the message's own.
    """
    locale = locale or message.locale
    return _cards(message, message.form, locale, inline=False, split=False)[0]


def _prompt_message(prompt: Message, form: Message) -> tuple[Message, Form | None]:
    """The prompt with the week of either (for the Save button) and the form's inputs."""
    extra = {**form.extra, **prompt.extra}
    extra["week"] = prompt.extra.get("week") or form.extra.get("week") or ""
    return replace(prompt, form=None, extra=extra), form.form


def prompt_cards(prompt: Message, form: Message, *, locale: str | None = None) -> list[dict]:
    """`prompt_card` as one or more cards, each small enough for one Teams message."""
    message, inputs = _prompt_message(prompt, form)
    locale = locale or prompt.locale or form.locale
    return _cards(message, inputs, locale, inline=True, split=True)


def prompt_card(prompt: Message, form: Message, *, locale: str | None = None) -> dict:
    """The check-in prompt for Teams, in one card: the prompt's title, text and rows, each key
    result's row followed by its inputs from the form (value, health, comment), the prompt's
    hint, and the buttons Save, then the prompt's others but "Open form" (No change, Skip).
    Without a form (no key results) it is the prompt's own card."""
    message, inputs = _prompt_message(prompt, form)
    locale = locale or prompt.locale or form.locale
    return _cards(message, inputs, locale, inline=True, split=False)[0]


def _submitted_data(value: object) -> dict:
    """The data of a submitted card: a message activity's `value`, or an `adaptiveCard/action`
    invoke's `value["action"]["data"]`."""
    if not isinstance(value, dict):
        return {}
    action = value.get("action")
    if DATA_KEY not in value and isinstance(action, dict):
        data = action.get("data")
        if isinstance(data, dict):
            return data
    return value


def _input_text(raw: object, part: str) -> str | None:
    if raw is None or isinstance(raw, bool | dict | list):
        return None
    if isinstance(raw, int | float):
        if not math.isfinite(raw):
            return None
        text = repr(raw)
    else:
        text = str(raw)
    if not text.strip():
        return None
    return text


def card_values(value: dict | None) -> tuple[str | None, str, dict[str, dict]]:
    """A submitted card's `activity.value` as `(action_id, action_value, fields)`.

    `action_id` is the button's `Action.id` (None when the data is not one of our cards'),
    `action_value` its value ("" when none) and `fields` the check-in inputs as
    `Checkins.submit_form` takes them: `{"MKT-1.1": {"value": "6", "health": "on_track",
    "comment": None}}` (strings; None when empty). Numbers are written so that they read the
    same in every language ("4.1250", never "4.125", which is 4125 in Danish).
    """
    data = _submitted_data(value)
    named = data.get(DATA_KEY)
    action_id = named.strip() if isinstance(named, str) and named.strip() else None
    raw = data.get("value")
    action_value = "" if raw is None or isinstance(raw, dict | list) else str(raw)
    fields: dict[str, dict] = {}
    for name, raw_input in data.items():
        if not isinstance(name, str):
            continue
        key, sep, part = name.rpartition("|")
        if not sep or not key or part not in (VALUE, HEALTH, COMMENT):
            continue
        entry = fields.setdefault(key, {VALUE: None, HEALTH: None, COMMENT: None})
        entry[part] = _input_text(raw_input, part)
    return action_id, action_value, fields


def _fitting(text: str, budget: int) -> int:
    """How many leading characters of `text` fit in `budget` bytes as a JSON string."""
    used = 2  # the quotes
    for n, char in enumerate(text):
        used += len(json.dumps(char)) - 2
        if used > budget:
            return n
    return len(text)


def fallback_text(message: Message, limit: int = TEXT_LIMIT, *, budget: int = CARD_BUDGET) -> str:
    """The plain text of a message (`render_text`) for a text-only activity or a notification,
    cut cleanly (at a line, else a word) to at most `limit` characters and at most `budget`
    bytes as JSON (`payload_size`: bars and emoji count 6 to 12 bytes), so that the activity
    stays within Teams' 28 KB."""
    text = render_text(message).strip() or ELLIPSIS
    if len(text) <= limit and payload_size(text) <= budget:
        return text
    ellipsis = payload_size(ELLIPSIS) - 2  # its bytes, without quotes
    room = min(limit - len(ELLIPSIS), _fitting(text, budget - ellipsis))
    at = text.rfind("\n", 0, room + 1)
    if at < room // 2:
        at = text.rfind(" ", 0, room + 1)
    if at < room // 2:
        at = room
    return text[:at].rstrip() + ELLIPSIS


def attachment(card: dict) -> dict:
    """The activity attachment of a card."""
    return {"contentType": CONTENT_TYPE, "content": card}

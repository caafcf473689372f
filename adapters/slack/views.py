"""Slack's modal (the check-in form) and App Home views. Pure functions, plain dicts.

The check-in modal's inputs use `block_id` `"<kr>|value"`, `"<kr>|health"`, `"<kr>|comment"`
with action ids `value`, `health`, `comment`; `view_state_values` reads a submitted
`view["state"]["values"]` back into the fields `Checkins.submit_form` takes, and `form_errors`
maps its errors onto the value blocks for `response_action: errors`.
"""

from __future__ import annotations

import math
from collections.abc import Iterable
from decimal import Decimal

from adapters.slack.blocks import (
    COMMENT,
    ELLIPSIS,
    ERROR_LIMIT,
    FORM_CALLBACK,
    HEALTH,
    ID_LIMIT,
    LABEL_LIMIT,
    METADATA_LIMIT,
    OPEN_CHECKIN,
    OPTION_TEXT_LIMIT,
    PLACEHOLDER_LIMIT,
    SECTION_LIMIT,
    VALUE,
    VIEW_BLOCK_LIMIT,
    VIEW_TITLE_LIMIT,
    _actions,
    _bold,
    _content_units,
    _context,
    _header,
    _is_divider,
    _plain,
    _section,
    _sections,
    clip,
    escape,
)
from bot.i18n import t
from bot.messages import (
    Action,
    Form,
    FormField,
    Message,
)

_WORD_KEYS = ("close", "health", "comment", "mine", "checkin")


# -- public: the check-in modal -------------------------------------------------------------------
def _words(locale: str | None) -> dict[str, str]:
    """Words only Slack shows (modal close, input labels, the App Home)."""
    return {key: t(locale, f"slack.{key}") for key in _WORD_KEYS}


def plain_number(value: float) -> str | None:
    """A number as Slack's number input writes it: `4100`, `1.5`, `-0.25` (None if not finite)."""
    if not math.isfinite(value):
        return None
    text = format(Decimal(repr(float(value))), "f")
    if "." in text:
        text = text.rstrip("0").rstrip(".")
    return "0" if text in ("-0", "") else text


def _option(value: str, label: str) -> dict:
    return {"text": _plain(label, OPTION_TEXT_LIMIT), "value": value}


def _view_title(title: str) -> tuple[str, bool]:
    """A modal title of at most 24 characters, and whether it is shortened."""
    title = title.strip() or ELLIPSIS
    if len(title) <= VIEW_TITLE_LIMIT:
        return title, False
    first = title.split(" · ")[0].strip()
    if first and len(first) <= VIEW_TITLE_LIMIT:
        return first, True
    return clip(title, VIEW_TITLE_LIMIT), True


def _value_input(field: FormField, locale: str | None) -> dict:
    label = _plain(f"{field.key} {field.label}", LABEL_LIMIT)
    words = {"done": t(locale, "done"), "not_done": t(locale, "not_done")}
    if field.kind == "binary":
        options = [_option("1", words["done"]), _option("0", words["not_done"])]
        element: dict = {"type": "static_select", "action_id": VALUE, "options": options}
        chosen = field.value.strip().lower()
        if chosen in ("1", "done", words["done"].lower()):
            element["initial_option"] = options[0]
        elif chosen in ("0", "not done", words["not_done"].lower()):
            element["initial_option"] = options[1]
    else:
        element = {"type": "number_input", "action_id": VALUE, "is_decimal_allowed": True}
        initial = plain_number(field.number) if field.number is not None else None
        if initial is not None:
            element["initial_value"] = initial
        elif field.value.strip():  # shown, not prefilled: we could not read it for sure
            element["placeholder"] = _plain(field.value, PLACEHOLDER_LIMIT)
    block = {
        "type": "input",
        "block_id": clip(f"{field.key}|{VALUE}", ID_LIMIT),
        "optional": True,  # empty = unchanged
        "label": label,
        "element": element,
    }
    if field.hint.strip():
        block["hint"] = _plain(field.hint, LABEL_LIMIT)
    return block


def _health_input(field: FormField, form: Form, words: dict[str, str]) -> dict | None:
    if not form.health_options:
        return None
    options = [_option(value, label) for value, label in form.health_options[:100]]
    element: dict = {
        "type": "static_select",
        "action_id": HEALTH,
        "placeholder": _plain(words["health"], PLACEHOLDER_LIMIT),
        "options": options,
    }
    chosen = [o for o in options if o["value"] == field.health]
    if chosen:
        element["initial_option"] = chosen[0]
    return {
        "type": "input",
        "block_id": clip(f"{field.key}|{HEALTH}", ID_LIMIT),
        "optional": True,
        "label": _plain(words["health"], LABEL_LIMIT),
        "element": element,
    }


def _comment_input(field: FormField, words: dict[str, str]) -> dict:
    return {
        "type": "input",
        "block_id": clip(f"{field.key}|{COMMENT}", ID_LIMIT),
        "optional": True,
        "label": _plain(words["comment"], LABEL_LIMIT),
        "element": {
            "type": "plain_text_input",
            "action_id": COMMENT,
            "multiline": False,
            "max_length": SECTION_LIMIT,
        },
    }


def _fit(blocks: list[dict], limit: int) -> list[dict]:
    """At most `limit` blocks: the rest replaced by a "…" context."""
    if len(blocks) <= limit:
        return blocks
    kept = blocks[: max(0, limit - 1)]
    while kept and _is_divider(kept[-1]):
        kept.pop()
    return [*kept, *_context([ELLIPSIS])][:limit]


def form_view(
    message: Message,
    *,
    callback_id: str = FORM_CALLBACK,
    private_metadata: str = "",
    locale: str | None = None,
) -> dict:
    """The check-in modal of `message.form`: per key result an input for the value (a number, or
    done / not done), an optional health and an optional comment.

    `locale` (the member's; by default the message's own) reads the prefilled values ("4.100" is
    4100 in Danish); without either, a value whose meaning would depend on the language is
    shown as a placeholder instead of being prefilled (empty = unchanged).
    """
    form = message.form
    if form is None:
        raise ValueError("form_view needs a message with a form")
    if len(private_metadata) > METADATA_LIMIT:
        raise ValueError(f"private_metadata longer than {METADATA_LIMIT} characters")
    locale = locale or message.locale
    words = _words(locale)
    title, shortened = _view_title(form.title or message.title or "")
    intro: list[dict] = []
    if shortened:
        intro += _sections(_bold(form.title or message.title or ""))
    if message.text:
        intro += _sections(escape(message.text))

    def layout(with_comment: bool, with_divider: bool) -> list[list[dict]]:
        groups = []
        for field in form.fields:
            group = [_value_input(field, locale)]
            health = _health_input(field, form, words)
            if health:
                group.append(health)
            if with_comment:
                group.append(_comment_input(field, words))
            if with_divider and groups:
                group.insert(0, {"type": "divider"})
            groups.append(group)
        return groups

    room = VIEW_BLOCK_LIMIT - len(intro)
    for with_comment, with_divider in ((True, True), (True, False), (False, False)):
        groups = layout(with_comment, with_divider)
        if sum(len(g) for g in groups) <= room:
            break
    blocks = list(intro)
    if not groups and not blocks:
        blocks = [_section(ELLIPSIS)]
    for group in groups:  # too many key results even so: the first ones, then "…"
        if len(blocks) + len(group) > VIEW_BLOCK_LIMIT - 1:
            blocks += _context([ELLIPSIS])
            break
        blocks += group
    return {
        "type": "modal",
        "callback_id": clip(callback_id, ID_LIMIT),
        "private_metadata": private_metadata,
        "title": _plain(title, VIEW_TITLE_LIMIT),
        "submit": _plain(form.submit, VIEW_TITLE_LIMIT),
        "close": _plain(words["close"], VIEW_TITLE_LIMIT),
        "blocks": blocks,
    }


def _state_value(element: dict) -> str | None:
    kind = element.get("type")
    if kind in ("static_select", "radio_buttons", "external_select"):
        chosen = element.get("selected_option") or {}
        value = chosen.get("value")
    else:
        value = element.get("value")
    if value is None or not str(value).strip():
        return None
    value = str(value)
    return value


def view_state_values(view_state: dict) -> dict[str, dict]:
    """A submitted modal's `view["state"]["values"]` as the fields `Checkins.submit_form` takes:
    `{"MKT-1.1": {"value": "6", "health": "on_track", "comment": None}}` (strings; None when
    empty). Blocks that are not the check-in form's are ignored."""
    out: dict[str, dict] = {}
    for block_id, actions in (view_state or {}).items():
        key, sep, part = block_id.rpartition("|")
        if not sep or not key or part not in (VALUE, HEALTH, COMMENT):
            continue
        element = (actions or {}).get(part)
        if element is None and actions:
            element = next(iter(actions.values()))
        fields = out.setdefault(key, {VALUE: None, HEALTH: None, COMMENT: None})
        fields[part] = _state_value(element or {})
    return out


def form_errors(errors: dict[str, str]) -> dict[str, str]:
    """`{kr: message}` from `submit_form` as `{block_id: message}` for `response_action: errors`
    (on each key result's value input)."""
    return {
        clip(f"{key}|{VALUE}", ID_LIMIT): clip(text, ERROR_LIMIT) for key, text in errors.items()
    }


# -- public: the App Home -------------------------------------------------------------------------
def _body(message: Message, taken: Iterable[str] = ()) -> list[dict]:
    units = _content_units(message)
    blocks = [block for unit in units for block in unit]
    blocks += _context(message.context)
    blocks += _actions(message.actions, taken)
    while blocks and _is_divider(blocks[0]):
        blocks.pop(0)
    return blocks


def _ids(blocks: list[dict]) -> list[str]:
    return [
        element["action_id"]
        for block in blocks
        for element in block.get("elements", [])
        if "action_id" in element
    ]


def home_view(mine: Message, team: Message | None, *, locale: str | None = None) -> dict:
    """The App Home: "My key results" with a "Check in now" button (`checkin.open`), then the
    person's team's progress. `locale` picks the words; by default the messages' own (English when
    they carry none)."""
    words = _words(locale or mine.locale)
    checkin = Action(OPEN_CHECKIN, words["checkin"], style="primary")
    top = [_header(words["mine"]), *_actions([checkin])]
    mine_blocks = _body(mine, _ids(top))
    team_blocks: list[dict] = []
    if team is not None:
        team_head = [_header(team.title)] if team.title and team.title.strip() else []
        team_blocks = [{"type": "divider"}, *team_head]
        team_blocks += _body(team, _ids(top) + _ids(mine_blocks))
    room = VIEW_BLOCK_LIMIT - len(top)
    if len(mine_blocks) + len(team_blocks) > room:
        mine_room = min(len(mine_blocks), max(room // 2, room - len(team_blocks)))
        mine_blocks = _fit(mine_blocks, mine_room)
        team_blocks = _fit(team_blocks, room - len(mine_blocks))
        while team_blocks and (_is_divider(team_blocks[-1]) or team_blocks[-1]["type"] == "header"):
            team_blocks.pop()
    return {"type": "home", "blocks": [*top, *mine_blocks, *team_blocks]}

"""The pieces Teams' Adaptive Cards are made of: limits, text blocks, progress rows, buttons and
the check-in inputs (`"<kr>|value"`, `"<kr>|health"`, `"<kr>|comment"`). Pure, plain dicts."""

from __future__ import annotations

import json
import math
from collections.abc import Sequence

from bot.i18n import t
from bot.messages import (
    HEALTH_EMOJI,
    Action,
    Form,
    FormField,
    ProgressRow,
    progress_bar,
)
from bot.messages import split_text as split_lines

CARD_VERSION = "1.5"
SCHEMA_URL = "http://adaptivecards.io/schemas/adaptive-card.json"
CONTENT_TYPE = "application/vnd.microsoft.card.adaptive"

# -- Teams' limits --------------------------------------------------------------------------------
MESSAGE_LIMIT = 28_000  # bytes of one message (activity) Teams accepts, about 28 KB
CARD_BUDGET = 24_000  # bytes of one card's JSON: the rest is for the activity around it
TEXT_LIMIT = 28_000  # characters of a text-only activity's text (and at most CARD_BUDGET bytes)
PIECE_LIMIT = 1_500  # characters of one TextBlock of free text (longer text: split at lines)
ACTIONS_LIMIT = 6  # buttons in a card's action bar (and in one ActionSet)
COMMENT_LIMIT = 3_000  # characters of a comment input
MARKER_LIMIT = 100  # characters of the title in a continuation's "title · 2/3"

DATA_KEY = "okrbot"  # the key of an Action.Submit's data that names the action
SUBMIT = "checkin.submit"  # the check-in form's Save button
OPEN_FORM = "checkin.form"  # the prompt's "Open form" button: not shown where the form is
VALUE, HEALTH, COMMENT = "value", "health", "comment"  # the parts of an input's id
ELLIPSIS = "…"
EM_SPACE = "\u2003"  # one level of indentation in trees


# -- text helpers ---------------------------------------------------------------------------------
def payload_size(value: object) -> int:
    """Bytes of `value` as JSON with non-ASCII characters escaped: an upper bound of its size in
    any encoding a client sends (an escaped character is never shorter than its UTF-8)."""
    return len(json.dumps(value))


def clip(text: str, limit: int) -> str:
    """At most `limit` characters, cut at a word boundary when one is near, ending in "…"."""
    if len(text) <= limit:
        return text
    at = limit - len(ELLIPSIS)
    space = max(text.rfind(" ", 0, at + 1), text.rfind("\n", 0, at + 1))
    if space >= at * 0.7:
        at = space
    return text[:at].rstrip() + ELLIPSIS


def split_text(text: str, limit: int = PIECE_LIMIT) -> list[str]:
    return split_lines(text, limit)


def _text(text: str, **style: object) -> dict:
    return {"type": "TextBlock", "text": text, "wrap": True, **style}


def _texts(text: str | None, **style: object) -> list[dict]:
    return [_text(piece, **style) for piece in split_text(text or "")]


def _small(text: str, **style: object) -> dict:
    return _text(text, isSubtle=True, size="small", **style)


# -- the words only Teams shows -------------------------------------------------------------------
def _words(locale: str | None) -> dict[str, str]:
    """The inputs' labels (the catalogues' words for the chat forms) and done / not done."""
    return {
        HEALTH: t(locale, "slack.health"),
        COMMENT: t(locale, "slack.comment"),
        "done": t(locale, "done"),
        "not_done": t(locale, "not_done"),
    }


# -- numbers --------------------------------------------------------------------------------------
# -- rows, sections, buttons ----------------------------------------------------------------------
def row_items(row: ProgressRow) -> list[dict]:
    """One key result (or objective): key and title in bold; one line of text runs with the
    progress bar (monospace), the percent (bold), the value, the health and ⚠; the note (owner,
    last update) small and subtle below, or, for a row without a value (an objective in a
    tree), subtle at the end of the bar's line."""
    indent = EM_SPACE * row.level
    head = f"{row.key} {row.title}".strip() or ELLIPSIS
    parts = [row.value] if row.value else []
    if row.health:
        label = row.health_label or row.health
        parts.append(f"{HEALTH_EMOJI.get(row.health, '')} {label}".strip())
    if row.at_risk and row.health not in ("at_risk", "off_track"):
        parts.append("⚠")
    runs = [
        _run(f"{indent}{progress_bar(row.progress)}", fontType="monospace"),
        _run(f" {row.percent or '–'}", weight="bolder"),
    ]
    if parts:
        runs.append(_run("  " + "  ".join(parts)))
    note_inline = bool(row.note) and not row.value
    if note_inline:
        runs.append(_run(f"  · {row.note}", isSubtle=True))
    items = [
        _text(f"{indent}{head}", weight="bolder"),
        {"type": "RichTextBlock", "inlines": runs, "spacing": "small"},
    ]
    if row.note and not note_inline:
        items.append(_small(f"{indent}{row.note}", spacing="none"))
    return items


def _run(text: str, **style: object) -> dict:
    return {"type": "TextRun", "text": text, **style}


def _column(items: list[dict], width: str = "auto") -> dict:
    return {"type": "Column", "width": width, "items": items}


def _container(items: list[dict], **style: object) -> dict:
    return {"type": "Container", "items": items, **style}


def _facts(fields: Sequence[tuple[str, str]]) -> list[dict]:
    facts = [{"title": label, "value": value} for label, value in fields]
    return [{"type": "FactSet", "facts": facts[i : i + 10]} for i in range(0, len(facts), 10)]


def submit_action(action: Action, *, with_inputs: bool = True) -> dict:
    """An `Action.Submit` for an `Action`: data `{"okrbot": id, "value": value}`. Without
    `with_inputs` it does not send (nor validate) the card's inputs."""
    element: dict = {
        "type": "Action.Submit",
        "title": action.label.strip() or ELLIPSIS,
        "data": {DATA_KEY: action.id, "value": action.value},
    }
    style = {"primary": "positive", "danger": "destructive"}.get(action.style or "")
    if style:
        element["style"] = style
    if not with_inputs:
        element["associatedInputs"] = "None"
    return element


# -- the check-in inputs --------------------------------------------------------------------------
def _value_input(field: FormField, label: str, locale: str | None, words: dict) -> dict:
    element: dict
    if field.kind == "binary":
        element = {
            "type": "Input.ChoiceSet",
            "id": f"{field.key}|{VALUE}",
            "label": label,
            "style": "compact",
            "isRequired": False,
            "choices": [
                {"title": words["done"], "value": "1"},
                {"title": words["not_done"], "value": "0"},
            ],
        }
        chosen = field.value.strip().lower()
        if chosen in ("1", "done", words["done"].lower()):
            element["value"] = "1"
        elif chosen in ("0", "not done", words["not_done"].lower()):
            element["value"] = "0"
        return element
    element = {"type": "Input.Number", "id": f"{field.key}|{VALUE}", "label": label}
    element["isRequired"] = False
    number = None
    if field.number is not None and math.isfinite(field.number):
        number = int(field.number) if float(field.number).is_integer() else field.number
    if number is not None:
        element["value"] = number
    elif field.value.strip():  # shown, not prefilled: we could not read it for sure
        element["placeholder"] = field.value.strip()
    elif field.hint.strip():
        element["placeholder"] = field.hint.strip()
    return element


def _health_input(field: FormField, form: Form, words: dict) -> dict | None:
    if not form.health_options:
        return None
    element = {
        "type": "Input.ChoiceSet",
        "id": f"{field.key}|{HEALTH}",
        "label": words[HEALTH],
        "placeholder": words[HEALTH],
        "style": "compact",
        "isRequired": False,
        "choices": [{"title": label, "value": value} for value, label in form.health_options],
    }
    if field.health in {value for value, _ in form.health_options}:
        element["value"] = field.health
    return element


def _comment_input(field: FormField, words: dict) -> dict:
    return {
        "type": "Input.Text",
        "id": f"{field.key}|{COMMENT}",
        "label": words[COMMENT],
        "isRequired": False,
        "maxLength": COMMENT_LIMIT,
    }


def field_items(
    field: FormField, form: Form, *, locale: str | None = None, inline: bool = False
) -> list[dict]:
    """The inputs of one key result: its value (with the hint below a number), then health and
    comment side by side. `inline` (under the key result's own row, which names it) labels the
    value with the key and the hint instead of the key and the title."""
    words = _words(locale)
    hint = field.hint.strip()
    if inline:
        label = f"{field.key} · {hint}" if hint and field.kind != "binary" else field.key
    else:
        label = f"{field.key} {field.label}".strip()
    items = [_value_input(field, label, locale, words)]
    if hint and not inline and field.kind != "binary":
        items.append(_small(hint, spacing="none"))
    health = _health_input(field, form, words)
    comment = _comment_input(field, words)
    if health:
        columns = [_column([health], "stretch"), _column([comment], "stretch")]
        items.append({"type": "ColumnSet", "columns": columns})
    else:
        items.append(comment)
    return items

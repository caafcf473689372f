"""Slack's look of the neutral `Message`: Block Kit blocks, modals and the App Home. Pure functions.

Everything here is plain dicts, ready for `chat.postMessage(blocks=..., text=...)`,
`views.open(view=...)` and `views.publish(view=...)`; nothing talks to Slack.

Slack's limits are kept by construction: a section's text at most 3,000 characters (longer text
is split at line boundaries over several sections), 10 fields per section, 10 context elements,
25 elements per actions block, 150 characters of header, 75 of button text, 50 blocks per message
(a longer answer becomes several messages: `message_blocks` returns one block list per message;
the caller posts the first and threads or follows with the rest) and 100 blocks per modal or home.

Buttons: `action_id` is the `Action.id` (`checkin.undo`, ...). Slack requires action ids to be
unique within a message, so when one message carries several buttons with the same id they are
numbered `checkin.undo:1`, `checkin.undo:2`, ...: handlers take `action_name(action_id)` (or
`action_id.split(":")[0]`) to get the id back; the button's `value` is the `Action.value`.

The check-in modal's inputs use `block_id` `"<kr>|value"`, `"<kr>|health"`, `"<kr>|comment"`
with action ids `value`, `health`, `comment`; `view_state_values` reads a submitted
`view["state"]["values"]` back into the fields `Checkins.submit_form` takes, and `form_errors`
maps its errors onto the value blocks for `response_action: errors`.

mrkdwn text is escaped (`&`, `<`, `>`, as Slack requires); the only markup added here is our own
`*bold*` for keys and titles. Text the core wrote with backticks stays code.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Sequence

from bot.messages import (
    HEALTH_EMOJI,
    Action,
    Form,
    Message,
    ProgressRow,
    Section,
    progress_bar,
    render_text,
)
from bot.messages import split_text as split_lines

# -- Slack's limits -------------------------------------------------------------------------------
SECTION_LIMIT = 3000  # characters of a section's text
BLOCK_LIMIT = 50  # blocks per message
TEXT_LIMIT = 40000  # characters of text per message (all its blocks together)
VIEW_BLOCK_LIMIT = 100  # blocks per modal or home view
FALLBACK_LIMIT = 3000  # characters of a message's notification `text`, as we send it
HEADER_LIMIT = 150
BUTTON_TEXT_LIMIT = 75
BUTTON_VALUE_LIMIT = 2000
FIELD_LIMIT = 2000  # characters of one section field
FIELDS_PER_SECTION = 10
CONTEXT_ELEMENTS = 10
ACTIONS_PER_BLOCK = 25
ID_LIMIT = 255  # action_id, block_id, callback_id
VIEW_TITLE_LIMIT = 24  # modal title, submit and close
OPTION_TEXT_LIMIT = 75
LABEL_LIMIT = 2000  # input label and hint
PLACEHOLDER_LIMIT = 150
METADATA_LIMIT = 3000  # a view's private_metadata
ERROR_LIMIT = 2000  # our cap on one `response_action: errors` message

ELLIPSIS = "…"
OPEN_CHECKIN = "checkin.open"  # the App Home's "Check in now" button
FORM_CALLBACK = "checkin.form"
VALUE, HEALTH, COMMENT = "value", "health", "comment"  # the modal's action ids


# -- text helpers ---------------------------------------------------------------------------------
def escape(text: str) -> str:
    """Slack's mrkdwn escaping: `&`, `<` and `>` only."""
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def action_name(action_id: str) -> str:
    """The `Action.id` of a button's `action_id` (without the `:n` of a repeated id)."""
    name, sep, n = action_id.rpartition(":")
    return name if sep and n.isdigit() else action_id


def _safe_cut(text: str, at: int) -> int:
    """`at`, moved back so that it does not fall inside an `&amp;`-style entity."""
    amp = text.rfind("&", max(0, at - 5), at)
    if amp != -1 and ";" not in text[amp:at] and text.find(";", at) in range(at, amp + 6):
        return amp
    return at


def clip(text: str, limit: int) -> str:
    """At most `limit` characters, cut at a word boundary when one is near, ending in "…"."""
    if len(text) <= limit:
        return text
    at = _safe_cut(text, limit - len(ELLIPSIS))
    space = max(text.rfind(" ", 0, at + 1), text.rfind("\n", 0, at + 1))
    if space >= at * 0.7:
        at = space
    return text[:at].rstrip() + ELLIPSIS


def split_text(text: str, limit: int = SECTION_LIMIT) -> list[str]:
    """Pieces of at most `limit` characters, never cutting inside an `&amp;`-style entity."""
    return split_lines(text, limit, _safe_cut)


def _bold(text: str) -> str:
    """`*text*` for mrkdwn (escaped); Slack needs the asterisks to touch the words."""
    text = text.strip()
    return f"*{escape(text)}*" if text else ""


def _plain(text: str, limit: int) -> dict:
    return {"type": "plain_text", "text": clip(text.strip() or ELLIPSIS, limit), "emoji": True}


def _mrkdwn(text: str) -> dict:
    return {"type": "mrkdwn", "text": text}


def _section(text: str) -> dict:
    return {"type": "section", "text": _mrkdwn(text)}


def _sections(mrkdwn: str) -> list[dict]:
    return [_section(piece) for piece in split_text(mrkdwn, SECTION_LIMIT)]


def _context(lines: Iterable[str]) -> list[dict]:
    """Context blocks of at most 10 elements, each an escaped line of at most 3,000 chars."""
    elements = [_mrkdwn(piece) for line in lines for piece in split_text(escape(line))]
    return [
        {"type": "context", "elements": elements[i : i + CONTEXT_ELEMENTS]}
        for i in range(0, len(elements), CONTEXT_ELEMENTS)
    ]


def _header(title: str) -> dict:
    return {"type": "header", "text": _plain(title, HEADER_LIMIT)}


def _text_chars(block: dict) -> int:
    """How many characters of text a block carries (for the per-message budget)."""
    total = 0
    for key, value in block.items():
        if key == "text" and isinstance(value, str):
            total += len(value)
        elif isinstance(value, dict):
            total += _text_chars(value)
        elif isinstance(value, list):
            total += sum(_text_chars(v) for v in value if isinstance(v, dict))
    return total


# -- rows, sections, buttons ----------------------------------------------------------------------
def row_text(row: ProgressRow) -> str:
    """One key result (or objective) as mrkdwn: bold key and title, then bar, percent, value,
    health and ⚠; the note (owner and last update) on its own line."""
    indent = "\u2003" * row.level
    head = " ".join(p for p in (_bold(row.key), escape(row.title.strip())) if p)
    line = f"{progress_bar(row.progress)} {escape(row.percent)}"
    if row.value:
        line += f"  {escape(row.value)}"
    if row.health:
        label = row.health_label or row.health
        line += f"  {HEALTH_EMOJI.get(row.health, '')} {escape(label)}".rstrip()
    if row.at_risk and row.health not in ("at_risk", "off_track"):
        line += "  ⚠"
    if row.note and not row.value:  # objective rows: the note (a team name) fits on the bar line
        return f"{indent}{head}\n{indent}{line}  · {escape(row.note)}"
    text = f"{indent}{head}\n{indent}{line}"
    if row.note:
        text += f"\n{indent}{escape(row.note)}"
    return text


def _field_sections(fields: Sequence[tuple[str, str]]) -> list[dict]:
    cells = [
        _mrkdwn(clip(f"{_bold(label)}\n{escape(value)}".strip(), FIELD_LIMIT))
        for label, value in fields
    ]
    return [
        {"type": "section", "fields": cells[i : i + FIELDS_PER_SECTION]}
        for i in range(0, len(cells), FIELDS_PER_SECTION)
    ]


def _form_text(form: Form) -> str:
    lines = [_bold(form.title)]
    for n, f in enumerate(form.fields, 1):
        current = f" = {escape(f.value)}" if f.value else ""
        health = f" {HEALTH_EMOJI.get(f.health, '')}" if f.health else ""
        hint = f"  _{escape(f.hint)}_" if f.hint else ""
        lines.append(f"{n}. {_bold(f.key)} {escape(f.label)}{current}{health}{hint}")
    return "\n".join(lines)


def button(action: Action, action_id: str | None = None) -> dict:
    """A button for an `Action` (its value must fit Slack's 2,000 characters)."""
    if len(action.value) > BUTTON_VALUE_LIMIT:
        raise ValueError(f"button {action.id!r}: value longer than {BUTTON_VALUE_LIMIT} characters")
    element = {
        "type": "button",
        "text": _plain(action.label, BUTTON_TEXT_LIMIT),
        "action_id": clip(action_id or action.id, ID_LIMIT),
    }
    if action.value:
        element["value"] = action.value
    if action.style in ("primary", "danger"):
        element["style"] = action.style
    return element


def _action_ids(actions: Sequence[Action], taken: Iterable[str] = ()) -> list[str]:
    """Each action's `action_id`: its id, or `id:n` when the id occurs more than once."""
    counts = Counter([a.id for a in actions] + list(taken))
    seen: Counter[str] = Counter()
    ids = []
    for action in actions:
        if counts[action.id] > 1:
            seen[action.id] += 1
            ids.append(f"{action.id}:{seen[action.id]}")
        else:
            ids.append(action.id)
    return ids


def _actions(actions: Sequence[Action], taken: Iterable[str] = ()) -> list[dict]:
    elements = [button(a, i) for a, i in zip(actions, _action_ids(actions, taken), strict=True)]
    return [
        {"type": "actions", "elements": elements[i : i + ACTIONS_PER_BLOCK]}
        for i in range(0, len(elements), ACTIONS_PER_BLOCK)
    ]


def _is_divider(block: dict) -> bool:
    return block["type"] == "divider"


def _content_units(message: Message) -> list[list[dict]]:
    """The body as units: block groups that stay together in one message when they can (a
    section's title stays with its first row)."""
    units: list[list[dict]] = []
    if message.text:
        units.extend([block] for block in _sections(escape(message.text)))
    for n, section in enumerate(message.sections):
        if n > 0 or units:
            units.append([{"type": "divider"}])
        units.extend(_section_units(section))
    if message.form:
        units.extend([block] for block in _sections(_form_text(message.form)))
    return units


def _section_units(section: Section) -> list[list[dict]]:
    lead = []
    head = "\n".join(
        p for p in (_bold(section.title or ""), escape(section.text or "").strip()) if p
    )
    if head:
        lead = _sections(head)
    body = [[block] for row in section.rows for block in _sections(row_text(row))]
    body += [[block] for block in _field_sections(section.fields)]
    if not body:
        return [[block] for block in lead]
    if lead:
        *alone, last = lead
        units = [[block] for block in alone]
        units.append([last, *body[0]])
        return units + body[1:]
    return body


def _tail_units(message: Message) -> list[list[dict]]:
    return [[block] for block in _context(message.context)] + [
        [block] for block in _actions(message.actions)
    ]


def _pack(units: list[list[dict]], max_blocks: int, max_chars: int) -> list[list[dict]]:
    chunks: list[list[dict]] = []
    current: list[dict] = []
    chars = 0
    for unit in units:
        size = sum(_text_chars(b) for b in unit)
        if current and (len(current) + len(unit) > max_blocks or chars + size > max_chars):
            chunks.append(current)
            current, chars = [], 0
        if not current and all(_is_divider(b) for b in unit):
            continue  # no message starts with a divider
        current.extend(unit)
        chars += size
    chunks.append(current)
    for chunk in chunks:
        while chunk and _is_divider(chunk[-1]):
            chunk.pop()
    return [chunk for chunk in chunks if chunk] or [[]]


# -- public: messages -----------------------------------------------------------------------------
def message_blocks(message: Message) -> list[list[dict]]:
    """Block Kit blocks for a message, as one or more messages' worth.

    Each list is one Slack message within the limits (≤ 50 blocks, ≤ 40,000 characters of text,
    every block within its own limits). The first carries the header; a continuation starts with
    a small "title · 2/3" context; the context lines and buttons come last, in the last one.
    """
    header = [_header(message.title)] if message.title and message.title.strip() else []
    units = _content_units(message) + _tail_units(message)
    budget = TEXT_LIMIT - 1000  # room for the header or the "2/3" context
    chunks = _pack(units, BLOCK_LIMIT - 1, budget)  # one block spare: header or "2/3"
    if not chunks[0] and not header:
        chunks[0] = [_section(escape(ELLIPSIS))]  # never an empty message
    total = len(chunks)
    out = [header + chunks[0]]
    for n, chunk in enumerate(chunks[1:], 2):
        marker = f"{message.title.strip()} · {n}/{total}" if header else f"{n}/{total}"
        out.append([*_context([clip(marker, 200)]), *chunk])
    return out


def fallback_text(message: Message, limit: int = FALLBACK_LIMIT) -> str:
    """The notification (and screen-reader) `text` of a message: its plain rendering, escaped for
    mrkdwn and cut cleanly (at a line, else a word) to at most `limit` characters."""
    text = escape(render_text(message).strip()) or ELLIPSIS
    if len(text) <= limit:
        return text
    room = limit - len(ELLIPSIS)
    at = text.rfind("\n", 0, room + 1)
    if at < room // 2:
        at = text.rfind(" ", 0, room + 1)
    if at < room // 2:
        at = _safe_cut(text, room)
    return text[:at].rstrip() + ELLIPSIS

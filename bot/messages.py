"""The neutral message model every answer is built from, and its plain-text rendering.

The core fills in already-localised strings; adapters decide the look (Block Kit, Adaptive
Card, terminal). `render_text` is the plain rendering: the console uses it and the other
platforms use it as their fallback text.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

HEALTH_EMOJI = {"on_track": "🟢", "at_risk": "🟡", "off_track": "🔴"}
BAR_WIDTH = 10


@dataclass(frozen=True)
class ProgressRow:
    """One key result or objective with a progress bar."""

    key: str
    title: str
    progress: float | None  # 0..1, drawn as a bar; None = no bar
    percent: str  # "42%" (localised)
    value: str = ""  # "5 / 12 campaigns"
    health: str | None = None  # on_track | at_risk | off_track
    health_label: str | None = None  # localised name of the health
    note: str = ""  # "Anna Holm, 3 days ago"
    at_risk: bool = False
    level: int = 0  # nesting depth in trees


@dataclass(frozen=True)
class Section:
    title: str | None = None
    text: str | None = None
    rows: tuple[ProgressRow, ...] = ()
    fields: tuple[tuple[str, str], ...] = ()  # (label, value) facts


@dataclass(frozen=True)
class Action:
    """A button. `id` names what it does; `value` carries what the handler needs."""

    id: str
    label: str
    value: str = ""
    style: str | None = None  # primary | danger


@dataclass(frozen=True)
class FormField:
    """One key result in a check-in form: its value, health and comment."""

    key: str  # the key result's id
    label: str
    kind: str  # number | binary
    value: str = ""  # prefilled, as the member would type it (in their language)
    health: str | None = None
    hint: str = ""  # e.g. "target 12 campaigns"
    number: float | None = None  # the same value as a number, for platforms' number inputs


@dataclass(frozen=True)
class Form:
    id: str
    title: str
    fields: tuple[FormField, ...]
    submit: str
    health_options: tuple[tuple[str, str], ...] = ()  # (value, label)


@dataclass(frozen=True)
class Message:
    title: str | None = None
    text: str | None = None
    sections: tuple[Section, ...] = ()
    context: tuple[str, ...] = ()
    actions: tuple[Action, ...] = ()
    ephemeral: bool = True  # only the asker sees it (Slack ephemeral); False = shared
    error: bool = False
    form: Form | None = None
    extra: dict = field(default_factory=dict, compare=False)
    locale: str | None = None  # the language it is written in (en | da): adapters never guess


def split_text(text: str, limit: int, cut: Callable[[str, int], int] | None = None) -> list[str]:
    """Pieces of at most `limit` characters for platforms that cap a text block: split at line
    boundaries, a longer line at a space (else at `cut(line, limit)`, or anywhere). Blank
    pieces are dropped."""
    pieces: list[str] = []
    current = ""
    for line in text.split("\n"):
        candidate = f"{current}\n{line}" if current else line
        if len(candidate) <= limit:
            current = candidate
            continue
        if current:
            pieces.append(current)
        while len(line) > limit:
            at = line.rfind(" ", 0, limit + 1)
            if at < limit // 2:
                at = (cut(line, limit) if cut else limit) or limit
            pieces.append(line[:at].rstrip())
            line = line[at:].lstrip(" ")
        current = line
    pieces.append(current)
    return [p for p in (piece.strip("\n") for piece in pieces) if p.strip()]


def progress_bar(progress: float | None, width: int = BAR_WIDTH) -> str:
    if progress is None:
        return "·" * width
    filled = round(max(0.0, min(1.0, progress)) * width)
    return "█" * filled + "░" * (width - filled)


def render_row(row: ProgressRow) -> list[str]:
    indent = "  " * row.level
    head = f"{indent}{row.key} {row.title}".rstrip()
    line = f"{progress_bar(row.progress)} {row.percent:>4}"
    if row.value:
        line += f"  {row.value}"
    if row.health:
        line += f"  {HEALTH_EMOJI.get(row.health, '')} {row.health_label or row.health}"
    if row.at_risk and row.health not in ("at_risk", "off_track"):
        line += "  ⚠"
    if row.note and not row.value:  # objective rows: the note (a team name) fits on the bar line
        return [head, f"{indent}  {line}  · {row.note}"]
    lines = [head, f"{indent}  {line}"]
    if row.note:
        lines.append(f"{indent}  {row.note}")
    return lines


def render_text(message: Message) -> str:
    """Readable plain text: the console's output and the other platforms' fallback."""
    out: list[str] = []
    if message.title:
        out.append(message.title)
        out.append("=" * min(len(message.title), 72))
    if message.text:
        out.append(message.text)
    for section in message.sections:
        if out:
            out.append("")
        if section.title:
            out.append(section.title)
        if section.text:
            out.append(section.text)
        for label, value in section.fields:
            out.append(f"  {label}: {value}")
        for row in section.rows:
            out.extend("  " + line for line in render_row(row))
    if message.context:
        out.append("")
        out.extend(message.context)
    if message.form:
        out.append("")
        out.append(message.form.title)
        for n, f in enumerate(message.form.fields, 1):
            current = f" = {f.value}" if f.value else ""
            health = f" ({f.health})" if f.health else ""
            out.append(f"  {n}. {f.key} {f.label}{current}{health}  {f.hint}".rstrip())
    if message.actions:
        out.append("")
        out.append("  ".join(f"[{action.label}]" for action in message.actions))
    return "\n".join(out)

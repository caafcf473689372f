"""The check-in reply parser (SPEC §5): pure functions, the key results and locale passed in."""

from bot.parsing.model import (
    CLARIFY,
    NO_CHANGE,
    SKIP,
    UNRECOGNIZED,
    UPDATES,
    ParseResult,
    Pending,
    PromptKR,
    Update,
)
from bot.parsing.parser import parse_reply, resolve_answer

__all__ = [
    "CLARIFY",
    "NO_CHANGE",
    "SKIP",
    "UNRECOGNIZED",
    "UPDATES",
    "ParseResult",
    "Pending",
    "PromptKR",
    "Update",
    "parse_reply",
    "resolve_answer",
]

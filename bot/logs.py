"""Logging: plain text lines or one JSON object per line (`OKRBOT_LOG_FORMAT=json`).

Logs never carry secrets: every line goes through `redact`, which blanks the configured secret
values, Slack tokens, bearer tokens, JWTs, Authorization headers, database passwords and the
parameters SQLAlchemy quotes in its errors (they may hold what a person wrote).
Libraries that log request bodies (people's messages) or headers at INFO are kept at WARNING
unless the level is DEBUG.
"""

from __future__ import annotations

import json
import logging
import re
import sys
from collections.abc import Iterable
from datetime import UTC, datetime
from typing import IO, Any

REDACTED = "[redacted]"
TEXT_FORMAT = "%(asctime)s %(levelname)s %(name)s: %(message)s"
# loggers that would write request bodies or headers at INFO (bolt logs a rejected request's
# body): bolt's, and the app logger we give bolt (it copies that level to its own loggers),
# the Slack SDK's, Bot Framework's and aiohttp's
QUIET_LOGGERS = (
    "slack_bolt",
    "slack_sdk",
    "okrbot.slack.bolt",
    "botbuilder",
    "botframework",
    "msrest",
    "msal",
    "aiohttp.access",
    "aiohttp.server",
    "httpx",
    "httpcore",
    "urllib3",
)
_PATTERNS = (
    (re.compile(r"\bx(?:ox[a-z]|app)-[A-Za-z0-9-]+"), REDACTED),
    (re.compile(r"(?i)\b(bearer|basic)\s+[A-Za-z0-9._~+/=-]+"), rf"\1 {REDACTED}"),
    (
        re.compile(r"""(?i)(authorization["']?\s*[:=]\s*["']?)(?!\w+ \[redacted\])[^"',\s}]+"""),
        rf"\1{REDACTED}",
    ),
    (re.compile(r"\beyJ[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]*"), REDACTED),
    (re.compile(r"(://[^/:@\s]+:)[^@\s/]+@"), rf"\1{REDACTED}@"),
    # SQLAlchemy errors quote the statement's parameters: a person's message, for one
    # (a repr on one line: newlines inside values are escaped)
    (re.compile(r"\[parameters: [^\n]*"), f"[parameters: {REDACTED}]"),
)
# what every LogRecord has; anything else on a record came in through `extra=`
_STANDARD = set(logging.LogRecord("", 0, "", 0, "", (), None).__dict__) | {
    "message",
    "asctime",
    "taskName",
}
_HANDLER_MARK = "_okrbot_handler"


class Redactor:
    """Blanks secrets out of a text: the given values, and anything shaped like a credential."""

    def __init__(self, secrets: Iterable[str | None] = ()) -> None:
        # short values would blank ordinary words; real secrets are long
        values = {s for s in secrets if s and len(s) >= 8}
        self._values = sorted(values, key=len, reverse=True)

    def __call__(self, text: str) -> str:
        for value in self._values:
            text = text.replace(value, REDACTED)
        for pattern, replacement in _PATTERNS:
            text = pattern.sub(replacement, text)
        return text


class TextFormatter(logging.Formatter):
    def __init__(self, redact: Redactor) -> None:
        super().__init__(TEXT_FORMAT)
        self.redact = redact

    def format(self, record: logging.LogRecord) -> str:
        return self.redact(super().format(record))


class JsonFormatter(logging.Formatter):
    """One JSON object per line: time, level, logger, message, exception, extra fields."""

    def __init__(self, redact: Redactor) -> None:
        super().__init__()
        self.redact = redact

    def format(self, record: logging.LogRecord) -> str:
        data: dict[str, Any] = {
            "time": datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds"),
            "level": record.levelname,
            "logger": record.name,
            "message": self.redact(record.getMessage()),
        }
        if record.exc_info:
            data["exception"] = self.redact(self.formatException(record.exc_info))
        elif record.exc_text:
            data["exception"] = self.redact(record.exc_text)
        if record.stack_info:
            data["stack"] = self.redact(self.formatStack(record.stack_info))
        for name, value in record.__dict__.items():
            if name not in _STANDARD and not name.startswith("_") and name not in data:
                data[name] = self._plain(value)
        return json.dumps(data, ensure_ascii=False, default=str)

    def _plain(self, value: Any) -> Any:
        if isinstance(value, str):
            return self.redact(value)
        if isinstance(value, bool | int | float) or value is None:
            return value
        return self.redact(json.dumps(value, ensure_ascii=False, default=str))


def configure_logging(
    level: str,
    fmt: str = "text",
    *,
    secrets: Iterable[str | None] = (),
    stream: IO[str] | None = None,
) -> logging.Handler:
    """Log to stderr (or `stream`) at `level`, as `text` or `json`. Calling it again replaces
    the handler it installed before. Returns the handler."""
    if fmt not in ("text", "json"):
        raise ValueError(f"log format must be text or json, not {fmt!r}")
    redact = Redactor(secrets)
    handler = logging.StreamHandler(stream if stream is not None else sys.stderr)
    handler.setFormatter(JsonFormatter(redact) if fmt == "json" else TextFormatter(redact))
    setattr(handler, _HANDLER_MARK, True)
    root = logging.getLogger()
    for old in [h for h in root.handlers if getattr(h, _HANDLER_MARK, False)]:
        root.removeHandler(old)
    root.addHandler(handler)
    numeric = logging.getLevelName(level.upper())
    if not isinstance(numeric, int):
        raise ValueError(f"unknown log level {level!r}")
    root.setLevel(numeric)
    library_level = logging.NOTSET if numeric <= logging.DEBUG else logging.WARNING
    for name in QUIET_LOGGERS:
        logging.getLogger(name).setLevel(library_level)
    logging.getLogger("alembic").setLevel(max(numeric, logging.WARNING))
    return handler

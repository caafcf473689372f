"""Message catalogues (en, da). `t(locale, key, **values)` formats one entry."""

from __future__ import annotations

from bot.i18n import da, en

LOCALES = ("en", "da")
_CATALOGUES = {"en": en.MESSAGES, "da": da.MESSAGES}


def t(locale: str | None, key: str, /, **values: object) -> str:
    catalogue = _CATALOGUES.get(locale or "en", en.MESSAGES)
    template = catalogue.get(key) or en.MESSAGES[key]
    return template.format(**values) if values else template


def health_label(locale: str | None, health: str | None) -> str | None:
    return t(locale, f"health.{health}") if health else None

"""How OKRs look in an answer: key results and objectives as progress rows. Pure functions."""

from __future__ import annotations

import difflib
from dataclasses import dataclass
from datetime import date, datetime

from bot.i18n import health_label, t
from bot.i18n.formats import format_ago, format_number, format_percent, format_value, with_unit
from bot.messages import ProgressRow
from bot.progress import expected_progress, is_at_risk, kr_progress, objective_progress
from storage.models import KeyResult, Objective, Person, Team


@dataclass(frozen=True)
class View:
    """What every answer needs to format: language, time, and who is who."""

    locale: str
    timezone: str  # the reader's, for dates and "3 days ago"
    now: datetime
    today: date  # in the organisation's time zone: which periods are active
    people: dict[int, Person]


def value_text(kr: KeyResult, locale: str) -> str:
    """current / target with the unit, in the key result's own terms."""
    if kr.type == "binary":
        return t(locale, "done") if (kr.current or 0) >= 1 else t(locale, "not_done")
    current = kr.current if kr.current is not None else kr.start
    if kr.type == "threshold":
        bound, key = (kr.max, "threshold.max") if kr.max is not None else (kr.min, "threshold.min")
        shown = format_value(current, kr.unit, locale) if current is not None else "–"
        return t(locale, key, value=shown, bound=format_number(bound, locale))
    now = format_number(current, locale) if current is not None else "–"
    target = format_number(kr.target, locale) if kr.target is not None else "–"
    return with_unit(f"{now} / {target}", kr.unit, locale)


def updated_note(kr: KeyResult, view: View) -> str:
    owner = view.people.get(kr.owner_id)
    owner_name = owner.name if owner else "?"
    if kr.updated_at is None:
        return t(view.locale, "row.owner_never", owner=owner_name)
    when = format_ago(kr.updated_at, view.now, view.locale, view.timezone)
    if kr.updated_by_id is None:
        who = t(view.locale, f"source.{kr.updated_source or 'import'}")
    elif kr.updated_by_id == kr.owner_id:
        return t(view.locale, "row.owner_updated", owner=owner_name, when=when)
    else:
        updater = view.people.get(kr.updated_by_id)
        who = updater.name if updater else "?"
    return t(view.locale, "row.owner_updated_by", owner=owner_name, when=when, who=who)


def expected(objective: Objective, today: date) -> float:
    return expected_progress(objective.period_start, objective.period_end, today)


def kr_row(kr: KeyResult, objective: Objective, view: View, level: int = 0) -> ProgressRow:
    progress = kr_progress(kr)
    return ProgressRow(
        key=kr.key,
        title=kr.title,
        progress=progress,
        percent=format_percent(progress, view.locale),
        value=value_text(kr, view.locale),
        health=kr.health,
        health_label=health_label(view.locale, kr.health),
        note=updated_note(kr, view),
        at_risk=is_at_risk(progress, expected(objective, view.today), kr.health),
        level=level,
    )


def objective_row(
    objective: Objective, progress: float | None, note: str, view: View, level: int = 0
) -> ProgressRow:
    return ProgressRow(
        key=objective.key,
        title=objective.title,
        progress=progress,
        percent=format_percent(progress, view.locale),
        note=note,
        at_risk=progress is not None
        and is_at_risk(progress, expected(objective, view.today), None),
        level=level,
    )


def own_progress(krs_by_objective: dict[int, list[KeyResult]], objective_id: int) -> float | None:
    return objective_progress(krs_by_objective.get(objective_id, []))


def mean(values: list[float | None]) -> float | None:
    present = [v for v in values if v is not None]
    return sum(present) / len(present) if present else None


def group_by_objective(krs: list[KeyResult]) -> dict[int, list[KeyResult]]:
    grouped: dict[int, list[KeyResult]] = {}
    for kr in krs:
        grouped.setdefault(kr.objective_id, []).append(kr)
    return grouped


def find_team(teams: list[Team], name: str) -> Team | None:
    wanted = name.strip().casefold()
    if not wanted:
        return None
    for team in teams:
        if wanted in (team.slug.casefold(), team.name.casefold()):
            return team
    return None


def closest_teams(word: str, teams: list[Team], n: int = 3) -> list[str]:
    """Up to n team slugs close to the word, by slug or display name (SPEC §8)."""
    wanted = word.casefold()
    scored = []
    for team in teams:
        score = max(
            difflib.SequenceMatcher(None, wanted, candidate.casefold()).ratio()
            for candidate in (team.slug, team.name)
        )
        if score >= 0.6:
            scored.append((-score, team.position, team.slug))
    return [slug for _, _, slug in sorted(scored)[:n]]

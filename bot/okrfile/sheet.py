"""Reading a plain spreadsheet of OKRs (`okrbot okrs import-from sheet FILE`): CSV or XLSX, one
row per key result, with the headers of SHEET_COLUMNS (English or Danish, in any case and
order). Rows with the same objective (its id, else its title, team and period) form one
objective. A column whose header is a date (`2026-10-05`) holds that day's value of each key
result: its check-in history. Pure: bytes in, no I/O, no clock.
"""

from __future__ import annotations

from typing import Any

from bot.okrfile.landing import CheckIn, Found, KeyResultIn, ObjectiveIn, Owner
from bot.okrfile.tables import (
    SourceError,
    SourceProblem,
    Table,
    cell_text,
    fold,
    header_date,
    map_columns,
    parse_health,
    parse_number,
    parse_period_name,
    read_table,
)

# field -> accepted headers; the first is the documented one (README, docs/samples/okrs-sheet.csv)
SHEET_COLUMNS: dict[str, tuple[str, ...]] = {
    "objective_id": ("Objective ID", "Objective key", "Mål-id", "Mål id"),
    "objective": ("Objective", "Objective title", "Mål", "Målsætning"),
    "team": ("Team", "Afdeling"),
    "period": ("Period", "Time period", "Quarter", "Periode", "Tidsperiode", "Kvartal"),
    "aligned_to": (
        "Aligned to", "Supports", "Parent objective", "Parent", "Understøtter", "Overordnet mål",
        "Overordnet",
    ),
    "focus": ("Focus", "Focus areas", "Tags", "Fokus", "Fokusområder"),
    "key_result_id": ("Key result ID", "KR ID", "Nøgleresultat-id", "Nøgleresultat id"),
    "key_result": ("Key result", "KR", "Key result title", "Nøgleresultat"),
    "type": ("Type", "KR type"),
    "unit": ("Unit", "Enhed"),
    "start": ("Start", "Start value", "Baseline", "Startværdi"),
    "target": ("Target", "Target value", "Målværdi"),
    "current": ("Current", "Current value", "Aktuel værdi", "Nuværende værdi"),
    "min": ("Min", "At least", "Mindst"),
    "max": ("Max", "At most", "Højst"),
    "weight": ("Weight", "Vægt"),
    "owner_email": ("Owner email", "Email", "E-mail", "Ejers e-mail", "Ejer e-mail"),
    "owner": ("Owner", "Owner name", "Ejer", "Ansvarlig"),
    "health": ("Health", "Status", "Tilstand"),
}  # fmt: skip
DANISH = (
    "Mål-id", "Mål id", "Mål", "Målsætning", "Afdeling", "Periode", "Tidsperiode", "Kvartal",
    "Understøtter", "Overordnet mål", "Overordnet", "Fokus", "Fokusområder", "Nøgleresultat-id",
    "Nøgleresultat id", "Nøgleresultat", "Enhed", "Startværdi", "Målværdi", "Aktuel værdi",
    "Nuværende værdi", "Mindst", "Højst", "Vægt", "Ejers e-mail", "Ejer e-mail", "Ejer",
    "Ansvarlig", "Tilstand",
)  # fmt: skip
_TYPES = {
    "metric": ("metric", "number", "metrisk", "tal"),
    "binary": ("binary", "done", "yes no", "binaer", "ja nej"),
    "milestone": ("milestone", "milepael"),
    "threshold": ("threshold", "taerskel", "graense"),
}
_TYPE_WORDS = {fold(w): t for t, words in _TYPES.items() for w in words}
_DONE = {fold(w): v for v, words in ((1.0, ("done", "yes", "ja", "færdig", "x", "true",
         "launched", "lanceret")), (0.0, ("not done", "no", "nej", "not yet", "ikke endnu",
         "false"))) for w in words}  # fmt: skip


def read_sheet(data: bytes, filename: str) -> Found:
    return read_rows(read_table(data, filename))


def read_rows(table: Table) -> Found:
    dates: dict[int, Any] = {}

    def is_date(header: str) -> bool:
        return header_date(header) is not None

    columns = map_columns(table.headers, SHEET_COLUMNS, DANISH, extra=is_date)
    for i, header in enumerate(table.headers):
        day = header_date(header) if i not in columns.index.values() else None
        if day is not None:
            dates[i] = day
    file = table.file
    columns.require(table, SHEET_COLUMNS, "objective", "key_result")
    decimal_comma = table.decimal_comma or columns.danish
    found = Found(file)
    found.read = [*table.notes, *columns.report()]
    if dates:
        found.read.append(f"{len(dates)} date column(s) read as check-in history")
    errors: list[SourceProblem] = []
    objectives: dict[tuple, ObjectiveIn] = {}

    for number, row in table.rows:
        where = SourceProblem(file, str(number), "")

        def value(name: str, row=row) -> Any:
            return columns.get(row, name)

        def problem(header: str, message: str, number=number) -> None:
            errors.append(SourceProblem(file, str(number), f"'{header}' {message}"))

        def number_of(name: str, value=value, problem=problem) -> float | None:
            try:
                return parse_number(value(name), decimal_comma)
            except ValueError as e:
                problem(columns.header(name), str(e))
                return None

        title = cell_text(value("objective"))
        kr_title = cell_text(value("key_result"))
        if title is None or kr_title is None:
            empty = "objective" if title is None else "key_result"
            problem(columns.header(empty), "is empty")
            continue
        period = None
        if cell_text(value("period")):
            try:
                period = parse_period_name(value("period"), decimal_comma)
            except ValueError as e:
                problem(columns.header("period"), str(e))
        team = cell_text(value("team"))
        key = cell_text(value("objective_id"))
        group = ("id", key) if key else ("title", fold(title), fold(team or ""), period)
        o = objectives.get(group)
        if o is None:
            o = ObjectiveIn(
                where, title, ref=key, key=key, team=team, period=period,
                parent=cell_text(value("aligned_to")),
                focus=[f.strip() for f in (cell_text(value("focus")) or "").split(",")],
            )  # fmt: skip
            objectives[group] = o
        kind_text = cell_text(value("type"))
        kind = _TYPE_WORDS.get(fold(kind_text)) if kind_text else None
        if kind_text and kind is None:
            choices = "metric, binary, milestone or threshold"
            problem(columns.header("type"), f"must be {choices} (got {kind_text!r})")
            continue
        health, known = parse_health(value("health"))
        if not known:
            found.notes.append(
                SourceProblem(
                    file, str(number), f"health '{cell_text(value('health'))}' is not on track, "
                    "at risk or off track: left out",
                )
            )  # fmt: skip

        def reading(cell: Any, header: str, kind=kind, problem=problem) -> float | None:
            if kind == "binary" and isinstance(cell, str) and fold(cell) in _DONE:
                return _DONE[fold(cell)]
            try:
                return parse_number(cell, decimal_comma)
            except ValueError as e:
                problem(header, str(e))
                return None

        kr = KeyResultIn(
            where, kr_title, key=cell_text(value("key_result_id")), type=kind,
            unit=cell_text(value("unit")), start=number_of("start"), target=number_of("target"),
            current=reading(value("current"), _header(columns, "current")), min=number_of("min"),
            max=number_of("max"), weight=number_of("weight"), health=health,
            owner=Owner.of(cell_text(value("owner")), cell_text(value("owner_email"))),
        )  # fmt: skip
        for i, day in dates.items():
            cell = row[i] if i < len(row) else None
            if cell_text(cell) is None:
                continue
            reading_value = reading(cell, table.headers[i])
            if reading_value is not None:
                kr.history.append(CheckIn(day, reading_value))
        o.key_results.append(kr)
    if errors:
        raise SourceError(errors)
    found.objectives = list(objectives.values())
    return found


def _header(columns, name: str) -> str:
    return columns.header(name) if name in columns.index else name

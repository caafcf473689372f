"""Reading a Viva Goals export (`okrbot okrs import-from viva FILE`).

Two shapes: the Explorer export as CSV or XLSX, one row per objective, key result or initiative
with the columns its user chose (matched by header, in English or Danish); and the ZIP of JSON
files (time periods, teams, users, objectives with their type, owner, alignment, start, target,
unit, progress and status, and check-ins with date, value and note). Both become `Found` for
bot.okrfile.landing. Pure: bytes in, no I/O, no clock.
"""

from __future__ import annotations

import io
import json
import zipfile
from typing import Any

from bot.okrfile.landing import CheckIn, Found, KeyResultIn, ObjectiveIn, Owner, TeamIn
from bot.okrfile.tables import (
    SourceError,
    SourceProblem,
    Table,
    cell_text,
    fold,
    is_zip,
    map_columns,
    parse_health,
    parse_number,
    parse_period_name,
    parse_progress,
    parse_when,
    period_of_dates,
    read_table,
)

EXPLORER_COLUMNS: dict[str, tuple[str, ...]] = {
    "id": ("ID", "OKR ID", "Item ID", "Objective ID"),
    "title": ("Title", "Name", "Titel", "Navn"),
    "type": ("Type", "Item type", "OKR type"),
    "owner": ("Owner", "Owner name", "Owners", "Ejer", "Ejere", "Ejers navn", "Ansvarlig"),
    "owner_email": (
        "Owner email",
        "Owner e-mail",
        "Owner mail",
        "Email",
        "E-mail",
        "Ejers e-mail",
        "Ejer e-mail",
        "Ejers email",
        "Ejer email",
        "Ansvarligs e-mail",
    ),
    "team": ("Team", "Teams", "Afdeling"),
    "period": ("Time period", "Period", "Timeperiod", "Tidsperiode", "Periode"),
    "parent_id": ("Parent ID", "Aligned to ID", "Overordnet ID", "Forælder ID"),
    "parent": (
        "Parent",
        "Aligned to",
        "Parent title",
        "Aligned with",
        "Overordnet",
        "Forælder",
        "Tilknyttet",
        "Justeret til",
    ),
    "start": ("Start value", "Start", "Baseline", "Startværdi"),
    "target": ("Target value", "Target", "Målværdi", "Mål værdi"),
    "current": ("Current value", "Current", "Actual", "Aktuel værdi", "Nuværende værdi"),
    "unit": ("Unit", "Metric", "Metric unit", "Unit of measure", "Enhed", "Måleenhed"),
    "progress": ("Progress", "Progress %", "Fremskridt", "Fremdrift"),
    "status": ("Status", "Health", "Tilstand"),
}
DANISH = (
    "Titel", "Navn", "Ejer", "Ejere", "Ejers navn", "Ansvarlig", "Ejers e-mail", "Ejer e-mail",
    "Ejers email", "Ejer email", "Ansvarligs e-mail", "Afdeling", "Tidsperiode", "Periode",
    "Overordnet ID", "Forælder ID", "Overordnet", "Forælder", "Tilknyttet", "Justeret til",
    "Startværdi", "Målværdi", "Mål værdi", "Aktuel værdi", "Nuværende værdi", "Enhed",
    "Måleenhed", "Fremskridt", "Fremdrift", "Tilstand",
)  # fmt: skip

_TYPES = {
    "objective": ("objective", "goal", "maal", "maalsaetning", "o"),
    "key result": ("key result", "keyresult", "kr", "noegleresultat", "noegle resultat"),
    "initiative": ("initiative", "project", "task", "initiativ", "projekt", "opgave"),
}
_TYPE_WORDS = {fold(w).replace(" ", ""): t for t, words in _TYPES.items() for w in words}
_UNITS = {
    "percentage": "%", "percent": "%", "procent": "%", "%": "%",
    "number": None, "numeric": None, "tal": None, "antal": None, "currency": None, "valuta": None,
}  # fmt: skip


def unit_of(value: Any) -> str | None:
    text = cell_text(value)
    if text is None:
        return None
    key = fold(text)
    return _UNITS.get(key, text)


def kind_of(value: Any) -> str | None:
    text = cell_text(value)
    return _TYPE_WORDS.get(fold(text).replace(" ", "")) if text else None


def read_viva(data: bytes, filename: str) -> Found:
    """A Viva Goals export: the ZIP of JSON files, or the Explorer export (CSV or XLSX)."""
    if is_zip(data):
        try:
            with zipfile.ZipFile(io.BytesIO(data)) as archive:
                names = archive.namelist()
                if not any(n.startswith("xl/") for n in names):
                    return _Zip(archive, filename).read()
        except zipfile.BadZipFile as e:
            problem = SourceProblem(filename, "", f"not a readable ZIP file ({e})")
            raise SourceError([problem]) from None
    return read_explorer(read_table(data, filename))


# ---- the Explorer export (CSV / XLSX) ------------------------------------------------------


def read_explorer(table: Table) -> Found:
    columns = map_columns(table.headers, EXPLORER_COLUMNS, DANISH)
    file = table.file
    columns.require(table, EXPLORER_COLUMNS, "title", "type")
    decimal_comma = table.decimal_comma or columns.danish
    found = Found(file)
    found.read = [*table.notes, *columns.report()]
    errors: list[SourceProblem] = []
    objectives: list[ObjectiveIn] = []
    by_id: dict[str, ObjectiveIn] = {}
    by_title: dict[str, list[ObjectiveIn]] = {}
    pending: list[tuple[SourceProblem, KeyResultIn, str | None, str | None]] = []
    initiatives = []
    last_objective: ObjectiveIn | None = None
    has_parent_columns = "parent_id" in columns.index or "parent" in columns.index

    for number, row in table.rows:
        where = SourceProblem(file, str(number), "")

        def value(name: str, row=row) -> Any:
            return columns.get(row, name)

        def number_of(name: str, reader=parse_number, where=where, value=value) -> float | None:
            try:
                return reader(value(name), decimal_comma)
            except ValueError as e:
                errors.append(SourceProblem(file, where.where, f"'{columns.header(name)}' {e}"))
                return None

        title = cell_text(value("title"))
        kind_text = cell_text(value("type"))
        kind = kind_of(kind_text)
        if title is None:
            errors.append(SourceProblem(file, str(number), f"'{columns.header('title')}' is empty"))
            continue
        if kind is None:
            found.notes.append(
                SourceProblem(
                    file,
                    str(number),
                    f"'{title}' is of type '{kind_text or ''}', neither objective, key result "
                    "nor initiative: left out",
                )
            )
            continue
        if kind == "initiative":
            initiatives.append(number)
            continue
        owner = Owner.of(cell_text(value("owner")), cell_text(value("owner_email")))
        ref = cell_text(value("id"))
        parent = cell_text(value("parent_id")) or cell_text(value("parent"))
        if kind == "objective":
            period = None
            if cell_text(value("period")):
                try:
                    period = parse_period_name(value("period"), decimal_comma)
                except ValueError as e:
                    errors.append(
                        SourceProblem(file, str(number), f"'{columns.header('period')}' {e}")
                    )
            o = ObjectiveIn(
                where, title, ref=ref, team=cell_text(value("team")), period=period,
                parent=parent, owner=owner,
            )  # fmt: skip
            objectives.append(o)
            if ref:
                by_id[ref] = o
            by_title.setdefault(fold(title), []).append(o)
            last_objective = o
            continue
        health, known = parse_health(value("status"))
        if not known:
            found.notes.append(
                SourceProblem(
                    file, str(number), f"status '{cell_text(value('status'))}' is not a health "
                    "okrbot knows (on track, at risk, off track): left out",
                )
            )  # fmt: skip
        kr = KeyResultIn(
            where, title, ref=ref, unit=unit_of(value("unit")), start=number_of("start"),
            target=number_of("target"), current=number_of("current"),
            progress=number_of("progress", parse_progress), health=health, owner=owner,
        )  # fmt: skip
        if has_parent_columns:
            pending.append((where, kr, cell_text(value("parent_id")), cell_text(value("parent"))))
        elif last_objective is not None:
            last_objective.key_results.append(kr)
        else:
            found.notes.append(
                SourceProblem(
                    file, str(number), f"key result '{title}' comes before any objective: left out"
                )
            )
    for where, kr, parent_id, parent_title in pending:
        o = by_id.get(parent_id) if parent_id else None
        if o is None and parent_title:
            same = by_title.get(fold(parent_title), [])
            o = same[0] if len(same) == 1 else None
        if o is None:
            named = parent_id or parent_title
            why = (
                f"is aligned to '{named}', which is not an objective in the export"
                if named
                else "names no objective"
            )
            found.notes.append(
                SourceProblem(where.file, where.where, f"key result '{kr.title}' {why}: left out")
            )
            continue
        o.key_results.append(kr)
    if errors:
        raise SourceError(errors)
    if initiatives:
        rows = ", ".join(str(n) for n in initiatives)
        found.notes.append(
            SourceProblem(
                file,
                str(initiatives[0]),
                f"{len(initiatives)} initiative(s) left out (rows {rows}): okrbot keeps "
                "objectives and key results",
            )
        )
    found.objectives = objectives
    return found


# ---- the ZIP of JSON files -----------------------------------------------------------------

_FILES = {
    "time_periods": ("time_periods.json", "timeperiods.json", "periods.json"),
    "teams": ("teams.json",),
    "users": ("users.json", "people.json"),
    "objectives": ("objectives.json", "okrs.json"),
    "checkins": ("checkins.json", "check_ins.json", "check-ins.json"),
}


class _Zip:
    def __init__(self, archive: zipfile.ZipFile, filename: str) -> None:
        self.archive = archive
        self.file = filename
        self.errors: list[SourceProblem] = []
        self.found = Found(filename)

    def problem(self, path: str, message: str) -> None:
        self.errors.append(SourceProblem(self.file, path, message))

    def note(self, path: str, message: str) -> None:
        self.found.notes.append(SourceProblem(self.file, path, message))

    def load(self, kind: str) -> list[tuple[str, dict]]:
        """The items of one JSON file as (path, item); [] when the ZIP has no such file."""
        wanted = _FILES[kind]
        name = next(
            (n for n in self.archive.namelist() if n.rsplit("/", 1)[-1].lower() in wanted), None
        )
        if name is None:
            if kind == "objectives":
                self.problem("", f"no {wanted[0]} in the ZIP (found: {self._names()})")
            return []
        self.used.append(name)
        short = name.rsplit("/", 1)[-1]
        try:
            data = json.loads(self.archive.read(name).decode("utf-8-sig"))
        except UnicodeDecodeError:
            self.problem(short, "not UTF-8 text")
            return []
        except json.JSONDecodeError as e:
            self.problem(short, f"bad JSON at line {e.lineno}, column {e.colno}: {e.msg}")
            return []
        path = short
        if isinstance(data, dict):
            key = next((k for k in ("value", "items", "data", kind) if k in data), None)
            if key is None or not isinstance(data[key], list):
                self.problem(short, 'expected a list of items (or {"value": [...]})')
                return []
            data, path = data[key], f"{short}.{key}"
        if not isinstance(data, list):
            self.problem(short, "expected a list of items")
            return []
        items = []
        for i, item in enumerate(data):
            if not isinstance(item, dict):
                self.problem(f"{path}[{i}]", "expected an object")
                continue
            items.append((f"{path}[{i}]", {fold(k).replace(" ", ""): v for k, v in item.items()}))
        return items

    def _names(self) -> str:
        return ", ".join(n for n in self.archive.namelist() if not n.endswith("/")) or "nothing"

    def text(self, path: str, item: dict, *keys: str, required: bool = False) -> str | None:
        for key in keys:
            value = item.get(key)
            if isinstance(value, dict):  # {"id": ...} or {"displayName": ...}
                value = value.get("id") or value.get("displayName") or value.get("name")
            if isinstance(value, list):
                value = value[0] if value else None
                if isinstance(value, dict):
                    value = value.get("id")
            if value is not None and not isinstance(value, str | int | float):
                self.problem(f"{path}.{key}", "must be text")
                return None
            if cell_text(value) is not None:
                return cell_text(value)
        if required:
            self.problem(path, f"missing '{keys[0]}'")
        return None

    def number(self, path: str, item: dict, *keys: str, reader=parse_number) -> float | None:
        for key in keys:
            if item.get(key) is not None:
                try:
                    return reader(item[key])
                except ValueError as e:
                    self.problem(f"{path}.{key}", str(e))
                    return None
        return None

    def read(self) -> Found:
        self.used: list[str] = []
        periods = self.periods()
        users = self.users()
        teams = self.teams()
        objectives, key_results = self.objectives(periods, teams)
        self.checkins(key_results)
        if self.errors:
            raise SourceError(self.errors)
        ignored = [n for n in self.archive.namelist() if n not in self.used and not n.endswith("/")]
        self.found.read = [
            f"files used: {', '.join(self.used)}",
            f"files ignored: {', '.join(ignored) or 'none'}",
        ]
        self.found.users = users
        self.found.objectives = objectives
        return self.found

    def periods(self) -> dict[str, str]:
        periods: dict[str, str] = {}
        for path, item in self.load("time_periods"):
            ref = self.text(path, item, "id", required=True)
            name = self.text(path, item, "name", "title", "displayname")
            start = self._date(path, item, "startdate", "start")
            end = self._date(path, item, "enddate", "end")
            if ref is None:
                continue
            if start and end:
                if end < start:
                    self.problem(path, "'endDate' is before 'startDate'")
                    continue
                periods[ref] = period_of_dates(start, end)
            elif name:
                try:
                    periods[ref] = parse_period_name(name)
                except ValueError as e:
                    self.problem(f"{path}.name", f"{e}, and there are no startDate and endDate")
            else:
                self.problem(path, "missing 'startDate' and 'endDate'")
        return periods

    def _date(self, path: str, item: dict, *keys: str):
        for key in keys:
            if item.get(key) is not None:
                try:
                    when = parse_when(item[key])
                except ValueError as e:
                    self.problem(f"{path}.{key}", str(e))
                    return None
                return when.date() if hasattr(when, "date") and callable(when.date) else when
        return None

    def users(self) -> list[Owner]:
        users = []
        for path, item in self.load("users"):
            ref = self.text(path, item, "id", required=True)
            name = self.text(path, item, "displayname", "name")
            email = self.text(path, item, "email", "mail", "userprincipalname")
            if ref is not None:
                users.append(Owner(name, email, ref))
        return users

    def teams(self) -> dict[str, str]:
        names: dict[str, str] = {}
        teams: list[TeamIn] = []
        for path, item in self.load("teams"):
            ref = self.text(path, item, "id", required=True)
            name = self.text(path, item, "name", "displayname", "title", required=True)
            if ref is None or name is None:
                continue
            names[ref] = name
            owners = _ids(item.get("ownerids") or item.get("owners"))
            members = _ids(item.get("memberids") or item.get("members"))
            teams.append(
                TeamIn(
                    name,
                    where=SourceProblem(self.file, path, ""),
                    ref=ref,
                    parent=self.text(path, item, "parentteamid", "parentid", "parent"),
                    leads=[Owner(ref=u) for u in owners],
                    members=[Owner(ref=u) for u in members],
                )
            )
        for team in teams:
            if team.parent and team.parent not in names:
                self.note(
                    team.where.where + ".parentTeamId",
                    f"team '{team.name}' has parent team '{team.parent}', which is not in "
                    "teams.json: left without a parent",
                )
                team.parent = None
        self.found.teams = teams
        return names

    def objectives(
        self, periods: dict[str, str], teams: dict[str, str]
    ) -> tuple[list[ObjectiveIn], dict[str, KeyResultIn]]:
        objectives: list[ObjectiveIn] = []
        by_ref: dict[str, ObjectiveIn] = {}
        key_results: dict[str, KeyResultIn] = {}
        pending: list[tuple[str, KeyResultIn, str | None]] = []
        initiatives = 0
        for path, item in self.load("objectives"):
            where = SourceProblem(self.file, path, "")
            ref = self.text(path, item, "id", required=True)
            title = self.text(path, item, "title", "name", required=True)
            kind_text = self.text(path, item, "type", "kind", "objecttype")
            kind = kind_of(kind_text) if kind_text else "objective"
            if ref is None or title is None:
                continue
            if kind is None:
                self.note(f"{path}.type", f"'{title}' is of type '{kind_text}': left out")
                continue
            if kind == "initiative":
                initiatives += 1
                continue
            owner_ref = self.text(path, item, "ownerid", "ownerids", "owner", "owners")
            owner = Owner(ref=owner_ref) if owner_ref else None
            parent = self.text(path, item, "parentid", "alignedtoid", "parentids", "alignedto")
            if kind == "objective":
                o = ObjectiveIn(where, title, ref=ref, parent=parent, owner=owner)
                team_ref = self.text(path, item, "teamid", "teamids", "team")
                if team_ref is not None:
                    if team_ref in teams:
                        o.team = teams[team_ref]
                    else:
                        self.note(
                            f"{path}.teamId",
                            f"objective '{title}' names team '{team_ref}', which is not in "
                            "teams.json: it becomes the company's",
                        )
                period_ref = self.text(path, item, "timeperiodid", "periodid", "timeperiod")
                if period_ref is not None:
                    if period_ref in periods:
                        o.period = periods[period_ref]
                    else:
                        self.problem(
                            f"{path}.timePeriodId",
                            f"names time period '{period_ref}', which is not in time_periods.json",
                        )
                objectives.append(o)
                by_ref[ref] = o
                continue
            health, known = parse_health(item.get("status"))
            if not known:
                self.note(
                    f"{path}.status",
                    f"status '{item.get('status')}' is not a health okrbot knows: left out",
                )
            metric = item.get("metric") if isinstance(item.get("metric"), dict) else {}
            values = {**{fold(k).replace(" ", ""): v for k, v in metric.items()}, **item}
            kr = KeyResultIn(
                where,
                title,
                ref=ref,
                unit=unit_of(self.text(path, values, "unit", "metrictype", "metricunit")),
                start=self.number(path, values, "start", "startvalue", "baseline"),
                target=self.number(path, values, "target", "targetvalue"),
                current=self.number(path, values, "current", "currentvalue"),
                progress=self.number(path, item, "progress", reader=parse_progress),
                health=health,
                owner=owner,
            )
            key_results[ref] = kr
            pending.append((path, kr, parent))
        for path, kr, parent in pending:
            o = by_ref.get(parent) if parent else None
            if o is None:
                why = (
                    f"is aligned to '{parent}', which is not an objective in objectives.json"
                    if parent
                    else "names no objective ('parentId')"
                )
                self.note(path, f"key result '{kr.title}' {why}: left out")
                continue
            o.key_results.append(kr)
        if initiatives:
            self.note("objectives.json", f"{initiatives} initiative(s) left out")
        return objectives, key_results

    def checkins(self, key_results: dict[str, KeyResultIn]) -> None:
        unknown = 0
        for path, item in self.load("checkins"):
            ref = self.text(path, item, "objectiveid", "keyresultid", "okrid", required=True)
            when = None
            for key in ("date", "checkindate", "createddatetime", "createdat"):
                if item.get(key) is not None:
                    try:
                        when = parse_when(item[key])
                    except ValueError as e:
                        self.problem(f"{path}.{key}", str(e))
                        when = False
                    break
            if when is None:
                self.problem(path, "missing 'date'")
            value = self.number(path, item, "value", "currentvalue", "current")
            comment = self.text(path, item, "note", "comment", "text", "description")
            health, _ = parse_health(item.get("status"))
            if ref is None or not when:
                continue
            kr = key_results.get(ref)
            if kr is None:
                unknown += 1
                continue
            kr.history.append(CheckIn(when, value, health, comment))
        if unknown:
            self.note(
                "checkins.json",
                f"{unknown} check-in(s) of objectives or of items not in objectives.json "
                "left out (okrbot keeps values on key results)",
            )


def _ids(value: Any) -> list[str]:
    if not isinstance(value, list):
        return []
    out = []
    for v in value:
        if isinstance(v, dict):
            v = v.get("id")
        if isinstance(v, str | int) and str(v).strip():
            out.append(str(v).strip())
    return out

"""The OKR file (SPEC §2): load and validate it into pydantic models, and dump it back.

Every error is a `Problem` naming the file as given and the line of the offending key itself
(SPEC §8); all problems found are raised together as one `OkrFileError`. Models are normalised
after validation (key-result type inferred, implied start/target/unit filled in), so consumers
never re-derive them. Pure: no database, no network, no clock.
"""

from __future__ import annotations

import math
import os
import re
from dataclasses import dataclass
from datetime import date, timedelta
from typing import Annotated, Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from annotated_types import Gt
from pydantic import AfterValidator, BaseModel, BeforeValidator, ConfigDict, Field, model_validator
from pydantic_core import PydanticCustomError

from bot.okrfile.lines import FileChecker, compose_with_lines, source_text

DAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
KR_TYPES = ("metric", "binary", "milestone", "threshold")
ROLES = ("member", "lead", "admin")
LOCALES = ("en", "da")
HEALTH = ("on_track", "at_risk", "off_track")


@dataclass(frozen=True)
class Problem:
    file: str
    line: int
    message: str

    def __str__(self) -> str:
        return f"{self.file}:{self.line}: {self.message}"


class OkrFileError(Exception):
    """All problems of one OKR file, sorted by line; str() gives one problem per line."""

    def __init__(self, problems: list[Problem]) -> None:
        self.problems = sorted(dict.fromkeys(problems), key=lambda p: p.line)
        super().__init__("\n".join(str(p) for p in self.problems))


# ---- periods -------------------------------------------------------------------------------


@dataclass(frozen=True)
class Period:
    label: str
    start: date
    end: date  # inclusive

    def contains(self, d: date) -> bool:
        return self.start <= d <= self.end


_QUARTER = re.compile(r"(\d{4})-[Qq]([1-4])")
_RANGE = re.compile(r"(\d{4}-\d{2}-\d{2})\.\.(\d{4}-\d{2}-\d{2})")
_PERIOD_FORMS = "YYYY-Qn or YYYY-MM-DD..YYYY-MM-DD"


def parse_period(label: str) -> Period:
    """`2026-Q4` or `2026-10-01..2026-12-31` (inclusive); ValueError otherwise."""
    text = label.strip() if isinstance(label, str) else ""
    if m := _QUARTER.fullmatch(text):
        year, quarter = int(m[1]), int(m[2])
        end = date(year + 1, 1, 1) if quarter == 4 else date(year, 3 * quarter + 1, 1)
        return Period(label, date(year, 3 * quarter - 2, 1), end - timedelta(days=1))
    if m := _RANGE.fullmatch(text):
        try:
            start, end = date.fromisoformat(m[1]), date.fromisoformat(m[2])
        except ValueError as e:
            raise ValueError(f"bad date in period {label!r}: {e}") from None
        if end < start:
            raise ValueError(f"period {label!r} ends before it starts")
        return Period(label, start, end)
    raise ValueError(f"{label!r} is not a period: use {_PERIOD_FORMS}")


# ---- field types ---------------------------------------------------------------------------


def _number(v: Any) -> float:
    if isinstance(v, bool) or not isinstance(v, int | float):
        raise PydanticCustomError("number_type", "must be a number")
    try:
        if math.isfinite(v):
            return float(v)
    except OverflowError:
        pass
    raise PydanticCustomError("number_type", "must be a finite number")


def _whole(v: Any) -> int:
    if isinstance(v, bool) or not isinstance(v, int):
        raise PydanticCustomError("int_type", "must be a whole number")
    return int(v)


def _choice(options: tuple[str, ...]) -> AfterValidator:
    def check(v: str) -> str:
        if v.lower() not in options:
            raise ValueError(f"must be one of {', '.join(options)} (got {v!r})")
        return v.lower()

    return AfterValidator(check)


def _check(pattern: str, explain: str, fix: Any = None) -> AfterValidator:
    regex = re.compile(pattern)

    def check(v: str) -> str:
        m = regex.fullmatch(v)
        if not m or (fix and fix(m) is None):
            raise ValueError(f"must be {explain} (got {v!r})")
        return fix(m) if fix else v

    return AfterValidator(check)


def _zone(v: str) -> str:
    try:
        ZoneInfo(v)
    except (ZoneInfoNotFoundError, ValueError, OSError):
        raise ValueError(
            f"must be an IANA time zone such as Europe/Copenhagen (got {v!r})"
        ) from None
    return v


def _period(v: str) -> str:
    parse_period(v)
    return v


def _hhmm(m: re.Match[str]) -> str | None:
    hour, minute = int(m[1]), int(m[2])
    return f"{hour:02d}:{minute:02d}" if hour < 24 and minute < 60 else None


Text = Annotated[str, BeforeValidator(source_text)]
Id = Annotated[str, BeforeValidator(source_text), Field(min_length=1)]
Num = Annotated[float, BeforeValidator(_number)]
Zone = Annotated[str, BeforeValidator(source_text), AfterValidator(_zone)]
Locale = Annotated[str, BeforeValidator(source_text), _choice(LOCALES)]
PeriodLabel = Annotated[str, BeforeValidator(source_text), AfterValidator(_period)]
Channel = Annotated[
    str,
    BeforeValidator(source_text),
    _check(r"[CG][A-Z0-9]+|teams:\S.*", "a Slack channel id (C...) or teams:<conversation id>"),
]
Slug = Annotated[
    str,
    BeforeValidator(source_text),
    _check(
        r"[a-z0-9][a-z0-9-]*",
        "lower-case letters, digits and dashes, starting with a letter or digit",
    ),
]


def _fail(key: str | None, message: str) -> PydanticCustomError:
    """A model-level error; `key` is the key whose line it belongs to (None: the item's)."""
    return PydanticCustomError("okr", "{message}", {"message": message, "key": key})


# ---- models --------------------------------------------------------------------------------


class _Model(BaseModel):
    model_config = ConfigDict(extra="forbid")


class Schedule(_Model):
    day: Annotated[str, BeforeValidator(source_text), _choice(DAYS)]
    time: Annotated[
        str,
        BeforeValidator(source_text),
        _check(r"(\d{1,2}):(\d{2})", "HH:MM from 00:00 to 23:59", _hhmm),
    ]
    remind_after_hours: Annotated[int, BeforeValidator(_whole), Gt(0)] | None = None


class PersonSpec(_Model):
    id: Id
    name: Id
    email: Text | None = None
    slack: Text | None = None
    teams: Text | None = None
    timezone: Zone | None = None
    locale: Locale | None = None
    role: Annotated[str, BeforeValidator(source_text), _choice(ROLES)] = "member"


class TeamSpec(_Model):
    slug: Slug
    name: Id
    parent: Id | None = None
    channel: Channel | None = None
    leads: list[Id] = []
    members: list[Id] = []
    checkin: Schedule | None = None
    digest: Schedule | None = None


_BINARY_WORDS = {"done": 1.0, "yes": 1.0, "not done": 0.0, "not yet": 0.0, "no": 0.0}


class KeyResultSpec(_Model):
    id: Id
    title: Id
    type: Annotated[str, BeforeValidator(source_text), _choice(KR_TYPES)] = "metric"
    unit: Text | None = None
    start: Num | None = None
    target: Num | None = None
    current: Num | None = None
    owner: Id
    weight: Annotated[float, BeforeValidator(_number), Gt(0)] = 1.0
    min: Num | None = None
    max: Num | None = None

    @model_validator(mode="before")
    @classmethod
    def _binary_current(cls, data: Any) -> Any:
        """A binary key result's `current` may be true/false or done/not done."""
        if not isinstance(data, dict) or str(data.get("type", "")).lower() != "binary":
            return data
        current = data.get("current")
        if isinstance(current, bool):
            return {**data, "current": float(current)}
        if isinstance(current, str) and current.strip().lower() in _BINARY_WORDS:
            return {**data, "current": _BINARY_WORDS[current.strip().lower()]}
        return data

    @model_validator(mode="after")
    def _normalise(self) -> KeyResultSpec:
        bounds = [k for k in ("min", "max") if getattr(self, k) is not None]
        if bounds and "type" not in self.model_fields_set:
            self.type = "threshold"
        kind = self.type
        if kind != "threshold" and bounds:
            raise _fail(bounds[0], f"'{bounds[0]}' is only for a threshold key result (not {kind})")
        if kind == "threshold":
            if len(bounds) == 2:
                raise _fail("max", "a threshold takes one of 'min' or 'max', not both")
            if not bounds:
                raise _fail("type", "a threshold needs 'min' (at or above) or 'max' (at or below)")
            if self.target is not None:
                raise _fail("target", "a threshold has no 'target' (it uses 'min' or 'max')")
        elif kind == "metric":
            if self.target is None:
                raise _fail(None, "missing 'target'")
            if self.start is None:
                self.start = 0.0
            if self.start == self.target:
                raise _fail(
                    "target", f"'target' equals 'start' ({self.start:g}): no progress possible"
                )
        else:
            fixed = (0.0, 1.0) if kind == "binary" else (0.0, 100.0)
            for key, value in zip(("start", "target"), fixed, strict=True):
                if getattr(self, key) not in (None, value):
                    raise _fail(key, f"'{key}' of a {kind} key result is always {value:g}")
            self.start, self.target = fixed
            if kind == "binary" and self.current not in (None, 0.0, 1.0):
                raise _fail(
                    "current", "'current' of a binary key result is done/true/1 or not done/false/0"
                )
            if kind == "milestone":
                if self.unit not in (None, "%"):
                    raise _fail("unit", "the unit of a milestone is always '%'")
                self.unit = "%"
                if self.current is not None and not 0 <= self.current <= 100:
                    raise _fail("current", "'current' of a milestone must be between 0 and 100")
        return self


class ObjectiveSpec(_Model):
    id: Id
    team: Id
    title: Id
    period: PeriodLabel | None = None
    aligned_to: Id | None = None
    focus: list[Id] = []
    key_results: list[KeyResultSpec] = []


def default_checkin() -> Schedule:
    return Schedule(day="mon", time="09:30", remind_after_hours=24)


def default_digest() -> Schedule:
    return Schedule(day="fri", time="15:00")


class OkrDocument(_Model):
    organization: Id
    period: PeriodLabel
    timezone: Zone = "UTC"
    locale: Locale = "en"
    exec_channel: Channel | None = None
    checkin: Schedule = Field(default_factory=default_checkin)
    digest: Schedule = Field(default_factory=default_digest)
    people: list[PersonSpec] = []
    teams: list[TeamSpec] = []
    objectives: list[ObjectiveSpec] = []

    def objective_period(self, obj: ObjectiveSpec) -> Period:
        """The objective's own period, else the document's."""
        return parse_period(obj.period or self.period)

    def team_checkin(self, team: TeamSpec) -> Schedule:
        return team.checkin or self.checkin

    def team_digest(self, team: TeamSpec) -> Schedule:
        return team.digest or self.digest

    def person_timezone(self, person: PersonSpec) -> str:
        return person.timezone or self.timezone

    def person_locale(self, person: PersonSpec) -> str:
        return person.locale or self.locale


# ---- loading -------------------------------------------------------------------------------

_SECTIONS: dict[str, type[_Model]] = {
    "people": PersonSpec,
    "teams": TeamSpec,
    "objectives": ObjectiveSpec,
}
_ALLOWED = {  # item kind -> allowed keys, for "unknown key" messages
    "top": tuple(OkrDocument.model_fields),
    "schedule": tuple(Schedule.model_fields),
    "person": tuple(PersonSpec.model_fields),
    "team": tuple(TeamSpec.model_fields),
    "objective": tuple(ObjectiveSpec.model_fields),
    "key result": tuple(KeyResultSpec.model_fields),
}


def load_okr_file(path: str | os.PathLike[str]) -> OkrDocument:
    """Load an OKR file; errors name the file as `str(path)`."""
    name = str(path)
    try:
        with open(path, "rb") as f:
            raw = f.read()
    except OSError as e:
        raise OkrFileError([Problem(name, 1, f"cannot read the file: {e.strerror or e}")]) from None
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError as e:
        line = raw[: e.start].count(b"\n") + 1
        raise OkrFileError([Problem(name, line, "the file is not UTF-8 text")]) from None
    return parse_okr_text(text, name)


def parse_okr_text(text: str, filename: str = "<okrs>") -> OkrDocument:
    """Parse and validate OKR YAML; raises OkrFileError with every problem found."""
    checker = FileChecker(compose_with_lines(text), _ALLOWED)
    doc = checker.load(OkrDocument, _SECTIONS)
    if checker.problems or doc is None:
        raise OkrFileError([Problem(filename, line, msg) for line, msg in checker.problems])
    return doc

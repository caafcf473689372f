"""Reading exported tables for `okrbot okrs import-from`: CSV or XLSX bytes into rows, headers
matched to fields by name (case, spacing and language tolerant), and the cells read as numbers,
dates, periods and health the way people write them in English and Danish.

Every problem names the file as given and where in it (`file:row: message`, or a JSON path
such as `export.zip:objectives.json[3].target: message`). Pure: bytes in, no I/O, no clock.
"""

from __future__ import annotations

import csv
import io
import re
import unicodedata
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any

from bot.okrfile.schema import parse_period


@dataclass(frozen=True)
class SourceProblem:
    """One thing about the source: `file:where: message` (where: a row number or JSON path)."""

    file: str
    where: str
    message: str

    def __str__(self) -> str:
        return (
            f"{self.file}:{self.where}: {self.message}"
            if self.where
            else (f"{self.file}: {self.message}")
        )


class SourceError(Exception):
    """A bad input file: every problem found; nothing may be written or imported."""

    def __init__(self, problems: list[SourceProblem]) -> None:
        self.problems = list(dict.fromkeys(problems))
        super().__init__("\n".join(str(p) for p in self.problems))


# ---- text ----------------------------------------------------------------------------------

_DANISH = str.maketrans({"æ": "ae", "ø": "oe", "å": "aa"})


def fold(text: str) -> str:
    """Lower case, Danish letters spelled out, accents and punctuation gone, single spaces."""
    text = unicodedata.normalize("NFKC", str(text)).casefold().translate(_DANISH)
    text = "".join(c for c in unicodedata.normalize("NFKD", text) if not unicodedata.combining(c))
    return " ".join(re.sub(r"[^a-z0-9%]+", " ", text).split())


def slug(text: str, fallback: str = "x") -> str:
    """A lower-case slug of letters, digits and dashes (`E-handel & Web` -> `e-handel-web`)."""
    return "-".join(fold(text).replace("%", " ").split()) or fallback


def cell_text(value: Any) -> str | None:
    """A cell as stripped text; None when empty."""
    if value is None:
        return None
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    text = str(value).strip()
    return text or None


# ---- tables --------------------------------------------------------------------------------


@dataclass
class Table:
    """Rows of a CSV file or an XLSX sheet: the header row, then (row number, cells)."""

    file: str
    headers: list[str]
    rows: list[tuple[int, list[Any]]]
    decimal_comma: bool = False
    notes: list[str] = field(default_factory=list)  # how it was read, for the report


def is_zip(data: bytes) -> bool:
    return data[:4] == b"PK\x03\x04"


def read_table(data: bytes, filename: str) -> Table:
    """A CSV (comma, semicolon or tab; UTF-8, UTF-16 or Windows-1252) or an XLSX workbook."""
    if is_zip(data):
        return _read_xlsx(data, filename)
    return _read_csv(data, filename)


def _decode(data: bytes) -> tuple[str, str | None]:
    if data[:2] in (b"\xff\xfe", b"\xfe\xff"):
        return data.decode("utf-16"), None
    try:
        return data.decode("utf-8-sig"), None
    except UnicodeDecodeError:
        return data.decode("cp1252", errors="replace"), "read as Windows-1252 text (not UTF-8)"


def _read_csv(data: bytes, filename: str) -> Table:
    if b"\x00" in data[:4096] and data[:2] not in (b"\xff\xfe", b"\xfe\xff"):
        raise SourceError([SourceProblem(filename, "", "not a CSV or XLSX file")])
    text, note = _decode(data)
    first = next((line for line in text.splitlines() if line.strip()), "")
    delimiter = max(",;\t", key=first.count)
    records: list[tuple[int, list[Any]]] = []
    try:
        for number, record in enumerate(csv.reader(io.StringIO(text), delimiter=delimiter), 1):
            records.append((number, record))
    except csv.Error as e:
        where = str(len(records) + 1)
        raise SourceError([SourceProblem(filename, where, f"bad CSV: {e}")]) from None
    table = _table(filename, records)
    table.decimal_comma = delimiter == ";"
    if note:
        table.notes.append(note)
    return table


def _read_xlsx(data: bytes, filename: str) -> Table:
    import zipfile

    from openpyxl import load_workbook

    try:
        book = load_workbook(io.BytesIO(data), read_only=True, data_only=True)
    except (zipfile.BadZipFile, KeyError, OSError, ValueError) as e:
        raise SourceError(
            [SourceProblem(filename, "", f"not a readable XLSX workbook ({e})")]
        ) from None
    try:
        sheet = book.active or book.worksheets[0]
        records = [(n, list(row)) for n, row in enumerate(sheet.iter_rows(values_only=True), 1)]
        table = _table(filename, records)
        if len(book.worksheets) > 1:
            table.notes.append(f"read the sheet '{sheet.title}' (the workbook's active sheet)")
        return table
    finally:
        book.close()


def _table(filename: str, records: list[tuple[int, list[Any]]]) -> Table:
    filled = [(n, r) for n, r in records if any(cell_text(c) for c in r)]
    if not filled:
        raise SourceError([SourceProblem(filename, "", "the file has no rows")])
    header_row, header = filled[0]
    headers = [cell_text(h) or "" for h in header]
    return Table(filename, headers, [(n, list(r)) for n, r in filled[1:]])


# ---- headers -------------------------------------------------------------------------------


@dataclass
class Columns:
    """Which column holds which field; what was used and what was ignored, for the report."""

    index: dict[str, int]
    used: list[tuple[str, str]]  # (header, field)
    ignored: list[str]
    danish: bool = False

    def get(self, row: list[Any], name: str) -> Any:
        i = self.index.get(name)
        return row[i] if i is not None and i < len(row) else None

    def header(self, name: str) -> str:
        return next(h for h, f in self.used if f == name)

    def report(self) -> list[str]:
        """What the report says about the columns."""
        used = ", ".join(f"'{h}'" for h, _ in self.used) or "none"
        ignored = ", ".join(f"'{h}'" for h in self.ignored) or "none"
        return [f"columns used: {used}", f"columns ignored: {ignored}"]

    def require(self, table: Table, aliases: dict[str, tuple[str, ...]], *names: str) -> None:
        """SourceError naming the first header of each needed field that has no column."""
        missing = [f"'{aliases[n][0]}'" for n in names if n not in self.index]
        if missing:
            found = ", ".join(f"'{h}'" for h in table.headers if h) or "none"
            message = f"no {' or '.join(missing)} column (found: {found})"
            raise SourceError([SourceProblem(table.file, "1", message)])


def map_columns(
    headers: list[str],
    aliases: dict[str, tuple[str, ...]],
    danish: Iterable[str] = (),
    *,
    extra: Any = None,
) -> Columns:
    """Match headers to fields by their folded names (spaces ignored). `extra(header)` may claim
    a header that no alias matched (True: used, under its own name)."""
    wanted = {fold(a).replace(" ", ""): name for name, words in aliases.items() for a in words}
    danish_words = {fold(a).replace(" ", "") for a in danish}
    index: dict[str, int] = {}
    used: list[tuple[str, str]] = []
    ignored: list[str] = []
    is_danish = False
    for i, header in enumerate(headers):
        key = fold(header).replace(" ", "")
        name = wanted.get(key)
        if name is not None and name not in index:
            index[name] = i
            used.append((header, name))
            is_danish = is_danish or key in danish_words
        elif name is None and extra is not None and header and extra(header):
            used.append((header, header))
        elif header:
            ignored.append(header)
    return Columns(index, used, ignored, is_danish)


# ---- cells ---------------------------------------------------------------------------------

_NUMBER = re.compile(r"[-+−]?(\d[\d., ']*)")


def parse_number(value: Any, decimal_comma: bool = False) -> float | None:
    """A cell as a number: 4100, `4,100` / `4.100`, `1.5` / `1,5`, `12 %`, `50 000`; None when
    empty; ValueError (with the message) otherwise."""
    if value is None or isinstance(value, bool):
        if isinstance(value, bool):
            return 1.0 if value else 0.0
        return None
    if isinstance(value, int | float):
        return float(value)
    text = str(value).strip().replace("\u00a0", " ").replace("\u202f", " ")
    if not text:
        return None
    bare = text.removesuffix("%").strip()
    if not _NUMBER.fullmatch(bare):
        raise ValueError(f"must be a number (got {text!r})")
    sign = -1.0 if bare[0] in "-−" else 1.0
    digits = bare.lstrip("+-−").replace(" ", "").replace("'", "")
    dots, commas = digits.count("."), digits.count(",")
    if dots and commas:
        decimal = "." if digits.rfind(".") > digits.rfind(",") else ","
    elif dots + commas == 0:
        decimal = None
    else:
        mark = "." if dots else ","
        grouped = re.fullmatch(r"\d{1,3}(" + re.escape(mark) + r"\d{3})+", digits)
        prefer = "," if decimal_comma else "."
        if dots + commas > 1:
            decimal = None if grouped else "bad"
        elif grouped and mark != prefer:
            decimal = None  # 4,100 in English, 4.100 in Danish: thousands
        else:
            decimal = mark
    if decimal == "bad":
        raise ValueError(f"must be a number (got {text!r})")
    thousands = {".", ","} - {decimal}
    for mark in thousands:
        digits = digits.replace(mark, "")
    if decimal:
        digits = digits.replace(decimal, ".")
    try:
        return sign * float(digits)
    except ValueError:
        raise ValueError(f"must be a number (got {text!r})") from None


def parse_progress(value: Any, decimal_comma: bool = False) -> float | None:
    """Progress as a share 0..1: `45%`, `45`, `0.45`."""
    number = parse_number(value, decimal_comma)
    if number is None:
        return None
    percent = isinstance(value, str) and "%" in value
    share = number / 100 if percent or number > 1 else number
    if not 0 <= share <= 1.5:
        raise ValueError(f"progress must be between 0 and 100 % (got {value!r})")
    return min(share, 1.0)


_DMY = re.compile(r"(\d{1,2})[./-](\d{1,2})[./-](\d{4})")
_SLASH = re.compile(r"(\d{1,2})/(\d{1,2})/(\d{4})")


def parse_when(value: Any, decimal_comma: bool = False) -> date | datetime | None:
    """A date or a moment: ISO (`2025-10-06`, `2025-10-06T09:12:00Z`), `06-10-2025`,
    `6.10.2025`, `10/6/2025` (month first in English, day first in Danish); None when empty."""
    if value is None:
        return None
    if isinstance(value, datetime):
        return value if value.time() != datetime.min.time() or value.tzinfo else value.date()
    if isinstance(value, date):
        return value
    text = str(value).strip()
    if not text:
        return None
    try:
        if "T" in text or " " in text.strip():
            moment = datetime.fromisoformat(text.replace(" ", "T", 1))
            return moment
        return date.fromisoformat(text)
    except ValueError:
        pass
    if m := _SLASH.fullmatch(text):
        a, b, year = int(m[1]), int(m[2]), int(m[3])
        day, month = (a, b) if decimal_comma or a > 12 else (b, a)
    elif m := _DMY.fullmatch(text):
        day, month, year = int(m[1]), int(m[2]), int(m[3])
    else:
        raise ValueError(f"is not a date (got {text!r}; use 2025-10-06)")
    try:
        return date(year, month, day)
    except ValueError:
        raise ValueError(f"is not a date (got {text!r}; use 2025-10-06)") from None


def header_date(header: str) -> date | None:
    """A column header that is a date (a spreadsheet's weekly values), else None."""
    try:
        when = parse_when(header)
    except ValueError:
        return None
    return when.date() if isinstance(when, datetime) else when


def period_of_dates(start: date, end: date) -> str:
    """The SPEC label of a span: `2025-Q4` when it is a calendar quarter, else a range."""
    quarter = (start.month - 1) // 3 + 1
    label = f"{start.year}-Q{quarter}"
    if start.day == 1 and start.month % 3 == 1 and parse_period(label).end == end:
        return label
    return f"{start.isoformat()}..{end.isoformat()}"


_Q = r"(?:q|k|quarter|kvartal)"
_PERIOD_PATTERNS = [
    (re.compile(rf"(\d{{4}}) ?{_Q} ?([1-4])"), lambda m: (int(m[1]), "q", int(m[2]))),
    (re.compile(rf"{_Q} ?([1-4]) ?(?:cy)? ?(\d{{4}})"), lambda m: (int(m[2]), "q", int(m[1]))),
    (re.compile(rf"([1-4]) (?:{_Q}) (\d{{4}})"), lambda m: (int(m[2]), "q", int(m[1]))),
    (re.compile(r"(\d{4}) ?h([12])"), lambda m: (int(m[1]), "h", int(m[2]))),
    (re.compile(r"h([12]) ?(\d{4})"), lambda m: (int(m[2]), "h", int(m[1]))),
    (re.compile(r"([12]) (?:halvaar|half) (\d{4})"), lambda m: (int(m[2]), "h", int(m[1]))),
    (re.compile(r"(?:cy ?)?(\d{4})"), lambda m: (int(m[1]), "y", 1)),
]
_RANGE_SPLIT = re.compile(r"\s*(?:\.\.|–|—|\bto\b|\btil\b|\s-\s)\s*")


def parse_period_name(value: Any, decimal_comma: bool = False) -> str:
    """A time period as people name it (`Q4 2025`, `2025-Q4`, `4. kvartal 2025`, `H1 2026`,
    `2026`, `2025-10-01 - 2025-12-31`) as a SPEC label; ValueError otherwise."""
    text = cell_text(value) or ""
    try:
        return parse_period(text).label
    except ValueError:
        pass
    parts = _RANGE_SPLIT.split(text)
    if len(parts) == 2:
        try:
            start, end = (parse_when(p, decimal_comma) for p in parts)
        except ValueError:
            start = end = None
        if isinstance(start, date) and isinstance(end, date) and start <= end:
            start = start.date() if isinstance(start, datetime) else start
            end = end.date() if isinstance(end, datetime) else end
            return period_of_dates(start, end)
    folded = fold(text)
    if re.search(r"\bfy", folded):
        raise ValueError(
            f"cannot tell the dates of the fiscal period {text!r}: name it as 2025-Q4 or "
            "2025-10-01..2025-12-31"
        )
    for pattern, parts_of in _PERIOD_PATTERNS:
        if m := pattern.fullmatch(folded):
            year, kind, n = parts_of(m)
            if kind == "q":
                return f"{year}-Q{n}"
            if kind == "h":
                start = date(year, 1 if n == 1 else 7, 1)
                end = date(year, 6, 30) if n == 1 else date(year, 12, 31)
                return f"{start.isoformat()}..{end.isoformat()}"
            return f"{year}-01-01..{year}-12-31"
    raise ValueError(
        f"is not a time period okrbot can read (got {text!r}; use 2025-Q4, Q4 2025 or "
        "2025-10-01..2025-12-31)"
    )


_HEALTH = {
    "on_track": (
        "on track",
        "ontrack",
        "green",
        "good",
        "completed",
        "complete",
        "done",
        "paa sporet",
        "groen",
        "fuldfoert",
        "afsluttet",
        "opnaaet",
        "achieved",
    ),
    "at_risk": (
        "at risk",
        "atrisk",
        "yellow",
        "amber",
        "needs attention",
        "i risiko",
        "gul",
        "risiko",
    ),
    "off_track": (
        "off track",
        "offtrack",
        "behind",
        "red",
        "blocked",
        "bagud",
        "roed",
        "blokeret",
        "forsinket",
        "delayed",
    ),
    "": (
        "not started",
        "notstarted",
        "ikke startet",
        "none",
        "no status",
        "ingen status",
        "postponed",
        "udskudt",
        "closed",
        "lukket",
        "cancelled",
        "canceled",
        "annulleret",
    ),
}
_HEALTH_WORDS = {fold(w).replace(" ", ""): h for h, words in _HEALTH.items() for w in words}


def parse_health(value: Any) -> tuple[str | None, bool]:
    """(health or None, known): a status such as `On track`, `Behind`, `På sporet`."""
    text = cell_text(value)
    if text is None:
        return None, True
    health = _HEALTH_WORDS.get(fold(text).replace(" ", ""))
    if health is None:
        return None, False
    return health or None, True


def noon(day: date | datetime, timezone: str) -> datetime:
    """A check-in's moment: as given when it has a time, else 12:00 that day in `timezone`."""
    from zoneinfo import ZoneInfo

    zone = ZoneInfo(timezone)
    if isinstance(day, datetime):
        return day if day.tzinfo else day.replace(tzinfo=zone)
    return datetime(day.year, day.month, day.day, 12, tzinfo=zone)

"""Sample exports for the import-from tests, as files on disk: the Viva Goals Explorer export
(English CSV in tests/samples, a Danish XLSX built here), the Viva Goals ZIP of JSON files (from
tests/samples/viva_zip, with changes a test asks for) and the sheet of docs/samples."""

from __future__ import annotations

import json
import zipfile
from pathlib import Path

SAMPLES = Path(__file__).parent / "samples"
EXPLORER_CSV = SAMPLES / "viva-explorer.csv"
ZIP_DIR = SAMPLES / "viva_zip"
SHEET_CSV = Path(__file__).parent.parent / "docs" / "samples" / "okrs-sheet.csv"

DANISH_HEADERS = [
    "Titel", "Type", "Ejer", "Ejers e-mail", "Team", "Tidsperiode", "Overordnet",
    "Startværdi", "Målværdi", "Aktuel værdi", "Enhed", "Fremskridt", "Status", "Beskrivelse",
]  # fmt: skip
GOAL = "Øg omsætningen med 20 %"
CLUB = "Flere kunder i klubben"
WIN_BACK = "Genvind inaktive medlemmer"
STORES = "Åbn to nye butikker"
DANISH_ROWS = [
    [GOAL, "Mål", "Sofie Berg", "sofie@nordlys.example", "Nordlys", "4. kvartal 2026", None,
     None, None, None, None, None, "På sporet", "Årets mål"],
    ["Årlig omsætning", "Nøgleresultat", "Sofie Berg", "sofie@nordlys.example", "Nordlys",
     "4. kvartal 2026", GOAL, 50_000_000, 60_000_000, 53_600_000, "kr.", 0.36, "I risiko", None],
    [CLUB, "Mål", "Mette Lund", "mette@nordlys.example", "Marketing", "K4 2026", GOAL,
     None, None, None, None, None, None, None],
    ["Nye klubmedlemmer", "Nøgleresultat", "Anna Holm", "anna@nordlys.example", "Marketing",
     "K4 2026", CLUB, 0, "4.000", "1.250", "medlemmer", "31 %", "Bagud", "fra kassen"],
    ["Gennemsnitlig kurv", "Nøgleresultat", "Jonas Krogh", "jonas@nordlys.example", "Marketing",
     "K4 2026", CLUB, "350,5", 400, "372,25", "kr.", None, "På sporet", None],
    ["Sommerkampagne", "Initiativ", "Anna Holm", "anna@nordlys.example", "Marketing", "K4 2026",
     "Nye klubmedlemmer", None, None, None, None, None, None, None],
    [WIN_BACK, "Mål", "Oliver Hansen", "oliver@nordlys.example", "CRM", "K4 2026", CLUB,
     None, None, None, None, None, None, None],
    ["Reaktiverede medlemmer", "Nøgleresultat", "Oliver Hansen", "oliver@nordlys.example", "CRM",
     "K4 2026", WIN_BACK, 0, 500, 120, "medlemmer", "24 %", "I risiko", None],
    [STORES, "Mål", "Lars Winther", "lars@nordlys.example", "Retail", "3. kvartal 2026",
     "Et mål der ikke findes", None, None, None, None, None, None, None],
    ["Nye butikker åbnet", "Nøgleresultat", "Lars Winther", None, "Retail", "3. kvartal 2026",
     STORES, 0, 2, 1, "butikker", "50 %", "Bagud", None],
    ["Tilfredse kunder", "Nøgleresultat", "Karen Dahl", None, "Retail", "3. kvartal 2026",
     STORES, None, None, None, None, "40 %", "På sporet", None],
]  # fmt: skip


def danish_xlsx(path: Path, rows: list[list] | None = None) -> Path:
    """The Explorer export with Danish headers, as Viva Goals writes an XLSX."""
    from openpyxl import Workbook

    book = Workbook()
    sheet = book.active
    sheet.title = "OKR'er"
    sheet.append(DANISH_HEADERS)
    for row in rows if rows is not None else DANISH_ROWS:
        sheet.append(row)
    book.create_sheet("Om eksporten").append(["Eksporteret fra Viva Goals"])
    book.save(path)
    return path


def zip_items(name: str) -> list | dict:
    return json.loads((ZIP_DIR / name).read_text(encoding="utf-8"))


def viva_zip(path: Path, changes: dict[str, object] | None = None, folder: str = "") -> Path:
    """The ZIP of JSON files; `changes` replaces a file's content (a str is written as is)."""
    changes = changes or {}
    with zipfile.ZipFile(path, "w") as archive:
        for source in sorted(ZIP_DIR.glob("*.json")):
            content = changes.get(source.name, source.read_text(encoding="utf-8"))
            if not isinstance(content, str):
                content = json.dumps(content, ensure_ascii=False, indent=1)
            archive.writestr(folder + source.name, content)
        archive.writestr(folder + "README.txt", "Viva Goals data export")
    return path

"""The Teams app package: `manifest.json` with the bot's app id, and the two icons, in one zip.

Teams wants the three files at the root of the zip. The templates are package data of this
package (`template/`), read with importlib.resources, so an installed wheel has them too.
"""

from __future__ import annotations

import json
import os
import re
import tempfile
import zipfile
from importlib import resources
from pathlib import Path

TEMPLATE = resources.files(__package__).joinpath("template")
FILES = ("manifest.json", "color.png", "outline.png")
DEFAULT_NAME = "okrbot-teams.zip"
_GUID = re.compile(r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}", re.IGNORECASE)
_PLACEHOLDER = re.compile(r"\{\{[A-Z_]+\}\}")
_FIXED_TIME = (1980, 1, 1, 0, 0, 0)  # the same input gives the same zip, byte for byte


def build_package(app_id: str, out: Path) -> Path:
    """Write the app package for the bot `app_id` (its Microsoft App ID) to `out`; return the path.

    `out` may be an existing directory (the zip is then `okrbot-teams.zip` in it); missing
    parent directories are created. Raises `ValueError` when `app_id` is not a GUID and
    `FileNotFoundError` when the templates are missing.
    """
    app_id = app_id.strip()
    if not _GUID.fullmatch(app_id):
        raise ValueError(
            f"--app-id must be the bot's Microsoft App ID, a GUID such as "
            f"00000000-0000-0000-0000-000000000000, not {app_id!r}"
        )
    contents = _contents(app_id.lower())
    out = Path(out)
    if out.is_dir():
        out = out / DEFAULT_NAME
    out.parent.mkdir(parents=True, exist_ok=True)
    # Write next to the target and rename: a failed run never leaves half a zip behind.
    fd, temporary = tempfile.mkstemp(prefix=".okrbot-teams-", suffix=".zip", dir=out.parent)
    try:
        with os.fdopen(fd, "wb") as stream, zipfile.ZipFile(stream, "w") as package:
            for name in FILES:
                info = zipfile.ZipInfo(name, date_time=_FIXED_TIME)
                info.compress_type = zipfile.ZIP_DEFLATED
                info.external_attr = 0o644 << 16
                package.writestr(info, contents[name])
        os.replace(temporary, out)
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise
    return out


def _contents(app_id: str) -> dict[str, bytes]:
    missing = [name for name in FILES if not TEMPLATE.joinpath(name).is_file()]
    if missing:
        raise FileNotFoundError(
            f"the Teams app templates are missing from {TEMPLATE}: {', '.join(missing)}"
        )
    manifest = TEMPLATE.joinpath("manifest.json").read_text(encoding="utf-8")
    manifest = manifest.replace("{{APP_ID}}", app_id)
    left = _PLACEHOLDER.search(manifest)
    if left:
        raise ValueError(f"the Teams manifest template: unfilled placeholder {left.group()}")
    json.loads(manifest)  # the template must stay valid JSON
    return {
        "manifest.json": manifest.encode("utf-8"),
        "color.png": TEMPLATE.joinpath("color.png").read_bytes(),
        "outline.png": TEMPLATE.joinpath("outline.png").read_bytes(),
    }

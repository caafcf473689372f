"""Writing an OKR document back as YAML in the SPEC's style (`okrbot okrs export`)."""

from __future__ import annotations

import math
from typing import Any

import yaml

from bot.okrfile.schema import KeyResultSpec, OkrDocument, default_checkin, default_digest

FLOW_WIDTH = 120


def plain(value: Any) -> Any:
    """Numbers as ints when integral (12 not 12.0), recursively."""
    if isinstance(value, float) and math.isfinite(value) and value.is_integer():
        return int(value)
    if isinstance(value, dict):
        return {k: plain(v) for k, v in value.items()}
    if isinstance(value, list):
        return [plain(v) for v in value]
    return value


def flow(value: Any) -> str:
    """One value in YAML flow style on a single line, quoted where needed."""
    text = yaml.safe_dump(
        plain(value), default_flow_style=True, sort_keys=False, width=10**9, allow_unicode=True
    )
    return text.removesuffix("\n...\n").strip()


def block_mapping(data: dict[str, Any], indent: int, first_prefix: str = "") -> list[str]:
    """A mapping in block style; lists of mappings become lists of flow or block items."""
    lines: list[str] = []
    pad = " " * indent
    for n, (key, value) in enumerate(data.items()):
        prefix = first_prefix if n == 0 else " " * len(first_prefix)
        if isinstance(value, list) and value and all(isinstance(v, dict) for v in value):
            lines.append(f"{pad}{prefix}{key}:")
            lines.extend(block_list(value, indent + len(prefix) + 2))
        else:
            lines.append(f"{pad}{prefix}{flow({key: value})[1:-1]}")
    return lines


def block_list(items: list[dict[str, Any]], indent: int, *, compact: bool = True) -> list[str]:
    """`- {flow mapping}` per item when it fits in FLOW_WIDTH, else `- key: ...` block items."""
    lines: list[str] = []
    for item in items:
        line = f"{' ' * indent}- {flow(item)}"
        nested = any(isinstance(v, dict) for v in item.values())
        if compact and not nested and len(line) <= FLOW_WIDTH:
            lines.append(line)
        else:
            lines.extend(block_mapping(item, indent, first_prefix="- "))
    return lines


_KR_ORDER = "id title type unit start target min max current owner weight".split()  # noqa: SIM905


def _key_result(kr: KeyResultSpec) -> dict[str, Any]:
    d = kr.model_dump(exclude_none=True)
    if kr.type in ("metric", "threshold"):  # metric is the default, threshold is inferred
        del d["type"]
    if kr.type in ("binary", "milestone"):  # implied start/target/unit
        del d["start"], d["target"]
        if kr.type == "milestone":
            del d["unit"]
    if kr.type == "binary" and kr.current is not None:
        d["current"] = kr.current == 1.0
    if kr.weight == 1.0:
        del d["weight"]
    return {k: d[k] for k in _KR_ORDER if k in d}


def _without_empty(d: dict[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in d.items() if v != []}


def dump_okr_document(doc: OkrDocument) -> str:
    """YAML text in the SPEC's style; `parse_okr_text(dump_okr_document(doc)) == doc`."""
    top: dict[str, Any] = {"organization": doc.organization, "period": doc.period}
    if doc.timezone != "UTC":
        top["timezone"] = doc.timezone
    if doc.locale != "en":
        top["locale"] = doc.locale
    if doc.exec_channel is not None:
        top["exec_channel"] = doc.exec_channel
    for key, default in (("checkin", default_checkin()), ("digest", default_digest())):
        if getattr(doc, key) != default:
            top[key] = getattr(doc, key).model_dump(exclude_none=True)
    lines = block_mapping(top, 0)
    people = [p.model_dump(exclude_none=True, exclude_defaults=True) for p in doc.people]
    teams = [_without_empty(t.model_dump(exclude_none=True)) for t in doc.teams]
    objectives = [
        _without_empty(
            {
                **o.model_dump(exclude_none=True),
                "key_results": [_key_result(k) for k in o.key_results],
            }
        )
        for o in doc.objectives
    ]
    for name, items, compact in (
        ("people", people, False),
        ("teams", teams, True),
        ("objectives", objectives, False),
    ):
        if items:
            lines += ["", f"{name}:", *block_list(items, 2, compact=compact)]
    return "\n".join(lines) + "\n"

"""Plumbing for the OKR file (bot.okrfile.schema): YAML with line numbers, and checking.

`compose_with_lines` walks the node tree of `yaml.compose` (safe loader, nothing is constructed
by PyYAML) so that every value keeps the line it came from. Scalars follow YAML 1.2 rather than
PyYAML's 1.1 defaults: only `true`/`false` are booleans, `15:00` and `2026-10-01` stay text.
Numbers become `YamlInt` / `YamlFloat`, which remember their source text so that a string field
(an id like `1.10`, a Slack id like `12345`) gets exactly what was written.
`FileChecker` validates that data with the models of bot.okrfile.schema (passed in, so this
module does not import them) and turns every error into (line, message).
"""

from __future__ import annotations

import re
from typing import Any

import yaml
from pydantic import ValidationError
from yaml.nodes import MappingNode, Node, ScalarNode, SequenceNode

Path = tuple[str | int, ...]

# libyaml when PyYAML was built with it (about three times faster), else pure Python
_LOADER = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
_STR = "tag:yaml.org,2002:str"
_INT = "tag:yaml.org,2002:int"
_FLOAT = "tag:yaml.org,2002:float"
_BOOL = "tag:yaml.org,2002:bool"
_NULL = "tag:yaml.org,2002:null"
_DECIMAL = re.compile(r"[-+]?[0-9]+")
_FLOAT_12 = re.compile(r"[-+]?(\.[0-9]+|[0-9]+(\.[0-9]*)?)([eE][-+]?[0-9]+)?")
_CONSTRUCTOR = yaml.constructor.SafeConstructor()  # only its scalar constructors are used


class YamlInt(int):
    """An int that remembers how it was written."""

    text: str


class YamlFloat(float):
    """A float that remembers how it was written."""

    text: str


class YamlData:
    """Result of `compose_with_lines`: `data`, `lines` (path -> 1-based line), `problems`."""

    def __init__(self) -> None:
        self.data: Any = None
        self.lines: dict[Path, int] = {}
        self.problems: list[tuple[int, str]] = []

    def line(self, path: Path) -> int:
        """Line of `path`, or of its nearest enclosing item when `path` itself is absent."""
        for n in range(len(path), -1, -1):
            if path[:n] in self.lines:
                return self.lines[path[:n]]
        return 1


def compose_with_lines(text: str) -> YamlData:
    out = YamlData()
    try:
        root = yaml.compose(text, Loader=_LOADER)
    except yaml.MarkedYAMLError as e:
        mark = e.problem_mark or e.context_mark
        line = mark.line + 1 if mark is not None else 1
        where = f" ({e.context})" if e.context else ""
        out.problems.append((line, f"YAML syntax error: {e.problem}{where}"))
        return out
    except yaml.YAMLError as e:
        out.problems.append((1, f"YAML error: {e}"))
        return out
    if root is None:
        out.lines[()] = 1
        return out
    out.lines[()] = root.start_mark.line + 1
    out.data = _walk(root, (), out, set())
    return out


def _walk(node: Node, path: Path, out: YamlData, active: set[int]) -> Any:
    if isinstance(node, ScalarNode):
        return _scalar(node)
    if id(node) in active:
        out.problems.append((node.start_mark.line + 1, "recursive YAML alias"))
        return None
    active = active | {id(node)}
    if isinstance(node, SequenceNode):
        items = []
        for i, child in enumerate(node.value):
            out.lines[path + (i,)] = child.start_mark.line + 1
            items.append(_walk(child, path + (i,), out, active))
        return items
    assert isinstance(node, MappingNode)
    result: dict[str, Any] = {}
    for key_node, value_node in node.value:
        line = key_node.start_mark.line + 1
        if not isinstance(key_node, ScalarNode):
            out.problems.append((line, "a key must be a plain name, not a list or mapping"))
            continue
        key = key_node.value
        if key in result:
            first = out.lines[path + (key,)]
            out.problems.append((line, f"duplicate key '{key}' (first at line {first})"))
            continue
        out.lines[path + (key,)] = line
        result[key] = _walk(value_node, path + (key,), out, active)
    return result


def _scalar(node: ScalarNode) -> Any:
    text = node.value
    if node.style or node.tag not in (_STR, _INT, _FLOAT, _BOOL, _NULL):  # "" = plain in libyaml
        return text  # quoted, block or custom-tagged: as written
    if node.tag == _NULL:
        return None
    if node.tag == _BOOL:
        return {"true": True, "false": False}.get(text.lower(), text)  # yes/no/on/off stay text
    number: YamlInt | YamlFloat
    if ":" in text:  # no sexagesimals: 15:00 is a time
        return text
    if _DECIMAL.fullmatch(text):  # also 010, which YAML 1.1 would read as octal
        number = YamlInt(int(text))
    elif _FLOAT_12.fullmatch(text):  # also 1e6, which YAML 1.1 would read as text
        number = YamlFloat(float(text))
    elif node.tag == _INT:
        number = YamlInt(_CONSTRUCTOR.construct_yaml_int(node))
    elif node.tag == _FLOAT:
        number = YamlFloat(_CONSTRUCTOR.construct_yaml_float(node))
    else:
        return text
    number.text = text
    return number


# ---- checking ------------------------------------------------------------------------------

_MAPPING_TYPES = {"model_type", "model_attributes_type", "dict_type"}
_PHRASES = {
    "list_type": "must be a list",
    "string_too_short": "must not be empty",
}


def source_text(value: Any) -> Any:
    """A number as it was written, anything else unchanged (for string fields)."""
    return value.text if isinstance(value, YamlInt | YamlFloat) else value


def _not_text(value: Any) -> str:
    if value is None:
        return "must have a value"
    if isinstance(value, list | dict):
        return f"must be text, not a {'list' if isinstance(value, list) else 'mapping'}"
    return "must be text (quote it)"


def _name(item: Any, key: str) -> str | None:
    """`item[key]` when it is a non-empty name as written, else None."""
    value = source_text(item.get(key)) if isinstance(item, dict) else None
    return value if isinstance(value, str) and value else None


class FileChecker:
    """Validates composed OKR data section by section, collecting (line, message) problems.

    Pydantic errors are translated with the line map; a validator may raise a custom error of
    type "okr" with ctx {"message": ..., "key": key-or-None} to point at one key of its item.
    `allowed` maps an item kind (top, schedule, person, team, objective, key result) to its keys.
    """

    def __init__(self, yaml_data: YamlData, allowed: dict[str, tuple[str, ...]]) -> None:
        self.y = yaml_data
        self.allowed = allowed
        self.problems: list[tuple[int, str]] = list(yaml_data.problems)

    def add(self, path: Path, message: str) -> None:
        self.problems.append((self.y.line(path), message))

    def load(self, document: Any, sections: dict[str, Any]) -> Any:
        """The validated document (a pydantic model), or None when there were problems."""
        data = self.y.data
        if not isinstance(data, dict):
            if data is not None or not self.problems:
                what = "empty" if data is None else "not a mapping"
                keys = ", ".join(f"'{k}'" for k in ("organization", "period", *sections))
                self.add((), f"the file is {what}: expected keys such as {keys}")
            return None
        header = {k: v for k, v in data.items() if k not in sections}
        doc = self.validate(document, header, ())
        found = {name: self.section(name, model) for name, model in sections.items()}
        self.check_references()
        if self.problems or doc is None:
            return None
        return doc.model_copy(update={k: [m for _, m in v] for k, v in found.items()})

    def section(self, name: str, model: Any) -> list[tuple[int, Any]]:
        items = self.y.data.get(name)
        if items is None:
            return []
        if not isinstance(items, list):
            self.add((name,), f"'{name}' must be a list")
            return []
        validated = [(i, self.validate(model, item, (name, i))) for i, item in enumerate(items)]
        return [(i, m) for i, m in validated if m is not None]

    def validate(self, model: Any, data: Any, prefix: Path) -> Any:
        try:
            return model.model_validate(data)
        except ValidationError as e:
            for err in e.errors(include_url=False):
                self.translate(err, prefix)
            return None

    # -- error messages

    def translate(self, err: Any, prefix: Path) -> None:
        loc: Path = prefix + tuple(err["loc"])
        kind, ctx = err["type"], err.get("ctx") or {}
        if kind == "okr":
            name = self.describe(loc)[0]
            path = loc + (ctx["key"],) if ctx.get("key") else loc
            self.add(path, f"{name}: {ctx['message']}" if name else ctx["message"])
            return
        name, item_kind = self.describe(loc[:-1])
        key = next((p for p in reversed(loc) if isinstance(p, str)), "?")
        if kind == "extra_forbidden":
            allowed = ", ".join(self.allowed.get(item_kind, ()))
            self.add(loc, f"unknown key '{key}' in {name or 'the top level'} (allowed: {allowed})")
            return
        if kind == "missing":
            self.add(loc, f"{name}: missing '{key}'" if name else f"missing top-level key '{key}'")
            return
        subject = f"'{key}'" if isinstance(loc[-1], str) else f"item {loc[-1] + 1} of '{key}'"
        if kind in _MAPPING_TYPES:
            text = "must be a mapping"
        elif kind == "greater_than":
            text = f"must be greater than {ctx.get('gt')}"
        elif kind == "string_type":
            text = _not_text(err.get("input"))
        elif kind == "value_error":
            text = str(ctx.get("error", err["msg"]))
        else:
            text = _PHRASES.get(kind, err["msg"])
        message = f"{subject} {text}" if text.startswith("must") else f"{subject}: {text}"
        self.add(loc, f"{name}: {message}" if name else message)

    def describe(self, path: Path) -> tuple[str | None, str]:
        """Name and kind of the innermost item enclosing `path` (name None: the top level)."""
        for n in range(len(path), 0, -1):
            match path[:n]:
                case ("checkin" | "digest" as block,):
                    return f"'{block}'", "schedule"
                case ("people", int()):
                    return f"person {self.ident(path[:n], 'id')}", "person"
                case ("teams", int()):
                    return f"team {self.ident(path[:n], 'slug')}", "team"
                case ("teams", int(), "checkin" | "digest" as block):
                    return f"team {self.ident(path[:2], 'slug')} '{block}'", "schedule"
                case ("objectives", int()):
                    return f"objective {self.ident(path[:n], 'id')}", "objective"
                case ("objectives", int(), "key_results", int()):
                    return f"key result {self.ident(path[:n], 'id')}", "key result"
        return None, "top"

    def ident(self, path: Path, key: str) -> str:
        item: Any = self.y.data
        for part in path:
            item = item[part]
        return _name(item, key) or f"#{path[-1] + 1}"

    # -- references across the file

    def items(self, path: Path) -> list[tuple[Path, dict[str, Any]]]:
        """The mapping items of the list at `path` in the raw data, with their paths."""
        value: Any = self.y.data
        for part in path:
            value = value[part] if isinstance(part, int) else value.get(part)
        if not isinstance(value, list):
            return []
        return [(path + (i,), item) for i, item in enumerate(value) if isinstance(item, dict)]

    def unique(self, label: str, entries: list[tuple[Path, str | None]]) -> set[str]:
        """Report repeated ids; return all ids."""
        first: dict[str, Path] = {}
        for path, ident in entries:
            if ident is None:
                continue
            if ident in first:
                at = self.y.line(first[ident])
                self.add(path, f"duplicate {label} '{ident}' (first at line {at})")
            else:
                first[ident] = path
        return set(first)

    def check_references(self) -> None:
        """Ids, references and cycles, checked on the raw data so that an item with an
        unrelated error still has its references checked."""
        people = self.items(("people",))
        teams = self.items(("teams",))
        objectives = self.items(("objectives",))
        krs = [kr for path, _ in objectives for kr in self.items(path + ("key_results",))]
        known_people = self.unique("person id", [(p + ("id",), _name(i, "id")) for p, i in people])
        known_teams = self.unique(
            "team slug", [(p + ("slug",), _name(i, "slug")) for p, i in teams]
        )
        known_objectives = self.unique(
            "objective id", [(p + ("id",), _name(i, "id")) for p, i in objectives]
        )
        self.unique("key result id", [(p + ("id",), _name(i, "id")) for p, i in krs])

        for path, team in teams:
            name = f"team {_name(team, 'slug') or f'#{path[-1] + 1}'}"
            parent = _name(team, "parent")
            if parent is not None and parent not in known_teams:
                self.add(path + ("parent",), f"{name}: unknown parent team '{parent}'")
            for key in ("leads", "members"):
                handles = team.get(key)
                for n, handle in enumerate(handles if isinstance(handles, list) else []):
                    handle = source_text(handle)
                    if isinstance(handle, str) and handle not in known_people:
                        self.add(path + (key, n), f"{name}: unknown person '{handle}' in '{key}'")
        for path, obj in objectives:
            name = f"objective {_name(obj, 'id') or f'#{path[-1] + 1}'}"
            team, aligned_to = _name(obj, "team"), _name(obj, "aligned_to")
            if team is not None and team not in known_teams:
                self.add(path + ("team",), f"{name}: unknown team '{team}'")
            if aligned_to is not None and aligned_to not in known_objectives:
                self.add(
                    path + ("aligned_to",),
                    f"{name}: 'aligned_to' names unknown objective '{aligned_to}'",
                )
        for path, kr in krs:
            owner = _name(kr, "owner")
            if owner is not None and owner not in known_people:
                name = f"key result {_name(kr, 'id') or f'#{path[-1] + 1}'}"
                self.add(path + ("owner",), f"{name}: unknown owner '{owner}'")

        self.cycles(
            "parent", [(p + ("parent",), _name(t, "slug"), _name(t, "parent")) for p, t in teams]
        )
        self.cycles(
            "aligned_to",
            [(p + ("aligned_to",), _name(o, "id"), _name(o, "aligned_to")) for p, o in objectives],
        )

    def cycles(self, key: str, links: list[tuple[Path, str | None, str | None]]) -> None:
        """Report each cycle once, starting from its member that comes first in the file."""
        order = [ident for _, ident, _ in links if ident is not None]
        up: dict[str, str] = {}
        where: dict[str, Path] = {}
        for path, ident, target in links:
            if ident is not None and target is not None and ident not in up:
                up[ident], where[ident] = target, path
        reported: set[frozenset[str]] = set()
        for ident in order:
            chain: list[str] = []
            node = ident
            while node in up and node not in chain:
                chain.append(node)
                node = up[node]
            if node not in chain or frozenset(chain[chain.index(node) :]) in reported:
                continue
            cycle = chain[chain.index(node) :]
            reported.add(frozenset(cycle))
            k = cycle.index(min(cycle, key=order.index))
            cycle = cycle[k:] + cycle[:k]
            self.add(where[cycle[0]], f"cycle in {key}: {' -> '.join(cycle + [cycle[0]])}")

"""Landing OKRs from another tool: what the readers of exports (bot.okrfile.viva, .sheet) found,
turned into an OKR document of SPEC §2 plus the check-in history of its key results, and a
report of what could not be mapped, each with the source row or JSON path.

People are matched by email: one email is one person (whatever case it is written in), and a
person the store already knows by that email keeps their handle. An owner without an email is
added by name and reported (okrbot cannot find them in Slack or Teams until the file says how);
an owner who cannot be found at all is an unknown owner. A key result without a target becomes
a milestone (0-100 %) at its progress; an alignment that points nowhere is left out; both are
reported. Pure: no I/O, no clock.
"""

from __future__ import annotations

import re
from collections import Counter
from dataclasses import dataclass, field
from datetime import date, datetime

from pydantic import ValidationError

from bot.okrfile.dump import dump_okr_document
from bot.okrfile.schema import (
    KeyResultSpec,
    OkrDocument,
    OkrFileError,
    PersonSpec,
    TeamSpec,
    parse_okr_text,
)
from bot.okrfile.tables import SourceError, SourceProblem, fold, noon, slug

COMPANY = "company"


@dataclass(frozen=True)
class Owner:
    name: str | None = None
    email: str | None = None
    ref: str | None = None  # the source's own id of the person, when it has one

    @classmethod
    def of(cls, name: str | None, email: str | None) -> Owner | None:
        """The owner of a row's owner and owner email cells: an email in the name column is
        taken as the email; of several owners (`a; b`) the first one owns it in okrbot."""
        if email and "@" not in email and name and "@" in name:
            name, email = email, name
        if name and "@" in name and not email:
            name, email = None, name
        name = name.split(";")[0].strip() or None if name else None
        email = email.split(";")[0].strip() or None if email else None
        return cls(name, email) if name or email else None


@dataclass
class CheckIn:
    when: date | datetime
    value: float | None
    health: str | None = None
    comment: str | None = None


@dataclass
class KeyResultIn:
    where: SourceProblem  # file and row/path (message unused)
    title: str
    ref: str | None = None  # the source's id
    key: str | None = None  # an okrbot id given by the source
    type: str | None = None
    unit: str | None = None
    start: float | None = None
    target: float | None = None
    current: float | None = None
    min: float | None = None
    max: float | None = None
    weight: float | None = None
    progress: float | None = None  # 0..1
    health: str | None = None
    owner: Owner | None = None
    history: list[CheckIn] = field(default_factory=list)


@dataclass
class ObjectiveIn:
    where: SourceProblem
    title: str
    ref: str | None = None
    key: str | None = None
    team: str | None = None  # team name (or slug)
    period: str | None = None  # a SPEC period label
    parent: str | None = None  # the parent's source id or title
    owner: Owner | None = None
    focus: list[str] = field(default_factory=list)
    key_results: list[KeyResultIn] = field(default_factory=list)


@dataclass
class TeamIn:
    name: str
    where: SourceProblem | None = None
    ref: str | None = None
    parent: str | None = None  # the parent team's source id or name
    leads: list[Owner] = field(default_factory=list)
    members: list[Owner] = field(default_factory=list)


@dataclass
class Found:
    """What a reader found in an export."""

    file: str
    objectives: list[ObjectiveIn] = field(default_factory=list)
    teams: list[TeamIn] = field(default_factory=list)
    users: list[Owner] = field(default_factory=list)  # people the export lists
    organization: str | None = None
    read: list[str] = field(default_factory=list)  # how it was read: columns used and ignored
    notes: list[SourceProblem] = field(default_factory=list)  # what could not be mapped


@dataclass(frozen=True)
class Settings:
    """What the export does not say: from the command line or the organisation already there."""

    organization: str | None = None
    timezone: str = "UTC"
    locale: str = "en"
    period: str | None = None  # the organisation's default period, when it has one
    exec_channel: str | None = None
    checkin: dict | None = None
    digest: dict | None = None
    known_people: tuple[PersonSpec, ...] = ()  # people the store already has (matched by email)
    known_teams: tuple[TeamSpec, ...] = ()  # teams the store already has (matched by name)


@dataclass
class HistoryEntry:
    at: datetime
    value: float
    health: str | None
    comment: str | None


@dataclass
class Landing:
    file: str  # the export, as given
    document: OkrDocument
    text: str  # the OKR file
    history: dict[str, list[HistoryEntry]]  # key result id -> check-ins, oldest first
    health: dict[str, str]  # key result id -> its health at the export, when it had no history
    read: list[str]
    notes: list[SourceProblem]


def land(found: Found, settings: Settings) -> Landing:
    """The OKR document of what was found; SourceError when the result would not be valid."""
    return _Builder(found, settings).build()


def _note(where: SourceProblem, message: str) -> SourceProblem:
    return SourceProblem(where.file, where.where, message)


class _Builder:
    def __init__(self, found: Found, settings: Settings) -> None:
        self.found = found
        self.settings = settings
        self.notes: list[SourceProblem] = list(found.notes)
        self.errors: list[SourceProblem] = []
        self.people: dict[str, dict] = {}  # handle -> person item
        self.by_email: dict[str, str] = {}  # folded email -> handle
        self.by_name: dict[str, str] = {}  # folded name -> handle
        self.by_ref: dict[str, str] = {}  # source person id -> handle
        self.handles: set[str] = set()
        self.company_made = False
        self.nameless: dict[str, Owner] = {}  # source id -> a user without an email

    # -- people

    def _add_person(self, name: str | None, email: str | None) -> str:
        if email:
            same = [
                p
                for p in self.settings.known_people
                if (p.email or "").casefold() == email.casefold()
            ]
        else:  # no email: the one person of that name the store has without one
            same = [
                p
                for p in self.settings.known_people
                if not p.email and name and fold(p.name) == fold(name)
            ]
        known = same[0] if len(same) == 1 else None
        if known is not None:
            handle = known.id
            item = known.model_dump(exclude_none=True, exclude_defaults=True)
        else:
            base = email.split("@")[0] if email else (name or "person")
            handle = self._unique_handle(re.sub(r"[^a-z0-9]+", ".", fold(base)).strip(".") or "p")
            item = {"id": handle, "name": name or (email.split("@")[0] if email else handle)}
            if email:
                item["email"] = email.lower()
        self.handles.add(handle)
        self.people[handle] = item
        if email:
            self.by_email[email.casefold()] = handle
        if name:
            self.by_name.setdefault(fold(name), handle)
        return handle

    def _unique_handle(self, base: str) -> str:
        taken = self.handles | {p.id for p in self.settings.known_people}
        handle, n = base, 2
        while handle in taken:
            handle, n = f"{base}{n}", n + 1
        return handle

    def person(
        self,
        owner: Owner | None,
        where: SourceProblem,
        what: str,
        fallback: tuple[str, str | None] | None = None,
    ) -> str | None:
        """The handle of an owner; reported when they have no email or cannot be found."""
        if owner is None:
            return None
        if owner.ref and not owner.email and not owner.name and owner.ref in self.nameless:
            owner = Owner(self.nameless[owner.ref].name)  # a user without an email, by name
        email = owner.email.strip() if owner.email else None
        if email and email.casefold() in self.by_email:
            return self.by_email[email.casefold()]
        if owner.ref and owner.ref in self.by_ref:
            return self.by_ref[owner.ref]
        if email:
            return self._add_person(owner.name, email)
        if owner.name and fold(owner.name) in self.by_name:
            return self.by_name[fold(owner.name)]
        if owner.name:
            handle = self._add_person(owner.name, None)
            if handle in {p.id for p in self.settings.known_people}:
                return handle  # known by name already, as the store has them
            self.notes.append(
                _note(
                    where,
                    f"owner '{owner.name}' of {what} has no email: added as person '{handle}' "
                    "without one (add their email, or Slack or Teams id, to the OKR file)",
                )
            )
            return handle
        if fallback is None:
            outcome = "ignored"
        elif fallback[1] is None:
            outcome = "the key result is left out"
        else:
            outcome = f"given to {fallback[0]} '{fallback[1]}'"
        self.notes.append(
            _note(
                where,
                f"unknown owner '{owner.ref}' of {what}, not among the export's users: " + outcome,
            )
        )
        return None

    def users(self) -> None:
        for user in self.found.users:
            email = user.email.strip() if user.email else None
            if email and email.casefold() in self.by_email:
                handle = self.by_email[email.casefold()]
            elif email:
                handle = self._add_person(user.name, email)
            else:
                continue  # a user without an email is added when they own something
            if user.ref:
                self.by_ref[user.ref] = handle
        # users without an email are found by their id, added by name when they own something
        self.nameless = {u.ref: u for u in self.found.users if u.ref and not u.email}

    # -- teams

    def teams(self) -> tuple[list[dict], dict[str, str]]:
        """Team items and a map of every way the export names a team -> slug."""
        names: dict[str, str] = {}
        items: dict[str, dict] = {}
        order: list[str] = []

        known = {fold(t.name): t for t in self.settings.known_teams} | {
            t.slug: t for t in self.settings.known_teams
        }

        def add(name: str) -> str:
            key = fold(name)
            if key in names:
                return names[key]
            same = known.get(key) or known.get(slug(name, "team"))
            if same is not None and same.slug not in items:
                names[key] = same.slug
                items[same.slug] = {"slug": same.slug, "name": same.name}
                order.append(same.slug)
                return same.slug
            base = slug(name, "team")
            team_slug, n = base, 2
            while team_slug in items:
                team_slug, n = f"{base}-{n}", n + 1
            names[key] = team_slug
            items[team_slug] = {"slug": team_slug, "name": name}
            order.append(team_slug)
            return team_slug

        refs: dict[str, str] = {}
        for team in self.found.teams:
            refs[team.ref or team.name] = add(team.name)
        for team in self.found.teams:
            item = items[refs[team.ref or team.name]]
            parent = refs.get(team.parent) or names.get(fold(team.parent or "\0"))
            if parent and parent != item["slug"]:
                item["parent"] = parent
            where = team.where or SourceProblem(self.found.file, "", "")
            leads = [self.person(o, where, f"team {team.name}") for o in team.leads]
            members = [self.person(o, where, f"team {team.name}") for o in team.members]
            item["leads"] = list(dict.fromkeys(h for h in leads if h))
            item["members"] = list(dict.fromkeys(h for h in members if h and h not in leads))
        org = self.organization()
        if any(not o.team for o in self.found.objectives) and fold(org) not in names:
            if COMPANY in items:
                add(org)
            else:  # the objectives of no team are the company's
                names[fold(org)] = COMPANY
                items[COMPANY] = {"slug": COMPANY, "name": org}
                order.insert(0, COMPANY)
                self.company_made = True
        for objective in self.found.objectives:
            if objective.team:
                add(objective.team)
        for ref, team_slug in refs.items():
            names.setdefault(fold(ref), team_slug)
        self.merge_known_teams(items)
        return [items[s] for s in order], names

    def merge_known_teams(self, items: dict[str, dict]) -> None:
        """A team the store has keeps its channel, schedules, parent, leads and members."""
        for team in self.settings.known_teams:
            item = items.get(team.slug)
            if item is None:
                continue
            old = team.model_dump(exclude_none=True)
            for key in ("channel", "checkin", "digest", "parent"):
                if key in old and key not in item:
                    item[key] = old[key]
            if item.get("parent") and item["parent"] not in items:
                del item["parent"]
            for key in ("leads", "members"):
                item[key] = list(dict.fromkeys([*old.get(key, []), *item.get(key, [])]))
                for handle in item[key]:
                    self._known_handle(handle)

    def _known_handle(self, handle: str) -> None:
        if handle in self.people:
            return
        person = next((p for p in self.settings.known_people if p.id == handle), None)
        if person is not None:
            self.people[handle] = person.model_dump(exclude_none=True, exclude_defaults=True)
            self.handles.add(handle)

    def organization(self) -> str:
        if self.settings.organization:
            return self.settings.organization
        if self.found.organization:
            return self.found.organization
        roots = {t.name for t in self.found.teams if not t.parent}
        if not self.found.teams:  # the team of the objectives at the top of the alignment
            objectives = self.found.objectives
            parents = {o.parent for o in objectives if o.parent}
            roots = {
                o.team
                for o in objectives
                if o.team and not o.parent and ({o.ref, o.title} & parents)
            }
        if len(roots) == 1:
            return roots.pop()
        return re.sub(r"[-_]+", " ", self.found.file.rsplit("/", 1)[-1].rsplit(".", 1)[0])

    # -- objectives

    def build(self) -> Landing:
        self.users()
        team_list, team_names = self.teams()
        objectives = self.found.objectives
        keys = self.objective_keys(objectives, team_names)
        by_ref: dict[str, ObjectiveIn] = {}
        by_title: dict[str, list[ObjectiveIn]] = {}
        kr_parent: dict[str, ObjectiveIn] = {}
        for o in objectives:
            if o.ref:
                by_ref[o.ref] = o
            by_title.setdefault(fold(o.title), []).append(o)
            for kr in o.key_results:
                if kr.ref:
                    kr_parent[kr.ref] = o
        if not objectives:
            raise SourceError(
                [SourceProblem(self.found.file, "", "no objectives found: nothing to import")]
            )
        periods = Counter(o.period for o in objectives if o.period)
        period = self.settings.period or (periods.most_common(1)[0][0] if periods else None)
        if period is None:
            raise SourceError(
                [SourceProblem(self.found.file, "", "no time period: no objective names one")]
            )
        items: list[dict] = []
        history: dict[str, list[HistoryEntry]] = {}
        health: dict[str, str] = {}
        aligned: dict[str, str] = {}
        for o in objectives:
            key = keys[id(o)]
            team = team_names[fold(o.team or self.organization())]
            item: dict = {"id": key, "team": team, "title": o.title}
            if o.period and o.period != period:
                item["period"] = o.period
            if o.parent:
                parent = self.parent(o, by_ref.get(o.parent) or kr_parent.get(o.parent), by_title)
                if parent is not None and parent is not o:
                    aligned[key] = keys[id(parent)]
            if any(o.focus):
                item["focus"] = list(dict.fromkeys(f for f in o.focus if f))
            owner = self.person(o.owner, o.where, f"objective '{o.title}'")
            item["key_results"] = self.key_results(o, key, owner, history, health)
            items.append(item)
        self.drop_cycles(aligned, {keys[id(o)]: o for o in objectives})
        for item in items:
            if item["id"] in aligned:
                item["aligned_to"] = aligned[item["id"]]
        self.team_parents(team_list, items, aligned)
        if self.company_made:  # the other top teams support the company
            for team in team_list:
                if team["slug"] != COMPANY and "parent" not in team:
                    team["parent"] = COMPANY
        if self.errors:
            raise SourceError(self.errors)
        doc = {
            "organization": self.organization(),
            "period": period,
            "timezone": self.settings.timezone,
            "locale": self.settings.locale,
            **{
                key: getattr(self.settings, key)
                for key in ("exec_channel", "checkin", "digest")
                if getattr(self.settings, key)
            },
            "people": list(self.people.values()),
            "teams": team_list,
            "objectives": [
                {k: v for k, v in item.items() if v is not None and v != []} for item in items
            ],
        }
        document = _valid(doc, self.found.file)
        text = dump_okr_document(document)
        try:
            document = parse_okr_text(text, "the converted OKR file")
        except OkrFileError as e:  # a mapping the schema refuses: say so, never write it
            file = self.found.file
            raise SourceError(
                [SourceProblem(file, "", f"cannot convert: {p.message}") for p in e.problems]
            ) from None
        read = list(self.found.read)
        if not (self.settings.organization or self.found.organization):
            read.append(
                f"organization: '{document.organization}' (not in the export: "
                "--organization names it)"
            )
        notes = sorted(self.notes, key=_source_order)
        return Landing(self.found.file, document, text, history, health, read, notes)

    def parent(
        self, o: ObjectiveIn, parent: ObjectiveIn | None, by_title: dict
    ) -> ObjectiveIn | None:
        """The objective `o` is aligned to: by the source's id, else by a unique title."""
        if parent is not None:
            return parent
        same = by_title.get(fold(o.parent or ""), [])
        if len(same) == 1:
            return same[0]
        why = f"a title {len(same)} objectives have" if same else "which is not in the export"
        self.notes.append(
            _note(
                o.where,
                f"objective '{o.title}' is aligned to '{o.parent}', {why}: left without alignment",
            )
        )
        return None

    def objective_keys(self, objectives: list[ObjectiveIn], names: dict[str, str]) -> dict:
        """okrbot ids: as given, else the team's prefix and a number (`MAR-1`, `MAR-1.2`)."""
        given = Counter(o.key for o in objectives if o.key)
        for o in objectives:
            if o.key and given[o.key] > 1:
                self.errors.append(_note(o.where, f"objective id '{o.key}' is used twice"))
        taken = set(given)
        prefixes: dict[str, str] = {}
        count: Counter[str] = Counter()
        keys: dict[int, str] = {}
        for o in objectives:
            if o.key:
                keys[id(o)] = o.key
                continue
            team_slug = names[fold(o.team or self.organization())]
            if team_slug not in prefixes:
                prefixes[team_slug] = _prefix(team_slug, set(prefixes.values()))
            while True:
                count[team_slug] += 1
                key = f"{prefixes[team_slug]}-{count[team_slug]}"
                if key not in taken:
                    break
            taken.add(key)
            keys[id(o)] = key
        return keys

    def drop_cycles(self, aligned: dict[str, str], objectives: dict[str, ObjectiveIn]) -> None:
        for start in list(aligned):
            seen = [start]
            node = aligned.get(start)
            while node is not None and node not in seen:
                seen.append(node)
                node = aligned.get(node)
            if node is not None:  # a cycle through `node`: cut it where it closes
                last = seen[-1]
                o = objectives[last]
                self.notes.append(
                    _note(
                        o.where,
                        f"objective '{o.title}' is aligned in a circle "
                        f"({' -> '.join(seen[seen.index(node) :] + [node])}): its alignment "
                        "is left out",
                    )
                )
                del aligned[last]

    def team_parents(self, teams: list[dict], objectives: list[dict], aligned: dict) -> None:
        """A team the export gives no parent supports the team its objectives align to."""
        team_of = {o["id"]: o["team"] for o in objectives}
        for team in teams:
            if "parent" in team:
                continue
            ups = Counter(
                team_of[aligned[o["id"]]]
                for o in objectives
                if o["team"] == team["slug"]
                and o["id"] in aligned
                and team_of[aligned[o["id"]]] != team["slug"]
            )
            if ups:
                candidate = ups.most_common(1)[0][0]
                node, chain = candidate, set()
                parents = {t["slug"]: t.get("parent") for t in teams}
                while node and node not in chain:
                    chain.add(node)
                    node = parents.get(node)
                if team["slug"] not in chain:
                    team["parent"] = candidate

    # -- key results

    def key_results(
        self,
        o: ObjectiveIn,
        key: str,
        objective_owner: str | None,
        history: dict[str, list[HistoryEntry]],
        health: dict[str, str],
    ) -> list[dict]:
        items = []
        given = Counter(kr.key for kr in o.key_results if kr.key)
        n = 0
        for kr in o.key_results:
            if kr.key and given[kr.key] > 1:
                self.errors.append(_note(kr.where, f"key result id '{kr.key}' is used twice"))
            what = f"key result '{kr.title}'"
            fallback = ("its objective's owner", objective_owner)
            owner = self.person(kr.owner, kr.where, what, fallback) if kr.owner else None
            if owner is None and kr.owner is not None:
                owner = objective_owner  # an unknown owner: said so already
                if owner is None:
                    continue
            elif owner is None:
                owner = objective_owner
                if owner is None:
                    self.notes.append(
                        _note(kr.where, f"{what} has no owner (nor has its objective): left out")
                    )
                    continue
                if kr.owner is None:
                    self.notes.append(
                        _note(kr.where, f"{what} has no owner: given to its objective's owner")
                    )
            n += 1
            kr_key = kr.key or f"{key}.{n}"
            item = self.key_result(kr, kr_key, owner)
            if item is None:
                continue
            items.append(item)
            entries = self.history(kr, item)
            if entries:
                history[kr_key] = entries
            elif kr.health:
                health[kr_key] = kr.health
        return items

    def key_result(self, kr: KeyResultIn, key: str, owner: str) -> dict | None:
        what = f"key result '{kr.title}'"
        kr.history.sort(key=lambda c: noon(c.when, self.settings.timezone))
        item: dict = {"id": key, "title": kr.title, "owner": owner}
        kind = kr.type
        for name in ("unit", "start", "target", "min", "max", "weight"):
            if getattr(kr, name) is not None:
                item[name] = getattr(kr, name)
        current = kr.current
        if current is None and kr.history:
            current = next((c.value for c in reversed(kr.history) if c.value is not None), None)
        if kind in (None, "metric") and kr.min is None and kr.max is None:
            missing = kr.target is None or (kr.start is not None and kr.start == kr.target)
            if missing:
                reason = (
                    "no target value"
                    if kr.target is None
                    else f"the same start and target ({kr.target:g})"
                )
                percent = round(kr.progress * 100, 1) if kr.progress is not None else None
                self.notes.append(
                    _note(
                        kr.where,
                        f"{what} has {reason}: imported as a milestone (0-100 %)"
                        + (f" at its progress, {percent:g} %" if percent is not None else ""),
                    )
                )
                kind = "milestone"
                for name in ("start", "target", "unit"):
                    item.pop(name, None)
                values = [c.value for c in kr.history if c.value is not None]
                if not all(0 <= v <= 100 for v in values):  # not percentages: keep the notes
                    kr.history = [CheckIn(c.when, None, c.health, c.comment) for c in kr.history]
                    values = []
                current = percent if percent is not None else (values[-1] if values else None)
        if kind and kind != "metric":
            item["type"] = kind
        if current is not None:
            item["current"] = current
        try:
            KeyResultSpec.model_validate(item)
        except ValidationError as e:
            for err in e.errors(include_url=False):
                ctx = err.get("ctx") or {}
                message = ctx.get("message") or str(ctx.get("error", err["msg"]))
                self.errors.append(_note(kr.where, f"{what}: {message}"))
            return None
        return item

    def history(self, kr: KeyResultIn, item: dict) -> list[HistoryEntry]:
        entries: list[HistoryEntry] = []
        value: float | None = None
        for check_in in kr.history:
            value = check_in.value if check_in.value is not None else value
            if value is None:
                continue
            at = noon(check_in.when, self.settings.timezone)
            entries.append(HistoryEntry(at, value, check_in.health, check_in.comment))
        if entries and entries[-1].health is None and kr.health:
            entries[-1].health = kr.health  # the status at the export is the latest one's
        return entries


def _source_order(note: SourceProblem) -> tuple:
    """Rows in number order, JSON paths by file and index."""
    parts = re.split(r"(\d+)", note.where)
    return tuple((0, int(p), "") if p.isdigit() else (1, 0, p) for p in parts)


def _prefix(team_slug: str, taken: set[str]) -> str:
    """`MAR` for marketing, `EH` for e-handel, `CO` for the company; longer when taken."""
    if team_slug == COMPANY:
        base = "CO"
    else:
        words = [w for w in team_slug.split("-") if w]
        base = "".join(w[0] for w in words) if len(words) > 1 else team_slug[:3]
    base = base.upper()
    word = team_slug.replace("-", "").upper()
    n = len(base)
    candidate = base
    while candidate in taken:
        n += 1
        candidate = word[:n] if n <= len(word) else f"{base}{n}"
    return candidate


def _valid(doc: dict, file: str) -> OkrDocument:
    try:
        return OkrDocument.model_validate(doc)
    except ValidationError as e:
        raise SourceError(
            [
                SourceProblem(
                    file,
                    "",
                    "cannot convert: " + ".".join(str(p) for p in err["loc"]) + ": " + err["msg"],
                )
                for err in e.errors(include_url=False)
            ]
        ) from None

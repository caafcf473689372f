"""OKRs as code: apply a validated OKR document to the store, and read it back.

`import_document` is one transaction and idempotent: rows are upserted by their file id,
nothing is deleted (`prune=True` archives what the file no longer has, keeping history), and
a key result's `current` is applied only when it is new or was edited in the file since the
last import (SPEC §2), so re-importing never overwrites what check-ins wrote.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

from sqlalchemy import delete, select
from sqlalchemy.ext.asyncio import AsyncSession

from bot.okrfile.schema import (
    KeyResultSpec,
    ObjectiveSpec,
    OkrDocument,
    PersonSpec,
    Schedule,
    TeamSpec,
    parse_period,
)
from bot.updates import record_update
from storage.models import (
    KeyResult,
    Objective,
    Organization,
    Person,
    Team,
    TeamMember,
)


@dataclass
class ImportReport:
    created: dict[str, int] = field(default_factory=dict)
    updated: dict[str, int] = field(default_factory=dict)
    archived: dict[str, int] = field(default_factory=dict)
    values_applied: int = 0

    def count(self, bucket: dict[str, int], kind: str) -> None:
        bucket[kind] = bucket.get(kind, 0) + 1

    @property
    def changed(self) -> bool:
        return bool(self.created or self.updated or self.archived or self.values_applied)

    def summary(self) -> str:
        def part(label: str, bucket: dict[str, int]) -> str | None:
            if not bucket:
                return None
            return label + " " + ", ".join(f"{n} {kind}" for kind, n in bucket.items())

        parts = [
            p
            for p in (
                part("created", self.created),
                part("updated", self.updated),
                part("archived", self.archived),
            )
            if p
        ]
        if self.values_applied:
            parts.append(f"{self.values_applied} values from the file")
        return "; ".join(parts) if parts else "nothing changed"


def _assign(row, values: dict) -> bool:
    """Set attributes that differ; True when anything changed."""
    changed = False
    for name, value in values.items():
        if getattr(row, name) != value:
            setattr(row, name, value)
            changed = True
    return changed


def _schedule(schedule: Schedule | None) -> dict | None:
    return schedule.model_dump(exclude_none=True) if schedule else None


async def _by(session: AsyncSession, model, attr: str) -> dict:
    rows = (await session.execute(select(model))).scalars().all()
    return {getattr(row, attr): row for row in rows}


async def import_document(
    session: AsyncSession, doc: OkrDocument, *, now: datetime, prune: bool = False
) -> ImportReport:
    """Upsert the document into the store. The caller owns the transaction."""
    report = ImportReport()
    sync = _Sync(session, report, now)
    await sync.organization(doc)
    people = await sync.people(doc.people, prune)
    teams = await sync.teams(doc.teams, people, prune)
    await sync.objectives(doc, teams, people, prune)
    return report


class _Sync:
    def __init__(self, session: AsyncSession, report: ImportReport, now: datetime) -> None:
        self.session = session
        self.report = report
        self.now = now
        self.created: set[int] = set()  # id() of rows created by this import

    def _upsert(self, kind: str, existing: dict, key: str, values: dict, model):
        row = existing.get(key)
        if row is None:
            row = model(**values)
            self.session.add(row)
            self.created.add(id(row))
            self.report.count(self.report.created, kind)
        elif _assign(row, values):
            self.report.count(self.report.updated, kind)
        return row

    def _link(self, kind: str, row, values: dict) -> None:
        """Set a reference to a row written earlier in this import (ids exist after a flush)."""
        if _assign(row, values) and id(row) not in self.created:
            self.report.count(self.report.updated, kind)

    def _archive(self, kind: str, existing: dict, keep: set[str]) -> None:
        for key, row in existing.items():
            if key not in keep and not row.archived:
                row.archived = True
                self.report.count(self.report.archived, kind)

    async def organization(self, doc: OkrDocument) -> None:
        row = await self.session.get(Organization, 1)
        values = {
            "name": doc.organization,
            "period": doc.period,
            "timezone": doc.timezone,
            "locale": doc.locale,
            "exec_channel": doc.exec_channel,
            "checkin": _schedule(doc.checkin),
            "digest": _schedule(doc.digest),
        }
        if row is None:
            self.session.add(Organization(id=1, imported_at=self.now, **values))
            self.report.count(self.report.created, "organization")
        else:
            if _assign(row, values):
                self.report.count(self.report.updated, "organization")
            row.imported_at = self.now

    async def people(self, specs: list[PersonSpec], prune: bool) -> dict[str, Person]:
        existing = await _by(self.session, Person, "handle")
        for position, spec in enumerate(specs):
            row = existing.get(spec.id)
            values = {
                "name": spec.name,
                "email": spec.email,
                "timezone": spec.timezone,
                "locale": spec.locale,
                "role": spec.role,
                "position": position,
                "archived": False,
            }
            # platform ids found at run time (by email) are kept unless the file names others
            if spec.slack or row is None:
                values["slack_id"] = spec.slack
            if spec.teams or row is None:
                values["teams_aad_id"] = spec.teams
            existing[spec.id] = self._upsert(
                "people", existing, spec.id, {"handle": spec.id, **values}, Person
            )
        if prune:
            self._archive("people", existing, {spec.id for spec in specs})
        await self.session.flush()
        return existing

    async def teams(
        self, specs: list[TeamSpec], people: dict[str, Person], prune: bool
    ) -> dict[str, Team]:
        existing = await _by(self.session, Team, "slug")
        for position, spec in enumerate(specs):
            values = {
                "slug": spec.slug,
                "name": spec.name,
                "channel": spec.channel,
                "checkin": _schedule(spec.checkin),
                "digest": _schedule(spec.digest),
                "position": position,
                "archived": False,
            }
            existing[spec.slug] = self._upsert("teams", existing, spec.slug, values, Team)
        if prune:
            self._archive("teams", existing, {spec.slug for spec in specs})
        await self.session.flush()
        for spec in specs:
            parent = existing[spec.parent].id if spec.parent else None
            self._link("teams", existing[spec.slug], {"parent_id": parent})
        await self._memberships(specs, existing, people)
        return existing

    async def _memberships(
        self, specs: list[TeamSpec], teams: dict[str, Team], people: dict[str, Person]
    ) -> None:
        wanted = {
            (teams[spec.slug].id, people[handle].id, role): position
            for spec in specs
            for role, handles in (("lead", spec.leads), ("member", spec.members))
            for position, handle in enumerate(handles)
        }
        team_ids = {teams[spec.slug].id for spec in specs}
        rows = (await self.session.execute(select(TeamMember))).scalars().all()
        have = {}
        for row in rows:
            key = (row.team_id, row.person_id, row.role)
            if key in wanted:
                have[key] = row
                row.position = wanted[key]
            elif row.team_id in team_ids:
                await self.session.execute(delete(TeamMember).where(TeamMember.id == row.id))
                self.report.count(self.report.updated, "memberships")
        for (team_id, person_id, role), position in wanted.items():
            if (team_id, person_id, role) not in have:
                self.session.add(
                    TeamMember(team_id=team_id, person_id=person_id, role=role, position=position)
                )
                self.report.count(self.report.created, "memberships")

    async def objectives(
        self, doc: OkrDocument, teams: dict[str, Team], people: dict[str, Person], prune: bool
    ) -> None:
        existing = await _by(self.session, Objective, "key")
        for position, spec in enumerate(doc.objectives):
            period = parse_period(spec.period or doc.period)
            values = {
                "key": spec.id,
                "team_id": teams[spec.team].id,
                "title": spec.title,
                "period": spec.period,
                "period_start": period.start,
                "period_end": period.end,
                "focus": list(spec.focus),
                "position": position,
                "archived": False,
            }
            existing[spec.id] = self._upsert("objectives", existing, spec.id, values, Objective)
        if prune:
            self._archive("objectives", existing, {spec.id for spec in doc.objectives})
        await self.session.flush()
        for spec in doc.objectives:
            aligned = existing[spec.aligned_to].id if spec.aligned_to else None
            self._link("objectives", existing[spec.id], {"aligned_to_id": aligned})
        await self._key_results(doc.objectives, existing, people, prune)

    async def _key_results(
        self,
        objectives: list[ObjectiveSpec],
        rows: dict[str, Objective],
        people: dict[str, Person],
        prune: bool,
    ) -> None:
        existing = await _by(self.session, KeyResult, "key")
        applied: list[tuple[KeyResult, float | None]] = []
        position = 0
        for objective in objectives:
            for spec in objective.key_results:
                values = self._kr_values(spec, rows[objective.id].id, people, position)
                row = existing.get(spec.id)
                old = row.current if row is not None else None
                if spec.current is not None and (row is None or spec.current != row.file_current):
                    values["current"] = spec.current  # new, or deliberately edited in the file
                row = self._upsert("key results", existing, spec.id, values, KeyResult)
                row.file_current = spec.current  # bookkeeping, not a change of the OKRs
                existing[spec.id] = row
                if "current" in values and values["current"] != old:
                    applied.append((row, old))
                position += 1
        if prune:
            self._archive(
                "key results",
                existing,
                {kr.id for objective in objectives for kr in objective.key_results},
            )
        await self.session.flush()
        for row, old in applied:  # the file's value is set already: history says from what
            record_update(
                self.session, row, row.current, at=self.now, source="import", old_value=old
            )
        self.report.values_applied += len(applied)

    @staticmethod
    def _kr_values(
        spec: KeyResultSpec, objective_id: int, people: dict[str, Person], position: int
    ) -> dict:
        return {
            "key": spec.id,
            "objective_id": objective_id,
            "title": spec.title,
            "type": spec.type,
            "unit": spec.unit,
            "start": spec.start,
            "target": spec.target,
            "min": spec.min,
            "max": spec.max,
            "owner_id": people[spec.owner].id,
            "weight": spec.weight,
            "position": position,
            "archived": False,
        }


@dataclass
class LandingReport:
    summary: str
    history: int  # check-ins written as history
    key_results: int  # key results that got history


async def import_landing(session: AsyncSession, landing, *, now: datetime) -> LandingReport:
    """Import a converted export (bot.okrfile.landing.Landing) and write the check-in history
    of its new key results with their original dates (source `import`). The caller owns the
    transaction: with it, nothing is half-imported.

    A key result's `current` follows SPEC §2 as in `import_document`: set when the key result is
    new (after its history, when it differs from the last check-in) or when it differs from the
    one imported last time. A key result that already existed keeps its history as it is, so
    importing the same export again adds nothing.
    """
    doc: OkrDocument = landing.document
    wanted = [kr.id for o in doc.objectives for kr in o.key_results]
    rows = (await session.execute(select(KeyResult).where(KeyResult.key.in_(wanted)))).scalars()
    before = {row.key: row.file_current for row in rows}

    def without_current(o: ObjectiveSpec) -> ObjectiveSpec:
        krs = [kr.model_copy(update={"current": None}) for kr in o.key_results]
        return o.model_copy(update={"key_results": krs})

    bare = doc.model_copy(update={"objectives": [without_current(o) for o in doc.objectives]})
    report = await import_document(session, bare, now=now)
    krs = await _by(session, KeyResult, "key")
    written = with_history = 0
    for objective in doc.objectives:
        for spec in objective.key_results:
            row = krs[spec.id]
            new = spec.id not in before
            entries = landing.history.get(spec.id, []) if new else []
            for entry in entries:
                record_update(
                    session, row, entry.value, at=entry.at, source="import",
                    health=entry.health, comment=entry.comment,
                )  # fmt: skip
            written += len(entries)
            with_history += bool(entries)
            deliberate = new or spec.current != before[spec.id]
            if spec.current is not None and deliberate and spec.current != row.current:
                record_update(
                    session, row, spec.current, at=now, source="import",
                    health=landing.health.get(spec.id),
                )  # fmt: skip
                report.values_applied += 1
            row.file_current = spec.current
    return LandingReport(report.summary(), written, with_history)

"""The live OKRs in the store as an OKR document (`okrbot okrs export`)."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from bot.okrfile.schema import (
    KeyResultSpec,
    ObjectiveSpec,
    OkrDocument,
    PersonSpec,
    Schedule,
    TeamSpec,
)
from storage.models import KeyResult, Objective, Organization, Person, Team, TeamMember


async def _ordered(session: AsyncSession, model) -> list:
    query = select(model).order_by(model.position, model.id)
    return list((await session.execute(query)).scalars())


async def export_document(session: AsyncSession) -> OkrDocument:
    """The store's live (not archived) OKRs as a document; `current` is the latest value."""
    org = await session.get(Organization, 1)
    if org is None:
        raise LookupError("no OKRs have been imported yet")
    people = [p for p in await _ordered(session, Person) if not p.archived]
    handles = {p.id: p.handle for p in people}
    all_teams = await _ordered(session, Team)
    slugs = {t.id: t.slug for t in all_teams}
    members = await _ordered(session, TeamMember)
    objectives = await _ordered(session, Objective)
    keys = {o.id: o.key for o in objectives}
    krs = await _ordered(session, KeyResult)

    def team_people(team_id: int, role: str) -> list[str]:
        return [
            handles[m.person_id]
            for m in members
            if m.team_id == team_id and m.role == role and m.person_id in handles
        ]

    krs_of: dict[int, list[KeyResultSpec]] = {}
    for kr in krs:
        if kr.archived:
            continue
        if kr.owner_id not in handles:
            raise LookupError(f"key result {kr.key} is owned by a person no longer in the OKRs")
        krs_of.setdefault(kr.objective_id, []).append(
            KeyResultSpec(
                id=kr.key,
                title=kr.title,
                type=kr.type,
                unit=kr.unit,
                start=kr.start,
                target=kr.target,
                current=kr.current,
                owner=handles[kr.owner_id],
                weight=kr.weight,
                min=kr.min,
                max=kr.max,
            )
        )

    return OkrDocument(
        organization=org.name,
        period=org.period,
        timezone=org.timezone,
        locale=org.locale,
        exec_channel=org.exec_channel,
        checkin=Schedule(**org.checkin) if org.checkin else Schedule(day="mon", time="09:30"),
        digest=Schedule(**org.digest) if org.digest else Schedule(day="fri", time="15:00"),
        people=[
            PersonSpec(
                id=p.handle,
                name=p.name,
                email=p.email,
                slack=p.slack_id,
                teams=p.teams_aad_id,
                timezone=p.timezone,
                locale=p.locale,
                role=p.role,
            )
            for p in people
        ],
        teams=[
            TeamSpec(
                slug=t.slug,
                name=t.name,
                parent=slugs.get(t.parent_id) if t.parent_id else None,
                channel=t.channel,
                leads=team_people(t.id, "lead"),
                members=team_people(t.id, "member"),
                checkin=Schedule(**t.checkin) if t.checkin else None,
                digest=Schedule(**t.digest) if t.digest else None,
            )
            for t in all_teams
            if not t.archived
        ],
        objectives=[
            ObjectiveSpec(
                id=o.key,
                team=slugs[o.team_id],
                title=o.title,
                period=o.period,
                aligned_to=keys.get(o.aligned_to_id) if o.aligned_to_id else None,
                focus=list(o.focus or []),
                key_results=krs_of.get(o.id, []),
            )
            for o in objectives
            if not o.archived
        ],
    )

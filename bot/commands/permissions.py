"""Who may update a key result (SPEC §8 Roles): its owner, a lead of its team, an admin."""

from __future__ import annotations

from sqlalchemy.ext.asyncio import AsyncSession

from bot.i18n import t
from bot.messages import Message
from storage import repo
from storage.models import KeyResult, Person


async def refusal(
    session: AsyncSession, person: Person, krs: list[KeyResult], locale: str
) -> Message | None:
    """None when the person may update every one of the key results, else the refusal."""
    if person.role == "admin":
        return None
    foreign = [kr for kr in krs if kr.owner_id != person.id]
    if not foreign:
        return None
    objectives = {
        o.id: o for o in await repo.objectives_by_ids(session, [k.objective_id for k in foreign])
    }
    leads = await repo.leads_of_teams(session, [o.team_id for o in objectives.values()])
    for kr in foreign:
        team_id = objectives[kr.objective_id].team_id
        if person.id in leads.get(team_id, set()):
            continue
        owner = (await repo.people_by_ids(session, [kr.owner_id])).get(kr.owner_id)
        teams = {tm.id: tm.name for tm in await repo.teams(session)}
        return Message(
            text=t(
                locale,
                "checkin.not_allowed",
                key=kr.key,
                title=kr.title,
                owner=owner.name if owner else "?",
                team=teams.get(team_id, "?"),
            ),
            error=True,
        )
    return None

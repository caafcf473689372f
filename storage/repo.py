"""Read queries the core needs, and its few bulk writes. Each is one statement whatever the
number of rows, so an answer's statement count does not grow with the organisation."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import date, datetime
from functools import cache

from sqlalchemy import and_, bindparam, func, or_, select
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import aliased

from storage.models import (
    ROUND_PENDING,
    CheckinRound,
    ConversationReference,
    KeyResult,
    KeyResultUpdate,
    Objective,
    Organization,
    Person,
    RawReply,
    Team,
    TeamMember,
)


async def _all(session: AsyncSession, query, params: dict | None = None) -> list:
    return list((await session.execute(query, params)).scalars())


# The statements of the most frequent answers are built once, their values bound per call:
# SQLAlchemy then neither builds them nor computes their cache key again on every call (a good
# share of the CPU of a short answer such as `okr <team>`).
def _ids():
    return bindparam("ids", expanding=True)


_TODAY = "today"
_TEAMS = select(Team).where(Team.archived.is_(False)).order_by(Team.position, Team.id)
_PEOPLE_BY_IDS = select(Person).where(Person.id.in_(_ids()))
_ACTIVE_OBJECTIVES = (
    select(Objective)
    .where(
        Objective.archived.is_(False),
        Objective.period_start <= bindparam(_TODAY),
        Objective.period_end >= bindparam(_TODAY),
    )
    .order_by(Objective.position, Objective.id)
)
_ACTIVE_OBJECTIVES_OF_TEAM = _ACTIVE_OBJECTIVES.where(Objective.team_id == bindparam("team_id"))
_OBJECTIVES_BY_IDS = select(Objective).where(Objective.id.in_(_ids()))
_KEY_RESULTS_OF = (
    select(KeyResult)
    .where(KeyResult.objective_id.in_(_ids()), KeyResult.archived.is_(False))
    .order_by(KeyResult.position, KeyResult.id)
)


async def organization(session: AsyncSession) -> Organization | None:
    return await session.get(Organization, 1)


async def teams(session: AsyncSession) -> list[Team]:
    return await _all(session, _TEAMS)


# what finding a team by its slug or name needs: light rows with the attributes of a Team
TEAM_INDEX_COLUMNS = (Team.id, Team.slug, Team.name, Team.parent_id, Team.position)
_TEAM_INDEX = (
    select(*TEAM_INDEX_COLUMNS).where(Team.archived.is_(False)).order_by(Team.position, Team.id)
)


async def team_index(session: AsyncSession) -> list:
    """Every live team as a light row (id, slug, name, parent_id, position), in the order of
    `teams()`: an answer about one team finds it here without loading every team's whole row."""
    return list(await session.execute(_TEAM_INDEX))


@cache
def _person_by(name: str):
    column = getattr(Person, name)
    if name in ("handle", "email"):
        column = func.lower(column)
    query = select(Person).where(Person.archived.is_(False), column == bindparam("value"))
    return query.limit(1)


async def person_by(session: AsyncSession, **criteria: str) -> Person | None:
    """One live person by a unique attribute, e.g. `person_by(s, handle="anna")`."""
    ((name, value),) = criteria.items()
    if name in ("handle", "email"):
        value = value.lower()
    return (await session.execute(_person_by(name), {"value": value})).scalars().first()


async def person_by_handle(session: AsyncSession, handle: str) -> Person | None:
    """A live person by their handle exactly as stored (the unique index; no case folding)."""
    query = select(Person).where(Person.handle == handle, Person.archived.is_(False))
    return (await session.execute(query.limit(1))).scalars().first()


_PEOPLE_BY_HANDLES = select(Person).where(
    Person.handle.in_(bindparam("handles", expanding=True)), Person.archived.is_(False)
)


async def people_by_handles(session: AsyncSession, handles: Iterable[str]) -> dict[str, Person]:
    """Live people by their handles exactly as stored (one statement for any number)."""
    wanted = sorted(set(handles))
    if not wanted:
        return {}
    return {p.handle: p for p in await _all(session, _PEOPLE_BY_HANDLES, {"handles": wanted})}


async def people_by_ids(session: AsyncSession, ids: Iterable[int | None]) -> dict[int, Person]:
    wanted = [i for i in set(ids) if i is not None]
    if not wanted:
        return {}
    rows = await _all(session, _PEOPLE_BY_IDS, {"ids": wanted})
    return {p.id: p for p in rows}


def _active(query, today: date):
    return query.where(
        Objective.archived.is_(False),
        Objective.period_start <= today,
        Objective.period_end >= today,
    )


async def active_objectives(
    session: AsyncSession, today: date, *, team_id: int | None = None
) -> list[Objective]:
    if team_id is None:
        return await _all(session, _ACTIVE_OBJECTIVES, {_TODAY: today})
    return await _all(session, _ACTIVE_OBJECTIVES_OF_TEAM, {_TODAY: today, "team_id": team_id})


def _team_objectives():
    def own(objective):
        return and_(
            objective.archived.is_(False),
            objective.period_start <= bindparam(_TODAY),
            objective.period_end >= bindparam(_TODAY),
            objective.team_id == bindparam("team_id"),
        )

    inner = aliased(Objective)
    aligned_to = select(inner.aligned_to_id).where(own(inner))
    query = select(Objective, own(Objective).label("own"))
    query = query.where(or_(own(Objective), Objective.id.in_(aligned_to)))
    return query.order_by(Objective.position, Objective.id)


_TEAM_OBJECTIVES = _team_objectives()


async def team_objectives(
    session: AsyncSession, today: date, team_id: int
) -> tuple[list[Objective], dict[int, Objective]]:
    """A team's active objectives (`active_objectives(today, team_id=...)`) and, by id, the
    objectives they are aligned to (`objectives_by_ids`), in one statement."""
    rows = list(await session.execute(_TEAM_OBJECTIVES, {_TODAY: today, "team_id": team_id}))
    objectives = [objective for objective, own in rows if own]
    aligned_to = {o.aligned_to_id for o in objectives}
    return objectives, {o.id: o for o, _own in rows if o.id in aligned_to}


async def objectives_by_ids(session: AsyncSession, ids: Iterable[int | None]) -> list[Objective]:
    wanted = [i for i in set(ids) if i is not None]
    if not wanted:
        return []
    return await _all(session, _OBJECTIVES_BY_IDS, {"ids": wanted})


async def key_results_of(session: AsyncSession, objective_ids: Iterable[int]) -> list[KeyResult]:
    wanted = list(set(objective_ids))
    if not wanted:
        return []
    return await _all(session, _KEY_RESULTS_OF, {"ids": wanted})


_OWNER, _UPDATER = aliased(Person), aliased(Person)
_KEY_RESULTS_WITH_PEOPLE = (
    select(KeyResult, _OWNER, _UPDATER)
    .join(_OWNER, KeyResult.owner_id == _OWNER.id, isouter=True)
    .join(_UPDATER, KeyResult.updated_by_id == _UPDATER.id, isouter=True)
    .where(KeyResult.objective_id.in_(_ids()), KeyResult.archived.is_(False))
    .order_by(KeyResult.position, KeyResult.id)
)


async def key_results_with_people(
    session: AsyncSession, objective_ids: Iterable[int]
) -> tuple[list[KeyResult], dict[int, Person]]:
    """`key_results_of` and, by id, their owners and last updaters (`people_by_ids`), in one
    statement."""
    wanted = list(set(objective_ids))
    if not wanted:
        return [], {}
    krs, people = [], {}
    for kr, *persons in await session.execute(_KEY_RESULTS_WITH_PEOPLE, {"ids": wanted}):
        krs.append(kr)
        people.update((person.id, person) for person in persons if person is not None)
    return krs, people


# what progress arithmetic reads: enough for roll-ups without loading whole rows
PROGRESS_COLUMNS = (
    KeyResult.objective_id,
    KeyResult.type,
    KeyResult.start,
    KeyResult.target,
    KeyResult.current,
    KeyResult.min,
    KeyResult.max,
    KeyResult.weight,
    KeyResult.health,
)


async def active_key_result_values(session: AsyncSession, today: date) -> list:
    """The progress columns of every active key result, as light rows (the company tree)."""
    query = _active(
        select(*PROGRESS_COLUMNS).join(Objective, KeyResult.objective_id == Objective.id), today
    ).where(KeyResult.archived.is_(False))
    return list(await session.execute(query.order_by(KeyResult.position, KeyResult.id)))


async def owned_key_results(
    session: AsyncSession, person_id: int, today: date
) -> list[tuple[KeyResult, Objective]]:
    return (await owned_key_results_of(session, [person_id], today)).get(person_id, [])


_OWNED = (
    select(KeyResult, Objective)
    .join(Objective, KeyResult.objective_id == Objective.id)
    .where(
        Objective.archived.is_(False),
        Objective.period_start <= bindparam(_TODAY),
        Objective.period_end >= bindparam(_TODAY),
        KeyResult.owner_id.in_(_ids()),
        KeyResult.archived.is_(False),
    )
    .order_by(KeyResult.position, KeyResult.id)
)


async def owned_key_results_of(
    session: AsyncSession, person_ids: Iterable[int], today: date
) -> dict[int, list[tuple[KeyResult, Objective]]]:
    """The active key results each of these people owns, in the order of the OKR file (one
    statement for any number of people); people who own none are left out."""
    wanted = sorted(set(person_ids))
    if not wanted:
        return {}
    owned: dict[int, list[tuple[KeyResult, Objective]]] = {}
    for kr, objective in await session.execute(_OWNED, {"ids": wanted, _TODAY: today}):
        owned.setdefault(kr.owner_id, []).append((kr, objective))
    return owned


async def key_result_by_key(session: AsyncSession, key: str) -> KeyResult | None:
    query = select(KeyResult).where(func.lower(KeyResult.key) == key.lower())
    return (await session.execute(query.limit(1))).scalars().first()


async def key_result_keys(session: AsyncSession) -> list[str]:
    query = select(KeyResult.key).where(KeyResult.archived.is_(False)).order_by(KeyResult.position)
    return list((await session.execute(query)).scalars())


async def history(session: AsyncSession, key_result_id: int, limit: int) -> list[KeyResultUpdate]:
    query = (
        select(KeyResultUpdate)
        .where(KeyResultUpdate.key_result_id == key_result_id)
        .order_by(KeyResultUpdate.created_at.desc(), KeyResultUpdate.id.desc())
        .limit(limit)
    )
    return await _all(session, query)


async def led_teams(session: AsyncSession, person_id: int) -> list[Team]:
    query = (
        select(Team)
        .join(TeamMember, TeamMember.team_id == Team.id)
        .where(TeamMember.person_id == person_id, TeamMember.role == "lead")
        .where(Team.archived.is_(False))
        .order_by(Team.position)
    )
    return await _all(session, query)


async def checkin_round(session: AsyncSession, person_id: int, period: str) -> CheckinRound | None:
    query = select(CheckinRound).where(
        CheckinRound.person_id == person_id, CheckinRound.period == period
    )
    return (await session.execute(query)).scalars().first()


async def previous_reply(session: AsyncSession, person_id: int, before_id: int) -> RawReply | None:
    """The member's message before this one (an open question lives on it)."""
    query = (
        select(RawReply)
        .where(RawReply.person_id == person_id, RawReply.id < before_id)
        .order_by(RawReply.id.desc())
        .limit(1)
    )
    return (await session.execute(query)).scalars().first()


async def key_results_for_update(session: AsyncSession, keys: Iterable[str]) -> list[KeyResult]:
    """The rows an answer changes, locked against concurrent answers (PostgreSQL)."""
    query = select(KeyResult).where(KeyResult.key.in_(set(keys))).with_for_update()
    return await _all(session, query)


async def batch(session: AsyncSession, batch_id: str) -> list[KeyResultUpdate]:
    query = select(KeyResultUpdate).where(KeyResultUpdate.batch_id == batch_id)
    return await _all(session, query.order_by(KeyResultUpdate.id))


async def undone(session: AsyncSession, batch_id: str) -> bool:
    query = select(KeyResultUpdate.id).where(KeyResultUpdate.undoes_batch == batch_id).limit(1)
    return (await session.execute(query)).first() is not None


async def latest_updates(
    session: AsyncSession, kr_ids: Iterable[int]
) -> dict[int, KeyResultUpdate]:
    """The newest history row of each key result."""
    wanted = set(kr_ids)
    if not wanted:
        return {}
    newest = (
        select(KeyResultUpdate.key_result_id, func.max(KeyResultUpdate.id).label("id"))
        .where(KeyResultUpdate.key_result_id.in_(wanted))
        .group_by(KeyResultUpdate.key_result_id)
        .subquery()
    )
    query = select(KeyResultUpdate).join(newest, KeyResultUpdate.id == newest.c.id)
    return {u.key_result_id: u for u in await _all(session, query)}


async def leads_of_teams(session: AsyncSession, team_ids: Iterable[int]) -> dict[int, set[int]]:
    wanted = set(team_ids)
    if not wanted:
        return {}
    query = select(TeamMember).where(TeamMember.team_id.in_(wanted), TeamMember.role == "lead")
    leads: dict[int, set[int]] = {}
    for member in await _all(session, query):
        leads.setdefault(member.team_id, set()).add(member.person_id)
    return leads


async def key_results_by_ids(session: AsyncSession, ids: Iterable[int]) -> dict[int, KeyResult]:
    """Key results by id, locked against concurrent answers (PostgreSQL)."""
    query = select(KeyResult).where(KeyResult.id.in_(set(ids))).with_for_update()
    return {kr.id: kr for kr in await _all(session, query)}


async def teams_of(session: AsyncSession, person_id: int) -> list[Team]:
    """The teams a person leads or belongs to, leading first."""
    query = (
        select(Team, TeamMember.role)
        .join(TeamMember, TeamMember.team_id == Team.id)
        .where(TeamMember.person_id == person_id, Team.archived.is_(False))
        .order_by(TeamMember.role, Team.position)
    )
    return [team for team, _ in await session.execute(query)]


async def save_reference(session: AsyncSession, row: ConversationReference) -> None:
    """Insert or refresh the reference of a conversation (one row per platform conversation)."""
    query = select(ConversationReference).where(
        ConversationReference.platform == row.platform,
        ConversationReference.conversation_id == row.conversation_id,
    )
    found = (await session.execute(query)).scalars().first()
    if found is None:
        session.add(row)
        return
    found.reference, found.updated_at = row.reference, row.updated_at
    found.conversation_type = row.conversation_type or found.conversation_type
    found.tenant_id = row.tenant_id or found.tenant_id
    found.person_id = row.person_id or found.person_id


async def personal_reference(
    session: AsyncSession, platform: str, person_id: int
) -> ConversationReference | None:
    """The newest 1:1 conversation the bot has with a person."""
    query = (
        select(ConversationReference)
        .where(
            ConversationReference.platform == platform,
            ConversationReference.person_id == person_id,
            ConversationReference.conversation_type == "personal",
        )
        .order_by(ConversationReference.updated_at.desc())
        .limit(1)
    )
    return (await session.execute(query)).scalars().first()


async def any_reference(session: AsyncSession, platform: str) -> ConversationReference | None:
    """Any conversation the bot has seen on a platform (its service URL and tenant)."""
    query = (
        select(ConversationReference)
        .where(ConversationReference.platform == platform)
        .order_by(ConversationReference.updated_at.desc())
        .limit(1)
    )
    return (await session.execute(query)).scalars().first()


async def conversation_reference(
    session: AsyncSession, platform: str, conversation_id: str
) -> ConversationReference | None:
    """A conversation the bot has seen, by its platform id (e.g. a Teams channel)."""
    query = select(ConversationReference).where(
        ConversationReference.platform == platform,
        ConversationReference.conversation_id == conversation_id,
    )
    return (await session.execute(query.limit(1))).scalars().first()


async def mark_prompted(
    session: AsyncSession, rounds: Iterable[tuple[int, str]], at: datetime
) -> None:
    """Each (person id, period) has a check-in round, prompted at `at` unless it was before:
    one statement for any number, creating the rounds that are missing (whoever else creates
    them at the same moment)."""
    wanted = sorted(set(rounds))
    if not wanted:
        return
    values = [
        {"person_id": person_id, "period": period, "status": ROUND_PENDING, "prompted_at": at}
        for person_id, period in wanted
    ]
    insert = pg_insert if session.bind.dialect.name == "postgresql" else sqlite_insert
    statement = insert(CheckinRound)
    statement = statement.on_conflict_do_update(
        index_elements=["person_id", "period"],
        set_={
            "prompted_at": func.coalesce(CheckinRound.prompted_at, statement.excluded.prompted_at)
        },
    )
    await session.execute(statement, values)

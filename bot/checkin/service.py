"""The check-in service: prompt, take a reply (save, ask or explain), buttons, form, undo.

Every reply is written raw first, in its own transaction; what it means is then applied in one
transaction, so a failure never leaves half an answer saved (SPEC §5).
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass

from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from bot import parsing
from bot.batches import Batched
from bot.checkin.form import read_form
from bot.checkin.views import (
    NO_CHANGE,
    OPEN_FORM,
    SKIP,
    UNDO,
    confirmation,
    example_answer,
    form_message,
    prompt_krs,
    prompt_message,
)
from bot.clock import Clock, iso_week, local_date
from bot.commands.answers import View
from bot.commands.permissions import refusal
from bot.i18n import t
from bot.i18n.formats import format_ago
from bot.messages import Message
from bot.metrics import Metrics
from bot.parsing import (
    CLARIFY,
    UPDATES,
    ParseResult,
    Pending,
    Update,
    parse_reply,
    resolve_answer,
)
from bot.updates import record_update
from storage import repo
from storage.db import Database
from storage.models import (
    ROUND_DONE,
    ROUND_NO_CHANGE,
    ROUND_SKIPPED,
    CheckinRound,
    KeyResult,
    Objective,
    Organization,
    Person,
    RawReply,
)

PENDING_HOURS = 48  # a question is answered by the member's next message within two days


@dataclass
class _Ctx:
    """One person's check-in situation, read inside a transaction."""

    session: AsyncSession
    person: Person
    org: Organization
    view: View
    owned: list[tuple[KeyResult, Objective]]
    week: str


class Checkins:
    def __init__(self, db: Database, clock: Clock, metrics: Metrics) -> None:
        self.db, self.clock, self.metrics = db, clock, metrics
        self._prompts: Batched[int, Message] = Batched(self._prompt_batch)

    async def _ctx(self, session: AsyncSession, person: Person) -> _Ctx:
        person = await session.get(Person, person.id)  # as it is now, not as the caller saw it
        org = await repo.organization(session)
        now = self.clock()
        zone = person.timezone or org.timezone
        view = View(
            locale=person.locale or org.locale,
            timezone=zone,
            now=now,
            today=local_date(now, org.timezone),
            people={person.id: person},
        )
        owned = await repo.owned_key_results(session, person.id, view.today)
        others = {kr.updated_by_id for kr, _ in owned} - {person.id, None}
        view.people.update(await repo.people_by_ids(session, others))
        return _Ctx(session, person, org, view, owned, iso_week(now, zone))

    async def _round(self, ctx: _Ctx) -> CheckinRound | None:
        if not ctx.owned:
            return None
        found = await repo.checkin_round(ctx.session, ctx.person.id, ctx.week)
        if found is None:
            found = CheckinRound(person_id=ctx.person.id, period=ctx.week)
            ctx.session.add(found)
        return found

    # -- the prompt ---------------------------------------------------------------------------
    async def prompt(self, person: Person) -> Message:
        """This week's prompt for the person (`okr checkin`, the outbox); marks the round as
        prompted. Prompts asked for at the same moment (a round's fan-out) are built together:
        a fixed number of statements per batch, not per person."""
        return await self._prompts(person.id)

    async def _prompt_batch(self, person_ids: list[int]) -> list[Message | Exception]:
        """The prompts of these people (as they are now), and their rounds marked prompted:
        the reading in one session, the marking in one write transaction after it."""
        async with self.db.session() as session:
            people = await repo.people_by_ids(session, person_ids)
            org = await repo.organization(session)
            now = self.clock()
            today = local_date(now, org.timezone)
            owned = await repo.owned_key_results_of(session, people, today)
            updaters = {kr.updated_by_id for rows in owned.values() for kr, _ in rows}
            known = dict(people)
            known.update(await repo.people_by_ids(session, updaters - set(people) - {None}))
        messages: list[Message | Exception] = []
        prompted: list[tuple[int, str]] = []
        for person_id in person_ids:
            person = people.get(person_id)
            if person is None:
                messages.append(LookupError(f"no person with id {person_id}"))
                continue
            zone = person.timezone or org.timezone
            mine = owned.get(person_id, [])
            others = {kr.updated_by_id for kr, _ in mine} - {person_id, None}
            view = View(
                locale=person.locale or org.locale,
                timezone=zone,
                now=now,
                today=today,
                people={person_id: person} | {i: known[i] for i in others if i in known},
            )
            week = iso_week(now, zone)
            if mine:
                prompted.append((person_id, week))
            messages.append(prompt_message(mine, week, view))
        if prompted:
            async with self.db.transaction() as session:
                await repo.mark_prompted(session, prompted, now)
        return messages

    # -- a reply in plain words -------------------------------------------------------------
    async def reply(
        self,
        person: Person | None,
        text: str,
        *,
        platform: str,
        platform_user_id: str | None = None,
        external_id: str | None = None,
        locale: str = "en",
    ) -> Message | None:
        """A direct message: None when the platform delivered it before (a retry)."""
        raw_id = await self._store_raw(person, text, platform, platform_user_id, external_id)
        if raw_id is None:
            return None
        if person is None:
            return Message(text=t(locale, "plain.stranger"))
        async with self.db.transaction() as session:
            ctx = await self._ctx(session, person)
            raw = await session.get(RawReply, raw_id)
            krs = prompt_krs(ctx.owned)
            result, source = None, "dm"
            pending, asked_by = await self._open_question(session, person, raw)
            if pending is not None:
                result = resolve_answer(pending, text, krs, ctx.view.locale)
                source = asked_by if result is not None else source
            if result is None and not ctx.owned:
                raw.status = "no_key_results"
                return Message(text=t(ctx.view.locale, "checkin.none"))
            if result is None:
                result = parse_reply(text, krs, ctx.view.locale)
            self._record(raw, result, text)
            self.metrics.reply_parsed(result.status)
            return await self._apply(ctx, result, source=source, raw_id=raw_id)

    @staticmethod
    def _record(raw: RawReply, result: ParseResult, text: str, source: str = "dm") -> None:
        """What the reply was read as; an open question is kept for the next message."""
        raw.status = result.status
        raw.result = result.as_json(text)
        if result.pending is not None:
            raw.result["pending"] = result.pending.as_json()
            raw.result["source"] = source

    async def _store_raw(self, person, text, platform, platform_user_id, external_id) -> int | None:
        row = RawReply(
            person_id=person.id if person else None,
            platform=platform,
            platform_user_id=platform_user_id,
            external_id=external_id,
            text=text,
            received_at=self.clock(),
            status="received" if person else "stranger",
        )
        try:
            async with self.db.transaction() as session:
                session.add(row)
        except IntegrityError:
            if external_id is None:
                raise
            return None  # the same event again: it was stored and answered the first time
        return row.id

    async def _open_question(
        self, session: AsyncSession, person: Person, raw: RawReply
    ) -> tuple[Pending | None, str]:
        """The question the member's previous message left open, and where it was asked."""
        previous = await repo.previous_reply(session, person.id, raw.id)
        if previous is None or previous.status != CLARIFY or not previous.result:
            return None, "dm"
        if (raw.received_at - previous.received_at).total_seconds() > PENDING_HOURS * 3600:
            return None, "dm"
        data = previous.result.get("pending")
        source = previous.result.get("source", "dm")
        return (Pending.from_json(data) if data else None), source

    async def _apply(self, ctx: _Ctx, result: ParseResult, *, source: str, raw_id=None) -> Message:
        loc = ctx.view.locale
        if result.status == UPDATES:
            return await self._save(ctx, result.updates, source=source, raw_id=raw_id)
        if result.status in (parsing.NO_CHANGE, parsing.SKIP):
            return await self._close_round(ctx, result.status)
        if result.status == CLARIFY:
            return Message(text=result.question)
        return Message(
            text=t(loc, "checkin.unrecognized", example=example_answer(ctx.owned, loc)),
            context=(t(loc, "checkin.hint"),),
        )

    async def _close_round(self, ctx: _Ctx, status: str) -> Message:
        checkin = await self._round(ctx)
        if status == parsing.SKIP or checkin.status != ROUND_DONE:  # updates this week stay done
            checkin.status = ROUND_SKIPPED if status == parsing.SKIP else ROUND_NO_CHANGE
            checkin.completed_at = ctx.view.now
        key = "checkin.skipped" if status == parsing.SKIP else "checkin.no_change_done"
        return Message(text=t(ctx.view.locale, key, week=ctx.week))

    # -- saving -------------------------------------------------------------------------------
    async def _save(
        self, ctx: _Ctx, updates: tuple[Update, ...], *, source: str, raw_id: int | None = None
    ) -> Message:
        session, person, now = ctx.session, ctx.person, ctx.view.now
        rows = {
            kr.key: kr for kr in await repo.key_results_for_update(session, [u.kr for u in updates])
        }
        refusal = await self._authorize(ctx, list(rows.values()))
        if refusal:
            return refusal
        objectives = {
            o.id: o
            for o in await repo.objectives_by_ids(session, [k.objective_id for k in rows.values()])
        }
        batch_id = uuid.uuid4().hex
        changed = []
        for update in updates:
            kr = rows[update.kr]
            old = kr.current
            record_update(
                session,
                kr,
                update.value,
                at=now,
                source=source,
                person_id=person.id,
                health=update.health,
                confidence=update.confidence,
                comment=update.comment,
                raw_reply_id=raw_id,
                batch_id=batch_id,
            )
            changed.append((kr, objectives[kr.objective_id], old))
        if any(kr.owner_id == person.id for kr, _, _ in changed):
            checkin = await self._round(ctx)
            if checkin is not None:
                checkin.status, checkin.completed_at = ROUND_DONE, now
        ctx.view.people[person.id] = person
        self.metrics.update_saved(source, len(changed))
        return confirmation(changed, batch_id, ctx.view)

    async def _authorize(self, ctx: _Ctx, krs: list[KeyResult]) -> Message | None:
        return await refusal(ctx.session, ctx.person, krs, ctx.view.locale)

    # -- buttons and the form -----------------------------------------------------------------
    async def press(self, person: Person, action: str, value: str = "") -> Message:
        if action == UNDO:
            return await self.undo(person, value)
        async with self.db.transaction() as session:
            ctx = await self._ctx(session, person)
            if action == OPEN_FORM:
                return form_message(ctx.owned, ctx.week, ctx.view)
            if action in (NO_CHANGE, SKIP):
                if not ctx.owned:
                    return Message(text=t(ctx.view.locale, "checkin.none"))
                return await self._close_round(
                    ctx, parsing.NO_CHANGE if action == NO_CHANGE else parsing.SKIP
                )
        return Message(text=t(person.locale or "en", "checkin.unknown_action"), error=True)

    async def submit_form(
        self, person: Person, values: dict[str, dict], *, machine_numbers: bool = False
    ) -> FormOutcome:
        """Fields by key-result id: {"value": str, "health": str | None, "comment": str | None}."""

        async with self.db.transaction() as session:
            ctx = await self._ctx(session, person)
            updates, errors = read_form(
                values, ctx.owned, ctx.view.locale, machine_numbers=machine_numbers
            )
            if errors:
                return FormOutcome(None, errors)
            if not updates:
                return FormOutcome(await self._close_round(ctx, parsing.NO_CHANGE), {})
            return FormOutcome(await self._save(ctx, tuple(updates), source="form"), {})

    # -- undo -----------------------------------------------------------------------------------
    async def undo(self, person: Person, batch_id: str) -> Message:
        async with self.db.transaction() as session:
            ctx = await self._ctx(session, person)
            loc = ctx.view.locale
            rows = await repo.batch(session, batch_id) if batch_id else []
            if not rows:
                return Message(text=t(loc, "undo.nothing"), error=True)
            if await repo.undone(session, batch_id):
                return Message(text=t(loc, "undo.already"))
            krs = await repo.key_results_by_ids(session, [r.key_result_id for r in rows])
            if rows[0].person_id != person.id:
                refusal = await self._authorize(ctx, list(krs.values()))
                if refusal:
                    return refusal
            latest = await repo.latest_updates(session, krs)
            for row in rows:
                newest = latest[row.key_result_id]
                if newest.batch_id != batch_id:
                    who = (await repo.people_by_ids(session, [newest.person_id])).get(
                        newest.person_id
                    )
                    kr = krs[row.key_result_id]
                    return Message(
                        text=t(
                            loc,
                            "undo.conflict",
                            key=kr.key,
                            title=kr.title,
                            who=who.name if who else t(loc, f"source.{newest.source}"),
                            when=format_ago(
                                newest.created_at, ctx.view.now, loc, ctx.view.timezone
                            ),
                        ),
                        error=True,
                    )
            undo_id = uuid.uuid4().hex
            for row in rows:
                record_update(
                    session,
                    krs[row.key_result_id],
                    row.old_value,
                    at=ctx.view.now,
                    source="button",
                    person_id=person.id,
                    health=row.old_health,
                    confidence=row.old_confidence,
                    comment=t(loc, "undo.comment"),
                    batch_id=undo_id,
                    undoes_batch=batch_id,
                    restore=True,
                )
            keys = ", ".join(krs[r.key_result_id].key for r in rows)
            return Message(text=t(loc, "undo.done", keys=keys))

    # -- commands ---------------------------------------------------------------------------
    async def set_value(self, person: Person, words: list[str]) -> Message:
        """`okr set <kr> <value> [health] [comment]`."""
        from bot.parsing import PromptKR

        async with self.db.transaction() as session:
            ctx = await self._ctx(session, person)
            loc = ctx.view.locale
            if len(words) < 2:
                return Message(text=t(loc, "set.usage"), error=True)
            kr = await repo.key_result_by_key(session, words[0])
            if kr is None or kr.archived:
                return Message(text=t(loc, "set.unknown", key=words[0]), error=True)
            prompt = PromptKR.of(1, kr)
            text = " ".join(words[1:])
            result = parse_reply(text, [prompt], loc)
            if result.status == CLARIFY:
                if result.pending is not None:  # e.g. far outside: the next message may confirm
                    raw = RawReply(
                        person_id=person.id,
                        platform="command",
                        received_at=ctx.view.now,
                        text=f"okr set {' '.join(words)}",
                    )
                    self._record(raw, result, raw.text, source="command")
                    session.add(raw)
                return Message(text=result.question, error=True)
            if result.status != UPDATES:
                return Message(text=t(loc, "set.usage"), error=True)
            return await self._save(ctx, result.updates, source="command")


@dataclass(frozen=True)
class FormOutcome:
    """A form submission: the answer, or errors by key-result id (nothing saved)."""

    message: Message | None
    errors: dict[str, str]

"""The `okr ...` command router and its answers (SPEC §4). Same words on every platform."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import replace
from datetime import date

from sqlalchemy.ext.asyncio import AsyncSession

from bot.checkin.presence import Presence, is_away, parse_date
from bot.checkin.service import Checkins
from bot.clock import Clock, iso_week, local_date
from bot.commands import answers
from bot.commands.answers import (
    View,
    closest_teams,
    find_team,
    group_by_objective,
    kr_row,
    mean,
    objective_row,
    own_progress,
)
from bot.commands.history import history
from bot.digest.content import exec_digest, full_message, team_digest
from bot.i18n import t
from bot.i18n.formats import format_percent
from bot.messages import Message, Section
from bot.progress import rollup
from storage import repo
from storage.db import Database
from storage.digest_queries import digest_snapshot
from storage.models import Objective, Organization, Person, Team

CHECKIN_WORDS = {"checkin", "check-in", "set", "away", "back"}
HISTORY_LIMIT = 10


def command_words(text: str) -> list[str]:
    """`/okr marketing share` -> ["marketing", "share"]; the leading `okr` is optional."""
    words = text.strip().split()
    if words and words[0].lower().lstrip("/") == "okr":
        words = words[1:]
    return words


class Commands:
    def __init__(self, db: Database, clock: Clock, checkins: Checkins) -> None:
        self.db = db
        self.clock = clock
        self.checkins = checkins

    async def handle(self, text: str, person: Person | None) -> Message:
        words = command_words(text)
        if words and words[0].lower() in CHECKIN_WORDS:
            return await self._checkin_command(words[0].lower(), words[1:], person)
        async with self.db.session() as session:
            org = await repo.organization(session)
            if org is None:
                return Message(
                    text="No OKRs have been imported yet: `okrbot okrs import FILE`.", error=True
                )
            if person is not None:  # the caller's copy may be older than this message
                person = await session.get(Person, person.id)
            now = self.clock()
            view = View(
                locale=(person.locale if person and person.locale else org.locale),
                timezone=(person.timezone if person and person.timezone else org.timezone),
                now=now,
                today=local_date(now, org.timezone),
                people={},
            )
            ctx = _Context(session, org, view, person)
            message = await ctx.dispatch(words)
            return message if message.locale else replace(message, locale=view.locale)

    async def _checkin_command(self, word: str, rest: list[str], person: Person | None) -> Message:
        if person is None:
            async with self.db.session() as session:
                org = await repo.organization(session)
            return Message(text=t(org.locale if org else "en", "me.unknown"), error=True)
        if word in ("checkin", "check-in"):
            return await self.checkins.prompt(person)
        if word == "set":
            return await self.checkins.set_value(person, rest)
        if word == "back":
            return await Presence(self.db, self.clock).back(person)
        text = " ".join(rest)
        until = parse_date(text)
        if text and until is None:
            loc = person.locale or "en"
            return Message(text=t(loc, "away.bad_date", text=text), error=True, locale=loc)
        return await Presence(self.db, self.clock).away(person, until)


class _Context:
    """One command's session, organisation and viewer."""

    def __init__(self, session: AsyncSession, org: Organization, view: View, person) -> None:
        self.session = session
        self.org = org
        self.view = view
        self.person = person
        self.locale = view.locale

    async def dispatch(self, words: list[str]) -> Message:
        if not words or words[0].lower() == "help":
            return await self.help()
        first, rest = words[0].lower(), words[1:]
        share = bool(rest) and rest[-1].lower() == "share"
        if share:
            rest = rest[:-1]
        handlers: dict[str, Callable[[list[str]], Awaitable[Message]]] = {
            "me": lambda _: self.me(),
            "company": lambda _: self.tree(),
            "tree": lambda _: self.tree(),
            "focus": self.focus,
            "history": lambda words: history(self.session, self.view, words),
            "digest": self.digest,
        }
        if first == "team":
            message = await self.team(" ".join(rest)) if rest else await self.team_usage()
        elif first in handlers:
            message = await handlers[first](rest)
        else:
            message = await self.team(" ".join([words[0], *rest]))
        if share and not message.error:
            message = replace(message, ephemeral=False)
        return message

    async def _view_with(self, person_ids) -> View:
        people = await repo.people_by_ids(self.session, person_ids)
        return replace(self.view, people=people)

    # -- help -------------------------------------------------------------------------------
    async def help(self) -> Message:
        loc = self.locale
        teams = await repo.teams(self.session)
        objectives = await repo.active_objectives(self.session, self.view.today)
        tags = sorted({tag for o in objectives for tag in (o.focus or [])})
        lines = (
            ("okr <team>", t(loc, "help.team")),
            ("okr <team> share", t(loc, "help.share")),
            ("okr me", t(loc, "help.me")),
            ("okr company | okr tree", t(loc, "help.company")),
            ("okr focus <tag>", t(loc, "help.focus")),
            ("okr history <kr>", t(loc, "help.history")),
            ("okr digest [<team>]", t(loc, "help.digest")),
            ("okr help", t(loc, "help.help")),
        )
        context = [t(loc, "help.teams", teams=", ".join(team.slug for team in teams))]
        if tags:
            context.append(t(loc, "help.focus_tags", tags=", ".join(tags)))
        return Message(
            title=t(loc, "help.title"),
            text=t(loc, "help.text"),
            sections=(Section(title=t(loc, "help.commands"), fields=lines),),
            context=tuple(context),
        )

    # -- okr <team> -------------------------------------------------------------------------
    async def team(self, name: str) -> Message:
        teams = await repo.team_index(self.session)
        team = find_team(teams, name)
        if team is None:
            return self.unknown(name, teams)
        objectives, parents = await repo.team_objectives(self.session, self.view.today, team.id)
        if not objectives:
            return Message(
                title=team.name, text=t(self.locale, "team.no_objectives", team=team.name)
            )
        krs, people = await repo.key_results_with_people(self.session, [o.id for o in objectives])
        view = replace(self.view, people=people)
        by_objective = group_by_objective(krs)
        team_names = {tm.id: tm.name for tm in teams}
        sections, progresses = [], []
        for objective in objectives:
            progress = own_progress(by_objective, objective.id)
            progresses.append(progress)
            percent = format_percent(progress, self.locale)
            parent = parents.get(objective.aligned_to_id)
            supports = (
                t(
                    self.locale,
                    "team.supports",
                    key=parent.key,
                    title=parent.title,
                    team=team_names.get(parent.team_id, "?"),
                )
                if parent
                else None
            )
            sections.append(
                Section(
                    title=f"{objective.key} {objective.title} · {percent}",
                    text=supports,
                    rows=tuple(
                        kr_row(kr, objective, view) for kr in by_objective.get(objective.id, [])
                    ),
                )
            )
        subs = [tm.name for tm in teams if tm.parent_id == team.id]
        context = [
            t(
                self.locale,
                "team.pace",
                elapsed=format_percent(
                    answers.expected(objectives[0], self.view.today), self.locale
                ),
            )
        ]
        if subs:
            context.append(t(self.locale, "team.sub_teams", teams=", ".join(subs)))
        period = objectives[0].period or self.org.period
        return Message(
            title=t(
                self.locale,
                "team.title",
                team=team.name,
                period=period,
                percent=format_percent(mean(progresses), self.locale),
            ),
            sections=tuple(sections),
            context=tuple(context),
        )

    async def team_usage(self) -> Message:
        teams = await repo.teams(self.session)
        return Message(
            text=t(self.locale, "team.usage", example=teams[0].slug if teams else "…"),
            context=(
                t(self.locale, "unknown.teams", teams=", ".join(tm.slug for tm in teams[:10])),
            ),
            error=True,
        )

    def unknown(self, word: str, teams: list[Team]) -> Message:
        slugs = closest_teams(word, teams)
        if slugs:
            hint = t(self.locale, "unknown.closest", teams=", ".join(slugs))
        else:
            hint = t(self.locale, "unknown.teams", teams=", ".join(tm.slug for tm in teams[:10]))
        return Message(
            text=t(self.locale, "unknown.word", word=word),
            context=(hint, t(self.locale, "unknown.help")),
            error=True,
        )

    # -- okr me -----------------------------------------------------------------------------
    async def me(self) -> Message:
        person = self.person
        if person is None:
            return Message(text=t(self.locale, "me.unknown"), error=True)
        owned = await repo.owned_key_results(self.session, person.id, self.view.today)
        view = await self._view_with([person.id] + [kr.updated_by_id for kr, _ in owned])
        sections: list[Section] = []
        for kr, objective in owned:
            if not sections or sections[-1].title != f"{objective.key} {objective.title}":
                sections.append(Section(title=f"{objective.key} {objective.title}"))
            last = sections[-1]
            sections[-1] = Section(title=last.title, rows=(*last.rows, kr_row(kr, objective, view)))
        context = []
        if owned:  # only owners of key results are prompted (SPEC §8)
            week = iso_week(self.view.now, person.timezone or self.org.timezone)
            checkin = await repo.checkin_round(self.session, person.id, week)
            status = {
                "done": "me.checkin_done",
                "no_change": "me.checkin_done",
                "skipped": "me.checkin_skipped",
            }.get(checkin.status if checkin else "", "me.checkin_open")
            context.append(t(self.locale, status, week=week))
        if is_away(person.away_until, self.view.now, person.timezone or self.org.timezone):
            if person.away_until == date.max:
                context.append(t(self.locale, "me.away_open"))
            else:
                context.append(t(self.locale, "me.away", date=person.away_until.isoformat()))
        led = await repo.led_teams(self.session, person.id)
        if led:
            context.append(t(self.locale, "me.leads", teams=", ".join(tm.name for tm in led)))
        return Message(
            title=t(self.locale, "me.title", name=person.name),
            text=None if owned else t(self.locale, "me.none"),
            sections=tuple(sections),
            context=tuple(context),
        )

    # -- okr company / tree -----------------------------------------------------------------
    async def tree(self) -> Message:
        objectives = await repo.active_objectives(self.session, self.view.today)
        if not objectives:
            return Message(text=t(self.locale, "tree.empty"))
        krs = await repo.active_key_result_values(self.session, self.view.today)
        teams = {tm.id: tm for tm in await repo.teams(self.session)}
        by_objective = group_by_objective(krs)
        ids = {o.id for o in objectives}
        aligned = {o.id: (o.aligned_to_id if o.aligned_to_id in ids else None) for o in objectives}
        rolled = rollup({o.id: own_progress(by_objective, o.id) for o in objectives}, aligned)
        children: dict[int | None, list[Objective]] = {}
        for o in objectives:
            children.setdefault(aligned[o.id], []).append(o)
        view = self.view

        def rows_under(root: Objective):
            stack = [(root, 0)]
            while stack:
                node, level = stack.pop()
                team = teams.get(node.team_id)
                yield objective_row(node, rolled[node.id], team.name if team else "", view, level)
                stack.extend((c, level + 1) for c in reversed(children.get(node.id, [])))

        top_team_ids = {tm.id for tm in teams.values() if tm.parent_id is None}
        sections, unaligned = [], []
        for root in children.get(None, []):
            rows = tuple(rows_under(root))
            if root.team_id in top_team_ids or children.get(root.id):
                sections.append(Section(rows=rows))
            else:
                unaligned.extend(rows)
        if unaligned:
            sections.append(Section(title=t(self.locale, "tree.unaligned"), rows=tuple(unaligned)))
        return Message(
            title=t(self.locale, "tree.title", org=self.org.name, period=self.org.period),
            sections=tuple(sections),
            context=(t(self.locale, "tree.legend"),),
        )

    # -- okr focus <tag> --------------------------------------------------------------------
    async def focus(self, words: list[str]) -> Message:
        objectives = await repo.active_objectives(self.session, self.view.today)
        tags = sorted({tag for o in objectives for tag in (o.focus or [])})
        if not words:
            return Message(
                text=t(self.locale, "focus.usage", example=tags[0] if tags else "…"),
                context=(t(self.locale, "focus.known", tags=", ".join(tags)),),
                error=True,
            )
        tag = " ".join(words)
        matching = [o for o in objectives if tag.lower() in {f.lower() for f in o.focus or []}]
        if not matching:
            return Message(
                text=t(self.locale, "focus.unknown", tag=tag),
                context=(t(self.locale, "focus.known", tags=", ".join(tags)),),
                error=True,
            )
        krs = await repo.key_results_of(self.session, [o.id for o in matching])
        by_objective = group_by_objective(krs)
        teams = {tm.id: tm.name for tm in await repo.teams(self.session)}
        rows = [
            objective_row(o, own_progress(by_objective, o.id), teams.get(o.team_id, ""), self.view)
            for o in matching
        ]
        summary = t(
            self.locale,
            "focus.summary",
            objectives=len(matching),
            teams=len({o.team_id for o in matching}),
            percent=format_percent(mean([r.progress for r in rows]), self.locale),
        )
        return Message(
            title=t(self.locale, "focus.title", tag=tag),
            text=summary,
            sections=(Section(rows=tuple(rows)),),
        )

    # -- okr digest [<team>] ----------------------------------------------------------------
    async def digest(self, words: list[str]) -> Message:
        """The exec digest (headline, then every team's part), or one team's: to the asker."""
        snapshot = await digest_snapshot(self.session, self.view.now)
        if not words:
            message = full_message(exec_digest(snapshot, self.view.now, self.locale))
        else:
            teams = list(snapshot.teams)
            team = find_team(teams, " ".join(words))
            if team is None:
                return self.unknown(" ".join(words), teams)
            message = team_digest(snapshot, team.slug, self.view.now, self.locale)
        return replace(message, ephemeral=True)

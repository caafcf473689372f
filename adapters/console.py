"""Terminal chat: play a member or a leader without Slack or Teams.

Lines starting with `/okr` or `okr` are commands; other lines are direct messages to the bot
(check-in replies). Buttons are pressed with `/press N` (or `/press undo`), the check-in form is
sent with `/submit 1=6 2=145:at_risk`. `/as HANDLE` switches person, `/quit` (or end of input)
leaves.
"""

from __future__ import annotations

import asyncio
import sys
from typing import TextIO

from bot.core import Core
from bot.messages import Message, render_text
from storage.models import Person

PLATFORM = "console"


class ConsoleChat:
    def __init__(
        self,
        core: Core,
        person: Person | None,
        stdin: TextIO = sys.stdin,
        stdout: TextIO = sys.stdout,
    ) -> None:
        self.core = core
        self.person = person
        self.stdin = stdin
        self.stdout = stdout
        self.interactive = stdin.isatty()
        self.last: Message | None = None  # the last answer with buttons or a form

    def say(self, text: str) -> None:
        self.stdout.write(text + "\n")
        self.stdout.flush()

    def show(self, message: Message | None) -> None:
        if message is None:
            return
        if message.actions or message.form:
            self.last = message
        text = render_text(message)
        if message.actions:
            buttons = "  ".join(f"[{n}: {a.label}]" for n, a in enumerate(message.actions, 1))
            text = text.rsplit("\n", 1)[0] + "\n" + buttons + "   (/press N)"
        self.say(text + "\n")

    def greet(self) -> None:
        who = (
            f"{self.person.name} ({self.person.handle})" if self.person else "nobody in particular"
        )
        self.say(f"okrbot console: you are {who}.")
        self.say(
            "Type /okr help for the commands, /okr checkin for your check-in, "
            "/as HANDLE to be someone else, /quit to leave.\n"
        )

    async def run(self) -> None:
        self.greet()
        while True:
            if self.interactive:
                self.stdout.write(f"{self.person.handle if self.person else 'you'}> ")
                self.stdout.flush()
            line = await asyncio.to_thread(self.stdin.readline)
            if not line:
                break
            if not await self.handle(line.strip()):
                break

    async def handle(self, line: str) -> bool:
        """One input line; False when the chat should end."""
        if not line:
            return True
        lowered = line.lower()
        if lowered in ("/quit", "/exit", "/q"):
            return False
        if lowered.startswith("/as ") or lowered == "/as":
            await self.switch(line[3:].strip())
        elif lowered.startswith("/press"):
            await self.press(line[6:].strip())
        elif lowered.startswith("/submit"):
            await self.submit(line[7:].strip())
        elif lowered == "/okr" or lowered.startswith(("/okr ", "okr ")) or lowered == "okr":
            self.show(await self.core.command(self.person, line))
        else:
            self.show(
                await self.core.direct_message(
                    self.person,
                    line,
                    platform=PLATFORM,
                    platform_user_id=self.person.handle if self.person else None,
                )
            )
        return True

    async def press(self, which: str) -> None:
        actions = self.last.actions if self.last else ()
        chosen = None
        if which.isdigit() and 1 <= int(which) <= len(actions):
            chosen = actions[int(which) - 1]
        else:
            chosen = next(
                (a for a in actions if which.lower() in (a.label.lower(), a.id.split(".")[-1])),
                None,
            )
        if chosen is None or self.person is None:
            self.say("No such button here.\n")
            return
        self.show(await self.core.press(self.person, chosen.id, chosen.value))

    async def submit(self, text: str) -> None:
        """`/submit 1=6 2=145:at_risk MKT-1.4=1`: positions or ids of the last form."""
        form = self.last.form if self.last else None
        if form is None or self.person is None:
            self.say("Open the form first (/okr checkin, then /press 3).\n")
            return
        values: dict[str, dict] = {}
        for part in text.split():
            target, _, rest = part.partition("=")
            value, _, health = rest.partition(":")
            if target.isdigit() and 1 <= int(target) <= len(form.fields):
                target = form.fields[int(target) - 1].key
            values[target.upper()] = {"value": value, "health": health or None}
        outcome = await self.core.submit_form(self.person, values)
        if outcome.errors:
            for key, error in outcome.errors.items():
                self.say(f"  {key}: {error}")
            self.say("Nothing was saved.\n")
            return
        self.show(outcome.message)

    async def switch(self, handle: str) -> None:
        person = await self.core.person(handle=handle) if handle else None
        if person is None:
            self.say(f"No person with the handle “{handle}”.\n")
            return
        self.person = person
        self.last = None
        self.say(f"You are now {person.name} ({person.handle}).\n")

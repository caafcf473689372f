"""Terminal chat: play a member or a leader without Slack or Teams.

Lines starting with `/okr` or `okr` are commands; other lines are direct messages to the bot.
`/as HANDLE` switches person, `/quit` (or end of input) leaves.
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

    def say(self, text: str) -> None:
        self.stdout.write(text + "\n")
        self.stdout.flush()

    def show(self, message: Message) -> None:
        self.say(render_text(message) + "\n")

    def greet(self) -> None:
        who = (
            f"{self.person.name} ({self.person.handle})" if self.person else "nobody in particular"
        )
        self.say(f"okrbot console: you are {who}.")
        self.say(
            "Type /okr help for the commands, /as HANDLE to be someone else, /quit to leave.\n"
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
        if lowered.startswith("/as"):
            await self.switch(line[3:].strip())
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

    async def switch(self, handle: str) -> None:
        person = await self.core.person(handle=handle) if handle else None
        if person is None:
            self.say(f"No person with the handle “{handle}”.\n")
            return
        self.person = person
        self.say(f"You are now {person.name} ({person.handle}).\n")

"""Slack's outbox sender: prompts to members' DMs and digests to channels, exactly once.

Every message carries its outbox key in message `metadata`. A send whose outcome is unknown
(a 5xx, a lost connection, a worker that died mid-send) is looked for in the conversation's
history (`include_all_metadata`) before anything is sent again: if Slack has it, it counts as
sent. Outbox sends use a client without slack_sdk's retry handlers, which would re-send after a
5xx without that check; the worker retries instead (SPEC §8).

Posts are paced by the workspace's adaptive pace (shared with the other processes on the
database), which learns Slack's limit from its answers: each accepted post and each 429 is
reported to it. The per-channel limit stays a fixed rate.
"""

from __future__ import annotations

import logging

import aiohttp
from slack_sdk.errors import SlackApiError
from slack_sdk.web.async_client import AsyncWebClient

from adapters.pace_policy import Policy
from adapters.pacing import AdaptivePacer, KeyedRateLimiter, Pacers
from adapters.slack.app import SlackAdapter
from adapters.slack.blocks import fallback_text, message_blocks
from bot.checkin.views import as_reminder
from bot.delivery import (
    Checkpoint,
    DigestParts,
    OutcomeUnknown,
    PermanentFailure,
    RateLimited,
)
from bot.messages import Message
from storage.models import Person

log = logging.getLogger("okrbot.slack.outbox")
EVENT_TYPE = "okrbot_outbox"
PERMANENT = {
    "channel_not_found",
    "not_in_channel",
    "is_archived",
    "user_not_found",
    "users_not_found",
    "user_disabled",
    "account_inactive",
    "invalid_auth",
    "not_authed",
    "token_revoked",
    "token_expired",
    "missing_scope",
    "no_permission",
    "restricted_action",
    "cannot_dm_bot",
    "messages_tab_disabled",
    "msg_too_long",
    "invalid_blocks",
    "invalid_metadata_format",
}
HISTORY_PAGES = 5  # of 200 messages: how far back a reconciliation looks


class SlackSender:
    platform = "slack"

    def __init__(
        self,
        slack: SlackAdapter,
        *,
        pacers: Pacers | None = None,
        rate: float | None = None,
        channel_rate: float = 1.0,
        clock=None,
    ) -> None:
        """`pacers`: the paces shared by this process's senders (by default its own, with
        `rate` as the ceiling)."""
        self.slack = slack
        self.core = slack.core
        self.clock = clock or slack.core.clock
        # no retry handlers: a re-send after a 5xx must be reconciled first; one connection
        # pool for every send (slack_sdk opens a connection per call without a session)
        self._session: aiohttp.ClientSession | None = None
        self.client = AsyncWebClient(
            token=slack.client.token,
            base_url=slack.client.base_url,
            timeout=30,
            retry_handlers=[],  # not even the default one for lost connections
        )
        self.pacers = pacers or Pacers({self.platform: Policy(ceiling=rate)})
        self.channels = KeyedRateLimiter(channel_rate)
        self._workspace: str | None = None

    async def open(self) -> None:
        if self._session is None:
            self._session = aiohttp.ClientSession(
                connector=aiohttp.TCPConnector(limit=64, keepalive_timeout=30)
            )
            self.client.session = self._session

    async def close(self) -> None:
        await self.pacers.flush()
        if self._session is not None:
            await self._session.close()
            self._session = None
            self.client.session = None

    async def pace(self) -> AdaptivePacer:
        """The pace of this token's workspace (its team id, asked of Slack once)."""
        if self._workspace is None:
            response = await self._call(self.client.auth_test)
            self._workspace = response.get("team_id") or "workspace"
        return self.pacers.get(self.platform, self._workspace)

    async def reaches(self, person: Person) -> bool:
        return await self.slack.slack_id(person) is not None

    # -- prompts -------------------------------------------------------------------------------
    async def send_prompt(
        self, person: Person, *, key: str, reminder: bool, uncertain: bool
    ) -> dict:
        user_id = await self.slack.slack_id(person)
        if user_id is None:
            raise PermanentFailure(f"no Slack user for {person.handle}")
        await self.open()
        if uncertain:
            channel = await self._dm_channel(user_id)
            found = await self._find(channel, key)
            if found is not None:
                log.info("%s was already in Slack: not sent again", key)
                return {"channel": channel, "ts": found, "reconciled": True}
        message = await self.core.checkins.prompt(person)
        if reminder:
            message = as_reminder(message)
        # posting to the user id lands in the app's DM with them (its Messages tab)
        ts, channel = await self._post(user_id, message, key)
        return {"channel": channel, "ts": ts}

    async def _dm_channel(self, user_id: str) -> str:
        response = await self._call(self.client.conversations_open, users=user_id)
        return response["channel"]["id"]

    # -- digests -------------------------------------------------------------------------------
    async def send_digest(
        self,
        channel: str,
        parts: DigestParts,
        *,
        key: str,
        uncertain: bool,
        progress: dict,
        checkpoint: Checkpoint,
    ) -> dict:
        await self.open()
        progress = dict(progress)
        head = progress.get("ts")
        if head is None and uncertain:
            head = await self._find(channel, key)
        if head is None:
            head, _ = await self._post(channel, parts.headline, key)
        progress.update(channel=channel, ts=head)
        await checkpoint(progress)
        done = list(progress.get("replies", []))
        thread = None
        for name, message in parts.replies:
            if name in done:
                continue
            part_key = f"{key}#{name}"
            if uncertain:
                thread = thread if thread is not None else await self._thread_keys(channel, head)
                if part_key in thread:
                    done.append(name)
                    continue
            await self._post(channel, message, part_key, thread_ts=head)
            done.append(name)
            progress["replies"] = done
            await checkpoint(progress)
        if parts.chart_png and "chart" not in progress:
            progress["chart"] = await self._upload_chart(channel, head, parts)
            await checkpoint(progress)
        return progress

    async def _upload_chart(self, channel: str, thread_ts: str, parts: DigestParts) -> str | None:
        """The chart into the digest's thread (Slack's external upload). The text stands on
        its own: a failed upload is logged, not retried."""
        try:
            await (await self.pace()).acquire()
            response = await self.client.files_upload_v2(
                channel=channel,
                thread_ts=thread_ts,
                content=parts.chart_png,
                filename="okr-progress.png",
                title=parts.chart_title,
                request_file_info=False,
            )
            return (response.get("file") or {}).get("id") or "uploaded"
        except Exception as exc:
            log.warning("the digest chart could not be uploaded: %s", _reason(exc))
            return None

    # -- Web API -------------------------------------------------------------------------------
    async def _post(
        self, channel: str, message: Message, key: str, thread_ts: str | None = None
    ) -> tuple[str, str]:
        """One message (a long one continues in its thread); the first part carries the key.
        Returns its ts and the channel Slack put it in."""
        first, where = None, channel
        pace = await self.pace()
        for n, blocks in enumerate(message_blocks(message)):
            await self.channels.acquire(channel)
            await pace.acquire()
            metadata = {"event_type": EVENT_TYPE, "event_payload": {"key": key, "part": n}}
            try:
                response = await self._call(
                    self.client.chat_postMessage,
                    channel=channel,
                    blocks=blocks,
                    text=fallback_text(message),
                    thread_ts=thread_ts or first,
                    metadata=metadata,
                )
            except RateLimited as exc:
                pace.refused(exc.retry_after)
                raise
            pace.accepted()
            first = first or response["ts"]
            where = response.get("channel") or where
        return first, where

    async def _find(self, channel: str, key: str) -> str | None:
        """The ts of the message carrying `key` among the channel's recent messages (newest
        first; a week's prompt or digest is never far down)."""
        cursor = None
        for _ in range(HISTORY_PAGES):
            response = await self._call(
                self.client.conversations_history,
                channel=channel,
                include_all_metadata=True,
                limit=200,
                cursor=cursor,
            )
            for message in response.get("messages", []):
                if _key_of(message) == key:
                    return message["ts"]
            cursor = (response.get("response_metadata") or {}).get("next_cursor")
            if not cursor:
                break
        return None

    async def _thread_keys(self, channel: str, ts: str) -> set[str]:
        response = await self._call(
            self.client.conversations_replies, channel=channel, ts=ts, include_all_metadata=True
        )
        return {k for m in response.get("messages", []) if (k := _key_of(m))}

    async def _call(self, method, **kwargs):
        try:
            return await method(**kwargs)
        except SlackApiError as exc:
            raise _classify(exc) from exc
        except (TimeoutError, aiohttp.ClientError, ConnectionError) as exc:
            raise OutcomeUnknown(f"Slack did not answer: {_reason(exc)}") from exc


def _key_of(message: dict) -> str | None:
    metadata = message.get("metadata") or {}
    if metadata.get("event_type") != EVENT_TYPE:
        return None
    return (metadata.get("event_payload") or {}).get("key")


def _classify(exc: SlackApiError) -> Exception:
    response = exc.response
    status = getattr(response, "status_code", None)
    error = response.get("error") if hasattr(response, "get") else None
    if status == 429 or error == "ratelimited":
        headers = getattr(response, "headers", {}) or {}
        retry_after = headers.get("Retry-After") or headers.get("retry-after") or 1
        return RateLimited(float(retry_after))
    if status is not None and status >= 500:
        return OutcomeUnknown(f"Slack answered {status} ({error})")
    if error in PERMANENT:
        return PermanentFailure(f"Slack: {error}")
    return OutcomeUnknown(f"Slack: {error or status}")


def _reason(exc: BaseException) -> str:
    return str(exc).splitlines()[0] if str(exc) else type(exc).__name__

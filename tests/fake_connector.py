"""A fake Bot Connector for tests: the Bot Framework REST API that Teams' bots call, on localhost.

    async with FakeConnector(roster={"29:1anna": {"aadObjectId": "aad-anna", "name": "Anna Holm"}}) as connector:
        activity = message_activity("okr me", service_url=connector.url)
        ...  # POST it to the bot's /api/messages
        (sent,) = await connector.wait_for_activities(1)
        assert sent.conversation_id == "a:1anna" and sent.reply_to_id == activity["id"]

botbuilder's CloudAdapter sends replies and proactive messages to the incoming activity's
`serviceUrl`: put `connector.url` there and every outbound call lands here. Every request is
recorded as a `Call`; the activities posted to conversations as `SentActivity` objects.
Failures are programmed per kind of call with `fail()` and consumed in order.

For load, `send_rate` (and `conversation_rate`) throttle the activities posted the way the Bot
Connector does, with a limit the bot is not told: more sends in one whole second than allowed
are answered 429 `Throttled` with a `Retry-After` header. The fake counts what it accepted and
refused, and every send to a conversation before its Retry-After had passed.

botbuilder's connector client sends with `requests` in a worker thread, so the fake, running in
the test's event loop, can answer it; an async client works as well.

The module also builds the activities Teams sends to a bot (`message_activity`,
`conversation_update_activity`, `installation_update_activity`, `invoke_adaptive_card_action`)
as JSON dicts, shaped as Teams sends them.
"""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import json
import secrets
import time
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta, timezone
from typing import Any
from urllib.parse import unquote

from aiohttp import web
from multidict import CIMultiDict

BOT_ID = "28:bot"  # the bot's Teams id ("28:" + its Microsoft app id in real life)
BOT_NAME = "okrbot"
TENANT_ID = "t1"
TEAM_ID = "19:team-marketing@thread.tacv2"  # a team's id is also its General channel's id
TEAM_NAME = "Marketing"
TEAM_AAD_GROUP_ID = "0f8b8e5c-4d1e-4b8a-9c55-2f0d7b1e6a31"
CHANNEL_ID = "19:channel-marketing@thread.tacv2"
GROUP_CHAT_ID = "19:group-chat-anna@thread.v2"

# Anna of the demo organisation as the Teams roster has her
ANNA = {
    "29:1anna": {
        "aadObjectId": "aad-anna",
        "email": "anna@nordlys.example",
        "userPrincipalName": "anna@nordlys.example",
        "name": "Anna Holm",
        "tenantId": TENANT_ID,
    }
}

# What a kind of call is, from its method and path under /v3/conversations.
KINDS = (
    "send",  # POST /v3/conversations/{id}/activities
    "reply",  # POST /v3/conversations/{id}/activities/{activityId}
    "update",  # PUT  /v3/conversations/{id}/activities/{activityId}
    "delete",  # DELETE /v3/conversations/{id}/activities/{activityId}
    "create_conversation",  # POST /v3/conversations
    "member",  # GET  /v3/conversations/{id}/members/{memberId}
    "members",  # GET  /v3/conversations/{id}/members
    "pagedmembers",  # GET  /v3/conversations/{id}/pagedmembers
    "unknown",  # anything else: 404
)
# Names accepted by fail() and calls_to() besides the kinds: "activities" = send and reply,
# "conversations" = create_conversation, "*" = any call.
_KIND_GROUPS = {
    "activities": {"send", "reply"},
    "conversations": {"create_conversation"},
    "*": set(KINDS),
}

_POSTS = frozenset(("send", "reply"))  # the calls that post an activity: what is throttled

# The connector's error codes per status (Teams' documented ones).
_ERROR_CODES = {
    400: "BadArgument",
    401: "Unauthorized",
    403: "ConversationBlockedByUser",
    404: "ConversationNotFound",
    412: "PreconditionFailed",
    413: "MessageSizeTooBig",
    429: "Throttled",
    500: "ServiceError",
    502: "ServiceError",
    503: "ServiceUnavailable",
    504: "GatewayTimeout",
}
_DEFAULT_PAGE_SIZE = 200  # Teams' default page of pagedmembers


@dataclass
class Call:
    """One request to the fake, as received and answered."""

    method: str  # "POST"
    path: str  # decoded: "/v3/conversations/a:1anna/activities"
    kind: str  # one of KINDS
    body: Any  # the parsed JSON body (None when there was none or it was not JSON)
    headers: Mapping[str, str]  # case-insensitive
    query: dict[str, str] = field(default_factory=dict)
    conversation_id: str | None = None
    activity_id: str | None = None  # from the path (reply, update, delete)
    member_id: str | None = None  # from the path (member)
    status: int | None = None  # HTTP status answered (None: connection dropped)
    response: Any = None  # JSON answered
    answered: bool = False  # the fake is done with it (answered or dropped)

    @property
    def ok(self) -> bool:
        return self.status is not None and 200 <= self.status < 300


@dataclass
class SentActivity:
    """An activity the bot posted (or updated) in a conversation."""

    conversation_id: str
    id: str  # the activity id the fake gave it (for an update: the updated activity's id)
    activity: dict[str, Any]  # the JSON the bot sent
    reply_to_id: str | None = None  # for replies: the activityId of the path
    call: Call | None = None

    @property
    def type(self) -> str | None:
        return self.activity.get("type")

    @property
    def text(self) -> str | None:
        return self.activity.get("text")

    @property
    def attachments(self) -> list[dict[str, Any]]:
        return self.activity.get("attachments") or []

    @property
    def cards(self) -> list[dict[str, Any]]:
        """The content of each Adaptive Card attachment."""
        return [
            a.get("content") or {}
            for a in self.attachments
            if a.get("contentType") == "application/vnd.microsoft.card.adaptive"
        ]


@dataclass
class CreatedConversation:
    """A POST /v3/conversations the fake accepted."""

    id: str
    parameters: dict[str, Any]  # the ConversationParameters JSON
    activity_id: str | None = None  # when the parameters carried a first activity


@dataclass
class Failure:
    kinds: set[str]
    status: int | None
    retry_after: float | None
    times: int
    conversation_id: str | None
    code: str | None
    message: str | None
    accepted: bool
    disconnect: bool


@dataclass
class _Waiter:
    changed: asyncio.Event = field(default_factory=asyncio.Event)


class FakeConnector:
    """The Bot Connector REST API (`/v3/conversations/...`) on 127.0.0.1 (a free port).

    `roster` maps member ids ("29:...") to Teams channel account fields (`aadObjectId`, `name`,
    `email`, `userPrincipalName`, `givenName`, `surname`, `tenantId`, `userRole`); every
    conversation answers with that roster. A member is found by its id, its `aadObjectId` or its
    `userPrincipalName` (case-insensitive), as in Teams. With a roster, creating a 1:1
    conversation with a member outside it answers 403 `BotNotInConversationRoster` (the app is
    not installed for that person); without one, any member is accepted.

    Updating or deleting an activity the fake never issued answers 404
    `ActivityNotFoundInConversation`; seed earlier messages with `add_activity()`.

    Throttling (off by default): `send_rate` activities posted (sends and replies) per whole
    second over all conversations, the bot's budget in the tenant, and `conversation_rate` per
    whole second to any one conversation; a send beyond either is answered 429 with
    `Retry-After: throttle_retry_after` and the connector's error body, and not posted.
    `sends_accepted` counts the sends answered with success and `sends_throttled` those the
    limit refused; `early_sends` lists (conversation id, seconds too early) for every send to a
    conversation before the Retry-After of a 429 it was answered (the limit's or a programmed
    one) had passed. `timer` is the fake's clock (seconds).
    """

    def __init__(
        self,
        *,
        roster: Mapping[str, Mapping[str, Any]] | None = None,
        send_rate: int | None = None,
        conversation_rate: int | None = None,
        throttle_retry_after: float = 1,
        timer: Callable[[], float] = time.time,
    ) -> None:
        self.send_rate, self.conversation_rate = send_rate, conversation_rate
        self.throttle_retry_after = throttle_retry_after
        self.timer = timer
        self.sends_accepted = 0
        self.sends_throttled = 0
        self.early_sends: list[tuple[str, float]] = []
        self._windows: dict[str | None, tuple[int, int]] = {}  # (second, sends accepted in it)
        self._retry_at: dict[str, float] = {}  # conversation -> when its Retry-After has passed
        self.roster: dict[str, dict[str, Any]] = {k: dict(v) for k, v in (roster or {}).items()}
        self.calls: list[Call] = []
        self.activities: list[SentActivity] = []  # POSTed (sent, replies, in new conversations)
        self.updates: list[SentActivity] = []  # PUT, oldest first
        self.deleted: list[tuple[str, str]] = []  # (conversation id, activity id)
        self.created: list[CreatedConversation] = []
        self._current: dict[tuple[str, str], dict[str, Any]] = {}  # latest version per activity
        self._failures: list[Failure] = []
        self._ids = itertools.count(int(time.time() * 1000))
        self._waiter = _Waiter()
        self._runner: web.AppRunner | None = None
        self.port = 0

    # -- lifecycle -------------------------------------------------------------------------

    async def __aenter__(self) -> FakeConnector:
        await self.start()
        return self

    async def __aexit__(self, *exc_info: object) -> None:
        await self.close()

    async def start(self) -> None:
        app = web.Application()
        app.router.add_route("*", "/{tail:.*}", self._handle)
        self._runner = web.AppRunner(app, access_log=None, shutdown_timeout=1.0)
        await self._runner.setup()
        site = web.TCPSite(self._runner, "127.0.0.1", 0)
        await site.start()
        self.port = self._runner.addresses[0][1]

    async def close(self) -> None:
        if self._runner is not None:
            await self._runner.cleanup()
            self._runner = None

    @property
    def url(self) -> str:
        """The `serviceUrl` to put in incoming activities, with its trailing slash as Teams'."""
        return f"http://127.0.0.1:{self.port}/"

    # -- programming the fake --------------------------------------------------------------

    def fail(
        self,
        path_kind: str = "activities",
        *,
        status: int | None = None,
        retry_after: float | None = None,
        times: int = 1,
        conversation_id: str | None = None,
        code: str | None = None,
        message: str | None = None,
        accepted: bool = False,
        disconnect: bool = False,
    ) -> None:
        """Make the next `times` calls of `path_kind` fail, after failures programmed earlier.

        `path_kind` is one of `KINDS`, "activities" (send and reply), "conversations"
        (create_conversation) or "*" (any call);
        `conversation_id` limits the failure to that conversation.
        - `status=429`: `Retry-After: retry_after` (default 1) and error code `Throttled`.
        - any other status: the connector's error body `{"error": {"code", "message"}}` with
          `code` (default per status, e.g. 403 `ConversationBlockedByUser`, 404
          `ConversationNotFound`, 500 `ServiceError`); `retry_after` adds the header.
        - `disconnect=True`: the connection is dropped without an answer.
        - `accepted=True`: the call takes effect (the activity is posted) before the failure is
          answered, as when Teams did the work but the answer was lost.
        """
        kinds = _KIND_GROUPS.get(path_kind, {path_kind})
        if not kinds <= set(KINDS):
            raise ValueError(
                f"unknown path_kind {path_kind!r}: one of {KINDS} or {list(_KIND_GROUPS)}"
            )
        if status is None and not disconnect:
            raise ValueError("fail() needs a status or disconnect=True")
        if status == 429 and retry_after is None:
            retry_after = 1
        self._failures.append(
            Failure(
                kinds,
                status,
                retry_after,
                times,
                conversation_id,
                code,
                message,
                accepted,
                disconnect,
            )
        )

    def add_activity(self, conversation_id: str, activity: Mapping[str, Any]) -> str:
        """Make the fake know an activity (e.g. a prompt sent before a restart); returns its id.

        It can then be updated, replied to and deleted; it is not added to `activities`.
        """
        activity_id = str(activity.get("id") or self._new_activity_id())
        self._current[(conversation_id, activity_id)] = dict(activity, id=activity_id)
        return activity_id

    # -- inspecting ------------------------------------------------------------------------

    def calls_to(self, kind: str) -> list[Call]:
        kinds = _KIND_GROUPS.get(kind, {kind})
        return [c for c in self.calls if c.kind in kinds]

    def activities_in(self, conversation_id: str) -> list[SentActivity]:
        return [a for a in self.activities if a.conversation_id == conversation_id]

    def activity(self, conversation_id: str, activity_id: str) -> dict[str, Any] | None:
        """The activity as it stands now (after updates), or None (unknown or deleted)."""
        return self._current.get((conversation_id, activity_id))

    async def wait_for_activities(
        self,
        count: int = 1,
        timeout: float = 5,  # noqa: ASYNC109
        *,
        conversation_id: str | None = None,
    ) -> list[SentActivity]:
        """Wait until at least `count` activities were posted (to that conversation); return them."""

        def check() -> list[SentActivity] | None:
            posted = (
                self.activities if conversation_id is None else self.activities_in(conversation_id)
            )
            return list(posted) if len(posted) >= count else None

        def describe() -> str:
            where = "" if conversation_id is None else f" in {conversation_id}"
            got = len(
                self.activities if conversation_id is None else self.activities_in(conversation_id)
            )
            seen = [f"{c.method} {c.path} -> {c.status}" for c in self.calls]
            return (
                f"expected {count} activit(ies){where} within {timeout}s, got {got}; calls: {seen}"
            )

        return await self._until(check, timeout, describe)

    async def wait_for(
        self,
        kind: str,
        count: int = 1,
        timeout: float = 5,  # noqa: ASYNC109
    ) -> list[Call]:
        """Wait until `count` calls of `kind` (see `KINDS`, or "activities") were answered."""

        def check() -> list[Call] | None:
            calls = [c for c in self.calls_to(kind) if c.answered]
            return calls if len(calls) >= count else None

        def describe() -> str:
            seen = [f"{c.method} {c.path} -> {c.status}" for c in self.calls]
            return f"expected {count} {kind} call(s) within {timeout}s; calls: {seen}"

        return await self._until(check, timeout, describe)

    # -- internals: waiting ----------------------------------------------------------------

    def _notify(self) -> None:
        waiter, self._waiter = self._waiter, _Waiter()
        waiter.changed.set()

    async def _until(
        self, check: Callable[[], Any], seconds: float, describe: Callable[[], str]
    ) -> Any:
        loop = asyncio.get_running_loop()
        deadline = loop.time() + seconds
        while True:
            result = check()
            if result:
                return result
            remaining = deadline - loop.time()
            if remaining <= 0:
                raise AssertionError(describe())
            waiter = self._waiter
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(waiter.changed.wait(), remaining)

    # -- internals: HTTP -------------------------------------------------------------------

    async def _handle(self, request: web.Request) -> web.StreamResponse:
        call = await self._record(request)
        try:
            self._note_early(call)
            failure = self._take_failure(call)
            if failure is not None and failure.disconnect:
                if failure.accepted:
                    self._answer(call)
                call.status, call.response = None, None
                if request.transport is not None:
                    request.transport.close()
                return web.Response(status=500)
            if failure is None:
                failure = self._throttle(call)
            if failure is None:
                status, answer = self._answer(call)
                headers: dict[str, str] = {}
                if call.kind in _POSTS and 200 <= status < 300:
                    self.sends_accepted += 1
            else:
                if failure.accepted:
                    self._answer(call)
                status = failure.status or 500
                answer = _error(
                    failure.code or _ERROR_CODES.get(status, "ServiceError"),
                    failure.message or f"fake connector: programmed failure {status}",
                )
                headers = {}
                if failure.retry_after is not None:
                    headers["Retry-After"] = _seconds(failure.retry_after)
                if status == 429 and call.kind in _POSTS:
                    retry_at = self.timer() + (failure.retry_after or 0)
                    self._retry_at[call.conversation_id or ""] = retry_at
            call.status, call.response = status, answer
            return web.json_response(answer, status=status, headers=headers)
        finally:
            call.answered = True
            self._notify()

    async def _record(self, request: web.Request) -> Call:
        raw = await request.read()
        body: Any = None
        if raw:
            try:
                body = json.loads(raw)
            except ValueError:
                body = None
        # Split the raw path before decoding: ids may hold encoded "/" ";" "@" ":".
        segments = [unquote(s) for s in request.raw_path.split("?", 1)[0].split("/") if s]
        call = Call(
            method=request.method,
            path="/" + "/".join(segments),
            kind="unknown",
            body=body,
            headers=CIMultiDict(request.headers),
            query=dict(request.query),
        )
        _classify(call, segments)
        self.calls.append(call)
        return call

    def _note_early(self, call: Call) -> None:
        """A send to a conversation whose last 429's Retry-After has not passed yet."""
        if call.kind not in _POSTS:
            return
        retry_at = self._retry_at.pop(call.conversation_id or "", None)
        if retry_at is not None and self.timer() < retry_at:
            self.early_sends.append((call.conversation_id or "", retry_at - self.timer()))

    def _throttle(self, call: Call) -> Failure | None:
        """The limit of sends per whole second (over all conversations, and per conversation);
        a send it refuses does not count against it."""
        if call.kind not in _POSTS:
            return None
        now = self.timer()
        conversation = call.conversation_id or ""
        limits = ((None, self.send_rate), (conversation, self.conversation_rate))
        second = int(now)
        counts = {}
        for key, limit in limits:
            if limit is None:
                continue
            window, count = self._windows.get(key, (second, 0))
            count = count if window == second else 0
            if count >= limit:
                self.sends_throttled += 1
                message = "fake connector: too many requests, retry after the Retry-After"
                return Failure(
                    set(_POSTS), 429, self.throttle_retry_after, 1, None, None, message,
                    False, False,
                )  # fmt: skip
            counts[key] = count
        for key, count in counts.items():
            self._windows[key] = (second, count + 1)
        return None

    def _take_failure(self, call: Call) -> Failure | None:
        for failure in self._failures:
            if call.kind not in failure.kinds:
                continue
            if failure.conversation_id not in (None, call.conversation_id):
                continue
            failure.times -= 1
            if failure.times <= 0:
                self._failures.remove(failure)
            return failure
        return None

    def _answer(self, call: Call) -> tuple[int, Any]:
        handler = {
            "send": self._send,
            "reply": self._send,
            "update": self._update,
            "delete": self._delete,
            "create_conversation": self._create_conversation,
            "member": self._member,
            "members": self._members,
            "pagedmembers": self._paged_members,
        }.get(call.kind)
        if handler is None:
            return 404, _error(
                "NotFound", f"fake connector: no route for {call.method} {call.path}"
            )
        return handler(call)

    def _new_activity_id(self) -> str:
        return str(next(self._ids))  # Teams' message ids are epoch milliseconds

    def _send(self, call: Call) -> tuple[int, Any]:
        activity = call.body
        if not isinstance(activity, dict) or not activity.get("type"):
            return 400, _error("BadArgument", "Activity type is required")
        # A reply may name any activity id: users' messages are not known to the fake.
        conversation_id = call.conversation_id or ""
        return 201, {"id": self._post(conversation_id, activity, call.activity_id, call)}

    def _post(
        self,
        conversation_id: str,
        activity: dict[str, Any],
        reply_to_id: str | None,
        call: Call | None,
    ) -> str:
        activity_id = self._new_activity_id()
        self.activities.append(
            SentActivity(conversation_id, activity_id, activity, reply_to_id, call)
        )
        self._current[(conversation_id, activity_id)] = dict(activity, id=activity_id)
        return activity_id

    def _update(self, call: Call) -> tuple[int, Any]:
        key = (call.conversation_id or "", call.activity_id or "")
        if key not in self._current:
            return 404, _error("ActivityNotFoundInConversation", "Unknown activity")
        activity = call.body
        if not isinstance(activity, dict) or not activity.get("type"):
            return 400, _error("BadArgument", "Activity type is required")
        self._current[key] = dict(activity, id=key[1])
        self.updates.append(SentActivity(key[0], key[1], activity, None, call))
        return 200, {"id": key[1]}

    def _delete(self, call: Call) -> tuple[int, Any]:
        key = (call.conversation_id or "", call.activity_id or "")
        if self._current.pop(key, None) is None:
            return 404, _error("ActivityNotFoundInConversation", "Unknown activity")
        self.deleted.append(key)
        return 200, {}

    def _create_conversation(self, call: Call) -> tuple[int, Any]:
        params = call.body if isinstance(call.body, dict) else {}
        members = params.get("members") or []
        # botbuilder-python serializes "tenantID"; the service reads keys case-insensitively.
        tenant_id = next((v for k, v in params.items() if k.lower() == "tenantid" and v), None)
        tenant_id = tenant_id or ((params.get("channelData") or {}).get("tenant") or {}).get("id")
        if params.get("isGroup") or len(members) != 1 or not members[0].get("id"):
            return 400, _error("BadArgument", "Exactly one member is required for a 1:1 chat")
        if not tenant_id:
            return 400, _error("BadArgument", "Tenant id is required")
        member_id = members[0]["id"]
        if self.roster and self._find_member(member_id) is None:
            return 403, _error(
                "BotNotInConversationRoster", "The bot is not part of the conversation roster."
            )
        found = self._find_member(member_id)
        member_id = found["id"] if found else member_id
        conversation_id = "a:" + member_id.removeprefix("29:")
        created = CreatedConversation(conversation_id, params)
        answer: dict[str, Any] = {"id": conversation_id}
        if isinstance(params.get("activity"), dict):
            created.activity_id = self._post(conversation_id, params["activity"], None, call)
            answer["activityId"] = created.activity_id
        self.created.append(created)
        return 201, answer

    def _find_member(self, member_id: str) -> dict[str, Any] | None:
        wanted = member_id.lower()
        for roster_id, fields in self.roster.items():
            keys = (roster_id, fields.get("aadObjectId"), fields.get("userPrincipalName"))
            if any(k and str(k).lower() == wanted for k in keys):
                return _channel_account(roster_id, fields)
        return None

    def _member(self, call: Call) -> tuple[int, Any]:
        member = self._find_member(call.member_id or "")
        if member is None:
            return 404, _error(
                "MemberNotFoundInConversation",
                f"The member {call.member_id} is not part of the conversation.",
            )
        return 200, member

    def _members(self, call: Call) -> tuple[int, Any]:
        return 200, [_channel_account(k, v) for k, v in self.roster.items()]

    def _paged_members(self, call: Call) -> tuple[int, Any]:
        members = [_channel_account(k, v) for k, v in self.roster.items()]
        try:
            size = max(1, int(call.query.get("pageSize") or _DEFAULT_PAGE_SIZE))
            start = int(call.query.get("continuationToken") or 0)
        except ValueError:
            return 400, _error("BadArgument", "Invalid pageSize or continuationToken")
        page = members[start : start + size]
        answer: dict[str, Any] = {"members": page}
        if start + size < len(members):
            answer["continuationToken"] = str(start + size)
        return 200, answer


def _classify(call: Call, segments: list[str]) -> None:
    """Set the call's kind and ids from its path segments (already decoded)."""
    if segments[:2] != ["v3", "conversations"]:
        return
    rest = segments[2:]
    method = call.method
    if not rest:
        if method == "POST":
            call.kind = "create_conversation"
        return
    call.conversation_id = rest[0]
    tail = rest[1:]
    if tail == ["activities"] and method == "POST":
        call.kind = "send"
    elif len(tail) == 2 and tail[0] == "activities":
        call.activity_id = tail[1]
        call.kind = {"POST": "reply", "PUT": "update", "DELETE": "delete"}.get(method, "unknown")
    elif tail == ["members"] and method == "GET":
        call.kind = "members"
    elif len(tail) == 2 and tail[0] == "members" and method == "GET":
        call.member_id = tail[1]
        call.kind = "member"
    elif tail == ["pagedmembers"] and method == "GET":
        call.kind = "pagedmembers"


def _channel_account(member_id: str, fields: Mapping[str, Any]) -> dict[str, Any]:
    """A roster entry in Teams' channel account shape (TeamsChannelAccount)."""
    name = fields.get("name") or member_id
    given, _, surname = str(name).partition(" ")
    account: dict[str, Any] = {
        "id": member_id,
        "name": name,
        "aadObjectId": fields.get("aadObjectId"),
        "givenName": fields.get("givenName", given),
        "surname": fields.get("surname", surname or None),
        "email": fields.get("email"),
        "userPrincipalName": fields.get("userPrincipalName", fields.get("email")),
        "tenantId": fields.get("tenantId", TENANT_ID),
        "userRole": fields.get("userRole", "user"),
    }
    account.update({k: v for k, v in fields.items() if k not in account})
    return account


def _error(code: str, message: str) -> dict[str, Any]:
    return {"error": {"code": code, "message": message}}


def _seconds(value: float) -> str:
    return str(int(value)) if float(value).is_integer() else str(value)


# -- activities Teams sends to the bot ---------------------------------------------------------

_SEQ = itertools.count(1)


def _timestamps(timestamp: datetime | None, utc_offset_hours: int = 1) -> dict[str, str]:
    moment = (timestamp or datetime.now(UTC)).astimezone(UTC)
    local = moment.astimezone(timezone(timedelta(hours=utc_offset_hours)))
    return {
        "timestamp": moment.isoformat(timespec="milliseconds").replace("+00:00", "Z"),
        "localTimestamp": local.isoformat(timespec="milliseconds"),
    }


def _message_id(timestamp: datetime | None) -> str:
    """Teams' message ids are the message's epoch milliseconds (kept unique here)."""
    moment = timestamp or datetime.now(UTC)
    return str(int(moment.timestamp() * 1000) + next(_SEQ))


def _event_id() -> str:
    """Ids of conversation updates and invokes look like "f:" + a long number."""
    return f"f:{10**18 + secrets.randbelow(9 * 10**18)}"


def _user(from_id: str, aad: str | None, name: str) -> dict[str, Any]:
    user: dict[str, Any] = {"id": from_id, "name": name}
    if aad:
        user["aadObjectId"] = aad
    return user


def _bot() -> dict[str, Any]:
    return {"id": BOT_ID, "name": BOT_NAME}


def _conversation(conversation_type: str, conversation_id: str, tenant_id: str) -> dict[str, Any]:
    conversation: dict[str, Any] = {
        "conversationType": conversation_type,
        "tenantId": tenant_id,
        "id": conversation_id,
    }
    if conversation_type != "personal":
        conversation["isGroup"] = True
    return conversation


def _team_channel_data(
    tenant_id: str, team_id: str, team_name: str, channel_id: str
) -> dict[str, Any]:
    return {
        "teamsChannelId": channel_id,
        "teamsTeamId": team_id,
        "channel": {"id": channel_id},
        "team": {"id": team_id, "name": team_name, "aadGroupId": TEAM_AAD_GROUP_ID},
        "tenant": {"id": tenant_id},
    }


def _personal_conversation_id(from_id: str) -> str:
    return "a:" + from_id.removeprefix("29:")


def _client_info(locale: str) -> dict[str, Any]:
    return {
        "locale": locale,
        "country": locale.rpartition("-")[2] or "US",
        "platform": "Web",
        "timezone": "Europe/Copenhagen",
        "type": "clientInfo",
    }


def _mention() -> dict[str, Any]:
    return {"mentioned": _bot(), "text": f"<at>{BOT_NAME}</at>", "type": "mention"}


def _html(text: str) -> str:
    escaped = text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
    escaped = escaped.replace("&lt;at&gt;", "<at>").replace("&lt;/at&gt;", "</at>")
    return "".join(f"<p>{line}</p>" for line in escaped.splitlines() or [""])


def message_activity(
    text: str | None,
    *,
    service_url: str,
    from_id: str = "29:1anna",
    aad: str | None = "aad-anna",
    name: str = "Anna Holm",
    conversation_id: str | None = None,
    conversation_type: str = "personal",
    tenant_id: str = TENANT_ID,
    value: Any = None,
    entities: list[dict[str, Any]] | None = None,
    channel_data: Mapping[str, Any] | None = None,
    team_id: str = TEAM_ID,
    team_name: str = TEAM_NAME,
    channel_id: str = CHANNEL_ID,
    activity_id: str | None = None,
    reply_to_id: str | None = None,
    mention: bool | None = None,
    locale: str = "en-US",
    timestamp: datetime | None = None,
) -> dict[str, Any]:
    """A message from a person to the bot, as Teams POSTs it to /api/messages.

    - `conversation_type="personal"` (1:1 chat): conversation id "a:" + the user id without
      "29:" ("a:1anna"), unless `conversation_id` is given.
    - `"channel"`: a new post in `channel_id` of `team_id` (conversation id
      "<channel>;messageid=<activity id>"), `channelData.team` / `.channel`, and an @mention of
      the bot: the text becomes "<at>okrbot</at> okr marketing" unless it already has "<at>".
    - `"groupChat"`: a group chat (`GROUP_CHAT_ID`), also with the @mention.
    `mention` forces the @mention on or off. `value` is an Adaptive Card's Action.Submit data
    (Teams then sends no text). `entities` replaces the default entities (clientInfo and, with
    a mention, the mention); `channel_data` is merged over the default channelData.
    """
    activity_id = activity_id or _message_id(timestamp)
    if mention is None:
        mention = conversation_type != "personal"
    if mention and text is not None and "<at>" not in text:
        text = f"<at>{BOT_NAME}</at> {text}"
    if conversation_id is None:
        conversation_id = {
            "personal": _personal_conversation_id(from_id),
            "channel": f"{channel_id};messageid={reply_to_id or activity_id}",
            "groupChat": GROUP_CHAT_ID,
        }.get(conversation_type, _personal_conversation_id(from_id))
    data = (
        _team_channel_data(tenant_id, team_id, team_name, channel_id)
        if conversation_type == "channel"
        else {"tenant": {"id": tenant_id}}
    )
    data.update(channel_data or {})
    if entities is None:
        entities = [_client_info(locale)] + ([_mention()] if mention else [])
    activity: dict[str, Any] = {
        "type": "message",
        "id": activity_id,
        **_timestamps(timestamp),
        "serviceUrl": service_url,
        "channelId": "msteams",
        "from": _user(from_id, aad, name),
        "conversation": _conversation(conversation_type, conversation_id, tenant_id),
        "recipient": _bot(),
        "textFormat": "plain",
        "locale": locale,
        "localTimezone": "Europe/Copenhagen",
        "entities": entities,
        "channelData": data,
    }
    if text is not None:
        activity["text"] = text
        activity["attachments"] = [{"contentType": "text/html", "content": _html(text)}]
    if value is not None:
        activity["value"] = value
    if reply_to_id is not None:
        activity["replyToId"] = reply_to_id
    return activity


def _members(members: Iterable[str | Mapping[str, Any]] | None) -> list[dict[str, Any]]:
    return [{"id": m} if isinstance(m, str) else dict(m) for m in members or []]


def conversation_update_activity(
    members_added: Iterable[str | Mapping[str, Any]] | None = None,
    *,
    service_url: str,
    members_removed: Iterable[str | Mapping[str, Any]] | None = None,
    from_id: str = "29:1anna",
    aad: str | None = "aad-anna",
    name: str = "Anna Holm",
    conversation_id: str | None = None,
    conversation_type: str = "personal",
    tenant_id: str = TENANT_ID,
    team_id: str = TEAM_ID,
    team_name: str = TEAM_NAME,
    channel_id: str = CHANNEL_ID,
    event_type: str | None = None,
    channel_data: Mapping[str, Any] | None = None,
    timestamp: datetime | None = None,
) -> dict[str, Any]:
    """A conversationUpdate: Teams sends one when the bot (or a member) joins or leaves.

    `members_added` / `members_removed` are ids or channel account dicts; without either, the
    bot itself was added (the app was installed by `from_id`). In a team
    (`conversation_type="channel"`) the conversation is the team's General channel (its id is
    the team id) and `channelData.eventType` is "teamMemberAdded" / "teamMemberRemoved".
    """
    if members_added is None and members_removed is None:
        members_added = [BOT_ID]
    if conversation_type == "channel":
        conversation_id = conversation_id or team_id
        data = _team_channel_data(tenant_id, team_id, team_name, team_id)
        data["eventType"] = event_type or (
            "teamMemberRemoved" if members_removed and not members_added else "teamMemberAdded"
        )
        data["settings"] = {"selectedChannel": {"id": channel_id}}
        del data["channel"], data["teamsChannelId"]
    else:
        conversation_id = conversation_id or (
            GROUP_CHAT_ID
            if conversation_type == "groupChat"
            else _personal_conversation_id(from_id)
        )
        data = {"tenant": {"id": tenant_id}}
        if event_type:
            data["eventType"] = event_type
    data.update(channel_data or {})
    activity: dict[str, Any] = {
        "type": "conversationUpdate",
        "id": _event_id(),
        **_timestamps(timestamp),
        "serviceUrl": service_url,
        "channelId": "msteams",
        "from": _user(from_id, aad, name),
        "conversation": _conversation(conversation_type, conversation_id, tenant_id),
        "recipient": _bot(),
        "channelData": data,
    }
    if members_added is not None:
        activity["membersAdded"] = _members(members_added)
    if members_removed is not None:
        activity["membersRemoved"] = _members(members_removed)
    return activity


def installation_update_activity(
    action: str = "add",
    *,
    service_url: str,
    from_id: str = "29:1anna",
    aad: str | None = "aad-anna",
    name: str = "Anna Holm",
    conversation_id: str | None = None,
    conversation_type: str = "personal",
    tenant_id: str = TENANT_ID,
    team_id: str = TEAM_ID,
    team_name: str = TEAM_NAME,
    channel_id: str = CHANNEL_ID,
    channel_data: Mapping[str, Any] | None = None,
    timestamp: datetime | None = None,
) -> dict[str, Any]:
    """An installationUpdate: the app was installed ("add") or removed ("remove"); Teams also
    sends "add-upgrade" / "remove-upgrade". For a team, the conversation is its General channel."""
    if conversation_type == "channel":
        conversation_id = conversation_id or team_id
        data = _team_channel_data(tenant_id, team_id, team_name, team_id)
        data["settings"] = {"selectedChannel": {"id": channel_id}}
        data["source"] = None
    else:
        conversation_id = conversation_id or (
            GROUP_CHAT_ID
            if conversation_type == "groupChat"
            else _personal_conversation_id(from_id)
        )
        data = {"tenant": {"id": tenant_id}, "source": None}
    data.update(channel_data or {})
    return {
        "type": "installationUpdate",
        "action": action,
        "id": _event_id(),
        **_timestamps(timestamp),
        "serviceUrl": service_url,
        "channelId": "msteams",
        "from": _user(from_id, aad, name),
        "conversation": _conversation(conversation_type, conversation_id, tenant_id),
        "recipient": _bot(),
        "entities": [_client_info("en-US")],
        "channelData": data,
        "locale": "en-US",
    }


def invoke_adaptive_card_action(
    data: Mapping[str, Any] | None,
    *,
    service_url: str,
    verb: str = "submit",
    reply_to_id: str | None = None,
    from_id: str = "29:1anna",
    aad: str | None = "aad-anna",
    name: str = "Anna Holm",
    conversation_id: str | None = None,
    conversation_type: str = "personal",
    tenant_id: str = TENANT_ID,
    team_id: str = TEAM_ID,
    team_name: str = TEAM_NAME,
    channel_id: str = CHANNEL_ID,
    title: str | None = None,
    timestamp: datetime | None = None,
) -> dict[str, Any]:
    """An Adaptive Card's Action.Execute: an invoke named "adaptiveCard/action" whose value is
    `{"action": {"type": "Action.Execute", "verb": verb, "data": data}, "trigger": "manual"}`.

    `reply_to_id` is the id of the message that carries the card (Teams sends it); the bot
    answers in the HTTP response (an InvokeResponse) and may update that message.
    """
    if conversation_id is None:
        conversation_id = {
            "channel": f"{channel_id};messageid={reply_to_id or _message_id(timestamp)}",
            "groupChat": GROUP_CHAT_ID,
        }.get(conversation_type, _personal_conversation_id(from_id))
    channel = (
        _team_channel_data(tenant_id, team_id, team_name, channel_id)
        if conversation_type == "channel"
        else {"tenant": {"id": tenant_id}}
    )
    channel["source"] = {"name": "message"}
    if reply_to_id is not None:
        channel["legacy"] = {"replyToId": reply_to_id}
    action: dict[str, Any] = {"type": "Action.Execute", "verb": verb, "data": dict(data or {})}
    if title is not None:
        action["title"] = title
    activity: dict[str, Any] = {
        "type": "invoke",
        "name": "adaptiveCard/action",
        "id": _event_id(),
        **_timestamps(timestamp),
        "serviceUrl": service_url,
        "channelId": "msteams",
        "from": _user(from_id, aad, name),
        "conversation": _conversation(conversation_type, conversation_id, tenant_id),
        "recipient": _bot(),
        "entities": [_client_info("en-US")],
        "channelData": channel,
        "value": {"action": action, "trigger": "manual"},
        "locale": "en-US",
    }
    if reply_to_id is not None:
        activity["replyToId"] = reply_to_id
    return activity

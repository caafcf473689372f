"""A fake Slack for tests: the Web API, Socket Mode and response URLs over real HTTP on localhost.

    async with FakeSlack(users={"U0ANNA": {"email": "anna@nordlys.example"}}) as slack:
        client = AsyncWebClient(token="xoxb-test", base_url=slack.url)
        await client.chat_postMessage(channel="U0ANNA", text="Hi")
        (call,) = await slack.wait_for("chat.postMessage")
        assert call.params["channel"] == "U0ANNA"

Every Web API request is recorded as a `Call` (method, merged query/form/JSON params, headers,
the status and JSON answered). Failures are programmed per method with `fail()` and consumed in
order. The server runs in the test's event loop: drive it with async clients only (a blocking
client would wait for a server that cannot answer).

The module also builds and signs the requests Slack sends to the app (slash commands, events,
block actions, view submissions) and Socket Mode envelopes carrying the same payloads.
"""

from __future__ import annotations

import asyncio
import base64
import contextlib
import hashlib
import inspect
import itertools
import json
import random
import time
from collections.abc import Awaitable, Callable, Iterable, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any
from urllib.parse import parse_qsl, quote, urlencode
from zoneinfo import ZoneInfo

from aiohttp import WSMsgType, web
from multidict import CIMultiDict
from slack_sdk.signature import SignatureVerifier

TEAM_ID = "T1"
TEAM_NAME = "Nordlys"
TEAM_DOMAIN = "nordlys"
APP_ID = "A1"
BOT_USER_ID = "UBOT"
BOT_ID = "BBOT"
# The bot scopes of adapters/slack/manifest.yaml: the default answer of auth.test's x-oauth-scopes.
DEFAULT_SCOPES = (
    "chat:write",
    "commands",
    "im:history",
    "im:read",
    "im:write",
    "users:read",
    "users:read.email",
    "files:write",
    "channels:read",
    "groups:read",
    "channels:history",
    "groups:history",
)
FIRST_TS = 1_700_000_000  # seconds part of the first message ts: "1700000000.000100"

# Scope each method needs; conversations.history depends on the channel kind.
_REQUIRED_SCOPES = {
    "chat.postMessage": "chat:write",
    "chat.postEphemeral": "chat:write",
    "chat.update": "chat:write",
    "chat.delete": "chat:write",
    "users.info": "users:read",
    "users.lookupByEmail": "users:read.email",
    "conversations.open": "im:write",
    "files.getUploadURLExternal": "files:write",
    "files.completeUploadExternal": "files:write",
}
_HISTORY_SCOPES = {"D": "im:history", "C": "channels:history", "G": "groups:history"}
# Fields Slack accepts as JSON strings in form or query parameters.
_JSON_FIELDS = ("blocks", "attachments", "metadata", "view", "files")
_STANDARD_ERROR = {429: "ratelimited", 503: "service_unavailable"}

Handler = Callable[["Call"], "dict[str, Any] | Awaitable[dict[str, Any]]"]


class SlackError(Exception):
    """Raised inside a method handler: answered as HTTP 200 `{"ok": false, "error": ...}`."""

    def __init__(self, error: str, **extra: Any) -> None:
        super().__init__(error)
        self.error = error
        self.extra = extra


@dataclass
class Call:
    """One Web API request as the fake received and answered it."""

    method: str  # "chat.postMessage"
    params: dict[str, Any]  # query + form or JSON body; JSON-valued form fields decoded
    headers: Mapping[str, str]  # case-insensitive
    http_method: str = "POST"
    body: bytes = b""
    status: int | None = None  # HTTP status answered (None: connection dropped)
    response: dict[str, Any] | None = None  # JSON answered
    at: float = field(default_factory=time.time)  # when it arrived

    @property
    def token(self) -> str | None:
        auth = self.headers.get("Authorization", "")
        if auth.startswith("Bearer "):
            return auth.removeprefix("Bearer ").strip()
        token = self.params.get("token")
        return str(token) if token else None

    @property
    def ok(self) -> bool:
        return self.status == 200 and bool(self.response and self.response.get("ok"))


@dataclass
class Failure:
    status: int | None
    error: str | None
    retry_after: int | None
    times: int
    accepted: bool
    disconnect: bool


@dataclass
class SocketAck:
    """What a Socket Mode client sent back for an envelope."""

    envelope_id: str
    payload: dict[str, Any] | None
    raw: dict[str, Any]


@dataclass
class ResponseUrlPost:
    """One POST to a `response_url`."""

    name: str
    body: Any  # parsed JSON, or the text when it was not JSON
    headers: Mapping[str, str]


@dataclass
class _Waiter:
    changed: asyncio.Event = field(default_factory=asyncio.Event)


class FakeSlack:
    """Slack's Web API, Socket Mode and response URLs on 127.0.0.1 (a free port).

    `users` maps user ids to `email`, `tz`, `tz_offset`, `name`, `real_name`, `display_name`,
    `is_bot`, `deleted`, `locale`; other keys go to the user object unchanged. `scopes` are the
    bot token's scopes (default: the manifest's); a method whose scope is missing answers
    `missing_scope`, as Slack does.

    For load: `latency` (seconds) delays every Web API answer; `post_rate` enforces a
    workspace limit on `chat.postMessage` of that many calls per whole second (more get 429
    with a whole-second Retry-After, as Slack does); `chaos` answers that share of
    `chat.postMessage` calls with a 429 or a 500 (half of the 500s after storing the message),
    drawn from `seed`.
    """

    def __init__(
        self,
        *,
        users: Mapping[str, Mapping[str, Any]] | None = None,
        scopes: Iterable[str] | None = None,
        latency: float = 0.0,
        post_rate: int | None = None,
        chaos: float = 0.0,
        seed: int = 7,
    ) -> None:
        self.latency = latency
        self.post_rate = post_rate
        self.chaos = chaos
        self._random = random.Random(seed)
        self._window: tuple[int, int] = (0, 0)  # (second, posts accepted in it)
        self.rate_limited = 0  # chat.postMessage calls refused by `post_rate`
        self.users: dict[str, dict[str, Any]] = {k: dict(v) for k, v in (users or {}).items()}
        self.scopes: list[str] = list(DEFAULT_SCOPES if scopes is None else scopes)
        self.calls: list[Call] = []
        self.messages: dict[str, list[dict[str, Any]]] = {}  # channel id -> oldest first
        self.ephemeral: list[dict[str, Any]] = []
        self.views: dict[str, dict[str, Any]] = {}  # view id -> view as last answered
        self.home_views: dict[str, dict[str, Any]] = {}  # user id -> published Home tab
        self.files: dict[str, dict[str, Any]] = {}  # file id -> file (with "content" bytes)
        self.responses: list[ResponseUrlPost] = []
        self.socket_acks: list[SocketAck] = []
        self.socket_sent: list[dict[str, Any]] = []
        self.socket_connections = 0  # WebSocket connections accepted so far
        self._failures: dict[str, list[Failure]] = {}
        self._handlers: dict[str, Handler] = {}
        self._sockets: list[web.WebSocketResponse] = []
        self._seq = itertools.count(1)
        self._ts_seq = itertools.count(1)
        self._waiter = _Waiter()
        self._runner: web.AppRunner | None = None
        self.port = 0

    # -- lifecycle -------------------------------------------------------------------------

    async def __aenter__(self) -> FakeSlack:
        await self.start()
        return self

    async def __aexit__(self, *exc_info: object) -> None:
        await self.close()

    async def start(self) -> None:
        app = web.Application()
        app.router.add_route("*", "/api/{method}", self._api)
        app.router.add_get("/socket", self._socket)
        app.router.add_post("/upload/{file_id}", self._upload)
        app.router.add_post("/response/{name}", self._response_url)
        self._runner = web.AppRunner(app, access_log=None, shutdown_timeout=1.0)
        await self._runner.setup()
        site = web.TCPSite(self._runner, "127.0.0.1", 0)
        await site.start()
        self.port = self._runner.addresses[0][1]

    async def close(self) -> None:
        for ws in list(self._sockets):
            await ws.close(code=1001, message=b"server shutdown")
        if self._runner is not None:
            await self._runner.cleanup()
            self._runner = None

    @property
    def root(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def url(self) -> str:
        """The Web API base URL, with its trailing slash (SLACK_API_URL, `base_url=`)."""
        return f"{self.root}/api/"

    # -- programming the fake --------------------------------------------------------------

    def fail(
        self,
        method: str,
        *,
        status: int | None = None,
        error: str | None = None,
        retry_after: int | None = None,
        times: int = 1,
        accepted: bool = False,
        disconnect: bool = False,
    ) -> None:
        """Make the next `times` calls to `method` ("*": any method) fail, after earlier failures.

        - `status=429`: rate limited, `Retry-After: retry_after` (default 1) and `ratelimited`.
        - `status=500` (or any non-200): that status with `{"ok": false, "error": ...}`.
        - `error="user_not_found"` alone: HTTP 200 with `{"ok": false, "error": "user_not_found"}`.
        - `disconnect=True`: the connection is dropped without an answer.
        - `accepted=True`: the call takes effect (message stored...) before the failure is
          answered, as when Slack did the work but the answer was lost.
        """
        if status is None and error is None and not disconnect:
            raise ValueError("fail() needs a status, an error or disconnect=True")
        if status is None:
            status = 200 if error is not None else 500
        if status == 429 and retry_after is None:
            retry_after = 1
        failure = Failure(status, error, retry_after, times, accepted, disconnect)
        self._failures.setdefault(method, []).append(failure)

    def handle(self, method: str, handler: Handler) -> None:
        """Answer `method` with `handler(call) -> dict` (sync or async) instead of the built-in.

        The token is still checked; `"ok": True` is added when missing; raise `SlackError` for an
        error answer.
        """
        self._handlers[method] = handler

    def add_message(
        self, channel: str, text: str, *, user: str = "U0MET", **fields: Any
    ) -> dict[str, Any]:
        """Put a message in a channel's history (e.g. a member's reply); returns it with its ts."""
        message = {"type": "message", "user": user, "text": text, "ts": self._next_ts()}
        message.update(fields)
        self.messages.setdefault(self._resolve_channel(channel), []).append(message)
        return message

    @staticmethod
    def dm_channel(user_id: str) -> str:
        """The DM channel id the fake uses for a user: "D" + user id."""
        return "D" + user_id

    # -- inspecting ------------------------------------------------------------------------

    def calls_to(self, method: str) -> list[Call]:
        return [c for c in self.calls if c.method == method]

    async def wait_for(
        self,
        method: str,
        count: int = 1,
        timeout: float = 5,  # noqa: ASYNC109
    ) -> list[Call]:
        """Wait until `method` was called (and answered) at least `count` times; return its calls."""

        def check() -> list[Call] | None:
            calls = self.calls_to(method)
            return calls if len(calls) >= count else None

        def describe() -> str:
            seen = [c.method for c in self.calls]
            return (
                f"expected {count} call(s) to {method} within {timeout}s, "
                f"got {len(self.calls_to(method))}; calls: {seen}"
            )

        return await self._until(check, timeout, describe)

    def response_url(self, name: str = "default") -> str:
        """A response_url on this server; its POSTs are recorded in `responses`."""
        return f"{self.root}/response/{quote(name, safe='')}"

    def responses_to(self, name: str) -> list[ResponseUrlPost]:
        return [r for r in self.responses if r.name == name]

    async def wait_for_response(
        self,
        name: str = "default",
        count: int = 1,
        timeout: float = 5,  # noqa: ASYNC109
    ) -> list[ResponseUrlPost]:
        def check() -> list[ResponseUrlPost] | None:
            posts = self.responses_to(name)
            return posts if len(posts) >= count else None

        return await self._until(
            check, timeout, lambda: f"expected {count} POST(s) to response_url {name!r}"
        )

    # -- Socket Mode -----------------------------------------------------------------------

    async def wait_for_socket(self, timeout: float = 5) -> None:  # noqa: ASYNC109
        """Wait until a Socket Mode client is connected (and has been sent its hello)."""

        def check() -> bool:
            return any(not ws.closed for ws in self._sockets)

        await self._until(check, timeout, lambda: "no Socket Mode client connected")

    async def socket_send(
        self,
        envelope: dict[str, Any],
        timeout: float = 5,  # noqa: ASYNC109
    ) -> str:
        """Send an envelope to the newest connected client; returns its envelope_id.

        A missing `envelope_id` is generated. Waits up to `timeout` for a client to connect.
        """
        await self.wait_for_socket(timeout)
        envelope = dict(envelope)
        envelope.setdefault("envelope_id", f"env-{next(self._seq)}")
        ws = [s for s in self._sockets if not s.closed][-1]
        self.socket_sent.append(envelope)
        await ws.send_str(json.dumps(envelope))
        return envelope["envelope_id"]

    async def socket_disconnect(self, reason: str = "refresh_requested") -> None:
        """Ask the connected clients to reconnect, as Slack does every few hours."""
        for ws in [s for s in self._sockets if not s.closed]:
            await ws.send_str(
                json.dumps(
                    {"type": "disconnect", "reason": reason, "debug_info": {"host": "fake-slack"}}
                )
            )

    async def wait_for_ack(
        self,
        envelope_id: str,
        timeout: float = 5,  # noqa: ASYNC109
    ) -> SocketAck:
        def check() -> SocketAck | None:
            return next((a for a in self.socket_acks if a.envelope_id == envelope_id), None)

        acked = [a.envelope_id for a in self.socket_acks]
        return await self._until(
            check, timeout, lambda: f"no ack for envelope {envelope_id!r}; acks: {acked}"
        )

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

    async def _api(self, request: web.Request) -> web.StreamResponse:
        method = request.match_info["method"]
        params, body, parse_error = await _read_params(request)
        call = Call(method, params, CIMultiDict(request.headers), request.method, body)
        self.calls.append(call)
        try:
            if self.latency:
                await asyncio.sleep(self.latency)
            failure = self._take_failure(method) or self._load_failure(method)
            if failure is not None and failure.accepted:
                await self._answer(call, parse_error)
            if failure is None:
                status, answer = await self._answer(call, parse_error)
            elif failure.disconnect:
                call.status, call.response = None, None
                if request.transport is not None:
                    request.transport.close()
                return web.Response(status=500)
            else:
                status = failure.status or 500
                error = failure.error or _STANDARD_ERROR.get(status, "internal_error")
                answer = {"ok": False, "error": error}
            call.status, call.response = status, answer
            headers = {"x-oauth-scopes": ",".join(self.scopes)}
            if failure is not None and failure.retry_after is not None:
                headers["Retry-After"] = str(failure.retry_after)
            return web.json_response(answer, status=status, headers=headers)
        finally:
            self._notify()

    def _load_failure(self, method: str) -> Failure | None:
        """The workspace rate limit and the chaos of a load test (chat.postMessage only)."""
        if method != "chat.postMessage":
            return None
        if self.chaos and self._random.random() < self.chaos:
            if self._random.random() < 0.5:
                return Failure(429, None, 1, 1, False, False)
            return Failure(500, None, None, 1, self._random.random() < 0.5, False)
        if self.post_rate is None:
            return None
        now = time.time()
        second, count = self._window
        if int(now) != second:
            second, count = int(now), 0
        if count >= self.post_rate:
            self.rate_limited += 1
            return Failure(429, None, 1, 1, False, False)
        self._window = (second, count + 1)
        return None

    def _take_failure(self, method: str) -> Failure | None:
        for key in (method, "*"):
            queue = self._failures.get(key)
            if queue:
                failure = queue[0]
                failure.times -= 1
                if failure.times <= 0:
                    queue.pop(0)
                return failure
        return None

    async def _answer(self, call: Call, parse_error: str | None) -> tuple[int, dict[str, Any]]:
        handler = self._handlers.get(call.method) or getattr(
            self, "_m_" + call.method.replace(".", "_"), None
        )
        try:
            if handler is None:
                raise SlackError("unknown_method", req_method=call.method)
            if parse_error:
                raise SlackError(parse_error)
            if call.method != "api.test":
                self._check_token(call)
            if call.method in self._handlers:
                result = handler(call)
                if inspect.isawaitable(result):
                    result = await result
                return 200, {"ok": True, **result}
            return 200, {"ok": True, **handler(call)}
        except SlackError as exc:
            return 200, {"ok": False, "error": exc.error, **exc.extra}

    def _check_token(self, call: Call) -> None:
        token = call.token
        if not token:
            raise SlackError("not_authed")
        if token.endswith("-bad") or not token.startswith(("xoxb-", "xoxp-", "xapp-")):
            raise SlackError("invalid_auth")
        is_app_token = token.startswith("xapp-")
        if is_app_token != (call.method == "apps.connections.open"):
            raise SlackError("not_allowed_token_type")
        needed = _REQUIRED_SCOPES.get(call.method)
        if call.method in ("conversations.history", "conversations.replies"):
            channel = self._resolve_channel(str(call.params.get("channel", "")))
            needed = _HISTORY_SCOPES.get(channel[:1])
        if needed and not is_app_token and needed not in self.scopes:
            raise SlackError("missing_scope", needed=needed, provided=",".join(self.scopes))

    async def _upload(self, request: web.Request) -> web.Response:
        file_id = request.match_info["file_id"]
        if file_id not in self.files:
            return web.Response(status=404, text="not found")
        content = await request.read()
        self.files[file_id]["content"] = content
        self._notify()
        return web.Response(text=f"OK - {len(content)}")

    async def _response_url(self, request: web.Request) -> web.Response:
        text = await request.text()
        try:
            body: Any = json.loads(text)
        except ValueError:
            body = text
        self.responses.append(
            ResponseUrlPost(request.match_info["name"], body, CIMultiDict(request.headers))
        )
        self._notify()
        return web.Response(text="ok")

    async def _socket(self, request: web.Request) -> web.WebSocketResponse:
        ws = web.WebSocketResponse(autoping=True, timeout=1.0)
        await ws.prepare(request)
        self.socket_connections += 1
        await ws.send_str(
            json.dumps(
                {
                    "type": "hello",
                    "num_connections": 1 + sum(not s.closed for s in self._sockets),
                    "debug_info": {
                        "host": "fake-slack",
                        "build_number": 1,
                        "approximate_connection_time": 18060,
                    },
                    "connection_info": {"app_id": APP_ID},
                }
            )
        )
        self._sockets.append(ws)
        self._notify()
        try:
            async for msg in ws:
                if msg.type != WSMsgType.TEXT:
                    continue
                try:
                    data = json.loads(msg.data)
                except ValueError:
                    continue
                if isinstance(data, dict) and data.get("envelope_id"):
                    self.socket_acks.append(
                        SocketAck(str(data["envelope_id"]), data.get("payload"), data)
                    )
                    self._notify()
        finally:
            self._sockets.remove(ws)
            self._notify()
        return ws

    # -- internals: helpers ----------------------------------------------------------------

    def _next_ts(self) -> str:
        micros = FIRST_TS * 1_000_000 + next(self._ts_seq) * 100
        return f"{micros // 1_000_000}.{micros % 1_000_000:06d}"

    def _next_id(self, prefix: str) -> str:
        return f"{prefix}{next(self._seq):08d}"

    @staticmethod
    def _resolve_channel(channel: str) -> str:
        """A user id used as a channel means the DM with that user, as in chat.postMessage."""
        return "D" + channel if channel[:1] in ("U", "W") else channel

    def _user_object(self, user_id: str, include_locale: bool = False) -> dict[str, Any]:
        if user_id == BOT_USER_ID and user_id not in self.users:
            spec: dict[str, Any] = {"name": "okrbot", "is_bot": True, "tz": "America/Los_Angeles"}
        elif user_id in self.users:
            spec = dict(self.users[user_id])
        else:
            raise SlackError("user_not_found")
        name = spec.pop("name", user_id.lower())
        real_name = spec.pop("real_name", name.title())
        display_name = spec.pop("display_name", name)
        email = spec.pop("email", None)
        tz = spec.pop("tz", "Europe/Copenhagen")
        now = datetime.now(ZoneInfo(tz))
        offset = now.utcoffset()
        tz_offset = spec.pop("tz_offset", int(offset.total_seconds()) if offset else 0)
        locale = spec.pop("locale", "en-US")
        is_bot = bool(spec.pop("is_bot", False))
        profile: dict[str, Any] = {
            "real_name": real_name,
            "real_name_normalized": real_name,
            "display_name": display_name,
            "display_name_normalized": display_name,
            "image_48": f"https://avatars.example/{user_id}_48.png",
            "team": TEAM_ID,
        }
        if email and not is_bot and "users:read.email" in self.scopes:
            profile["email"] = email
        if is_bot:
            profile["bot_id"] = BOT_ID if user_id == BOT_USER_ID else "B" + user_id[1:]
        user: dict[str, Any] = {
            "id": user_id,
            "team_id": TEAM_ID,
            "name": name,
            "deleted": bool(spec.pop("deleted", False)),
            "real_name": real_name,
            "tz": tz,
            "tz_label": now.tzname() or tz,
            "tz_offset": tz_offset,
            "profile": profile,
            "is_admin": False,
            "is_owner": False,
            "is_primary_owner": False,
            "is_restricted": False,
            "is_ultra_restricted": False,
            "is_bot": is_bot,
            "is_app_user": False,
            "updated": FIRST_TS,
            "is_email_confirmed": not is_bot,
        }
        if include_locale:
            user["locale"] = locale
        user.update(spec)
        return user

    def _require(self, call: Call, *names: str, error: str = "invalid_arguments") -> None:
        if any(call.params.get(n) in (None, "") for n in names):
            raise SlackError(error)

    def _find_message(self, channel: str, ts: str) -> dict[str, Any]:
        for message in self.messages.get(channel, []):
            if message["ts"] == ts:
                return message
        raise SlackError("message_not_found")

    def _view_object(self, view: Any, view_id: str | None = None) -> dict[str, Any]:
        if not isinstance(view, dict) or "type" not in view:
            raise SlackError("invalid_arguments")
        view_id = view_id or self._next_id("V")
        answer = {
            "id": view_id,
            "team_id": TEAM_ID,
            "type": view["type"],
            "blocks": [],
            "private_metadata": "",
            "callback_id": "",
            "state": {"values": {}},
            "hash": f"{FIRST_TS}.{next(self._seq):08d}",
            "clear_on_close": False,
            "notify_on_close": False,
            "root_view_id": view_id,
            "previous_view_id": None,
            "app_id": APP_ID,
            "external_id": "",
            "app_installed_team_id": TEAM_ID,
            "bot_id": BOT_ID,
        }
        answer.update({k: v for k, v in view.items() if k not in ("id", "hash", "state")})
        self.views[view_id] = answer
        return answer

    # -- Web API methods: _m_<method with dots as underscores>(call) -> answer without "ok" --

    def _m_api_test(self, call: Call) -> dict[str, Any]:
        return {"args": {k: v for k, v in call.params.items() if k != "token"}}

    def _m_auth_test(self, call: Call) -> dict[str, Any]:
        return {
            "url": f"https://{TEAM_DOMAIN}.slack.com/",
            "team": TEAM_NAME,
            "user": "okrbot",
            "team_id": TEAM_ID,
            "user_id": BOT_USER_ID,
            "bot_id": BOT_ID,
            "is_enterprise_install": False,
        }

    def _m_chat_postMessage(self, call: Call) -> dict[str, Any]:
        self._require(call, "channel", error="channel_not_found")
        p = call.params
        if not any(p.get(k) for k in ("text", "blocks", "attachments", "markdown_text")):
            raise SlackError("no_text")
        channel = self._resolve_channel(str(p["channel"]))
        ts = self._next_ts()
        message: dict[str, Any] = {
            "type": "message",
            "user": BOT_USER_ID,
            "bot_id": BOT_ID,
            "app_id": APP_ID,
            "team": TEAM_ID,
            "text": p.get("text") or p.get("markdown_text") or "",
            "ts": ts,
        }
        for key in ("blocks", "attachments", "metadata", "thread_ts"):
            if p.get(key):
                message[key] = p[key]
        self.messages.setdefault(channel, []).append(message)
        return {"channel": channel, "ts": ts, "message": dict(message)}

    def _m_chat_postEphemeral(self, call: Call) -> dict[str, Any]:
        self._require(call, "channel", error="channel_not_found")
        self._require(call, "user", error="user_not_in_channel")
        p = call.params
        if not any(p.get(k) for k in ("text", "blocks", "attachments")):
            raise SlackError("no_text")
        ts = self._next_ts()
        self.ephemeral.append(
            {
                "channel": self._resolve_channel(str(p["channel"])),
                "user": p["user"],
                "text": p.get("text", ""),
                "blocks": p.get("blocks"),
                "ts": ts,
            }
        )
        return {"message_ts": ts}

    def _m_chat_update(self, call: Call) -> dict[str, Any]:
        self._require(call, "channel", error="channel_not_found")
        self._require(call, "ts", error="message_not_found")
        p = call.params
        channel = self._resolve_channel(str(p["channel"]))
        message = self._find_message(channel, str(p["ts"]))
        for key in ("text", "blocks", "attachments", "metadata"):
            if key in p:
                message[key] = p[key]
        message["edited"] = {"user": BOT_USER_ID, "ts": self._next_ts()}
        return {
            "channel": channel,
            "ts": message["ts"],
            "text": message.get("text", ""),
            "message": dict(message),
        }

    def _m_chat_delete(self, call: Call) -> dict[str, Any]:
        self._require(call, "channel", error="channel_not_found")
        channel = self._resolve_channel(str(call.params["channel"]))
        message = self._find_message(channel, str(call.params.get("ts", "")))
        self.messages[channel].remove(message)
        return {"channel": channel, "ts": message["ts"]}

    def _m_views_open(self, call: Call) -> dict[str, Any]:
        self._require(call, "view")
        if not call.params.get("trigger_id") and not call.params.get("interactivity_pointer"):
            raise SlackError("invalid_arguments")
        return {"view": self._view_object(call.params["view"])}

    def _m_views_push(self, call: Call) -> dict[str, Any]:
        return self._m_views_open(call)

    def _m_views_update(self, call: Call) -> dict[str, Any]:
        self._require(call, "view")
        p = call.params
        view_id = p.get("view_id")
        if not view_id and p.get("external_id"):
            view_id = next(
                (v["id"] for v in self.views.values() if v["external_id"] == p["external_id"]),
                None,
            )
        if not view_id or view_id not in self.views:
            raise SlackError("not_found")
        if p.get("hash") and p["hash"] != self.views[view_id]["hash"]:
            raise SlackError("hash_conflict")
        return {"view": self._view_object(p["view"], view_id)}

    def _m_views_publish(self, call: Call) -> dict[str, Any]:
        self._require(call, "user_id", "view")
        user_id = str(call.params["user_id"])
        previous = self.home_views.get(user_id)
        if previous and call.params.get("hash") and call.params["hash"] != previous["hash"]:
            raise SlackError("hash_conflict")
        view = self._view_object(call.params["view"], previous["id"] if previous else None)
        self.home_views[user_id] = view
        return {"view": view}

    def _m_users_info(self, call: Call) -> dict[str, Any]:
        self._require(call, "user", error="user_not_found")
        include_locale = _truthy(call.params.get("include_locale"))
        return {"user": self._user_object(str(call.params["user"]), include_locale)}

    def _m_users_lookupByEmail(self, call: Call) -> dict[str, Any]:
        self._require(call, "email", error="users_not_found")
        wanted = str(call.params["email"]).lower()
        for user_id, spec in self.users.items():
            if str(spec.get("email", "")).lower() == wanted:
                return {"user": self._user_object(user_id)}
        raise SlackError("users_not_found")

    def _m_conversations_open(self, call: Call) -> dict[str, Any]:
        if call.params.get("channel"):
            return {"channel": {"id": call.params["channel"]}, "already_open": True}
        self._require(call, "users", error="users_list_not_supplied")
        users = [u for u in str(call.params["users"]).split(",") if u]
        if len(users) == 1:
            channel_id = "D" + users[0]
        else:
            channel_id = (
                "G" + hashlib.sha1(",".join(sorted(users)).encode()).hexdigest()[:9].upper()
            )
        return {"channel": {"id": channel_id}, "no_op": False, "already_open": False}

    def _m_conversations_history(self, call: Call) -> dict[str, Any]:
        self._require(call, "channel", error="channel_not_found")
        p = call.params
        channel = self._resolve_channel(str(p["channel"]))
        oldest, latest = float(p.get("oldest") or 0), float(p.get("latest") or "inf")
        inclusive = _truthy(p.get("inclusive"))

        def in_range(ts: float) -> bool:
            return oldest <= ts <= latest if inclusive else oldest < ts < latest

        messages = [
            dict(m) for m in reversed(self.messages.get(channel, [])) if in_range(float(m["ts"]))
        ]
        if not _truthy(p.get("include_all_metadata")):
            for message in messages:
                message.pop("metadata", None)
        start = int(base64.b64decode(p["cursor"]).decode().split(":")[1]) if p.get("cursor") else 0
        limit = int(p.get("limit") or 100)
        page = messages[start : start + limit]
        has_more = start + limit < len(messages)
        next_cursor = (
            base64.b64encode(f"next:{start + limit}".encode()).decode() if has_more else ""
        )
        return {
            "messages": page,
            "has_more": has_more,
            "pin_count": 0,
            "response_metadata": {"next_cursor": next_cursor},
        }

    def _m_conversations_replies(self, call: Call) -> dict[str, Any]:
        """The thread of `ts` (the parent first), newest last; metadata only when asked."""
        self._require(call, "channel", error="channel_not_found")
        self._require(call, "ts", error="thread_not_found")
        channel = self._resolve_channel(str(call.params["channel"]))
        ts = str(call.params["ts"])
        thread = [
            dict(m)
            for m in self.messages.get(channel, [])
            if m["ts"] == ts or m.get("thread_ts") == ts
        ]
        if not thread:
            raise SlackError("thread_not_found")
        if not _truthy(call.params.get("include_all_metadata")):
            for message in thread:
                message.pop("metadata", None)
        return {"messages": thread, "has_more": False, "response_metadata": {"next_cursor": ""}}

    def _m_files_getUploadURLExternal(self, call: Call) -> dict[str, Any]:
        self._require(call, "filename", "length")
        file_id = self._next_id("F")
        self.files[file_id] = {
            "id": file_id,
            "name": call.params["filename"],
            "title": call.params["filename"],
            "size": int(call.params["length"]),
            "content": None,
        }
        return {"upload_url": f"{self.root}/upload/{file_id}", "file_id": file_id}

    def _m_files_completeUploadExternal(self, call: Call) -> dict[str, Any]:
        self._require(call, "files")
        p = call.params
        items = p["files"] if isinstance(p["files"], list) else []
        channels = [c for c in str(p.get("channels") or p.get("channel_id") or "").split(",") if c]
        answered = []
        for item in items:
            stored = self.files.get(str(item.get("id")))
            if stored is None or stored["content"] is None:
                raise SlackError("file_not_found")
            if item.get("title"):
                stored["title"] = item["title"]
            stored["channels"] = channels
            answered.append(
                {
                    "id": stored["id"],
                    "name": stored["name"],
                    "title": stored["title"],
                    "size": len(stored["content"]),
                    "user": BOT_USER_ID,
                    "created": FIRST_TS,
                    "permalink": f"https://{TEAM_DOMAIN}.slack.com/files/{BOT_USER_ID}/"
                    f"{stored['id']}/{stored['name']}",
                    "channels": channels,
                }
            )
        for channel in channels:
            message = {
                "type": "message",
                "user": BOT_USER_ID,
                "bot_id": BOT_ID,
                "text": p.get("initial_comment", ""),
                "files": answered,
                "upload": True,
                "ts": self._next_ts(),
            }
            if p.get("thread_ts"):
                message["thread_ts"] = p["thread_ts"]
            self.messages.setdefault(self._resolve_channel(channel), []).append(message)
        return {"files": answered}

    def _m_apps_connections_open(self, call: Call) -> dict[str, Any]:
        return {
            "url": f"ws://127.0.0.1:{self.port}/socket?ticket={next(self._seq)}&app_id={APP_ID}"
        }


async def _read_params(request: web.Request) -> tuple[dict[str, Any], bytes, str | None]:
    """Query string, then the body (JSON, form or multipart), as Slack merges them."""
    params: dict[str, Any] = {k: request.query.getone(k) for k in request.query}
    body = b""
    error = None
    if request.content_type.startswith("multipart/"):
        form = await request.post()
        for key in form:
            value = form.getone(key)
            if isinstance(value, web.FileField):
                params[key] = {"filename": value.filename, "content": value.file.read()}
            else:
                params[key] = value
    else:
        body = await request.read()
        if request.content_type == "application/json" and body:
            try:
                data = json.loads(body)
            except ValueError:
                data, error = None, "invalid_json"
            if isinstance(data, dict):
                params.update(data)
            elif error is None:
                error = "invalid_json"
        elif body:
            params.update(parse_qsl(body.decode("utf-8"), keep_blank_values=True))
    for key in _JSON_FIELDS:
        value = params.get(key)
        if isinstance(value, str) and value.strip()[:1] in ("{", "["):
            with contextlib.suppress(ValueError):
                params[key] = json.loads(value)
    return params, body, error


def _truthy(value: Any) -> bool:
    return value is True or str(value).lower() in ("1", "true")


# -- requests Slack sends to the app ---------------------------------------------------------


def signed_headers(body: bytes, secret: str, timestamp: int | None = None) -> dict[str, str]:
    """Slack's request signature for `body`: v0 HMAC-SHA256 of `v0:{timestamp}:{body}`.

    Returns `X-Slack-Request-Timestamp`, `X-Slack-Signature` and the `Content-Type` Slack uses
    for such a body (JSON for events, form-encoded otherwise). `timestamp` defaults to now.
    """
    ts = str(int(time.time()) if timestamp is None else timestamp)
    signature = SignatureVerifier(secret).generate_signature(timestamp=ts, body=body)
    assert signature is not None
    content_type = (
        "application/json" if body.lstrip()[:1] == b"{" else "application/x-www-form-urlencoded"
    )
    return {
        "Content-Type": content_type,
        "X-Slack-Request-Timestamp": ts,
        "X-Slack-Signature": signature,
    }


def slash_command_payload(
    text: str,
    user_id: str = "U0MET",
    command: str = "/okr",
    channel_id: str = "C0MKT",
    response_url: str = "https://hooks.slack.com/commands/T1/1234567890/fake",
    *,
    user_name: str | None = None,
    channel_name: str = "marketing",
    trigger_id: str = "1234567890.1234567890.abcdef",
) -> dict[str, str]:
    """The fields of a slash command (form fields over HTTP, the payload in Socket Mode)."""
    return {
        "token": "verification-token",
        "team_id": TEAM_ID,
        "team_domain": TEAM_DOMAIN,
        "channel_id": channel_id,
        "channel_name": "directmessage" if channel_id.startswith("D") else channel_name,
        "user_id": user_id,
        "user_name": user_name or user_id.lower(),
        "command": command,
        "text": text,
        "api_app_id": APP_ID,
        "is_enterprise_install": "false",
        "response_url": response_url,
        "trigger_id": trigger_id,
    }


def slash_command_body(
    text: str,
    user_id: str = "U0MET",
    command: str = "/okr",
    channel_id: str = "C0MKT",
    response_url: str = "https://hooks.slack.com/commands/T1/1234567890/fake",
    **extra: Any,
) -> bytes:
    """A slash command request body, form-encoded as Slack sends it."""
    payload = slash_command_payload(text, user_id, command, channel_id, response_url, **extra)
    return urlencode(payload).encode()


def event_payload(
    event: dict[str, Any], event_id: str = "Ev1", *, event_time: int | None = None
) -> dict[str, Any]:
    """An Events API `event_callback` envelope around `event`."""
    return {
        "token": "verification-token",
        "team_id": TEAM_ID,
        "context_team_id": TEAM_ID,
        "context_enterprise_id": None,
        "api_app_id": APP_ID,
        "event": event,
        "type": "event_callback",
        "event_id": event_id,
        "event_time": int(time.time()) if event_time is None else event_time,
        "authorizations": [
            {
                "enterprise_id": None,
                "team_id": TEAM_ID,
                "user_id": BOT_USER_ID,
                "is_bot": True,
                "is_enterprise_install": False,
            }
        ],
        "is_ext_shared_channel": False,
        "event_context": f"4-{event_id}",
    }


def event_body(event: dict[str, Any], event_id: str = "Ev1", **extra: Any) -> bytes:
    """An Events API request body (JSON)."""
    return json.dumps(event_payload(event, event_id, **extra)).encode()


def im_message_event(
    text: str, user_id: str = "U0MET", *, channel: str | None = None, ts: str | None = None
) -> dict[str, Any]:
    """A `message.im` event: a member writes to the bot in its Messages tab."""
    ts = ts or f"{int(time.time())}.000200"
    return {
        "type": "message",
        "channel": channel or "D" + user_id,
        "user": user_id,
        "text": text,
        "ts": ts,
        "event_ts": ts,
        "channel_type": "im",
        "team": TEAM_ID,
        "client_msg_id": hashlib.md5(f"{user_id}{ts}{text}".encode()).hexdigest(),
    }


def app_home_opened_event(user_id: str = "U0MET", tab: str = "home") -> dict[str, Any]:
    """An `app_home_opened` event."""
    return {
        "type": "app_home_opened",
        "user": user_id,
        "channel": "D" + user_id,
        "tab": tab,
        "event_ts": f"{int(time.time())}.000300",
    }


def _user_ref(user_id: str) -> dict[str, str]:
    return {"id": user_id, "username": user_id.lower(), "name": user_id.lower(), "team_id": TEAM_ID}


def _action(action_id: str, value: str, block_id: str, action_type: str) -> dict[str, Any]:
    action: dict[str, Any] = {
        "action_id": action_id,
        "block_id": block_id,
        "type": action_type,
        "action_ts": f"{int(time.time())}.000400",
    }
    if action_type in ("static_select", "radio_buttons", "overflow", "external_select"):
        action["selected_option"] = {"text": {"type": "plain_text", "text": value}, "value": value}
    else:
        action["value"] = value
    return action


def block_actions_payload(
    action_id: str,
    value: str,
    user_id: str = "U0MET",
    view: dict[str, Any] | None = None,
    container: dict[str, Any] | None = None,
    *,
    block_id: str = "actions",
    action_type: str = "button",
    message_ts: str = "1700000000.000100",
    response_url: str = "https://hooks.slack.com/actions/T1/1234567890/fake",
    trigger_id: str = "1234567890.1234567890.abcdef",
) -> dict[str, Any]:
    """A `block_actions` payload: a button (or select) pressed in a view or in a DM message."""
    payload: dict[str, Any] = {
        "type": "block_actions",
        "user": _user_ref(user_id),
        "api_app_id": APP_ID,
        "token": "verification-token",
        "trigger_id": trigger_id,
        "team": {"id": TEAM_ID, "domain": TEAM_DOMAIN},
        "enterprise": None,
        "is_enterprise_install": False,
        "actions": [_action(action_id, value, block_id, action_type)],
    }
    if view is not None:
        full_view = _full_view(view)
        payload["container"] = container or {
            "type": "view",
            "view_id": full_view["id"],
        }
        payload["view"] = full_view
        payload["state"] = full_view["state"]
    else:
        channel = (container or {}).get("channel_id", "D" + user_id)
        payload["container"] = container or {
            "type": "message",
            "message_ts": message_ts,
            "channel_id": channel,
            "is_ephemeral": False,
        }
        payload["channel"] = {"id": channel, "name": "directmessage"}
        payload["message"] = {
            "type": "message",
            "user": BOT_USER_ID,
            "bot_id": BOT_ID,
            "ts": payload["container"].get("message_ts", message_ts),
            "text": "",
        }
        payload["state"] = {"values": {}}
        payload["response_url"] = response_url
    return payload


def block_actions_body(
    action_id: str,
    value: str,
    user_id: str = "U0MET",
    view: dict[str, Any] | None = None,
    container: dict[str, Any] | None = None,
    **extra: Any,
) -> bytes:
    """A `block_actions` request body: form-encoded `payload=<JSON>`."""
    payload = block_actions_payload(action_id, value, user_id, view, container, **extra)
    return urlencode({"payload": json.dumps(payload)}).encode()


def _full_view(view: dict[str, Any], values: dict[str, Any] | None = None) -> dict[str, Any]:
    full = {
        "id": "V00000001",
        "team_id": TEAM_ID,
        "type": "modal",
        "blocks": [],
        "private_metadata": "",
        "callback_id": "",
        "state": {"values": {}},
        "hash": f"{FIRST_TS}.00000001",
        "root_view_id": view.get("id", "V00000001"),
        "previous_view_id": None,
        "app_id": APP_ID,
        "external_id": "",
        "bot_id": BOT_ID,
    }
    full.update(view)
    if values is not None:
        full["state"] = {"values": values}
    return full


def view_submission_payload(
    view: dict[str, Any],
    user_id: str = "U0MET",
    values: dict[str, Any] | None = None,
    *,
    trigger_id: str = "1234567890.1234567890.abcdef",
) -> dict[str, Any]:
    """A `view_submission` payload. `values` is Slack's `state.values`:
    `{block_id: {action_id: {"type": "plain_text_input", "value": "6"}}}`."""
    return {
        "type": "view_submission",
        "team": {"id": TEAM_ID, "domain": TEAM_DOMAIN},
        "user": _user_ref(user_id),
        "api_app_id": APP_ID,
        "token": "verification-token",
        "trigger_id": trigger_id,
        "view": _full_view(view, values),
        "response_urls": [],
        "enterprise": None,
        "is_enterprise_install": False,
    }


def view_submission_body(
    view: dict[str, Any], user_id: str = "U0MET", values: dict[str, Any] | None = None, **extra: Any
) -> bytes:
    """A `view_submission` request body: form-encoded `payload=<JSON>`."""
    payload = view_submission_payload(view, user_id, values, **extra)
    return urlencode({"payload": json.dumps(payload)}).encode()


def socket_envelope(
    type_: str, payload: dict[str, Any], envelope_id: str | None = None
) -> dict[str, Any]:
    """A Socket Mode envelope: `slash_commands` (payload: `slash_command_payload()`),
    `events_api` (`event_payload()`) or `interactive` (`block_actions_payload()`...)."""
    envelope: dict[str, Any] = {"type": type_, "payload": payload}
    if envelope_id is not None:
        envelope["envelope_id"] = envelope_id
    if type_ == "events_api":
        envelope.update(accepts_response_payload=False, retry_attempt=0, retry_reason="")
    else:
        envelope["accepts_response_payload"] = True
    return envelope

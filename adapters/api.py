"""The push API's HTTP edge (SPEC §7): `POST /api/v1/key-results/{id}/value`.

Translation only: the bearer token, the JSON body and the status codes live here; what a valid
push is and how it is recorded is `bot.push.PushService`.

| status | when |
| --- | --- |
| 200 | recorded; the body is the key result after the update |
| 401 | no `Authorization: Bearer <token>`, or the wrong token (with `WWW-Authenticate`) |
| 404 | no such key result (archived ones included), or the API is off (`api_off`) |
| 413 | the body is over 64 KiB |
| 422 | the body is not JSON, or not a valid value for this key result (`message` says why) |
| 500 | an unexpected failure; the log has the same `ref` |

With no token configured (`OKRBOT_API_TOKEN` unset or empty) the API is off: every request gets
404 with `{"error": "api_off"}`, whatever it carries. Errors are JSON:
`{"error": "<code>", "message": "<one line>"}`.
"""

from __future__ import annotations

import hmac
import json
import logging
import uuid

from aiohttp import web

from bot.ops.push import InvalidPush, PushService, UnknownKeyResult

log = logging.getLogger("okrbot.api")

ROUTE = "/api/v1/key-results/{id}/value"
REALM = 'Bearer realm="okrbot"'
MIN_TOKEN_LENGTH = 16
MAX_BODY_BYTES = 64 * 1024


def _error(status: int, code: str, message: str, **headers: str) -> web.Response:
    return web.json_response({"error": code, "message": message}, status=status, headers=headers)


class PushApi:
    """Mounts the push API on the HTTP app; `token` None or empty turns it off."""

    def __init__(self, service: PushService, token: str | None) -> None:
        self.service = service
        self._token = token.encode("utf-8") if token else None

    @property
    def enabled(self) -> bool:
        return self._token is not None

    def mount(self, http: web.Application) -> None:
        http.router.add_post(ROUTE, self.handle)
        if not self.enabled:
            log.info("push API is off: set OKRBOT_API_TOKEN to turn it on")
        elif len(self._token) < MIN_TOKEN_LENGTH:
            log.warning("OKRBOT_API_TOKEN is short: use at least %d characters", MIN_TOKEN_LENGTH)

    async def handle(self, request: web.Request) -> web.Response:
        if not self.enabled:
            return _error(404, "api_off", "the push API is off (OKRBOT_API_TOKEN is not set)")
        refused = self._refusal(request.headers.get("Authorization"))
        if refused is not None:
            return refused
        key = request.match_info["id"]
        try:
            if (request.content_length or 0) > MAX_BODY_BYTES:
                return _error(413, "too_large", f"the body is over {MAX_BODY_BYTES} bytes")
            raw = await request.read()  # the app's client_max_size bounds a chunked body
            if len(raw) > MAX_BODY_BYTES:
                return _error(413, "too_large", f"the body is over {MAX_BODY_BYTES} bytes")
            try:
                body = json.loads(raw)
            except (ValueError, RecursionError):
                return _error(422, "invalid", "the body is not JSON")
            result = await self.service.push(key, body)
        except UnknownKeyResult as exc:
            return _error(404, "not_found", str(exc))
        except InvalidPush as exc:
            return _error(422, "invalid", str(exc))
        except web.HTTPException:
            raise
        except Exception:
            ref = uuid.uuid4().hex[:8]
            log.exception("push API: unexpected error for %s (ref %s)", key, ref)
            return _error(500, "internal", f"unexpected error (ref {ref})")
        log.info("push API: %s = %s", result.key, result.value)
        return web.json_response(result.as_json())

    def _refusal(self, header: str | None) -> web.Response | None:
        """None when the header carries the configured bearer token (constant-time compare)."""
        scheme, _, given = (header or "").strip().partition(" ")
        if scheme.lower() != "bearer" or not given.strip():
            return _error(
                401,
                "unauthorized",
                "send the API token as `Authorization: Bearer <token>`",
                **{"WWW-Authenticate": REALM},
            )
        if not hmac.compare_digest(given.strip().encode("utf-8"), self._token):
            return _error(
                401,
                "unauthorized",
                "the API token is not valid",
                **{"WWW-Authenticate": f'{REALM}, error="invalid_token"'},
            )
        return None

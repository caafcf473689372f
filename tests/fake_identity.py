"""A fake Bot Framework identity service for tests: the OpenID metadata and signing keys that
the Bot Connector's tokens are checked against, on 127.0.0.1, and tokens signed as the Bot
Connector signs them (RS256, `iss`, `aud` = the bot's app id, `serviceurl`, endorsements).

    with FakeIdentity() as identity:
        teams = TeamsAdapter(core, app_id=APP_ID, app_password="pw", identity=identity.settings,
                             credentials_factory=identity.credentials(APP_ID, "pw"))
        headers = {"Authorization": f"Bearer {identity.token(service_url=connector.url)}"}

botbuilder reads the metadata with `requests`, synchronously, inside the event loop: the fake
serves from its own thread so that it can answer.

The bot's own outgoing tokens (to the Bot Connector) come from Azure AD in production; here
`credentials()` gives the real password credential factory, which checks the inbound `aud`,
with the outgoing token a fixed string that the fake connector records.
"""

from __future__ import annotations

import json
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import jwt
from botframework.connector.auth import (
    AppCredentials,
    PasswordServiceClientCredentialFactory,
)
from cryptography.hazmat.primitives.asymmetric import rsa
from jwt.algorithms import RSAAlgorithm

ISSUER = "https://api.botframework.test"
KEY_ID = "test-key-1"
BOT_TOKEN = "bot-outgoing-token"


def _rsa_key():
    return rsa.generate_private_key(public_exponent=65537, key_size=2048)


class _StaticToken(AppCredentials):
    def get_access_token(self, force_refresh: bool = False) -> str:
        return BOT_TOKEN


class _Credentials(PasswordServiceClientCredentialFactory):
    async def create_credentials(self, app_id, oauth_scope, login_endpoint, validate_authority):
        return _StaticToken(app_id=app_id, oauth_scope=oauth_scope)


class FakeIdentity:
    def __init__(self, endorsements: tuple[str, ...] = ("msteams",)) -> None:
        self.key = _rsa_key()
        self.endorsements = list(endorsements)
        self.requests: list[str] = []
        self._server: ThreadingHTTPServer | None = None

    def __enter__(self) -> FakeIdentity:
        identity = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:  # noqa: N802 (http.server's name)
                identity.requests.append(self.path)
                if self.path == "/.well-known/openid-configuration":
                    body: Any = {"issuer": ISSUER, "jwks_uri": f"{identity.url}/keys"}
                elif self.path == "/keys":
                    body = {"keys": [identity.jwk()]}
                else:
                    self.send_error(404)
                    return
                raw = json.dumps(body).encode()
                self.send_response(200)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(raw)))
                self.end_headers()
                self.wfile.write(raw)

            def log_message(self, *args: object) -> None:
                return None

        self._server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        threading.Thread(target=self._server.serve_forever, daemon=True).start()
        return self

    def __exit__(self, *exc_info: object) -> None:
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()

    @property
    def url(self) -> str:
        assert self._server is not None
        return f"http://127.0.0.1:{self._server.server_address[1]}"

    @property
    def settings(self) -> dict[str, str]:
        """botbuilder's parameterized settings that point its token checks here."""
        metadata = f"{self.url}/.well-known/openid-configuration"
        return {
            "TO_BOT_FROM_CHANNEL_OPENID_METADATA_URL": metadata,
            "TO_BOT_FROM_EMULATOR_OPENID_METADATA_URL": metadata,
            "TO_BOT_FROM_CHANNEL_TOKEN_ISSUER": ISSUER,
            "TO_CHANNEL_FROM_BOT_OAUTH_SCOPE": "https://api.botframework.com",
            "TO_CHANNEL_FROM_BOT_LOGIN_URL": f"{self.url}/login",
        }

    @staticmethod
    def credentials(app_id: str, password: str) -> PasswordServiceClientCredentialFactory:
        return _Credentials(app_id, password)

    def jwk(self) -> dict[str, Any]:
        key = json.loads(RSAAlgorithm.to_jwk(self.key.public_key()))
        return {**key, "kid": KEY_ID, "use": "sig", "endorsements": self.endorsements}

    def token(
        self,
        *,
        audience: str,
        service_url: str | None,
        issuer: str = ISSUER,
        expires_in: int = 3600,
        key=None,
        kid: str = KEY_ID,
        **claims: Any,
    ) -> str:
        """A token as the Bot Connector signs it; `key` signs with another key (a forgery)."""
        now = int(time.time())
        payload = {"iss": issuer, "aud": audience, "nbf": now - 60, "exp": now + expires_in}
        if service_url is not None:
            payload["serviceurl"] = service_url
        payload.update(claims)
        return jwt.encode(payload, key or self.key, algorithm="RS256", headers={"kid": kid})

    @staticmethod
    def other_key():
        return _rsa_key()

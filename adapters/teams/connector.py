"""botbuilder's Bot Connector as the Teams adapter uses it: clients kept for the process, cards
sent as the JSON they are, and turns admitted a bounded number at a time.

CloudAdapter builds a connector client and a user-token client on every turn, each with its
own msrest configuration (milliseconds of CPU), new credentials (so, with authentication on, a
new token from Azure AD) and a new HTTP session (so a new connection). botbuilder's older
BotFrameworkAdapter kept them per service URL and app id, "a significant boost in throughput";
`Authentication` does the same for CloudAdapter.

msrest's `Serializer.body` turns a whole activity into models and back before sending it (its
way to accept dicts), and botbuilder deep-copies every outgoing activity: for a card of 15 KB
that is several milliseconds of CPU per send. Our cards are JSON dicts already and never change
once built: `shared(attachment)` is not copied, and the connector clients kept here send such
attachments as they are.

`Turn`: a burst of turns, all interleaved, would share the database's connections among all of
them, each turn queueing for a connection again for each of its sessions, and some would be
answered much later than others; a bounded number of turns at once, the others waiting in order
of arrival, answers them about as fast on average and far more evenly.
"""

from __future__ import annotations

import asyncio

import requests
from botbuilder.core import TurnContext
from botbuilder.integration.aiohttp import ConfigurationBotFrameworkAuthentication
from botbuilder.schema import Activity
from botframework.connector.auth import AuthenticationConstants, ClaimsIdentity, ConnectorFactory
from msrest.serialization import Serializer

CLIENTS_KEPT = 64  # clients kept per kind (service URLs come from requests: a bound)
# turns that work on their answer at once (fewer than the database pool's connections, 15 by
# default, which the scheduler, the outbox and Slack share); more wait in order of arrival
TURNS_AT_ONCE = 10
_TURN = "okrbot.turn"
_ATTACHMENT_KEYS = frozenset(("contentType", "content", "contentUrl", "name", "thumbnailUrl"))


class _Shared(dict):
    """An attachment that nothing changes once built: a deep copy shares it."""

    def __deepcopy__(self, memo: dict) -> _Shared:
        return self


def shared(attachment: dict) -> dict:
    """An activity's attachment (a JSON dict) that botbuilder's deep copies do not copy."""
    return _Shared(attachment)


class _PlainAttachments(Serializer):
    """The connector's serializer, except for an `Activity` model whose attachments are JSON
    dicts already: its envelope is serialized once, its attachments go as they are."""

    def body(self, data, data_type: str, **kwargs):
        attachments = getattr(data, "attachments", None) or []
        plain = all(isinstance(a, dict) and a.keys() <= _ATTACHMENT_KEYS for a in attachments)
        if not isinstance(data, Activity) or not plain:
            return super().body(data, data_type, **kwargs)
        kept, data.attachments = data.attachments, None
        try:
            serialized = self._serialize(data, data_type, **kwargs)
        finally:
            data.attachments = kept
        if attachments:
            serialized["attachments"] = [dict(a) for a in attachments]
        return serialized


def _app_id(claims: ClaimsIdentity) -> str | None:
    """The bot's app id of a turn, as botbuilder reads it (the audience, else the appid)."""
    audience = claims.get_claim_value(AuthenticationConstants.AUDIENCE_CLAIM)
    if audience is None:
        return claims.get_claim_value(AuthenticationConstants.APP_ID_CLAIM)
    return audience


def _keep(cache: dict, key: tuple, value: object) -> None:
    if len(cache) >= CLIENTS_KEPT:
        cache.pop(next(iter(cache)))  # the oldest
    cache[key] = value


class _Connectors(ConnectorFactory):
    """Connector clients kept per app id, service URL and audience."""

    def __init__(self, factory: ConnectorFactory, claims: ClaimsIdentity, cache: dict) -> None:
        self._factory, self._claims, self._cache = factory, claims, cache

    async def create(self, service_url: str, audience: str | None = None):
        key = (_app_id(self._claims), service_url, audience)
        client = self._cache.get(key)
        if client is None:
            client = await self._factory.create(service_url, audience)
            operations = client.conversations
            operations._serialize = _PlainAttachments(operations._serialize.dependencies)
            _keep(self._cache, key, client)
        return client


class IdentityUnavailable(Exception):
    """The Bot Framework's signing keys could not be read: a token cannot be checked now."""


class Authentication(ConfigurationBotFrameworkAuthentication):
    """botbuilder's authentication from a configuration object, with the connector clients
    (per app id, service URL and audience) and the user-token clients (per app id) kept.

    With an app id, an activity is trusted only when its token validates and names the
    activity's own serviceUrl (the `serviceurl` claim that the Bot Connector signs): a token of
    another kind (an emulator's, a skill's) or one for another service URL is refused, so the
    bot never calls a service URL that a request chose by itself."""

    def __init__(self, configuration: object, credentials_factory=None) -> None:
        super().__init__(configuration, credentials_factory=credentials_factory)
        self._authenticated = bool(getattr(configuration, "APP_ID", ""))
        self._connectors: dict = {}
        self._token_clients: dict = {}

    async def authenticate_request(self, activity: Activity, auth_header: str):
        try:
            result = await super().authenticate_request(activity, auth_header)
        except PermissionError:
            raise
        except requests.RequestException as exc:  # the signing keys could not be fetched
            raise IdentityUnavailable(str(exc)) from exc
        except Exception as exc:  # a bad signature, an unknown key, a malformed claim
            raise PermissionError(f"the token does not validate: {type(exc).__name__}") from exc
        if self._authenticated:
            claims = result.claims_identity
            claim = claims.get_claim_value(AuthenticationConstants.SERVICE_URL_CLAIM)
            if not claims.is_authenticated or not activity.service_url:
                raise PermissionError("the activity is not authenticated")
            if claim != activity.service_url:
                raise PermissionError("the token does not name the activity's serviceUrl")
        if result.connector_factory is not None:
            result.connector_factory = _Connectors(
                result.connector_factory, result.claims_identity, self._connectors
            )
        return result

    def create_connector_factory(self, claims_identity: ClaimsIdentity) -> ConnectorFactory:
        factory = super().create_connector_factory(claims_identity)
        return _Connectors(factory, claims_identity, self._connectors)

    async def create_user_token_client(self, claims_identity: ClaimsIdentity):
        key = (_app_id(claims_identity),)
        client = self._token_clients.get(key)
        if client is None:
            client = await super().create_user_token_client(claims_identity)
            _keep(self._token_clients, key, client)
        return client


class Turn:
    """A turn's place among the `places` (a semaphore: its waiters are served in order) that
    work on their answer at once. `Turn.done_in(context)` gives it back early, before any call
    to Teams, so that a slow or throttling Teams never holds up other turns."""

    def __init__(self, places: asyncio.Semaphore, context: TurnContext) -> None:
        self._places, self._context, self._held = places, context, False

    async def __aenter__(self) -> Turn:
        await self._places.acquire()
        self._held = True
        self._context.turn_state[_TURN] = self
        return self

    async def __aexit__(self, *exc_info: object) -> None:
        self.done()

    def done(self) -> None:
        if self._held:
            self._held = False
            self._places.release()

    @staticmethod
    def done_in(context: TurnContext) -> None:
        turn = context.turn_state.get(_TURN)
        if turn is not None:
            turn.done()

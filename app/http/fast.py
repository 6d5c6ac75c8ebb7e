"""The three hottest routes as raw ASGI handlers, answered ahead of Litestar's router.

POST /v1/tokens, POST /oauth2/token and GET /.well-known/jwks.json behave exactly as the rest
of the API — credentials first, strict parsing, the same Minter, the same error mapping and
audit — but skip Litestar's per-request machinery (routing, Request/Response objects,
dependency resolution, per-route middleware), which measured as the larger part of a mint's
cost. Everything else goes on to Litestar. ``document_fast_routes`` adds them to the OpenAPI
document, which Litestar cannot describe for raw ASGI code.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any, Final

import msgspec
from litestar import Litestar
from litestar._openapi.plugin import OpenAPIPlugin
from litestar.enums import ScopeType
from litestar.types import ASGIApp, Receive, Scope, Send

from app.clients.authenticate import Authenticator
from app.encoding import json_encoder
from app.errors import (
    HeadersTooLarge,
    InvalidRequest,
    MethodNotAllowed,
    RequestTooLarge,
    TitanError,
    UnsupportedGrantType,
    UnsupportedMediaType,
)
from app.gate import Gate
from app.http.credentials import form_credentials, header_credentials
from app.http.errors import error_body, error_headers, record_denial
from app.http.forms import FORM, form_audience, form_ttl, one, parse_form
from app.http.openapi import describe_fast_routes
from app.http.schemas import OAuthTokenResponse, TokenResponse, decode_mint_body
from app.keys.keyring import Keyring
from app.metrics import MetricsStore
from app.minting import Minter, MintRequest
from containers import Container
from settings import Settings

log = logging.getLogger("titan.http")

Headers = list[tuple[bytes, bytes]]
Answer = tuple[int, Headers, bytes]
Handler = Callable[["FastRequest", Receive], Awaitable[Answer]]

MINT_PATH: Final = "/v1/tokens"
TOKEN_PATH: Final = "/oauth2/token"
JWKS_PATH: Final = "/.well-known/jwks.json"
JSON_CONTENT: Final = (b"content-type", b"application/json")
TOKEN_HEADERS: Final = [JSON_CONTENT, (b"cache-control", b"no-store"), (b"pragma", b"no-cache")]


@dataclass(slots=True)
class FastRequest:
    """The parts of an HTTP request the fast routes read, taken from the ASGI scope once."""

    method: str
    path: str
    remote: str
    authorization: str | None = None
    content_type: bytes | None = None
    content_length: bytes | None = None
    if_none_match: bytes | None = None

    @classmethod
    def from_scope(cls, scope: Scope) -> FastRequest:
        client = scope.get("client")
        request = cls(method=str(scope.get("method", "-")), path=scope["path"], remote=client[0] if client else "-")
        for name, value in scope["headers"]:
            if name == b"authorization":
                if request.authorization is None:
                    request.authorization = value.decode("latin-1")
            elif name == b"content-type":
                request.content_type = value
            elif name == b"content-length":
                request.content_length = value
            elif name == b"if-none-match":
                request.if_none_match = value
        return request

    def media_type(self) -> bytes:
        return (self.content_type or b"").partition(b";")[0].strip().lower()


async def read_body(request: FastRequest, receive: Receive, limit: int) -> bytes:
    """The whole body, refusing more than ``limit`` bytes before reading them where it can."""
    declared = request.content_length
    if declared is not None and (not declared.isdigit() or int(declared) > limit):
        raise RequestTooLarge(f"the body may be at most {limit} bytes", reason="body_too_large")
    chunks: list[bytes] = []
    size = 0
    while True:
        message: Any = await receive()
        if message["type"] == "http.disconnect":
            raise InvalidRequest("the client went away", reason="client_disconnected")
        chunk = message.get("body", b"")
        size += len(chunk)
        if size > limit:
            raise RequestTooLarge(f"the body may be at most {limit} bytes", reason="body_too_large")
        chunks.append(chunk)
        if not message.get("more_body", False):
            return b"".join(chunks)


async def respond(send: Send, status: int, headers: Headers, body: bytes) -> None:
    await send({"type": "http.response.start", "status": status, "headers": headers})
    await send({"type": "http.response.body", "body": body, "more_body": False})


def header_bytes(scope: Scope) -> int:
    """The size of the request's header fields, names and values, as received."""
    return sum(len(name) + len(value) for name, value in scope["headers"])


def etag_matches(header: bytes | None, etag: str) -> bool:
    if header is None:
        return False
    candidates = {candidate.strip().removeprefix(b"W/") for candidate in header.split(b",")}
    return b"*" in candidates or etag.encode() in candidates


@dataclass(frozen=True, slots=True)
class _Collaborators:
    authenticator: Authenticator
    gate: Gate
    minter: Minter
    keyring: Keyring
    metrics: MetricsStore
    settings: Settings


class FastRoutes:
    """Handlers for the hot routes, with collaborators resolved from the container on first use."""

    def __init__(self, container: Container) -> None:
        self._container = container
        self._resolved: _Collaborators | None = None
        # path -> (method, handler, whether it mints and so passes the gate's admission first)
        self._routes: dict[str, tuple[str, Handler, bool]] = {
            MINT_PATH: ("POST", self.mint, True),
            TOKEN_PATH: ("POST", self.oauth_token, True),
            JWKS_PATH: ("GET", self.jwks, False),
        }

    @property
    def _use(self) -> _Collaborators:
        """The container's collaborators, resolved on first use (after any test overrides)."""
        if self._resolved is None:
            container = self._container
            self._resolved = _Collaborators(
                authenticator=container.authenticator(),
                gate=container.gate(),
                minter=container.minter(),
                keyring=container.keyring(),
                metrics=container.metrics(),
                settings=container.settings(),
            )
        return self._resolved

    def wrap(self, app: ASGIApp) -> ASGIApp:
        """Litestar's ASGI handler, with the hot routes answered first."""
        routes = self._routes

        header_limit = self._container.settings().max_header_bytes

        async def dispatch(scope: Scope, receive: Receive, send: Send) -> None:
            if scope["type"] == ScopeType.HTTP and header_bytes(scope) > header_limit:
                await self._refuse_headers(scope, send, header_limit)
                return
            route = routes.get(scope["path"])
            if route is None or scope["type"] != ScopeType.HTTP:
                await app(scope, receive, send)
                return
            await self._answer(route, scope, receive, send)

        return dispatch

    async def _answer(
        self,
        route: tuple[str, Handler, bool],
        scope: Scope,
        receive: Receive,
        send: Send,
    ) -> None:
        request = FastRequest.from_scope(scope)
        method, handler, mints = route
        try:
            if request.method != method:
                raise MethodNotAllowed(method)
            if mints:
                status, headers, body = await self._admitted(handler, request, receive)
            else:
                status, headers, body = await handler(request, receive)
        except TitanError as exc:
            status, headers, body = self._refusal(exc, request)
        except Exception:
            log.exception("unexpected error on %s %s", request.method, request.path)
            self._container.metrics().record_error("server_error")
            status, headers = 500, [JSON_CONTENT, (b"cache-control", b"no-store")]
            body = error_body("server_error", "the server could not complete the request")
        await respond(send, status, headers, body)

    async def _refuse_headers(self, scope: Scope, send: Send, limit: int) -> None:
        exc = HeadersTooLarge(f"the request headers may be at most {limit} bytes", reason="headers_too_large")
        await respond(send, *self._refusal(exc, FastRequest.from_scope(scope)))

    async def _admitted(self, handler: Handler, request: FastRequest, receive: Receive) -> Answer:
        """Run a minting handler once the gate admits it (refused at once under overload or shutdown)."""
        gate = self._use.gate
        gate.enter()
        try:
            return await handler(request, receive)
        finally:
            gate.leave()

    def _refusal(self, exc: TitanError, request: FastRequest) -> Answer:
        extra = record_denial(self._container, exc, request.method, request.path, request.remote)
        if isinstance(exc, MethodNotAllowed):
            extra["Allow"] = exc.allow
        if exc.reason == "shutting_down":
            extra["Connection"] = "close"  # send the client's next request to another instance
        headers = [JSON_CONTENT]
        headers += [
            (name.lower().encode(), value.encode()) for name, value in error_headers(exc.status_code, extra).items()
        ]
        return exc.status_code, headers, error_body(exc.error, exc.error_description)

    async def mint(self, request: FastRequest, receive: Receive) -> Answer:
        use = self._use
        client = await use.authenticator.authenticate(header_credentials(request.authorization), request.remote)
        if request.media_type() != b"application/json":
            raise UnsupportedMediaType("the body must be application/json", reason="wrong_content_type")
        try:
            body = decode_mint_body(await read_body(request, receive, use.settings.max_body_bytes))
        except msgspec.DecodeError as exc:
            raise InvalidRequest(f"invalid request body: {exc}", reason="malformed_body") from None
        audience = (body.audience,) if isinstance(body.audience, str) else tuple(body.audience)
        token = await use.minter.mint(
            client, MintRequest(audience=audience, scope=body.scope, ttl=body.ttl), endpoint="v1", remote=request.remote
        )
        answer = TokenResponse(
            access_token=token.access_token,
            token_type="Bearer",
            expires_in=token.expires_in,
            expires_at=token.expires_at,
            scope=token.scope,
            kid=token.kid,
            jti=token.jti,
        )
        return 200, TOKEN_HEADERS, json_encoder.encode(answer)

    async def oauth_token(self, request: FastRequest, receive: Receive) -> Answer:
        """The client credentials grant (RFC 6749 §4.4), errors per §5.2."""
        use = self._use
        if request.media_type() != FORM.encode():
            raise UnsupportedMediaType(f"the body must be {FORM}", reason="wrong_content_type")
        fields = parse_form(await read_body(request, receive, use.settings.max_body_bytes))
        credentials = form_credentials(request.authorization, fields)
        client = await use.authenticator.authenticate(credentials, request.remote)
        grant_type = one(fields, "grant_type")
        if grant_type is None:
            raise InvalidRequest("grant_type is required", reason="grant_type_missing")
        if grant_type != "client_credentials":
            raise UnsupportedGrantType(reason="grant_type_unsupported")
        mint_request = MintRequest(
            audience=form_audience(fields), scope=one(fields, "scope") or None, ttl=form_ttl(fields)
        )
        token = await use.minter.mint(client, mint_request, endpoint="oauth2", remote=request.remote)
        answer = OAuthTokenResponse(
            access_token=token.access_token, token_type="Bearer", expires_in=token.expires_in, scope=token.scope or None
        )
        return 200, TOKEN_HEADERS, json_encoder.encode(answer)

    async def jwks(self, request: FastRequest, receive: Receive) -> Answer:
        use = self._use
        use.metrics.record_jwks_request()
        key_set = use.keyring.key_set
        headers: Headers = [
            (b"cache-control", f"public, max-age={use.settings.jwks_max_age}".encode()),
            (b"etag", key_set.jwks_etag.encode()),
        ]
        if etag_matches(request.if_none_match, key_set.jwks_etag):
            return 304, headers, b""
        return 200, [(b"content-type", b"application/jwk-set+json"), *headers], key_set.jwks_body


def fast_routes(container: Container) -> Callable[[ASGIApp], ASGIApp]:
    return FastRoutes(container).wrap


def document_fast_routes(app: Litestar) -> None:
    """Add the fast routes to the OpenAPI document Litestar serves."""
    describe_fast_routes(app.plugins.get(OpenAPIPlugin).provide_openapi_schema())

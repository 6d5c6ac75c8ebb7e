"""POST /v1/tokens as a raw ASGI route: the hottest path, without Litestar's per-request machinery.

Same behaviour as every other endpoint — credentials first, then the content type, then a
strict msgspec decode, the same Minter and the same error mapping — but no Request/Response
objects, no dependency resolution and pre-encoded response headers. Its OpenAPI entry is added
by ``document_mint_route``.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Any, Final

import msgspec
from litestar import Litestar
from litestar._openapi.plugin import OpenAPIPlugin
from litestar.enums import ScopeType
from litestar.types import ASGIApp, Receive, Scope, Send

from app.clients.authenticate import Authenticator
from app.encoding import json_encoder
from app.errors import InvalidRequest, MethodNotAllowed, RequestTooLarge, TitanError, UnsupportedMediaType
from app.http.credentials import header_credentials
from app.http.errors import error_body, error_headers, record_denial
from app.http.schemas import ErrorBody, MintBody, TokenResponse, mint_body_decoder
from app.minting import Minter, MintRequest
from containers import Container

log = logging.getLogger("titan.http")

PATH: Final = "/v1/tokens"
OK_HEADERS: Final = [
    (b"content-type", b"application/json"),
    (b"cache-control", b"no-store"),
    (b"pragma", b"no-cache"),
]


def _is_json(content_type: bytes | None) -> bool:
    return content_type is not None and content_type.partition(b";")[0].strip().lower() == b"application/json"


async def _send(send: Send, status: int, headers: list[tuple[bytes, bytes]], body: bytes) -> None:
    await send({"type": "http.response.start", "status": status, "headers": headers})
    await send({"type": "http.response.body", "body": body, "more_body": False})


class MintRoute:
    """The ASGI callable behind POST /v1/tokens; collaborators are resolved once, on first use."""

    def __init__(self, container: Container) -> None:
        self._container = container
        self._resolved: tuple[Authenticator, Minter, int] | None = None

    def _collaborators(self) -> tuple[Authenticator, Minter, int]:
        if self._resolved is None:
            container = self._container
            self._resolved = (container.authenticator(), container.minter(), container.settings().max_body_bytes)
        return self._resolved

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        client_address = scope.get("client")
        remote = client_address[0] if client_address else "-"
        try:
            body = await self._mint(scope, receive, remote)
        except TitanError as exc:
            await self._refuse(send, exc, str(scope.get("method", "-")), remote)
            return
        except Exception:
            log.exception("unexpected error on POST %s", PATH)
            self._container.metrics().record_error("server_error")
            headers = [(b"content-type", b"application/json"), (b"cache-control", b"no-store")]
            await _send(send, 500, headers, error_body("server_error", "the server could not complete the request"))
            return
        await _send(send, 200, OK_HEADERS, body)

    async def _refuse(self, send: Send, exc: TitanError, method: str, remote: str) -> None:
        extra = record_denial(self._container, exc, method, PATH, remote)
        if isinstance(exc, MethodNotAllowed):
            extra["Allow"] = exc.allow
        headers = [(b"content-type", b"application/json")]
        headers += [
            (name.lower().encode(), value.encode()) for name, value in error_headers(exc.status_code, extra).items()
        ]
        await _send(send, exc.status_code, headers, error_body(exc.error, exc.error_description))

    async def _mint(self, scope: Scope, receive: Receive, remote: str) -> bytes:
        if scope.get("method") != "POST":
            raise MethodNotAllowed("POST")
        authenticator, minter, max_body = self._collaborators()
        authorization: str | None = None
        content_type = content_length = None
        for name, value in scope["headers"]:
            if name == b"authorization" and authorization is None:
                authorization = value.decode("latin-1")
            elif name == b"content-type":
                content_type = value
            elif name == b"content-length":
                content_length = value
        client = await authenticator.authenticate(header_credentials(authorization), remote)
        if not _is_json(content_type):
            raise UnsupportedMediaType("the body must be application/json", reason="wrong_content_type")
        if content_length is not None and (not content_length.isdigit() or int(content_length) > max_body):
            raise RequestTooLarge(f"the body may be at most {max_body} bytes", reason="body_too_large")
        try:
            request = mint_body_decoder.decode(await _read_body(receive, max_body))
        except msgspec.DecodeError as exc:
            raise InvalidRequest(f"invalid request body: {exc}", reason="malformed_body") from None
        audience = (request.audience,) if isinstance(request.audience, str) else tuple(request.audience)
        token = await minter.mint(
            client, MintRequest(audience=audience, scope=request.scope, ttl=request.ttl), endpoint="v1", remote=remote
        )
        return json_encoder.encode(
            TokenResponse(
                access_token=token.access_token,
                token_type="Bearer",
                expires_in=token.expires_in,
                expires_at=token.expires_at,
                scope=token.scope,
                kid=token.kid,
                jti=token.jti,
            )
        )


async def _read_body(receive: Receive, limit: int) -> bytes:
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


def mint_fast_path(container: Container) -> Callable[[ASGIApp], ASGIApp]:
    """A wrapper around Litestar's ASGI handler that answers /v1/tokens itself, before routing.

    Every other request goes on to Litestar untouched.
    """
    route = MintRoute(container)

    def middleware(app: ASGIApp) -> ASGIApp:
        async def dispatch(scope: Scope, receive: Receive, send: Send) -> None:
            if scope["path"] == PATH and scope["type"] == ScopeType.HTTP:
                await route(scope, receive, send)
            else:
                await app(scope, receive, send)

        return dispatch

    return middleware


def document_mint_route(app: Litestar) -> None:
    """Add POST /v1/tokens to the OpenAPI document (raw ASGI routes are not described by Litestar)."""
    document = app.plugins.get(OpenAPIPlugin).provide_openapi_schema()
    _, components = msgspec.json.schema_components(
        [MintBody, TokenResponse, ErrorBody], ref_template="#/components/schemas/{name}"
    )
    schemas = document.setdefault("components", {}).setdefault("schemas", {})
    schemas.update(components)

    def error(description: str) -> dict[str, Any]:
        return {
            "description": description,
            "content": {"application/json": {"schema": {"$ref": "#/components/schemas/ErrorBody"}}},
        }

    document.setdefault("paths", {})[PATH] = {
        "post": {
            "tags": ["tokens"],
            "operationId": "mintToken",
            "summary": "Mint an access token",
            "description": (
                "Authenticate with HTTP Basic (client id and secret) or `Authorization: Bearer <client assertion>` "
                "(private_key_jwt) and get a short-lived signed JWT (RFC 9068)."
            ),
            "security": [{"basic": []}, {"clientAssertion": []}],
            "requestBody": {
                "required": True,
                "content": {"application/json": {"schema": {"$ref": "#/components/schemas/MintBody"}}},
            },
            "responses": {
                "200": {
                    "description": "The token",
                    "content": {"application/json": {"schema": {"$ref": "#/components/schemas/TokenResponse"}}},
                },
                "400": error("Malformed request, or audience, scope or ttl outside the client's policy"),
                "401": error("Client authentication failed"),
                "405": error("Only POST"),
                "413": error("Body too large"),
                "415": error("Body is not application/json"),
                "429": error("Rate limited or cooling off after failed authentications"),
                "503": error("Overloaded or shutting down; retry after Retry-After"),
            },
        }
    }
    document["components"].setdefault("securitySchemes", {})["clientAssertion"] = {"type": "http", "scheme": "bearer"}

"""The OAuth 2.0 endpoints: token (client credentials, RFC 6749 §4.4, RFC 8707), revoke (RFC 7009),
introspect (RFC 7662)."""

from __future__ import annotations

import asyncio
from typing import Any

from litestar import Controller, Request, Response, post
from litestar.di import NamedDependency

from app.encoding import json_encoder
from app.errors import InvalidRequest
from app.http.deps import Services
from app.http.errors import JSON, NO_STORE
from app.http.forms import one, read_form
from app.http.schemas import IntrospectionResponse


class OAuthController(Controller):
    path = "/oauth2"
    tags = ["oauth2"]  # noqa: RUF012

    @post(
        "/revoke",
        operation_id="oauthRevoke",
        name="oauth2:revoke",
        summary="Token revocation (RFC 7009)",
        description="A client revokes one of its own tokens; unknown or invalid tokens are answered 200 too.",
        status_code=200,
    )
    async def revoke(self, request: Request[Any, Any, Any], services: NamedDependency[Services]) -> Response[bytes]:
        fields = await read_form(request)
        client = await services.authenticate(request, fields)
        token = one(fields, "token")
        if not token:
            raise InvalidRequest("token is required", reason="token_missing")
        claims = services.inspector.verified_claims(token)
        if claims is not None:
            if claims.get("client_id") != client.client_id:
                raise InvalidRequest("a client may revoke only its own tokens", reason="revoke_foreign_token")
            await asyncio.to_thread(
                services.revoker.revoke,
                jti=str(claims["jti"]),
                client_id=client.client_id,
                expires_at=int(claims["exp"]),
                actor="client",
            )
        return Response(content=b"", status_code=200, headers=NO_STORE, media_type="text/plain")  # RFC 7009: no body

    @post(
        "/introspect",
        operation_id="oauthIntrospect",
        name="oauth2:introspect",
        summary="Token introspection (RFC 7662)",
        description="For authenticated clients: active plus the claims, or active false.",
        status_code=200,
    )
    async def introspect(
        self, request: Request[Any, Any, Any], services: NamedDependency[Services]
    ) -> Response[IntrospectionResponse]:
        fields = await read_form(request)
        await services.authenticate(request, fields)
        token = one(fields, "token")
        if not token:
            raise InvalidRequest("token is required", reason="token_missing")
        claims = services.inspector.active_claims(token)
        services.metrics.record_introspection(claims is not None)
        body = {"active": False} if claims is None else {"active": True, "token_type": "Bearer", **claims}
        return Response(content=json_encoder.encode(body), media_type=JSON, headers=NO_STORE)  # type: ignore[arg-type]

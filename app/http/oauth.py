"""The OAuth 2.0 endpoints: token (client credentials, RFC 6749 §4.4, RFC 8707), revoke (RFC 7009),
introspect (RFC 7662)."""

from __future__ import annotations

import asyncio
from typing import Any
from urllib.parse import urlsplit

from litestar import Controller, Request, Response, post
from litestar.di import NamedDependency

from app.encoding import json_encoder
from app.errors import InvalidRequest, InvalidTarget, UnsupportedGrantType
from app.http.credentials import remote_address
from app.http.deps import Services
from app.http.errors import JSON, NO_STORE
from app.http.forms import one, read_form
from app.http.schemas import IntrospectionResponse, OAuthTokenResponse
from app.minting import Minter, MintRequest


def _audience(fields: dict[str, list[str]]) -> tuple[str, ...] | None:
    audiences, resources = fields.get("audience", []), fields.get("resource", [])
    if audiences and resources:
        raise InvalidRequest("send either audience or resource, not both", reason="audience_and_resource")
    for resource in resources:
        parts = urlsplit(resource)
        if not parts.scheme or not parts.netloc or parts.fragment:
            raise InvalidTarget(
                "resource must be an absolute URI without a fragment (RFC 8707 §2)",
                reason="resource_malformed",
            )
    return tuple(audiences or resources) or None


def _ttl(fields: dict[str, list[str]]) -> int | None:
    text = one(fields, "ttl")
    if text is None:
        return None
    if not text.isascii() or not text.isdigit() or len(text) > 9:
        raise InvalidRequest("ttl must be a whole number of seconds", reason="ttl_invalid")
    return int(text)


class OAuthController(Controller):
    path = "/oauth2"
    tags = ["oauth2"]  # noqa: RUF012

    @post(
        "/token",
        operation_id="oauthToken",
        name="oauth2:token",
        summary="OAuth 2.0 token endpoint (client credentials grant)",
        description=(
            "Form-encoded client_credentials grant; client_secret_basic, client_secret_post or private_key_jwt; "
            "audience or RFC 8707 resource; errors per RFC 6749 §5.2."
        ),
        status_code=200,
    )
    async def token(
        self, request: Request[Any, Any, Any], minter: NamedDependency[Minter], services: NamedDependency[Services]
    ) -> Response[OAuthTokenResponse]:
        fields = await read_form(request)
        client = await services.authenticate(request, fields)
        grant_type = one(fields, "grant_type")
        if grant_type is None:
            raise InvalidRequest("grant_type is required", reason="grant_type_missing")
        if grant_type != "client_credentials":
            raise UnsupportedGrantType(reason="grant_type_unsupported")
        scope = one(fields, "scope") or None
        token = await minter.mint(
            client,
            MintRequest(audience=_audience(fields), scope=scope, ttl=_ttl(fields)),
            endpoint="oauth2",
            remote=remote_address(request),
        )
        answer = OAuthTokenResponse(
            access_token=token.access_token, token_type="Bearer", expires_in=token.expires_in, scope=token.scope or None
        )
        return Response(content=json_encoder.encode(answer), media_type=JSON, headers=NO_STORE)  # type: ignore[arg-type]

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
        return Response(content=b"", status_code=200, headers=NO_STORE)

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

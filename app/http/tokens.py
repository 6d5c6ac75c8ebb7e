"""POST /v1/tokens: Titan's own JSON mint endpoint; HTTP Basic or Bearer (private_key_jwt) authentication."""

from __future__ import annotations

from typing import Any, Final

import msgspec
from litestar import Controller, Request, Response, post
from litestar.di import NamedDependency

from app.encoding import json_encoder
from app.errors import InvalidRequest, UnsupportedMediaType
from app.http.credentials import remote_address
from app.http.deps import Services
from app.http.errors import JSON
from app.http.forms import media_type
from app.http.schemas import MintBody, TokenResponse, mint_body_decoder
from app.minting import Minter, MintRequest

NO_STORE: Final = {"Cache-Control": "no-store", "Pragma": "no-cache"}


class TokenController(Controller):
    path = "/v1/tokens"
    tags = ["tokens"]  # noqa: RUF012

    @post(
        "/",
        operation_id="mintToken",
        name="tokens:mint",
        summary="Mint an access token",
        description="Authenticate with HTTP Basic (client id and secret) and get a short-lived signed JWT.",
        status_code=200,
        security=[{"basic": []}],
    )
    async def mint(
        self,
        request: Request[Any, Any, Any],
        minter: NamedDependency[Minter],
        services: NamedDependency[Services],
    ) -> Response[TokenResponse]:
        client = await services.authenticate_header(request)
        if media_type(request) != JSON:
            raise UnsupportedMediaType("the body must be application/json", reason="wrong_content_type")
        try:
            body = mint_body_decoder.decode(await request.body())
        except msgspec.DecodeError as exc:
            raise InvalidRequest(f"invalid request body: {exc}", reason="malformed_body") from None
        token = await minter.mint(client, _mint_request(body), endpoint="v1", remote=remote_address(request))
        answer = TokenResponse(
            access_token=token.access_token,
            token_type="Bearer",
            expires_in=token.expires_in,
            expires_at=token.expires_at,
            scope=token.scope,
            kid=token.kid,
            jti=token.jti,
        )
        return Response(content=json_encoder.encode(answer), media_type=JSON, headers=NO_STORE)  # type: ignore[arg-type]


def _mint_request(body: MintBody) -> MintRequest:
    audience = (body.audience,) if isinstance(body.audience, str) else tuple(body.audience)
    return MintRequest(audience=audience, scope=body.scope, ttl=body.ttl)

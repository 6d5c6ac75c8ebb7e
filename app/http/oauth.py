"""POST /oauth2/token: the OAuth 2.0 client credentials grant (RFC 6749 §4.4, RFC 8707 resources)."""

from __future__ import annotations

from typing import Any, Final
from urllib.parse import parse_qsl, urlsplit

from litestar import Controller, Request, Response, post
from litestar.di import NamedDependency

from app.clients.registry import ClientRegistry
from app.encoding import json_encoder
from app.errors import (
    InvalidClient,
    InvalidRequest,
    InvalidTarget,
    UnsupportedGrantType,
    UnsupportedMediaType,
)
from app.http.credentials import check_credentials, parse_basic
from app.http.errors import JSON
from app.http.schemas import OAuthTokenResponse
from app.http.tokens import NO_STORE, media_type
from app.minting import Minter, MintRequest

FORM: Final = "application/x-www-form-urlencoded"
MAX_FIELDS: Final = 64
REPEATABLE: Final = frozenset({"audience", "resource"})


def parse_form(body: bytes) -> dict[str, list[str]]:
    """Form fields by name; a field other than audience/resource may appear once (RFC 6749 §3.2)."""
    try:
        text = body.decode("utf-8")
        pairs = parse_qsl(text, keep_blank_values=True, strict_parsing=bool(text), max_num_fields=MAX_FIELDS)
    except (UnicodeDecodeError, ValueError) as exc:
        raise InvalidRequest(f"the form body is malformed: {exc}", reason="malformed_body") from None
    fields: dict[str, list[str]] = {}
    for name, value in pairs:
        if "\x00" in value or "\x00" in name:
            raise InvalidRequest("the form body contains a NUL character", reason="malformed_body")
        fields.setdefault(name, []).append(value)
        if len(fields[name]) > 1 and name not in REPEATABLE:
            raise InvalidRequest(f"parameter {name!r} is repeated", reason="repeated_parameter")
    return fields


def _one(fields: dict[str, list[str]], name: str) -> str | None:
    values = fields.get(name)
    return None if values is None else values[0]


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
    text = _one(fields, "ttl")
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
            "Form-encoded client_credentials grant; client_secret_basic or client_secret_post; "
            "audience or RFC 8707 resource; errors per RFC 6749 §5.2."
        ),
        status_code=200,
    )
    async def token(
        self,
        request: Request[Any, Any, Any],
        minter: NamedDependency[Minter],
        clients: NamedDependency[ClientRegistry],
    ) -> Response[OAuthTokenResponse]:
        if media_type(request) != FORM:
            raise UnsupportedMediaType(f"the body must be {FORM}", reason="wrong_content_type")
        fields = parse_form(await request.body())
        client = clients.authenticate(*_credentials(request, fields))
        grant_type = _one(fields, "grant_type")
        if grant_type is None:
            raise InvalidRequest("grant_type is required", reason="grant_type_missing")
        if grant_type != "client_credentials":
            raise UnsupportedGrantType(reason="grant_type_unsupported")
        scope = _one(fields, "scope") or None
        token = await minter.mint(
            client, MintRequest(audience=_audience(fields), scope=scope, ttl=_ttl(fields)), endpoint="oauth2"
        )
        answer = OAuthTokenResponse(
            access_token=token.access_token,
            token_type="Bearer",
            expires_in=token.expires_in,
            scope=token.scope or None,
        )
        return Response(content=json_encoder.encode(answer), media_type=JSON, headers=NO_STORE)  # type: ignore[arg-type]


def _credentials(request: Request[Any, Any, Any], fields: dict[str, list[str]]) -> tuple[str, str]:
    authorization = request.headers.get("authorization")
    posted_id, posted_secret = _one(fields, "client_id"), _one(fields, "client_secret")
    if authorization is not None:
        if posted_secret is not None:
            raise InvalidRequest("use one client authentication method, not two", reason="two_auth_methods")
        client_id, secret = parse_basic(authorization)
        if posted_id is not None and posted_id != client_id:
            raise InvalidRequest("client_id does not match the authenticated client", reason="client_id_mismatch")
        return client_id, secret
    if posted_id is None or posted_secret is None:
        raise InvalidClient("authenticate with HTTP Basic or client_id and client_secret", reason="missing_credentials")
    return check_credentials(posted_id, posted_secret)

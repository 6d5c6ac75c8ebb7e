"""msgspec structs for every payload Titan reads or writes over HTTP, with typed decoders built once."""

from __future__ import annotations

import json
from typing import Annotated, Any, Final

import msgspec

from app.clients.model import AUDIENCE_PATTERN

SCOPE_PATTERN: Final = r"^[\x21\x23-\x5b\x5d-\x7e]+( [\x21\x23-\x5b\x5d-\x7e]+)*$"
MAX_AUDIENCES: Final = 16

Audience = Annotated[str, msgspec.Meta(min_length=1, max_length=255, pattern=AUDIENCE_PATTERN)]
AudienceList = Annotated[list[Audience], msgspec.Meta(min_length=1, max_length=MAX_AUDIENCES)]
Scope = Annotated[
    str,
    msgspec.Meta(
        min_length=1,
        max_length=2048,
        pattern=SCOPE_PATTERN,
        description="Space-separated scope tokens (RFC 6749 §3.3); defaults to all the client may have.",
    ),
]
Ttl = Annotated[int, msgspec.Meta(ge=1, description="Token lifetime in seconds; defaults to TITAN_DEFAULT_TTL.")]


class MintBody(msgspec.Struct, frozen=True, forbid_unknown_fields=True):
    """Body of POST /v1/tokens."""

    audience: Audience | AudienceList
    scope: Scope | None = None
    ttl: Ttl | None = None


class TokenResponse(msgspec.Struct, frozen=True):
    """Answer of POST /v1/tokens."""

    access_token: str
    token_type: str
    expires_in: int
    expires_at: int
    scope: str
    kid: str
    jti: str


class OAuthTokenResponse(msgspec.Struct, frozen=True, omit_defaults=True):
    """Successful access token response, RFC 6749 §5.1."""

    access_token: str
    token_type: str
    expires_in: int
    scope: str | None = None


class OAuthTokenForm(msgspec.Struct, frozen=True, omit_defaults=True):
    """Form fields of POST /oauth2/token (documentation; the form is parsed by app/http/forms.py)."""

    grant_type: str
    audience: str | None = None
    resource: str | None = None
    scope: str | None = None
    ttl: int | None = None
    client_id: str | None = None
    client_secret: str | None = None
    client_assertion_type: str | None = None
    client_assertion: str | None = None


class TokenForm(msgspec.Struct, frozen=True, omit_defaults=True):
    """Form fields of POST /oauth2/revoke and /oauth2/introspect, with the client's authentication."""

    token: str
    token_type_hint: str | None = None
    client_id: str | None = None
    client_secret: str | None = None
    client_assertion_type: str | None = None
    client_assertion: str | None = None


class IntrospectionResponse(msgspec.Struct, frozen=True, omit_defaults=True):
    """Introspection response, RFC 7662 §2.2: the claims of an active token, or only active false."""

    active: bool
    token_type: str | None = None
    iss: str | None = None
    sub: str | None = None
    client_id: str | None = None
    aud: str | list[str] | None = None
    scope: str | None = None
    iat: int | None = None
    nbf: int | None = None
    exp: int | None = None
    jti: str | None = None


class ErrorBody(msgspec.Struct, frozen=True):
    """Every error Titan answers with; on OAuth endpoints this is the RFC 6749 §5.2 body."""

    error: str
    error_description: str


mint_body_decoder: Final = msgspec.json.Decoder(MintBody)
_FIELD_NAMES: Final = tuple(f'"{name}"'.encode() for name in MintBody.__struct_fields__)


def _no_duplicates(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    names = [name for name, _ in pairs]
    if len(set(names)) != len(names):
        raise ValueError("a key appears twice")
    return dict(pairs)


def decode_mint_body(body: bytes) -> MintBody:
    """Strictly: unknown fields, wrong types and duplicate keys are all errors (msgspec.DecodeError)."""
    request = mint_body_decoder.decode(body)
    # A repeated key would silently mean its last value; refuse it. Only when a field name occurs
    # twice in the raw bytes can a key be repeated, so the exact check is rarely needed.
    if any(body.count(name) > 1 for name in _FIELD_NAMES):
        try:
            json.loads(body, object_pairs_hook=_no_duplicates)
        except ValueError:
            raise msgspec.DecodeError("JSON object has a duplicate key") from None
    return request

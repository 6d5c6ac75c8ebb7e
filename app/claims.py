"""RFC 9068 access-token claims: built from a grant and encoded once with msgspec."""

from __future__ import annotations

import os
from typing import Final

import msgspec

from app.encoding import b64url
from app.policy import Grant

JTI_BYTES: Final = 16  # 128 random bits


class AccessTokenClaims(msgspec.Struct, frozen=True, omit_defaults=True):
    """The JWT claims set of a Titan access token (RFC 9068 §2.2)."""

    iss: str
    sub: str
    aud: str | list[str]
    iat: int
    nbf: int
    exp: int
    jti: str
    client_id: str
    scope: str | None = None


claims_encoder: Final = msgspec.json.Encoder()


def new_jti() -> str:
    return b64url(os.urandom(JTI_BYTES)).decode("ascii")


def build_claims(
    *, issuer: str, client_id: str, grant: Grant, now: int, clock_skew: int, jti: str
) -> AccessTokenClaims:
    """Claims for ``client_id``: ``sub`` and ``iss`` are never the caller's choice."""
    return AccessTokenClaims(
        iss=issuer,
        sub=client_id,
        aud=grant.audience[0] if len(grant.audience) == 1 else list(grant.audience),
        iat=now,
        nbf=now - clock_skew,
        exp=now + grant.ttl,
        jti=jti,
        client_id=client_id,
        scope=" ".join(grant.scope) if grant.scope else None,
    )

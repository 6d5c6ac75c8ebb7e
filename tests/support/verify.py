"""Independent verification of Titan tokens from nothing but a JWKS document."""

from __future__ import annotations

import json
from typing import Any

import jwt as pyjwt
from joserfc import jwt as jose_jwt
from joserfc.jwk import KeySet
from joserfc.jws import JWSRegistry


def verify_with_pyjwt(token: str, jwks: dict[str, Any], *, audience: str, issuer: str) -> dict[str, Any]:
    header = pyjwt.get_unverified_header(token)
    jwk = next(key for key in jwks["keys"] if key["kid"] == header["kid"])
    claims: dict[str, Any] = pyjwt.decode(
        token,
        pyjwt.PyJWK(jwk).key,
        algorithms=[jwk["alg"]],
        audience=audience,
        issuer=issuer,
        options={"require": ["exp", "iat", "nbf", "iss", "aud", "sub", "jti"]},
    )
    return claims


def verify_with_joserfc(token: str, jwks: dict[str, Any]) -> tuple[dict[str, Any], dict[str, Any]]:
    """(header, claims) after joserfc checked the signature against the key named by kid."""
    algs = sorted({key["alg"] for key in jwks["keys"]})
    decoded = jose_jwt.decode(
        token, KeySet.import_key_set(jwks), algorithms=algs, registry=JWSRegistry(algorithms=algs)
    )
    return dict(decoded.header), json.loads(json.dumps(decoded.claims))

"""Key material per JWS algorithm: generate, export, import, RFC 7638 thumbprint."""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Final

from joserfc.jwk import ECKey, OKPKey, RSAKey

JoseKey = ECKey | RSAKey | OKPKey

_GENERATORS: Final[dict[str, Callable[[], JoseKey]]] = {
    "ES256": lambda: ECKey.generate_key("P-256"),
    "RS256": lambda: RSAKey.generate_key(2048),
    "EdDSA": lambda: OKPKey.generate_key("Ed25519"),
}
_KEY_TYPES: Final[dict[str, type[JoseKey]]] = {"ES256": ECKey, "RS256": RSAKey, "EdDSA": OKPKey}


def generate_private_key(alg: str) -> JoseKey:
    """A fresh private key for ``alg`` (P-256 for ES256, RSA-2048 for RS256, Ed25519 for EdDSA)."""
    return _GENERATORS[alg]()


def thumbprint(key: JoseKey) -> str:
    """The RFC 7638 SHA-256 JWK thumbprint, used as the key id."""
    return str(key.thumbprint())


def public_jwk(key: JoseKey, alg: str) -> dict[str, str]:
    """The public JWK as published in the JWKS (RFC 7517), with kid, use and alg."""
    jwk = {name: str(value) for name, value in key.as_dict(private=False).items()}
    jwk.update(kid=thumbprint(key), use="sig", alg=alg)
    return jwk


def export_private_pem(key: JoseKey) -> bytes:
    return bytes(key.as_pem(private=True))


def import_private_pem(alg: str, pem: bytes) -> JoseKey:
    return _KEY_TYPES[alg].import_key(pem)


def import_public_jwk(jwk: dict[str, str]) -> JoseKey:
    return _KEY_TYPES[jwk["alg"]].import_key({name: value for name, value in jwk.items() if name not in ("alg", "use")})


def public_jwk_json(key: JoseKey, alg: str) -> str:
    return json.dumps(public_jwk(key, alg), sort_keys=True)

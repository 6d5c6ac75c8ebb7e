"""Signer adapter over joserfc's JWS algorithm models (ECDSA P-256 by default)."""

from __future__ import annotations

from typing import Final

from joserfc.jws import JWSRegistry

from app.keys.material import JoseKey, generate_private_key
from app.signing.port import SigningKey

_DISPLAY_NAMES: Final = {"ES256": "ECDSA-ES256", "RS256": "RSA-RS256", "EdDSA": "EdDSA-Ed25519"}


def display_name(alg: str) -> str:
    return _DISPLAY_NAMES[alg]


class JoseSigner:
    """Signs with joserfc's algorithm objects; keys of any supported algorithm keep working."""

    def __init__(self, alg: str) -> None:
        if alg not in _DISPLAY_NAMES:
            raise ValueError(f"unsupported signing algorithm {alg!r}")
        self._alg = alg
        self._models = {name: JWSRegistry.algorithms[name] for name in _DISPLAY_NAMES}

    @property
    def alg(self) -> str:
        return self._alg

    @property
    def name(self) -> str:
        return display_name(self._alg)

    def generate_key(self) -> JoseKey:
        return generate_private_key(self._alg)

    def sign(self, key: SigningKey, message: bytes) -> bytes:
        return self._models[key.alg].sign(message, key.jose_key)

"""Signer adapter for joserfc keys (ECDSA P-256 by default), with a prepared signing path per key.

Keys are joserfc keys (generation, PEM and JWK import/export, RFC 7638 thumbprints); the
signature itself is made with the key's own `cryptography` object and a signature scheme built
once per key, the same operations joserfc's algorithm models perform, minus their per-call
lookups. Tests check that joserfc and PyJWT verify every algorithm's output.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, Final

from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ec, padding
from cryptography.hazmat.primitives.asymmetric.utils import decode_dss_signature

from app.keys.material import JoseKey, generate_private_key
from app.signing.port import SigningKey

_DISPLAY_NAMES: Final = {"ES256": "ECDSA-ES256", "RS256": "RSA-RS256", "EdDSA": "EdDSA-Ed25519"}
_MAX_PREPARED: Final = 64


def display_name(alg: str) -> str:
    return _DISPLAY_NAMES[alg]


def _prepare(alg: str, jose_key: JoseKey) -> Callable[[bytes], bytes]:
    """A function signing a JWS signing input with this key, returning the JWS signature bytes."""
    private: Any = jose_key.private_key
    if alg == "ES256":
        scheme = ec.ECDSA(hashes.SHA256())

        def sign_es256(message: bytes) -> bytes:  # RFC 7518 §3.4: R || S, 32 bytes each
            r, s = decode_dss_signature(private.sign(message, scheme))
            return r.to_bytes(32, "big") + s.to_bytes(32, "big")

        return sign_es256
    if alg == "RS256":
        pkcs1, sha256 = padding.PKCS1v15(), hashes.SHA256()
        return lambda message: bytes(private.sign(message, pkcs1, sha256))
    if alg == "EdDSA":
        return lambda message: bytes(private.sign(message))
    raise ValueError(f"unsupported signing algorithm {alg!r}")


class JoseSigner:
    """Signs with any supported key; new keys are generated for the configured ``alg``."""

    def __init__(self, alg: str) -> None:
        if alg not in _DISPLAY_NAMES:
            raise ValueError(f"unsupported signing algorithm {alg!r}")
        self._alg = alg
        self._prepared: dict[str, Callable[[bytes], bytes]] = {}

    @property
    def alg(self) -> str:
        return self._alg

    @property
    def name(self) -> str:
        return display_name(self._alg)

    def generate_key(self) -> JoseKey:
        return generate_private_key(self._alg)

    def sign(self, key: SigningKey, message: bytes) -> bytes:
        prepared = self._prepared.get(key.kid)
        if prepared is None:
            if len(self._prepared) >= _MAX_PREPARED:  # only a few keys ever sign; keep it small
                self._prepared.clear()
            prepared = self._prepared[key.kid] = _prepare(key.alg, key.jose_key)
        return prepared(message)

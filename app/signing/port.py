"""The Signer protocol and the in-memory signing key it signs with."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Protocol

from app.keys.material import JoseKey


@dataclass(frozen=True, slots=True)
class SigningKey:
    """A decrypted private key ready to sign, with its JWS header segment encoded once."""

    kid: str
    alg: str
    jose_key: JoseKey = field(repr=False)
    header_segment: bytes


class Signer(Protocol):
    """Produces JWS signatures; the algorithm of new keys is the signer's ``alg``."""

    @property
    def alg(self) -> str:
        """The JWS ``alg`` of keys this signer generates (ES256, RS256, EdDSA)."""
        ...

    @property
    def name(self) -> str:
        """The name operators see in stats, e.g. ``ECDSA-ES256``."""
        ...

    def generate_key(self) -> JoseKey: ...

    def sign(self, key: SigningKey, message: bytes) -> bytes:
        """The raw JWS signature of ``message`` (the signing input) with ``key``."""
        ...

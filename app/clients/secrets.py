"""Client secrets: 256-bit random values stored only as SHA-256 digests, checked in constant time."""

from __future__ import annotations

import hashlib
import hmac
import secrets
from typing import Final

SECRET_BYTES: Final = 32


def generate_secret() -> str:
    """A fresh 256-bit secret, base64url (43 characters)."""
    return secrets.token_urlsafe(SECRET_BYTES)


def hash_secret(secret: str) -> bytes:
    """SHA-256 of the secret: fast to check, and useless if leaked for a 256-bit random secret.

    A slow password hash would only add latency: no dictionary covers 2**256 values.
    """
    return hashlib.sha256(secret.encode("utf-8", "surrogatepass")).digest()


def secret_matches(secret: str, secret_hash: bytes) -> bool:
    return hmac.compare_digest(hash_secret(secret), secret_hash)

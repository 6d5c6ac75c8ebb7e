"""What the baselines share: a P-256 key made at start, one bench client, Titan's claim set."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import os
import secrets
import time
from typing import Any

from cryptography.hazmat.primitives.asymmetric import ec

ISSUER = "http://127.0.0.1"
CLIENT_ID = os.environ.get("BENCH_CLIENT_ID", "bench")
CLIENT_SECRET_HASH = hashlib.sha256(os.environ.get("BENCH_CLIENT_SECRET", "bench-secret").encode()).digest()
PRIVATE_KEY = ec.generate_private_key(ec.SECP256R1())


def public_jwk() -> dict[str, str]:
    numbers = PRIVATE_KEY.public_key().public_numbers()

    def b64(value: int) -> str:
        return base64.urlsafe_b64encode(value.to_bytes(32, "big")).rstrip(b"=").decode()

    return {"kty": "EC", "crv": "P-256", "x": b64(numbers.x), "y": b64(numbers.y), "kid": "bench", "alg": "ES256"}


def check_basic(header: str | None) -> bool:
    """The same client check Titan makes: Basic credentials, SHA-256, constant-time compare."""
    if not header or not header.lower().startswith("basic "):
        return False
    client_id, _, secret = base64.b64decode(header[6:]).decode().partition(":")
    return client_id == CLIENT_ID and hmac.compare_digest(hashlib.sha256(secret.encode()).digest(), CLIENT_SECRET_HASH)


def claims(audience: Any, ttl: int = 300) -> dict[str, Any]:
    """Titan's claim set (RFC 9068)."""
    now = int(time.time())
    return {
        "iss": ISSUER,
        "sub": CLIENT_ID,
        "aud": audience,
        "iat": now,
        "nbf": now - 30,
        "exp": now + ttl,
        "jti": secrets.token_urlsafe(16),
        "client_id": CLIENT_ID,
    }


def jwks_document() -> bytes:
    return json.dumps({"keys": [public_jwk()]}).encode()

"""Client assertions (RFC 7523) built with independent libraries, and hand-made hostile ones."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import time
import uuid
from typing import Any

import jwt as pyjwt
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec, ed25519, rsa


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


class ClientKey:
    """A calling service's own key pair: the public JWK is registered, the private key signs."""

    def __init__(self, alg: str = "ES256", kid: str = "client-key-1") -> None:
        self.alg, self.kid = alg, kid
        if alg == "ES256":
            self.private: Any = ec.generate_private_key(ec.SECP256R1())
        elif alg == "RS256":
            self.private = rsa.generate_private_key(public_exponent=65537, key_size=2048)
        else:
            self.private = ed25519.Ed25519PrivateKey.generate()

    @property
    def public_jwk(self) -> dict[str, Any]:
        """The public JWK, exported by PyJWT."""
        algorithm = pyjwt.get_algorithm_by_name(self.alg)
        jwk: dict[str, Any] = json.loads(algorithm.to_jwk(self.private.public_key()))
        jwk.update(kid=self.kid, alg=self.alg, use="sig")
        return jwk

    @property
    def public_pem(self) -> bytes:
        return bytes(
            self.private.public_key().public_bytes(
                serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
            )
        )

    def assertion(self, client_id: str, audience: str | list[str], **overrides: Any) -> str:
        """A fresh assertion signed with PyJWT; ``overrides`` replace or (None) drop claims."""
        now = int(time.time())
        claims: dict[str, Any] = {
            "iss": client_id,
            "sub": client_id,
            "aud": audience,
            "iat": now,
            "exp": now + 60,
            "jti": str(uuid.uuid4()),
        }
        claims.update(overrides)
        claims = {name: value for name, value in claims.items() if value is not None}
        return pyjwt.encode(claims, self.private, algorithm=self.alg, headers={"kid": self.kid})


def unsigned_assertion(client_id: str, audience: str) -> str:
    """alg: none."""
    now = int(time.time())
    header = _b64(json.dumps({"alg": "none", "typ": "JWT"}).encode())
    claims = {"iss": client_id, "sub": client_id, "aud": audience, "exp": now + 60, "jti": str(uuid.uuid4())}
    return f"{header}.{_b64(json.dumps(claims).encode())}."


def hmac_with_public_key(key: ClientKey, client_id: str, audience: str) -> str:
    """The key-confusion attack: HS256 with the client's *public* key as the shared secret."""
    now = int(time.time())
    header = _b64(json.dumps({"alg": "HS256", "typ": "JWT", "kid": key.kid}).encode())
    claims = {"iss": client_id, "sub": client_id, "aud": audience, "exp": now + 60, "jti": str(uuid.uuid4())}
    signing_input = f"{header}.{_b64(json.dumps(claims).encode())}"
    signature = hmac.new(key.public_pem, signing_input.encode(), hashlib.sha256).digest()
    return f"{signing_input}.{_b64(signature)}"

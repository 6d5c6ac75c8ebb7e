"""The in-memory view of a registered client and the validation of its identifiers."""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from typing import Final

from cryptography.hazmat.primitives.asymmetric.rsa import RSAPublicKey
from joserfc.jwk import KeySet

from app.store.port import ClientRecord

CLIENT_ID_PATTERN: Final = r"^[A-Za-z0-9][A-Za-z0-9._~-]{0,127}$"
# RFC 6749 §3.3: scope-token = 1*NQCHAR, NQCHAR = %x21 / %x23-5B / %x5D-7E
SCOPE_TOKEN_PATTERN: Final = r"^[\x21\x23-\x5b\x5d-\x7e]{1,128}$"
# An audience: a service name or an absolute URI; printable ASCII, no spaces.
AUDIENCE_PATTERN: Final = r"^[\x21-\x7e]{1,255}$"

_CLIENT_ID = re.compile(CLIENT_ID_PATTERN)
_SCOPE_TOKEN = re.compile(SCOPE_TOKEN_PATTERN)
_AUDIENCE = re.compile(AUDIENCE_PATTERN)


def is_client_id(text: str) -> bool:
    return _CLIENT_ID.match(text) is not None


def is_scope_token(text: str) -> bool:
    return _SCOPE_TOKEN.match(text) is not None


def is_audience(text: str) -> bool:
    return _AUDIENCE.match(text) is not None


@dataclass(frozen=True, slots=True)
class Client:
    """A registered client as the mint path sees it: sets for O(1) policy checks."""

    client_id: str
    secret_hash: bytes = field(repr=False)
    audiences: tuple[str, ...]
    scopes: tuple[str, ...]
    max_ttl: int
    allowed_audiences: frozenset[str]
    allowed_scopes: frozenset[str]
    auth_method: str = "client_secret"
    public_keys: KeySet | None = field(default=None, repr=False)  # private_key_jwt verification keys
    jwks_uri: str | None = None
    not_before: int | None = None
    disabled: bool = False
    rate: float | None = None
    burst: int | None = None

    @classmethod
    def from_record(cls, record: ClientRecord, remote_jwks: str | None = None) -> Client:
        jwks = record.jwks if record.jwks is not None else remote_jwks
        return cls(
            client_id=record.client_id,
            secret_hash=record.secret_hash,
            audiences=record.audiences,
            scopes=record.scopes,
            max_ttl=record.max_ttl,
            allowed_audiences=frozenset(record.audiences),
            allowed_scopes=frozenset(record.scopes),
            auth_method=record.auth_method,
            public_keys=parse_client_jwks(jwks) if jwks is not None else None,
            jwks_uri=record.jwks_uri,
            not_before=record.not_before,
            disabled=record.disabled,
            rate=record.rate,
            burst=record.burst,
        )


ASSERTION_KEY_TYPES: Final = {"EC": "ES256", "RSA": "RS256", "OKP": "EdDSA"}


def parse_client_jwks(text: str) -> KeySet:
    """A client's public keys from a JWK or a JWKS document; private or symmetric keys are refused."""
    document = json.loads(text)
    keys = document["keys"] if isinstance(document, dict) and "keys" in document else [document]
    if not isinstance(keys, list) or not keys:
        raise ValueError("expected a JWK or a JWKS with at least one key")
    for jwk in keys:
        if not isinstance(jwk, dict) or jwk.get("kty") not in ASSERTION_KEY_TYPES:
            raise ValueError("only EC P-256, RSA and OKP Ed25519 public keys can sign client assertions")
        if "d" in jwk or "p" in jwk:
            raise ValueError("the JWK holds a private key: register the public key only")
        if jwk["kty"] == "EC" and jwk.get("crv") != "P-256":
            raise ValueError("EC keys must be on P-256 (ES256)")
        if jwk["kty"] == "OKP" and jwk.get("crv") != "Ed25519":
            raise ValueError("OKP keys must be Ed25519 (EdDSA)")
    key_set = KeySet.import_key_set({"keys": keys})
    for key in key_set.keys:
        raw = key.raw_value
        if isinstance(raw, RSAPublicKey) and raw.key_size < 2048:
            raise ValueError("RSA keys must have at least 2048 bits")
    return key_set

"""private_key_jwt client authentication (RFC 7523 §3, OIDC Core §9): verify a client's signed assertion."""

from __future__ import annotations

import base64
import binascii
import math
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any, Final

import msgspec
from joserfc.errors import JoseError
from joserfc.jws import JWSRegistry

from app.clients.model import Client
from app.clients.replay import ReplayCache
from app.errors import InvalidClient

ASSERTION_TYPE: Final = "urn:ietf:params:oauth:client-assertion-type:jwt-bearer"
ACCEPTED_ALGS: Final = frozenset({"ES256", "RS256", "EdDSA"})
MAX_ASSERTION_BYTES: Final = 8192
MAX_JTI_LENGTH: Final = 256

_decode_json: Final = msgspec.json.Decoder(dict[str, Any])


def _b64decode(segment: str) -> bytes:
    return base64.urlsafe_b64decode(segment + "=" * (-len(segment) % 4))


@dataclass(frozen=True, slots=True)
class AssertionUse:
    """An accepted assertion's jti and how long it must be remembered to refuse its replays."""

    jti: str
    remember_until: int


def replayed() -> InvalidClient:
    return _refuse("it was already used (replay)", "assertion_replay")


def _refuse(description: str, reason: str) -> InvalidClient:
    return InvalidClient(f"client assertion refused: {description}", reason=reason)


def parse_assertion(assertion: str) -> tuple[dict[str, Any], dict[str, Any], bytes, bytes]:
    """(header, claims, signing input, signature) of a compact JWS, unverified."""
    if len(assertion) > MAX_ASSERTION_BYTES:
        raise _refuse("it is too long", "assertion_malformed")
    parts = assertion.split(".")
    if len(parts) != 3:
        raise _refuse("it is not a compact JWS", "assertion_malformed")
    try:
        header = _decode_json.decode(_b64decode(parts[0]))
        claims = _decode_json.decode(_b64decode(parts[1]))
        signature = _b64decode(parts[2])
    except (binascii.Error, ValueError, msgspec.DecodeError):
        raise _refuse("it is not a well-formed JWT", "assertion_malformed") from None
    return header, claims, f"{parts[0]}.{parts[1]}".encode("ascii"), signature


def claimed_client_id(claims: dict[str, Any]) -> str:
    issuer, subject = claims.get("iss"), claims.get("sub")
    if not isinstance(issuer, str) or issuer != subject:
        raise _refuse("iss and sub must both be the client id", "assertion_claims")
    return issuer


class AssertionVerifier:
    """Checks signature, algorithm, iss = sub = client, audience, expiry and single use."""

    def __init__(
        self,
        *,
        audiences: Iterable[str],
        max_lifetime: int,
        clock_skew: int,
        replay_cache: ReplayCache,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self._audiences = frozenset(audiences)
        self._max_lifetime = max_lifetime
        self._skew = clock_skew
        self._replays = replay_cache
        self._clock = clock

    def verify(self, client: Client, assertion: str) -> AssertionUse:
        """The use to record if ``assertion`` authenticates ``client``; InvalidClient saying why otherwise.

        Replays are refused here from this instance's memory; a fleet also claims the returned
        jti in the shared store (the Authenticator does, off the event loop)."""
        header, claims, signing_input, signature = parse_assertion(assertion)
        alg = header.get("alg")
        if alg not in ACCEPTED_ALGS:
            raise _refuse(f"algorithm {str(alg)[:20]!r} is not accepted (ES256, RS256, EdDSA)", "assertion_alg")
        if client.public_keys is None:
            raise _refuse("this client has no registered public key", "assertion_no_key")
        if claimed_client_id(claims) != client.client_id:
            raise _refuse("iss and sub must both be the client id", "assertion_claims")
        if not self._signature_valid(client, header, alg, signing_input, signature):
            raise _refuse("the signature does not verify with the client's registered keys", "assertion_signature")
        self._check_claims(claims)
        expires_at = float(claims["exp"])
        if not self._replays.first_use(client.client_id, claims["jti"], expires_at + self._skew):
            raise replayed()
        return AssertionUse(jti=claims["jti"], remember_until=math.ceil(expires_at) + self._skew)

    def _signature_valid(
        self, client: Client, header: dict[str, Any], alg: str, signing_input: bytes, signature: bytes
    ) -> bool:
        model = JWSRegistry.algorithms[alg]
        keys = client.public_keys.keys if client.public_keys is not None else []
        kid = header.get("kid")
        candidates = [key for key in keys if (kid is None or key.kid == kid) and key.key_type == model.key_type]
        for key in candidates:
            try:
                model.check_key(key)  # type and curve must fit the algorithm (no key confusion)
            except JoseError:
                continue
            if model.verify(signing_input, signature, key):
                return True
        return False

    def _check_claims(self, claims: dict[str, Any]) -> None:
        now = self._clock()
        audience = claims.get("aud")
        audiences = [audience] if isinstance(audience, str) else audience if isinstance(audience, list) else []
        if not self._audiences.intersection(a for a in audiences if isinstance(a, str)):
            raise _refuse("aud must be the token endpoint or the issuer", "assertion_audience")
        expires = claims.get("exp")
        if not isinstance(expires, int | float) or isinstance(expires, bool):
            raise _refuse("exp is required", "assertion_claims")
        if expires + self._skew <= now:
            raise _refuse("it has expired", "assertion_expired")
        if expires - now > self._max_lifetime:
            raise _refuse(f"exp is more than {self._max_lifetime}s ahead", "assertion_lifetime")
        for name in ("iat", "nbf"):
            value = claims.get(name)
            if value is not None and (not isinstance(value, int | float) or value > now + self._skew):
                raise _refuse(f"{name} is in the future", "assertion_claims")
        jti = claims.get("jti")
        if not isinstance(jti, str) or not 0 < len(jti) <= MAX_JTI_LENGTH:
            raise _refuse("jti is required (a unique string)", "assertion_claims")

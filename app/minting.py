"""The mint pipeline: policy -> claims -> gate -> sign -> metrics, shared by every mint endpoint."""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass

from app.audit import AuditLog
from app.claims import AccessTokenClaims, build_claims, claims_encoder, new_jti
from app.clients.model import Client
from app.encoding import b64url
from app.errors import TitanError, UnauthorizedClient
from app.gate import Gate
from app.keys.keyring import Keyring
from app.limits import RateLimiter
from app.metrics import MetricsStore
from app.policy import decide
from app.signing.port import Signer, SigningKey
from settings import Settings


@dataclass(frozen=True, slots=True)
class MintRequest:
    """What a caller asked for, already parsed from its endpoint's wire format."""

    audience: tuple[str, ...] | None
    scope: str | None
    ttl: int | None


@dataclass(frozen=True, slots=True)
class MintedToken:
    """A signed access token and what the caller is told about it."""

    access_token: str
    expires_in: int
    expires_at: int
    scope: str
    kid: str
    jti: str


class Minter:
    """Turns an authenticated client's request into a signed RFC 9068 access token."""

    def __init__(
        self,
        *,
        settings: Settings,
        keyring: Keyring,
        signer: Signer,
        gate: Gate,
        metrics: MetricsStore,
        limiter: RateLimiter,
        audit: AuditLog,
        clock: Callable[[], float] = time.time,
        jti_factory: Callable[[], str] = new_jti,
    ) -> None:
        self._settings = settings
        self._keyring = keyring
        self._signer = signer
        self._gate = gate
        self._metrics = metrics
        self._limiter = limiter
        self._audit = audit
        self._clock = clock
        self._jti_factory = jti_factory

    async def mint(self, client: Client, request: MintRequest, *, endpoint: str, remote: str) -> MintedToken:
        started = time.perf_counter()
        try:
            key, claims, signing_input = self._prepare(client, request)
            if self._gate.inline:  # signing on the loop: no reason to suspend this coroutine
                signature = self._gate.run_inline(self._signer.sign, key, signing_input)
            else:
                signature = await self._gate.run(self._signer.sign, key, signing_input)
        except TitanError as exc:
            exc.client_id = client.client_id
            raise
        self._metrics.record_signature()
        token = (signing_input + b"." + b64url(signature)).decode("ascii")
        self._metrics.record_mint(endpoint, time.perf_counter() - started)
        self._audit.record(
            "mint",
            client_id=client.client_id,
            audience=claims.aud,
            scope=claims.scope,
            kid=key.kid,
            jti=claims.jti,
            expires_at=claims.exp,
            remote=remote,
            method=endpoint,
        )
        return MintedToken(
            access_token=token,
            expires_in=claims.exp - claims.iat,
            expires_at=claims.exp,
            scope=claims.scope or "",
            kid=key.kid,
            jti=claims.jti,
        )

    def _prepare(self, client: Client, request: MintRequest) -> tuple[SigningKey, AccessTokenClaims, bytes]:
        """Policy and claims: the key, the claims and the JWS signing input."""
        settings = self._settings
        if client.disabled:
            raise UnauthorizedClient(f"client {client.client_id!r} is disabled", reason="client_disabled")
        self._limiter.check(client.client_id, client.rate, client.burst)
        grant = decide(
            client,
            audience=request.audience,
            scope=request.scope,
            ttl=request.ttl,
            default_ttl=settings.default_ttl,
            max_ttl=settings.max_ttl,
        )
        key = self._keyring.active  # one read: a rotation mid-mint cannot mix two keys
        now = int(self._clock())
        claims = build_claims(
            issuer=settings.issuer,
            client_id=client.client_id,
            grant=grant,
            now=now,
            clock_skew=settings.clock_skew,
            jti=self._jti_factory(),
        )
        signing_input = key.header_segment + b"." + b64url(claims_encoder.encode(claims))
        return key, claims, signing_input

"""Client authentication: client secrets and private_key_jwt, behind brute-force protection."""

from __future__ import annotations

import asyncio
from dataclasses import dataclass, field

from app.audit import AuditLog
from app.clients.assertions import AssertionUse, AssertionVerifier, replayed
from app.clients.model import Client
from app.clients.registry import ClientRegistry
from app.errors import InvalidClient, TitanError
from app.limits import BruteForceGuard
from app.metrics import MetricsStore
from app.store.port import Store


@dataclass(frozen=True, slots=True)
class SecretCredentials:
    client_id: str
    secret: str = field(repr=False)
    method: str = "client_secret_basic"


@dataclass(frozen=True, slots=True)
class AssertionCredentials:
    client_id: str  # as claimed by the assertion (iss = sub), verified below
    assertion: str = field(repr=False)
    method: str = "private_key_jwt"


Credentials = SecretCredentials | AssertionCredentials


class Authenticator:
    """Turns credentials into a Client, counting outcomes and slowing or refusing repeated failures."""

    def __init__(
        self,
        *,
        registry: ClientRegistry,
        verifier: AssertionVerifier,
        guard: BruteForceGuard,
        metrics: MetricsStore,
        audit: AuditLog,
        replay_store: Store | None = None,
    ) -> None:
        """``replay_store``: a store shared by a fleet, where every accepted assertion's jti is
        claimed so that no other instance accepts it again; None for a single node."""
        self._replay_store = replay_store
        self._registry = registry
        self._verifier = verifier
        self._guard = guard
        self._metrics = metrics
        self._audit = audit

    async def authenticate(self, credentials: Credentials, address: str) -> Client:
        try:
            self._guard.check(credentials.client_id, address)
            client, use = self._check(credentials)
            if use is not None and self._replay_store is not None:
                await self._claim_fleet_wide(client, use)
        except TitanError as exc:
            exc.client_id = credentials.client_id
            self._metrics.record_authentication(credentials.method, "failure")
            if isinstance(exc, InvalidClient):
                delay = self._guard.failed(credentials.client_id, address)
                if delay:
                    await asyncio.sleep(delay)
            raise
        self._guard.succeeded(client.client_id, address)
        self._metrics.record_authentication(credentials.method, "success")
        return client

    async def _claim_fleet_wide(self, client: Client, use: AssertionUse) -> None:
        """One INSERT in the shared store, off the loop; a store that cannot answer refuses (503)."""
        assert self._replay_store is not None
        store = self._replay_store
        if not await asyncio.to_thread(store.claim_assertion, client.client_id, use.jti, use.remember_until):
            raise replayed()

    def _check(self, credentials: Credentials) -> tuple[Client, AssertionUse | None]:
        if isinstance(credentials, SecretCredentials):
            client = self._registry.authenticate(credentials.client_id, credentials.secret)
            if client.auth_method != "client_secret":
                raise InvalidClient(reason="wrong_auth_method")
            return client, None
        client_or_none = self._registry.get(credentials.client_id)
        if client_or_none is None:
            raise InvalidClient(reason="unknown_client")
        if client_or_none.auth_method != "private_key_jwt":
            raise InvalidClient("this client authenticates with a client secret", reason="wrong_auth_method")
        try:
            use = self._verifier.verify(client_or_none, credentials.assertion)
        except InvalidClient as exc:
            if exc.reason == "assertion_signature" and client_or_none.jwks_uri:
                self._registry.request_remote_refresh(client_or_none.client_id)  # maybe a new key
            raise
        return client_or_none, use

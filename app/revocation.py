"""Revoked tokens: the deny list in memory, backed by the store until each token expires."""

from __future__ import annotations

import time
from collections.abc import Callable
from types import MappingProxyType

from app.audit import AuditLog
from app.metrics import MetricsStore
from app.store.port import RevokedToken, Store


class DenyList:
    """jti -> expiry of every revoked, unexpired token; reloaded from the store in the background."""

    def __init__(self, store: Store, clock: Callable[[], float] = time.time) -> None:
        self._store = store
        self._clock = clock
        self._revoked: MappingProxyType[str, int] = MappingProxyType({})

    def __len__(self) -> int:
        return len(self._revoked)

    def __contains__(self, jti: object) -> bool:
        return jti in self._revoked

    def load(self) -> int:
        """Purge expired entries and reload the rest (blocking)."""
        now = int(self._clock())
        self._store.purge_revoked(now)
        self._revoked = MappingProxyType({token.jti: token.expires_at for token in self._store.revoked_tokens(now)})
        return len(self._revoked)

    def add(self, jti: str, expires_at: int) -> None:
        """Take effect in this process at once (the store write is the caller's)."""
        self._revoked = MappingProxyType({**self._revoked, jti: expires_at})


class Revoker:
    """Revokes tokens for clients (RFC 7009) and operators, durably and at once."""

    def __init__(
        self,
        *,
        store: Store,
        deny_list: DenyList,
        metrics: MetricsStore,
        audit: AuditLog,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self._store = store
        self._deny_list = deny_list
        self._metrics = metrics
        self._audit = audit
        self._clock = clock

    def revoke(self, *, jti: str, client_id: str, expires_at: int, actor: str) -> None:
        """Blocking (a store write): run it off the event loop."""
        now = int(self._clock())
        self._store.revoke_token(RevokedToken(jti=jti, client_id=client_id, expires_at=expires_at, revoked_at=now))
        self._deny_list.add(jti, expires_at)
        self._metrics.record_revocation(actor)
        self._audit.record("revocation", client_id=client_id, jti=jti, expires_at=expires_at, actor=actor)

"""The key rotator: carries out the schedule and the operator's key commands against the store.

Every change is computed on a snapshot of the keys and saved in one compare-and-swap
transaction, retried on conflict, so the server's background task and the CLI never step on
each other and a crash leaves either the old state or the new one.
"""

from __future__ import annotations

import dataclasses
import logging
import secrets
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Final

from app.audit import AuditLog
from app.errors import ConfigurationError, NotFound
from app.keys.encryption import KekSource, KeySealer
from app.keys.material import export_private_pem, public_jwk_json, thumbprint
from app.keys.schedule import (
    Action,
    Activate,
    CreateActive,
    Publish,
    Remove,
    Schedule,
    active_key,
    apply,
    merge,
    next_due,
    pending_keys,
    plan,
)
from app.signing.port import Signer
from app.store.port import KeyRecord, Store

log = logging.getLogger("titan.keys")

MAX_STEPS: Final = 8
MAX_ATTEMPTS: Final = 5


class StoreConflict(ConfigurationError):
    error = "store_conflict"
    description = "the key store kept changing under the operation; try again"


@dataclass(frozen=True, slots=True)
class Applied:
    """What one operation changed: a line per transition, for logs and the CLI."""

    transitions: tuple[str, ...]
    keys: tuple[KeyRecord, ...]


class SealerSource:
    """The KEK-backed sealer, loaded on first use and re-read when a key needs a newer KEK."""

    def __init__(self, source: KekSource, store: Store) -> None:
        self._source = source
        self._store = store
        self._sealer: KeySealer | None = None

    @property
    def source(self) -> KekSource:
        return self._source

    def get(self) -> KeySealer:
        if self._sealer is None:
            self._sealer = KeySealer(self._source.load(create=not self._store.list_keys()))
        return self._sealer

    def current(self) -> KeySealer:
        """The sealer with the latest KEKs: a KEK file is re-read, as `rotate-kek` changes it."""
        if self._sealer is None or self._source.from_environment:
            return self.get()
        return self.reload()

    def reload(self) -> KeySealer:
        self._sealer = KeySealer(self._source.load(create=False))
        return self._sealer

    def for_blob(self, sealed: bytes) -> KeySealer:
        """A sealer that can open ``sealed``, re-reading the KEK source once if needed."""
        sealer = self.get()
        if not sealer.can_open(sealed) and not self._source.from_environment:
            sealer = self.reload()
        return sealer


class KeyRotator:
    """Applies due transitions (``tick``) and operator commands (rotate, revoke, rotate-kek)."""

    def __init__(
        self,
        *,
        store: Store,
        signer: Signer,
        sealers: SealerSource,
        schedule: Schedule,
        pickup_delay: int,
        audit: AuditLog | None = None,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self._audit = audit
        self._store = store
        self._signer = signer
        self._sealers = sealers
        self._schedule = schedule
        self._pickup_delay = pickup_delay
        self._clock = clock

    @property
    def schedule(self) -> Schedule:
        return self._schedule

    def tick(self) -> Applied:
        """Carry out every transition due now."""
        return self._commit(lambda keys, now: [])

    def next_due(self, keys: Sequence[KeyRecord]) -> float | None:
        return next_due(keys, alg=self._signer.alg, schedule=self._schedule)

    def rotate(self, *, immediately: bool = False) -> Applied:
        """Schedule a new key through the publish lead, or (``immediately``) activate one at once."""

        def start(keys: Sequence[KeyRecord], now: float) -> list[Action]:
            if immediately:
                return [CreateActive("emergency rotation requested by an operator")]
            pending = [key for key in pending_keys(keys) if key.alg == self._signer.alg]
            if pending:
                return []
            # A running server sees the new key up to one refresh later: lead starts then.
            activates_at = int(now) + 1 + self._schedule.publish_lead + self._pickup_delay + 1
            return [Publish(activates_at, "rotation requested by an operator")]

        return self._commit(start)

    def revoke(self, kid: str) -> Applied:
        """Pull ``kid`` from the JWKS at once; a revoked active key is replaced at once."""

        def start(keys: Sequence[KeyRecord], now: float) -> list[Action]:
            key = next((key for key in keys if key.kid == kid), None)
            if key is None or key.state == "removed":
                raise NotFound(f"no published key {kid!r}")
            return [Remove(kid, "revoked by an operator")]

        return self._commit(start)

    def rotate_kek(self) -> tuple[bytes, bool]:
        """Re-seal every private key under one KEK: (that KEK, whether it was generated here).

        With several KEKs in TITAN_KEY_ENCRYPTION_KEY the first one is the target (the operator
        rolled it out already); otherwise a new KEK is generated. A key file holds both KEKs
        while the store changes over, then only the new one.
        """
        source = self._sealers.source
        keks = source.load(create=False)
        generated = not (source.from_environment and len(keks) > 1)
        target = secrets.token_bytes(32) if generated else keks[0]
        every = [target, *(kek for kek in keks if kek != target)]
        if not source.from_environment:
            source.write(every)
        sealer = KeySealer(every)
        for _ in range(MAX_ATTEMPTS):
            snapshot = self._store.key_snapshot()
            unreadable = [key.kid for key in snapshot.keys if key.private_key and not sealer.can_open(key.private_key)]
            if unreadable:
                raise ConfigurationError(f"keys sealed under an unknown key-encryption key: {', '.join(unreadable)}")
            resealed = [
                dataclasses.replace(key, private_key=sealer.reseal(key.kid, key.private_key))
                for key in snapshot.keys
                if key.private_key
            ]
            if self._store.save_keys(resealed, expected_generation=snapshot.generation):
                break
        else:
            raise StoreConflict
        if not source.from_environment:
            source.write([target])
            self._sealers.reload()
        log.warning("re-sealed %d private keys under one key-encryption key", len(resealed))
        if self._audit is not None:
            self._audit.record("key", detail=f"re-sealed {len(resealed)} private keys under a new key-encryption key")
        return target, generated

    def _new_key(self, state: str, now: int) -> KeyRecord:
        sealer = self._sealers.current()
        jose_key = self._signer.generate_key()
        kid = thumbprint(jose_key)
        return KeyRecord(
            kid=kid,
            alg=self._signer.alg,
            state=state,
            created_at=now,
            public_jwk=public_jwk_json(jose_key, self._signer.alg),
            private_key=sealer.seal(kid, export_private_pem(jose_key)),
        )

    def _commit(self, start: Callable[[Sequence[KeyRecord], float], list[Action]]) -> Applied:
        for _ in range(MAX_ATTEMPTS):
            snapshot = self._store.key_snapshot()
            now = self._clock()
            keys = list(snapshot.keys)
            changed: dict[str, KeyRecord] = {}
            transitions: list[str] = []
            actions = start(keys, now)
            for _ in range(MAX_STEPS):
                actions = actions or plan(keys, now=now, alg=self._signer.alg, schedule=self._schedule)
                actions = self._openable(keys, actions)
                if not actions:
                    break
                for action in actions:
                    changes = apply(keys, action, now=now, schedule=self._schedule, new_key=self._new_key)
                    keys = merge(keys, changes)
                    changed.update((key.kid, key) for key in changes)
                    transitions.append(_describe(action, changes))
                actions = []
            if not changed:
                return Applied((), tuple(keys))
            if self._store.save_keys(list(changed.values()), expected_generation=snapshot.generation):
                for line in transitions:
                    log.info("key schedule: %s", line)
                    if self._audit is not None:
                        self._audit.record("key", detail=line)
                return Applied(tuple(transitions), tuple(keys))
        raise StoreConflict

    def _openable(self, keys: Sequence[KeyRecord], actions: list[Action]) -> list[Action]:
        """Drop activations of keys this process cannot decrypt: the old key keeps signing."""
        by_kid = {key.kid: key for key in keys}
        kept: list[Action] = []
        for action in actions:
            if isinstance(action, Activate):
                sealed = by_kid[action.kid].private_key
                if not self._sealers.for_blob(sealed).can_open(sealed):
                    log.error("cannot activate key %s: it is sealed under an unknown key-encryption key", action.kid)
                    continue
            kept.append(action)
        return kept


def _describe(action: Action, changes: Sequence[KeyRecord]) -> str:
    active = active_key(changes)
    match action:
        case Remove(kid=kid, reason=reason):
            return f"removed {kid} ({reason})"
        case Activate(kid=kid, reason=reason):
            return f"activated {kid} ({reason})"
        case Publish(reason=reason):
            new = changes[0]
            return f"published {new.kid} ({new.alg}), activates at {new.activates_at} ({reason})"
        case CreateActive(reason=reason):
            assert active is not None
            return f"created and activated {active.kid} ({active.alg}) at once ({reason})"
    raise AssertionError(action)  # pragma: no cover

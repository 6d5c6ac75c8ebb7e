"""The in-memory keyring: the active signing key and the JWKS, swapped whole on every change."""

from __future__ import annotations

import hashlib
import json
import logging
from collections.abc import Mapping
from dataclasses import dataclass
from types import MappingProxyType

from app.encoding import b64url, json_encoder
from app.errors import ConfigurationError
from app.keys.material import JoseKey, import_private_pem, import_public_jwk, thumbprint
from app.keys.rotation import SealerSource
from app.keys.schedule import active_key
from app.signing.port import SigningKey
from app.store.port import KeyRecord, Store

log = logging.getLogger("titan.keys")

PUBLISHED_STATES = frozenset({"published", "active", "retired"})


@dataclass(frozen=True, slots=True)
class KeySet:
    """One consistent view of the keys: what signs now and what verifiers may use."""

    active: SigningKey
    records: tuple[KeyRecord, ...]
    generation: int
    jwks_body: bytes
    jwks_etag: str
    public_keys: Mapping[str, tuple[str, JoseKey]]  # kid -> (alg, public key), for verifying our tokens

    def kids(self, state: str) -> list[str]:
        return [record.kid for record in self.records if record.state == state]


class Keyring:
    """Loads keys from the store and serves the current KeySet from memory.

    The mint path reads ``active`` once per token: replacing the KeySet is one reference
    assignment, so a mint in flight finishes with the key it started with.
    """

    def __init__(self, store: Store, sealers: SealerSource) -> None:
        self._store = store
        self._sealers = sealers
        self._decrypted: dict[str, SigningKey] = {}
        self._key_set: KeySet | None = None
        self.rotations = 0

    @property
    def loaded(self) -> bool:
        return self._key_set is not None

    @property
    def key_set(self) -> KeySet:
        if self._key_set is None:
            raise ConfigurationError("signing keys are not loaded yet")
        return self._key_set

    @property
    def active(self) -> SigningKey:
        return self.key_set.active

    def load(self) -> KeySet:
        """Read the keys (blocking), decrypt the ones that sign or will, and swap the KeySet."""
        snapshot = self._store.key_snapshot()
        active = active_key(snapshot.keys)
        if active is None:
            raise ConfigurationError("the store has no active signing key")
        decrypted = {active.kid: self._decrypt(active)}
        for record in snapshot.keys:
            if record.state == "published":
                try:
                    decrypted[record.kid] = self._decrypt(record)
                except ConfigurationError as exc:  # it cannot activate here; the active key goes on
                    log.error("published key %s: %s", record.kid, exc)
        published = [json.loads(record.public_jwk) for record in snapshot.keys if record.state in PUBLISHED_STATES]
        public_keys = {jwk["kid"]: (jwk["alg"], import_public_jwk(jwk)) for jwk in published}
        body = json_encoder.encode({"keys": published})
        previous = self._key_set
        self._decrypted = decrypted
        self._key_set = KeySet(
            active=decrypted[active.kid],
            records=snapshot.keys,
            generation=snapshot.generation,
            jwks_body=body,
            jwks_etag='"' + hashlib.sha256(body).hexdigest()[:32] + '"',
            public_keys=MappingProxyType(public_keys),
        )
        if previous is not None and previous.active.kid != active.kid:
            self.rotations += 1
            log.info("signing with key %s now (was %s)", active.kid, previous.active.kid)
        return self._key_set

    def _decrypt(self, record: KeyRecord) -> SigningKey:
        cached = self._decrypted.get(record.kid)
        if cached is not None:
            return cached
        pem = self._sealers.for_blob(record.private_key).open(record.kid, record.private_key)
        jose_key = import_private_pem(record.alg, pem)
        if thumbprint(jose_key) != record.kid:
            raise ConfigurationError(f"key {record.kid} does not match its stored key id")
        header = {"alg": record.alg, "kid": record.kid, "typ": "at+jwt"}
        return SigningKey(
            kid=record.kid,
            alg=record.alg,
            jose_key=jose_key,
            header_segment=b64url(json_encoder.encode(header)),
        )

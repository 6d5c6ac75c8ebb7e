"""The in-memory keyring: the active signing key and the JWKS, swapped whole on every change."""

from __future__ import annotations

import hashlib
import json
import logging
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from app.encoding import b64url, json_encoder
from app.errors import ConfigurationError
from app.keys.encryption import KeySealer, load_kek
from app.keys.material import export_private_pem, import_private_pem, public_jwk_json, thumbprint
from app.signing.port import Signer, SigningKey
from app.store.port import KeyRecord, Store

log = logging.getLogger("titan.keys")

PUBLISHED_STATES = frozenset({"published", "active", "retired"})


@dataclass(frozen=True, slots=True)
class KeySet:
    """One consistent view of the keys: what signs now and what verifiers may use."""

    active: SigningKey
    records: tuple[KeyRecord, ...]
    jwks_body: bytes
    jwks_etag: str


class Keyring:
    """Loads keys from the store, creates the first one, and serves the current KeySet from memory."""

    def __init__(
        self,
        store: Store,
        signer: Signer,
        kek_value: str | None,
        kek_path: Path,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self._store = store
        self._signer = signer
        self._kek_value = kek_value
        self._kek_path = kek_path
        self._clock = clock
        self._sealer: KeySealer | None = None
        self._decrypted: dict[str, SigningKey] = {}
        self._key_set: KeySet | None = None

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
        """Read the store (blocking); create or switch the active key when needed; swap the KeySet."""
        records = self._store.list_keys()
        sealer = self._get_sealer(have_keys=bool(records))
        active = next((record for record in records if record.state == "active"), None)
        if active is None or active.alg != self._signer.alg:
            self._install_new_active_key(sealer, active)
            records = self._store.list_keys()
            active = next(record for record in records if record.state == "active")
        key_set = self._build_key_set(sealer, active, records)
        self._key_set = key_set
        return key_set

    def _get_sealer(self, *, have_keys: bool) -> KeySealer:
        if self._sealer is None:
            self._sealer = KeySealer(load_kek(self._kek_value, self._kek_path, create=not have_keys))
        return self._sealer

    def _install_new_active_key(self, sealer: KeySealer, current: KeyRecord | None) -> None:
        jose_key = self._signer.generate_key()
        kid = thumbprint(jose_key)
        now = int(self._clock())
        record = KeyRecord(
            kid=kid,
            alg=self._signer.alg,
            state="active",
            created_at=now,
            activates_at=now,
            public_jwk=public_jwk_json(jose_key, self._signer.alg),
            private_key=sealer.seal(kid, export_private_pem(jose_key)),
        )
        replaced = None if current is None else current.kid
        if self._store.install_active_key(record, replacing=replaced, now=now):
            if current is None:
                log.info("generated the first signing key %s (%s)", kid, record.alg)
            else:
                log.warning(
                    "TITAN_JWT_ALGORITHM changed from %s to %s: key %s now signs, %s stays published",
                    current.alg,
                    record.alg,
                    kid,
                    current.kid,
                )

    def _build_key_set(self, sealer: KeySealer, active: KeyRecord, records: list[KeyRecord]) -> KeySet:
        signing_key = self._decrypted.get(active.kid)
        if signing_key is None:
            pem = sealer.open(active.kid, active.private_key)
            jose_key = import_private_pem(active.alg, pem)
            if thumbprint(jose_key) != active.kid:
                raise ConfigurationError(f"key {active.kid} does not match its stored key id")
            header = {"alg": active.alg, "kid": active.kid, "typ": "at+jwt"}
            signing_key = SigningKey(
                kid=active.kid,
                alg=active.alg,
                jose_key=jose_key,
                header_segment=b64url(json_encoder.encode(header)),
            )
            self._decrypted = {active.kid: signing_key}
        published = [json.loads(record.public_jwk) for record in records if record.state in PUBLISHED_STATES]
        body = json_encoder.encode({"keys": published})
        etag = '"' + hashlib.sha256(body).hexdigest()[:32] + '"'
        return KeySet(active=signing_key, records=tuple(records), jwks_body=body, jwks_etag=etag)

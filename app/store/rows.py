"""Row <-> record conversions shared by the SQL store adapters (same columns, same order)."""

from __future__ import annotations

import json
from collections.abc import Sequence
from typing import Any, Final

from app.store.port import ClientRecord, KeyRecord

KEY_COLUMNS: Final = "kid, alg, state, created_at, public_jwk, private_key, activates_at, retires_at, removed_at"
CLIENT_COLUMNS: Final = (
    "client_id, secret_hash, audiences, scopes, max_ttl, created_at, updated_at, "
    "jwks, jwks_uri, not_before, disabled, rate, burst"
)


def key_from_row(row: tuple[Any, ...]) -> KeyRecord:
    kid, alg, state, created_at, public_jwk, private_key, activates_at, retires_at, removed_at = row
    return KeyRecord(
        kid=kid,
        alg=alg,
        state=state,
        created_at=int(created_at),
        public_jwk=public_jwk,
        private_key=bytes(private_key),
        activates_at=activates_at,
        retires_at=retires_at,
        removed_at=removed_at,
    )


def key_to_row(record: KeyRecord) -> tuple[Any, ...]:
    return (
        record.kid,
        record.alg,
        record.state,
        record.created_at,
        record.public_jwk,
        record.private_key,
        record.activates_at,
        record.retires_at,
        record.removed_at,
    )


def client_from_row(row: tuple[Any, ...]) -> ClientRecord:
    (client_id, secret_hash, audiences, scopes, max_ttl, created_at, updated_at) = row[:7]
    jwks, jwks_uri, not_before, disabled, rate, burst = row[7:]
    return ClientRecord(
        client_id=str(client_id),
        secret_hash=bytes(secret_hash),
        audiences=tuple(json.loads(str(audiences))),
        scopes=tuple(json.loads(str(scopes))),
        max_ttl=int(max_ttl),
        created_at=int(created_at),
        updated_at=int(created_at if updated_at is None else updated_at),
        jwks=jwks,
        jwks_uri=jwks_uri,
        not_before=not_before,
        disabled=bool(disabled),
        rate=rate,
        burst=burst,
    )


def client_to_row(record: ClientRecord) -> tuple[Any, ...]:
    return (
        record.client_id,
        record.secret_hash,
        json.dumps(list(record.audiences)),
        json.dumps(list(record.scopes)),
        record.max_ttl,
        record.created_at,
        record.updated_at,
        record.jwks,
        record.jwks_uri,
        record.not_before,
        record.disabled,
        record.rate,
        record.burst,
    )


def ordered_for_save(records: Sequence[KeyRecord]) -> list[KeyRecord]:
    """Demote before promoting, so the one-active-key index holds after every statement."""
    return sorted(records, key=lambda record: record.state == "active")

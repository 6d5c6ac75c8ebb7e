"""Copy everything one store holds into another, empty one (moving a node from SQLite to PostgreSQL)."""

from __future__ import annotations

from dataclasses import dataclass

from app.errors import ConfigurationError
from app.store.port import Store


@dataclass(frozen=True, slots=True)
class CopyReport:
    keys: int
    clients: int
    revoked_tokens: int


def copy_store(source: Store, target: Store, *, now: int) -> CopyReport:
    """Keys (still sealed: the target needs the same key-encryption key), clients and the live deny
    list. The target must be empty, so nothing is ever merged or overwritten."""
    if target.list_keys() or target.list_clients():
        raise ConfigurationError(f"the target store {target.describe()} is not empty; copy only into a new store")
    keys, clients, revoked = source.list_keys(), source.list_clients(), source.revoked_tokens(now)
    for client in clients:
        target.add_client(client)
    for token in revoked:
        target.revoke_token(token)
    if keys and not target.save_keys(keys, expected_generation=target.generation()):
        raise ConfigurationError(f"the target store {target.describe()} changed during the copy; start again")
    return CopyReport(keys=len(keys), clients=len(clients), revoked_tokens=len(revoked))

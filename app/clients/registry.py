"""The client registry: every client held in memory, reloaded whole from the store on change."""

from __future__ import annotations

from types import MappingProxyType

from app.clients.model import Client
from app.clients.secrets import hash_secret, secret_matches
from app.errors import InvalidClient
from app.store.port import Store

# Checked against when the client id is unknown, so both failures cost the same.
_DUMMY_HASH = hash_secret("titan-no-such-client")


class ClientRegistry:
    """Looks clients up and authenticates them without touching the store."""

    def __init__(self, store: Store) -> None:
        self._store = store
        self._clients: MappingProxyType[str, Client] = MappingProxyType({})

    def load(self) -> int:
        """Reload every client from the store (blocking); returns how many there are."""
        clients = {record.client_id: Client.from_record(record) for record in self._store.list_clients()}
        self._clients = MappingProxyType(clients)
        return len(clients)

    def __len__(self) -> int:
        return len(self._clients)

    def all(self) -> list[Client]:
        return list(self._clients.values())

    def get(self, client_id: str) -> Client | None:
        return self._clients.get(client_id)

    def authenticate(self, client_id: str, secret: str) -> Client:
        """The client whose id and secret these are; InvalidClient (one message for all failures)."""
        client = self._clients.get(client_id)
        if client is None:
            secret_matches(secret, _DUMMY_HASH)
            raise InvalidClient(reason="unknown_client")
        if not secret_matches(secret, client.secret_hash):
            raise InvalidClient(reason="wrong_secret")
        return client

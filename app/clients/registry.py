"""The client registry: every client held in memory, reloaded whole from the store on change.

Clients registered with a ``jwks_uri`` have their keys fetched here, in the background
refresher's thread, and cached: the mint path never waits on the network.
"""

from __future__ import annotations

import json
import logging
import time
import urllib.request
from collections.abc import Callable
from types import MappingProxyType
from typing import Final
from urllib.parse import urlsplit

from app.clients.model import Client, parse_client_jwks
from app.clients.secrets import hash_secret, secret_matches
from app.errors import InvalidClient
from app.store.port import ClientRecord, Store

log = logging.getLogger("titan.clients")

# Checked against when the client id is unknown, so both failures cost the same.
_DUMMY_HASH = hash_secret("titan-no-such-client")
FETCH_TIMEOUT: Final = 5.0
MAX_JWKS_BYTES: Final = 65536
MIN_REFETCH_SECONDS: Final = 10.0


def check_jwks_uri(uri: str, *, allow_insecure: bool) -> str:
    """An https URL (or, when allowed for development, http on loopback)."""
    parts = urlsplit(uri)
    loopback = parts.hostname in ("127.0.0.1", "localhost", "::1")
    if parts.scheme == "https" or (parts.scheme == "http" and allow_insecure and loopback):
        if not parts.netloc:
            raise ValueError("the jwks_uri has no host")
        return uri
    raise ValueError("the jwks_uri must be an https URL")


def fetch_jwks(uri: str) -> str:
    """Fetch a JWKS document (blocking); ValueError if it is not one Titan accepts."""
    request = urllib.request.Request(uri, headers={"Accept": "application/json"})  # noqa: S310 (scheme checked)
    with urllib.request.urlopen(request, timeout=FETCH_TIMEOUT) as response:  # noqa: S310
        body: bytes = response.read(MAX_JWKS_BYTES + 1)
    if len(body) > MAX_JWKS_BYTES:
        raise ValueError("the JWKS document is too large")
    text = body.decode("utf-8")
    parse_client_jwks(text)
    return text


class ClientRegistry:
    """Looks clients up and authenticates them without touching the store."""

    def __init__(
        self,
        store: Store,
        *,
        jwks_refresh: float = 300.0,
        fetcher: Callable[[str], str] = fetch_jwks,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self._store = store
        self._jwks_refresh = jwks_refresh
        self._fetcher = fetcher
        self._clock = clock
        self._clients: MappingProxyType[str, Client] = MappingProxyType({})
        self._records: list[ClientRecord] = []
        self._remote: dict[str, tuple[float, str]] = {}  # jwks_uri -> (fetched at, JWKS text)
        self._wanted: set[str] = set()  # client ids whose remote keys should be refetched soon
        self.fetch_failures = 0

    def load(self) -> int:
        """Reload every client from the store (blocking); returns how many there are."""
        self._records = self._store.list_clients()
        self._fetch_remote(force=False)
        self._build()
        return len(self._clients)

    def refresh_remote(self) -> bool:
        """Refetch remote JWKS that are stale or asked for (blocking); True if any changed."""
        changed = self._fetch_remote(force=True)
        if changed:
            self._build()
        return changed

    def request_remote_refresh(self, client_id: str) -> None:
        self._wanted.add(client_id)

    def _fetch_remote(self, *, force: bool) -> bool:
        changed = False
        now = self._clock()
        wanted, self._wanted = self._wanted, set()
        for record in self._records:
            uri = record.jwks_uri
            if uri is None or record.jwks is not None:
                continue
            fetched_at, text = self._remote.get(uri, (None, None))
            stale = fetched_at is None or now - fetched_at >= self._jwks_refresh
            asked = record.client_id in wanted and (fetched_at is None or now - fetched_at >= MIN_REFETCH_SECONDS)
            if not (stale or (force and asked)):
                continue
            try:
                fresh = self._fetcher(uri)
            except (OSError, ValueError) as exc:
                self.fetch_failures += 1
                log.warning("cannot fetch the JWKS of client %s from %s: %s", record.client_id, uri, exc)
                continue
            self._remote[uri] = (now, fresh)
            changed = changed or fresh != text
        return changed

    def _build(self) -> None:
        clients = {}
        for record in self._records:
            remote = self._remote.get(record.jwks_uri or "", (0.0, None))[1]
            try:
                clients[record.client_id] = Client.from_record(record, remote)
            except (ValueError, KeyError, json.JSONDecodeError) as exc:
                log.error("client %s has unusable keys and cannot authenticate: %s", record.client_id, exc)
        self._clients = MappingProxyType(clients)

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

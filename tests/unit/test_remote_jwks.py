"""Clients registered with a jwks_uri: keys fetched in the background, cached, refetched when asked."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from app.clients.registry import ClientRegistry, check_jwks_uri
from app.store.port import ClientRecord
from app.store.sqlite import SqliteStore
from tests.support.assertions import ClientKey


class FakeFetcher:
    def __init__(self, key: ClientKey) -> None:
        self.documents = [json.dumps({"keys": [key.public_jwk]})]
        self.calls = 0
        self.fail = False

    def __call__(self, uri: str) -> str:
        self.calls += 1
        if self.fail:
            raise OSError("connection refused")
        return self.documents[-1]


@pytest.fixture
def store(tmp_path: Path) -> SqliteStore:
    store = SqliteStore(tmp_path / "titan.sqlite3")
    store.add_client(ClientRecord("signer", b"", ("billing",), (), 300, 0, 0, jwks_uri="https://keys.example/jwks"))
    return store


def test_keys_are_fetched_once_and_cached(store: SqliteStore) -> None:
    fetcher = FakeFetcher(ClientKey(kid="a"))
    now = [1000.0]
    registry = ClientRegistry(store, jwks_refresh=300, fetcher=fetcher, clock=lambda: now[0])
    registry.load()
    client = registry.get("signer")
    assert client is not None
    assert client.public_keys is not None
    assert [key.kid for key in client.public_keys.keys] == ["a"]
    registry.load()
    assert not registry.refresh_remote()
    assert fetcher.calls == 1
    now[0] += 301
    registry.refresh_remote()
    assert fetcher.calls == 2


def test_an_unknown_key_asks_for_a_refetch(store: SqliteStore) -> None:
    fetcher = FakeFetcher(ClientKey(kid="a"))
    now = [1000.0]
    registry = ClientRegistry(store, jwks_refresh=300, fetcher=fetcher, clock=lambda: now[0])
    registry.load()
    fetcher.documents.append(json.dumps({"keys": [ClientKey(kid="b").public_jwk]}))
    registry.request_remote_refresh("signer")
    now[0] += 11  # refetches on request are spaced at least 10 s apart
    assert registry.refresh_remote()
    client = registry.get("signer")
    assert client is not None
    assert client.public_keys is not None
    assert [key.kid for key in client.public_keys.keys] == ["b"]


def test_a_failed_fetch_keeps_the_cached_keys(store: SqliteStore) -> None:
    fetcher = FakeFetcher(ClientKey(kid="a"))
    now = [1000.0]
    registry = ClientRegistry(store, jwks_refresh=300, fetcher=fetcher, clock=lambda: now[0])
    registry.load()
    fetcher.fail = True
    now[0] += 301
    assert not registry.refresh_remote()
    assert registry.fetch_failures == 1
    client = registry.get("signer")
    assert client is not None
    assert client.public_keys is not None


@pytest.mark.parametrize(
    ("uri", "insecure", "ok"),
    [
        ("https://keys.example/jwks", False, True),
        ("http://keys.example/jwks", False, False),
        ("http://127.0.0.1:9000/jwks", False, False),
        ("http://127.0.0.1:9000/jwks", True, True),
        ("http://keys.example/jwks", True, False),
        ("file:///etc/passwd", True, False),
    ],
)
def test_jwks_uris_must_be_https(uri: str, insecure: bool, ok: bool) -> None:
    if ok:
        assert check_jwks_uri(uri, allow_insecure=insecure) == uri
    else:
        with pytest.raises(ValueError, match="https"):
            check_jwks_uri(uri, allow_insecure=insecure)

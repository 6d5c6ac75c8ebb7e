"""Copying a store: everything live is carried over, sealed keys untouched; only into an empty store."""

from __future__ import annotations

from pathlib import Path

import pytest

from app.errors import ConfigurationError
from app.store.copy import copy_store
from app.store.port import ClientRecord, KeyRecord, RevokedToken
from app.store.sqlite import SqliteStore


def test_keys_clients_and_live_revocations_are_copied(tmp_path: Path) -> None:
    source, target = SqliteStore(tmp_path / "a.sqlite3"), SqliteStore(tmp_path / "b.sqlite3")
    keys = [
        KeyRecord("k1", "ES256", "retired", 1, "{}", b"sealed-1", retires_at=5),
        KeyRecord("k2", "ES256", "active", 2, "{}", b"sealed-2"),
        KeyRecord("k3", "ES256", "published", 3, "{}", b"sealed-3", activates_at=9),
    ]
    assert source.save_keys(keys, expected_generation=source.generation())
    client = ClientRecord("orders", b"h" * 32, ("billing",), (), 900, 1, 1, rate=5.0, burst=9)
    source.add_client(client)
    source.revoke_token(RevokedToken("live", "orders", 200, 1))
    source.revoke_token(RevokedToken("expired", "orders", 50, 1))

    report = copy_store(source, target, now=100)

    assert (report.keys, report.clients, report.revoked_tokens) == (3, 1, 1)
    assert target.list_keys() == source.list_keys()
    assert target.list_clients() == [client]
    assert [token.jti for token in target.revoked_tokens(100)] == ["live"]


def test_a_target_that_holds_anything_is_refused_and_left_alone(tmp_path: Path) -> None:
    source, target = SqliteStore(tmp_path / "a.sqlite3"), SqliteStore(tmp_path / "b.sqlite3")
    source.add_client(ClientRecord("orders", b"h" * 32, ("billing",), (), 900, 1, 1))
    target.add_client(ClientRecord("other", b"o" * 32, ("billing",), (), 900, 1, 1))
    with pytest.raises(ConfigurationError, match="is not empty"):
        copy_store(source, target, now=100)
    assert [client.client_id for client in target.list_clients()] == ["other"]

"""The SQLite store: schema, clients, keys, the change counter and the one-active-key rule."""

from __future__ import annotations

import dataclasses
import sqlite3
import stat
from pathlib import Path

import pytest

from app.errors import ClientExists, ConfigurationError
from app.store.port import ClientRecord, KeyRecord
from app.store.sqlite import SqliteStore


def client(client_id: str = "orders") -> ClientRecord:
    return ClientRecord(client_id, b"h" * 32, ("billing", "inventory"), ("invoices:read",), 900, 10, 10)


def key(kid: str) -> KeyRecord:
    return KeyRecord(kid=kid, alg="ES256", state="active", created_at=1, public_jwk="{}", private_key=b"sealed")


@pytest.fixture
def store(tmp_path: Path) -> SqliteStore:
    return SqliteStore(tmp_path / "data" / "titan.sqlite3")


def test_the_database_file_is_private(store: SqliteStore) -> None:
    assert stat.S_IMODE(store.path.stat().st_mode) == 0o600
    assert stat.S_IMODE(store.path.parent.stat().st_mode) == 0o700


def test_clients_round_trip(store: SqliteStore) -> None:
    store.add_client(client())
    assert store.get_client("orders") == client()
    assert store.list_clients() == [client()]
    assert store.get_client("nobody") is None


def test_a_client_id_is_registered_once(store: SqliteStore) -> None:
    store.add_client(client())
    with pytest.raises(ClientExists, match="already registered"):
        store.add_client(client())


def test_secret_rotation_and_removal(store: SqliteStore) -> None:
    store.add_client(client())
    assert store.set_client_secret("orders", b"n" * 32, 20)
    updated = store.get_client("orders")
    assert updated is not None
    assert (updated.secret_hash, updated.updated_at) == (b"n" * 32, 20)
    assert not store.set_client_secret("nobody", b"n" * 32, 20)
    assert store.remove_client("orders")
    assert not store.remove_client("orders")


def test_every_write_moves_the_generation(store: SqliteStore) -> None:
    start = store.generation()
    store.add_client(client())
    store.set_client_secret("orders", b"n" * 32, 20)
    assert store.generation() == start + 2


def test_saving_keys_is_a_compare_and_swap_on_the_generation(store: SqliteStore) -> None:
    snapshot = store.key_snapshot()
    assert snapshot.keys == ()
    assert store.save_keys([key("k1")], expected_generation=snapshot.generation)
    assert not store.save_keys([key("k2")], expected_generation=snapshot.generation)  # stale snapshot
    after = store.key_snapshot()
    assert [record.kid for record in after.keys] == ["k1"]
    assert after.generation == snapshot.generation + 1  # a refused save changes nothing


def test_saving_keys_demotes_before_it_promotes(store: SqliteStore) -> None:
    store.save_keys([key("k1")], expected_generation=store.generation())
    retired = dataclasses.replace(key("k1"), state="retired", retires_at=7)
    assert store.save_keys([key("k2"), retired], expected_generation=store.generation())
    states = {record.kid: (record.state, record.retires_at) for record in store.list_keys()}
    assert states == {"k1": ("retired", 7), "k2": ("active", None)}


def test_the_schema_allows_one_active_key_only(store: SqliteStore) -> None:
    store.save_keys([key("k1")], expected_generation=store.generation())
    with pytest.raises(sqlite3.IntegrityError):
        store.save_keys([key("k2")], expected_generation=store.generation())
    assert [record.kid for record in store.list_keys()] == ["k1"]


def test_reopening_keeps_the_data(store: SqliteStore) -> None:
    store.add_client(client())
    assert SqliteStore(store.path).list_clients() == [client()]


def test_a_newer_schema_is_refused(store: SqliteStore) -> None:
    conn = sqlite3.connect(store.path)
    conn.execute("PRAGMA user_version = 99")
    conn.close()
    with pytest.raises(ConfigurationError, match="newer than this Titan"):
        SqliteStore(store.path)


def test_an_unusable_path_is_a_configuration_error(tmp_path: Path) -> None:
    blocker = tmp_path / "file"
    blocker.write_text("not a directory")
    with pytest.raises(ConfigurationError, match="cannot open the store"):
        SqliteStore(blocker / "titan.sqlite3")

"""The Store contract, run against every adapter: embedded SQLite and PostgreSQL (fleet mode).

PostgreSQL runs on a throwaway database of the server TITAN_TEST_POSTGRES_URL names (default: the
local one); when none is reachable those cases are skipped and the reason is printed.
"""

from __future__ import annotations

import dataclasses
import sqlite3
import threading
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from app.errors import ClientExists
from app.store.port import ClientRecord, KeyRecord, RevokedToken, Store
from app.store.sqlite import SqliteStore

Opener = Callable[[], Store]


def client(client_id: str = "orders", **changes: object) -> ClientRecord:
    record = ClientRecord(client_id, b"h" * 32, ("billing", "inventory"), ("invoices:read",), 900, 10, 10)
    return dataclasses.replace(record, **changes)  # type: ignore[arg-type]


def key(kid: str, state: str = "active") -> KeyRecord:
    return KeyRecord(kid=kid, alg="ES256", state=state, created_at=1, public_jwk="{}", private_key=b"sealed\x00")


@pytest.fixture(params=["sqlite", "postgresql"])
def open_store(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Opener]:
    """Opens (and reopens) one store of the parametrized kind; every handle is closed at the end."""
    opened: list[Store] = []
    if request.param == "sqlite":
        target = tmp_path / "data" / "titan.sqlite3"

        def opener() -> Store:
            opened.append(SqliteStore(target))
            return opened[-1]
    else:
        url: str = request.getfixturevalue("postgres_url")
        from app.store.postgres import PostgresStore

        def opener() -> Store:
            opened.append(PostgresStore(url, pool_size=2))
            return opened[-1]

    yield opener
    for store in opened:
        store.close()


@pytest.fixture
def store(open_store: Opener) -> Store:
    return open_store()


def test_a_new_store_is_empty_and_at_the_latest_schema(store: Store) -> None:
    assert store.list_clients() == []
    assert store.list_keys() == []
    assert store.revoked_tokens(0) == []
    assert store.schema_version() >= 1


def test_clients_round_trip_with_every_field(store: Store) -> None:
    full = client(
        "jwt-client",
        jwks='{"keys": []}',
        jwks_uri="https://example.test/jwks",
        not_before=5,
        disabled=True,
        rate=2.5,
        burst=7,
    )
    store.add_client(client())
    store.add_client(full)
    assert store.get_client("orders") == client()
    assert store.get_client("jwt-client") == full
    assert store.list_clients() == [full, client()]  # ordered by id
    assert store.get_client("nobody") is None


def test_a_client_id_is_registered_once(store: Store) -> None:
    store.add_client(client())
    generation = store.generation()
    with pytest.raises(ClientExists, match="already registered"):
        store.add_client(client(max_ttl=1))
    assert store.get_client("orders") == client()
    assert store.generation() == generation


def test_client_updates_report_whether_the_client_exists(store: Store) -> None:
    store.add_client(client())
    assert store.set_client_secret("orders", b"n" * 32, 20)
    assert not store.set_client_secret("nobody", b"n" * 32, 20)
    assert store.set_client_disabled("orders", disabled=True, not_before=30, updated_at=30)
    assert store.set_client_disabled("orders", disabled=False, not_before=None, updated_at=31)
    updated = store.get_client("orders")
    assert updated is not None
    assert (updated.secret_hash, updated.disabled, updated.not_before, updated.updated_at) == (b"n" * 32, False, 30, 31)
    assert not store.set_client_disabled("nobody", disabled=True, not_before=1, updated_at=1)
    assert store.remove_client("orders")
    assert not store.remove_client("orders")


def test_every_real_change_moves_the_generation_and_nothing_else_does(store: Store) -> None:
    start = store.generation()
    store.add_client(client())
    store.set_client_secret("orders", b"n" * 32, 20)
    store.revoke_token(RevokedToken("jti-1", "orders", 100, 1))
    assert store.generation() == start + 3
    store.set_client_secret("nobody", b"n" * 32, 20)
    store.remove_client("nobody")
    store.list_clients()
    assert store.claim_assertion("orders", "a-1", 100)
    assert store.generation() == start + 3


def test_saving_keys_is_a_compare_and_swap_on_the_generation(store: Store) -> None:
    snapshot = store.key_snapshot()
    assert snapshot.keys == ()
    assert store.save_keys([key("k1")], expected_generation=snapshot.generation)
    assert not store.save_keys([key("k2")], expected_generation=snapshot.generation)  # stale snapshot
    after = store.key_snapshot()
    assert after.keys == (key("k1"),)
    assert after.generation == snapshot.generation + 1  # a refused save changes nothing


def test_saving_keys_demotes_before_it_promotes(store: Store) -> None:
    store.save_keys([key("k1")], expected_generation=store.generation())
    retired = dataclasses.replace(key("k1"), state="retired", retires_at=7)
    assert store.save_keys([key("k2"), retired], expected_generation=store.generation())
    states = {record.kid: (record.state, record.retires_at) for record in store.list_keys()}
    assert states == {"k1": ("retired", 7), "k2": ("active", None)}


def test_the_schema_allows_one_active_key_only(store: Store) -> None:
    import psycopg

    store.save_keys([key("k1")], expected_generation=store.generation())
    with pytest.raises((sqlite3.IntegrityError, psycopg.IntegrityError)):
        store.save_keys([key("k2")], expected_generation=store.generation())
    assert [record.kid for record in store.list_keys()] == ["k1"]


def test_concurrent_compare_and_swaps_let_exactly_one_writer_win(open_store: Opener) -> None:
    """Two instances planning the same transition from the same snapshot: one saves, one is told to retry."""
    first, second = open_store(), open_store()
    first.save_keys([key("k1")], expected_generation=first.generation())
    snapshot = first.key_snapshot()
    barrier = threading.Barrier(2)
    outcomes: list[bool] = []

    def promote(store: Store, kid: str) -> None:
        barrier.wait()
        retired = dataclasses.replace(key("k1"), state="retired")
        outcomes.append(store.save_keys([retired, key(kid)], expected_generation=snapshot.generation))

    threads = [
        threading.Thread(target=promote, args=(first, "k2")),
        threading.Thread(target=promote, args=(second, "k3")),
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(10)
    assert sorted(outcomes) == [False, True]
    active = [record.kid for record in second.list_keys() if record.state == "active"]
    assert len(active) == 1
    assert second.generation() == snapshot.generation + 1


def test_the_deny_list_keeps_unexpired_entries_once(store: Store) -> None:
    store.revoke_token(RevokedToken("jti-1", "orders", 100, 1))
    store.revoke_token(RevokedToken("jti-1", "orders", 100, 2))  # idempotent
    store.revoke_token(RevokedToken("jti-2", "orders", 50, 1))
    assert {token.jti for token in store.revoked_tokens(60)} == {"jti-1"}
    assert store.purge_revoked(60) == 1
    assert [token.jti for token in store.revoked_tokens(0)] == ["jti-1"]


def test_an_assertion_jti_is_claimed_once_per_client_until_it_expires(store: Store) -> None:
    assert store.claim_assertion("orders", "a-1", 100)
    assert not store.claim_assertion("orders", "a-1", 100)  # the replay
    assert store.claim_assertion("billing", "a-1", 100)  # another client's jti is its own
    assert store.purge_assertions(100) == 2
    assert store.claim_assertion("orders", "a-1", 200)  # long expired, forgotten


def test_another_handle_sees_every_change(open_store: Opener) -> None:
    writer, reader = open_store(), open_store()
    writer.add_client(client())
    writer.save_keys([key("k1")], expected_generation=writer.generation())
    writer.revoke_token(RevokedToken("jti-1", "orders", 100, 1))
    assert writer.claim_assertion("orders", "a-1", 100)
    assert reader.generation() == writer.generation()
    assert reader.list_clients() == [client()]
    assert reader.list_keys() == [key("k1")]
    assert [token.jti for token in reader.revoked_tokens(0)] == ["jti-1"]
    assert not reader.claim_assertion("orders", "a-1", 100)


def test_reopening_applies_no_migration_twice_and_keeps_the_data(open_store: Opener) -> None:
    first = open_store()
    first.add_client(client())
    version = first.schema_version()
    again = open_store()
    assert again.schema_version() == version
    assert again.list_clients() == [client()]


def test_binary_and_unicode_values_survive(store: Store) -> None:
    odd = client("ünïcode-client", secret_hash=bytes(range(32)), audiences=("aud\u00e9",), scopes=("s:1", "s:2"))
    store.add_client(odd)
    assert store.get_client("ünïcode-client") == odd

"""PostgreSQL specifics: concurrent first starts migrate once; an outage is StoreUnavailable and heals."""

from __future__ import annotations

import threading
import time

import psycopg
import pytest

from app.errors import ConfigurationError, StoreUnavailable
from app.store.postgres import SCHEMA_VERSION, PostgresStore, redact
from tests.support.postgres import set_connections_allowed


def test_instances_starting_together_apply_each_migration_once(postgres_url: str) -> None:
    barrier = threading.Barrier(6)
    stores: list[PostgresStore] = []
    errors: list[BaseException] = []

    def start() -> None:
        barrier.wait()
        try:
            stores.append(PostgresStore(postgres_url, pool_size=1))
        except BaseException as exc:
            errors.append(exc)

    threads = [threading.Thread(target=start) for _ in range(6)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(30)
    try:
        assert errors == []
        with psycopg.connect(postgres_url) as conn:
            rows = conn.execute("SELECT version, COUNT(*) FROM titan_schema GROUP BY version ORDER BY version")
            assert rows.fetchall() == [(version, 1) for version in range(1, SCHEMA_VERSION + 1)]
        assert {store.schema_version() for store in stores} == {SCHEMA_VERSION}
    finally:
        for store in stores:
            store.close()


def test_a_database_outage_is_store_unavailable_and_heals_by_itself(postgres_url: str) -> None:
    store = PostgresStore(postgres_url, pool_size=2, connect_timeout=2)
    try:
        generation = store.generation()
        set_connections_allowed(postgres_url, False)
        try:
            with pytest.raises(StoreUnavailable, match="the store at"):
                store.generation()
            with pytest.raises(StoreUnavailable):
                store.claim_assertion("orders", "a-1", 100)
        finally:
            set_connections_allowed(postgres_url, True)
        # The pool reconnects in the background (with backoff): it heals without a restart.
        deadline = time.monotonic() + 20
        while True:
            try:
                assert store.generation() == generation
                break
            except StoreUnavailable:
                if time.monotonic() > deadline:
                    raise
                time.sleep(0.5)
    finally:
        store.close()


def test_an_unreachable_server_stops_start_up_without_the_password() -> None:
    with pytest.raises(ConfigurationError, match="cannot open the store") as caught:
        PostgresStore("postgresql://titan:hunter2@127.0.0.1:1/titan", connect_timeout=1)
    assert "hunter2" not in str(caught.value)


def test_redact_hides_only_the_password() -> None:
    assert redact("postgresql://titan:hunter2@db:5432/titan") == "postgresql://titan:***@db:5432/titan"
    assert redact("postgresql://titan@db/titan") == "postgresql://titan@db/titan"

"""Open the store TITAN_STORE_URL names: embedded SQLite (default) or PostgreSQL (fleet mode)."""

from __future__ import annotations

from collections.abc import Iterator

from app.store.port import Store
from app.store.sqlite import SqliteStore
from settings import Settings


def open_store(settings: Settings) -> Store:
    if settings.store_kind == "postgresql":
        from app.store.postgres import PostgresStore  # psycopg is only needed in fleet mode

        assert settings.store_url is not None
        return PostgresStore(settings.store_url, pool_size=settings.store_pool_size)
    return SqliteStore(settings.database_path)


def store_resource(settings: Settings) -> Iterator[Store]:
    """The store as a container resource: closed (its pool released) on shutdown_resources()."""
    store = open_store(settings)
    try:
        yield store
    finally:
        store.close()


def shared_or_none(store: Store) -> Store | None:
    """The store if a fleet shares it (assertion jtis are then claimed in it), else None."""
    return store if store.shared else None

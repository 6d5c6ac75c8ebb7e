"""Throwaway PostgreSQL databases for the fleet tests, on the server TITAN_TEST_POSTGRES_URL names."""

from __future__ import annotations

import functools
import os
import secrets
from collections.abc import Iterator
from contextlib import contextmanager
from urllib.parse import urlsplit, urlunsplit

ADMIN_URL = os.environ.get("TITAN_TEST_POSTGRES_URL", "postgresql://postgres@127.0.0.1:5432/postgres")


@functools.cache
def unavailable_reason() -> str | None:
    """Why PostgreSQL tests cannot run here, or None when they can."""
    try:
        import psycopg
    except ImportError:
        return "psycopg is not installed (pip install -e '.[dev]')"
    try:
        with psycopg.connect(ADMIN_URL, connect_timeout=3, autocommit=True) as conn:
            conn.execute("SELECT 1")
    except psycopg.Error as exc:
        return f"no PostgreSQL reachable at {ADMIN_URL} (set TITAN_TEST_POSTGRES_URL): {str(exc).strip()}"
    return None


@contextmanager
def throwaway_database() -> Iterator[str]:
    """A new empty database for one test; dropped afterwards (connections included)."""
    import psycopg

    name = f"titan_test_{secrets.token_hex(6)}"
    with psycopg.connect(ADMIN_URL, autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{name}"')
    try:
        yield urlunsplit(urlsplit(ADMIN_URL)._replace(path=f"/{name}"))
    finally:
        with psycopg.connect(ADMIN_URL, autocommit=True) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def set_connections_allowed(database_url: str, allowed: bool) -> None:
    """Simulate a database outage (and its end): refuse new connections and cut the open ones."""
    import psycopg

    name = database_url.rsplit("/", 1)[1]
    with psycopg.connect(ADMIN_URL, autocommit=True) as conn:
        conn.execute(f'ALTER DATABASE "{name}" ALLOW_CONNECTIONS {str(allowed).lower()}')
        if not allowed:
            conn.execute("SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = %s", (name,))

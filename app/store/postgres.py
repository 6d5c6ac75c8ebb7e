"""The PostgreSQL store for fleet mode: many Titan instances, one database, psycopg 3 with a small pool."""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from typing import Any, Final
from urllib.parse import urlsplit, urlunsplit

from app.errors import ClientExists, ConfigurationError, StoreUnavailable
from app.store.port import ClientRecord, KeyRecord, KeySnapshot, RevokedToken
from app.store.rows import (
    CLIENT_COLUMNS,
    KEY_COLUMNS,
    client_from_row,
    client_to_row,
    key_from_row,
    key_to_row,
    ordered_for_save,
)

try:
    import psycopg
    from psycopg import errors as pg_errors
    from psycopg_pool import ConnectionPool, PoolTimeout
except ImportError as missing:  # pragma: no cover - depends on the installation
    raise ConfigurationError(
        "TITAN_STORE_URL names PostgreSQL, but psycopg is not installed: pip install 'titan[postgres]'"
    ) from missing

# Versioned, applied in order, each in the same transaction as its version row; every instance
# (and `titan migrate`) takes MIGRATION_LOCK first, so concurrent starts apply each step once.
MIGRATIONS: Final[dict[int, str]] = {
    1: """
    CREATE TABLE titan_meta (name TEXT PRIMARY KEY, value BIGINT NOT NULL);
    INSERT INTO titan_meta (name, value) VALUES ('generation', 0);
    CREATE TABLE titan_keys (
        kid TEXT PRIMARY KEY,
        alg TEXT NOT NULL,
        state TEXT NOT NULL CHECK (state IN ('published', 'active', 'retired', 'removed')),
        created_at BIGINT NOT NULL,
        public_jwk TEXT NOT NULL,
        private_key BYTEA NOT NULL,
        activates_at BIGINT,
        retires_at BIGINT,
        removed_at BIGINT
    );
    CREATE UNIQUE INDEX titan_keys_one_active ON titan_keys (state) WHERE state = 'active';
    CREATE TABLE titan_clients (
        client_id TEXT PRIMARY KEY,
        secret_hash BYTEA NOT NULL,
        audiences TEXT NOT NULL,
        scopes TEXT NOT NULL,
        max_ttl INTEGER NOT NULL,
        created_at BIGINT NOT NULL,
        updated_at BIGINT NOT NULL,
        jwks TEXT,
        jwks_uri TEXT,
        not_before BIGINT,
        disabled BOOLEAN NOT NULL DEFAULT FALSE,
        rate DOUBLE PRECISION,
        burst INTEGER
    );
    CREATE TABLE titan_revoked_tokens (
        jti TEXT PRIMARY KEY,
        client_id TEXT NOT NULL,
        expires_at BIGINT NOT NULL,
        revoked_at BIGINT NOT NULL
    );
    CREATE INDEX titan_revoked_tokens_expiry ON titan_revoked_tokens (expires_at);
    CREATE TABLE titan_assertions (
        client_id TEXT NOT NULL,
        jti TEXT NOT NULL,
        expires_at BIGINT NOT NULL,
        PRIMARY KEY (client_id, jti)
    );
    CREATE INDEX titan_assertions_expiry ON titan_assertions (expires_at);
    """,
}
SCHEMA_VERSION: Final = max(MIGRATIONS)
MIGRATION_LOCK: Final = 0x7469_7461_6E00_0001  # pg_advisory_xact_lock key: "titan" + 1

_GENERATION: Final = "SELECT value FROM titan_meta WHERE name = 'generation'"
_BUMP: Final = "UPDATE titan_meta SET value = value + 1 WHERE name = 'generation'"


class _StaleSnapshot(Exception):
    """Raised inside a write transaction to roll it back when a compare-and-swap fails."""


def redact(url: str) -> str:
    """The URL without its password, for logs and error messages."""
    parts = urlsplit(url)
    if parts.password is None:
        return url
    netloc = parts.netloc.rsplit("@", 1)[1]
    user = f"{parts.username}:***@" if parts.username else ":***@"
    return urlunsplit(parts._replace(netloc=user + netloc))


class PostgresStore:
    """Store adapter over a PostgreSQL database, shared by every instance of a fleet."""

    shared = True

    def __init__(self, url: str, *, pool_size: int = 4, connect_timeout: float = 5.0) -> None:
        self.url = url
        self._pool = ConnectionPool(
            url,
            min_size=1,
            max_size=pool_size,
            timeout=connect_timeout,
            kwargs={"connect_timeout": max(1, round(connect_timeout)), "application_name": "titan"},
            check=ConnectionPool.check_connection,
            open=False,
            name="titan-store",
        )
        try:
            self._pool.open(wait=True, timeout=connect_timeout)
            self.migrate()
        except (psycopg.Error, PoolTimeout, StoreUnavailable) as exc:
            self._pool.close()
            raise ConfigurationError(f"cannot open the store at {redact(url)}: {exc}") from exc

    def describe(self) -> str:
        return redact(self.url)

    def close(self) -> None:
        self._pool.close()

    @contextmanager
    def _transaction(self, *, write: bool = False) -> Iterator[psycopg.Cursor[Any]]:
        """One transaction on a pooled connection; database failures become StoreUnavailable."""
        try:
            with self._pool.connection() as conn, conn.transaction(), conn.cursor() as cursor:
                if not write:
                    cursor.execute("SET TRANSACTION READ ONLY")
                yield cursor
        except (pg_errors.UniqueViolation, _StaleSnapshot):
            raise
        except (psycopg.Error, PoolTimeout) as exc:
            raise StoreUnavailable(f"the store at {self.describe()} failed: {exc}".strip()) from exc

    def migrate(self) -> int:
        """Apply the missing migrations, once, even with several instances starting together."""
        with self._transaction(write=True) as cursor:
            cursor.execute("SELECT pg_advisory_xact_lock(%s)", (MIGRATION_LOCK,))
            cursor.execute("CREATE TABLE IF NOT EXISTS titan_schema (version INTEGER PRIMARY KEY, applied_at BIGINT)")
            cursor.execute("SELECT COALESCE(MAX(version), 0) FROM titan_schema")
            row = cursor.fetchone()
            version = int(row[0]) if row else 0
            if version > SCHEMA_VERSION:
                raise ConfigurationError(
                    f"the store at {self.describe()} has schema {version}, newer than this Titan ({SCHEMA_VERSION})"
                )
            for step in range(version + 1, SCHEMA_VERSION + 1):
                cursor.execute(MIGRATIONS[step].encode())
                cursor.execute(
                    "INSERT INTO titan_schema (version, applied_at) VALUES (%s, EXTRACT(EPOCH FROM now())::BIGINT)",
                    (step,),
                )
        return SCHEMA_VERSION

    def schema_version(self) -> int:
        with self._transaction() as cursor:
            cursor.execute("SELECT COALESCE(MAX(version), 0) FROM titan_schema")
            row = cursor.fetchone()
        return int(row[0]) if row else 0

    def generation(self) -> int:
        with self._transaction() as cursor:
            return self._read_generation(cursor)

    @staticmethod
    def _read_generation(cursor: psycopg.Cursor[Any], *, lock: bool = False) -> int:
        cursor.execute(_GENERATION + (" FOR UPDATE" if lock else ""))
        row = cursor.fetchone()
        if row is None:
            raise StoreUnavailable("the store has no generation row; run `titan migrate`")
        return int(row[0])

    def list_keys(self) -> list[KeyRecord]:
        with self._transaction() as cursor:
            cursor.execute(f"SELECT {KEY_COLUMNS} FROM titan_keys ORDER BY created_at, kid")  # noqa: S608
            return [key_from_row(row) for row in cursor.fetchall()]

    def key_snapshot(self) -> KeySnapshot:
        with self._transaction() as cursor:
            cursor.execute("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ")
            generation = self._read_generation(cursor)
            cursor.execute(f"SELECT {KEY_COLUMNS} FROM titan_keys ORDER BY created_at, kid")  # noqa: S608
            keys = tuple(key_from_row(row) for row in cursor.fetchall())
        return KeySnapshot(generation=generation, keys=keys)

    def save_keys(self, records: Sequence[KeyRecord], *, expected_generation: int) -> bool:
        try:
            with self._transaction(write=True) as cursor:
                # The generation row lock serializes every writer of the fleet: compare, then swap.
                if self._read_generation(cursor, lock=True) != expected_generation:
                    raise _StaleSnapshot
                cursor.executemany(
                    f"INSERT INTO titan_keys ({KEY_COLUMNS}) VALUES (%s, %s, %s, %s, %s, %s, %s, %s, %s) "  # noqa: S608
                    "ON CONFLICT (kid) DO UPDATE SET alg = excluded.alg, state = excluded.state, "
                    "created_at = excluded.created_at, public_jwk = excluded.public_jwk, "
                    "private_key = excluded.private_key, activates_at = excluded.activates_at, "
                    "retires_at = excluded.retires_at, removed_at = excluded.removed_at",
                    [key_to_row(record) for record in ordered_for_save(records)],
                )
                if records:
                    cursor.execute(_BUMP)
        except _StaleSnapshot:
            return False
        return True

    def list_clients(self) -> list[ClientRecord]:
        with self._transaction() as cursor:
            cursor.execute(f"SELECT {CLIENT_COLUMNS} FROM titan_clients ORDER BY client_id")  # noqa: S608
            return [client_from_row(row) for row in cursor.fetchall()]

    def get_client(self, client_id: str) -> ClientRecord | None:
        with self._transaction() as cursor:
            cursor.execute(f"SELECT {CLIENT_COLUMNS} FROM titan_clients WHERE client_id = %s", (client_id,))  # noqa: S608
            row = cursor.fetchone()
        return None if row is None else client_from_row(row)

    def add_client(self, record: ClientRecord) -> None:
        try:
            with self._transaction(write=True) as cursor:
                cursor.execute(
                    f"INSERT INTO titan_clients ({CLIENT_COLUMNS}) "  # noqa: S608
                    "VALUES (%s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s)",
                    client_to_row(record),
                )
                cursor.execute(_BUMP)
        except pg_errors.UniqueViolation:
            raise ClientExists(f"client {record.client_id!r} is already registered") from None

    def _change(self, statement: str, parameters: tuple[Any, ...]) -> int:
        """Run one writing statement; the generation moves only if it changed a row."""
        with self._transaction(write=True) as cursor:
            cursor.execute(statement.encode(), parameters)
            changed = cursor.rowcount
            if changed > 0:
                cursor.execute(_BUMP)
        return changed

    def set_client_secret(self, client_id: str, secret_hash: bytes, updated_at: int) -> bool:
        return (
            self._change(
                "UPDATE titan_clients SET secret_hash = %s, updated_at = %s WHERE client_id = %s",
                (secret_hash, updated_at, client_id),
            )
            == 1
        )

    def remove_client(self, client_id: str) -> bool:
        return self._change("DELETE FROM titan_clients WHERE client_id = %s", (client_id,)) == 1

    def set_client_disabled(self, client_id: str, *, disabled: bool, not_before: int | None, updated_at: int) -> bool:
        return (
            self._change(
                "UPDATE titan_clients SET disabled = %s, not_before = COALESCE(%s, not_before), updated_at = %s "
                "WHERE client_id = %s",
                (disabled, not_before, updated_at, client_id),
            )
            == 1
        )

    def revoke_token(self, token: RevokedToken) -> None:
        self._change(
            "INSERT INTO titan_revoked_tokens (jti, client_id, expires_at, revoked_at) VALUES (%s, %s, %s, %s) "
            "ON CONFLICT (jti) DO NOTHING",
            (token.jti, token.client_id, token.expires_at, token.revoked_at),
        )

    def revoked_tokens(self, now: int) -> list[RevokedToken]:
        with self._transaction() as cursor:
            cursor.execute(
                "SELECT jti, client_id, expires_at, revoked_at FROM titan_revoked_tokens WHERE expires_at > %s",
                (now,),
            )
            return [RevokedToken(*row) for row in cursor.fetchall()]

    def purge_revoked(self, now: int) -> int:
        # Expired entries matter to no one: deleting them does not move the generation.
        with self._transaction(write=True) as cursor:
            cursor.execute("DELETE FROM titan_revoked_tokens WHERE expires_at <= %s", (now,))
            return cursor.rowcount

    def claim_assertion(self, client_id: str, jti: str, expires_at: int) -> bool:
        with self._transaction(write=True) as cursor:
            cursor.execute(
                "INSERT INTO titan_assertions (client_id, jti, expires_at) VALUES (%s, %s, %s) ON CONFLICT DO NOTHING",
                (client_id, jti, expires_at),
            )
            return cursor.rowcount == 1

    def purge_assertions(self, now: int) -> int:
        with self._transaction(write=True) as cursor:
            cursor.execute("DELETE FROM titan_assertions WHERE expires_at <= %s", (now,))
            return cursor.rowcount

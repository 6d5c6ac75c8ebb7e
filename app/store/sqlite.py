"""The embedded SQLite store: WAL mode, one short transaction per operation."""

from __future__ import annotations

import os
import sqlite3
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import Final

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

SCHEMA_VERSION: Final = 3

_MIGRATIONS: Final = {
    1: """
    CREATE TABLE meta (name TEXT PRIMARY KEY, value INTEGER NOT NULL);
    INSERT INTO meta (name, value) VALUES ('generation', 0);
    CREATE TABLE keys (
        kid TEXT PRIMARY KEY,
        alg TEXT NOT NULL,
        state TEXT NOT NULL CHECK (state IN ('published', 'active', 'retired', 'removed')),
        created_at INTEGER NOT NULL,
        activates_at INTEGER,
        retires_at INTEGER,
        removed_at INTEGER,
        public_jwk TEXT NOT NULL,
        private_key BLOB NOT NULL
    );
    CREATE UNIQUE INDEX keys_one_active ON keys (state) WHERE state = 'active';
    CREATE TABLE clients (
        client_id TEXT PRIMARY KEY,
        secret_hash BLOB NOT NULL,
        audiences TEXT NOT NULL,
        scopes TEXT NOT NULL,
        max_ttl INTEGER NOT NULL,
        created_at INTEGER NOT NULL,
        updated_at INTEGER NOT NULL
    );
    """,
    2: """
    ALTER TABLE clients ADD COLUMN jwks TEXT;
    ALTER TABLE clients ADD COLUMN jwks_uri TEXT;
    ALTER TABLE clients ADD COLUMN not_before INTEGER;
    ALTER TABLE clients ADD COLUMN disabled INTEGER NOT NULL DEFAULT 0;
    ALTER TABLE clients ADD COLUMN rate REAL;
    ALTER TABLE clients ADD COLUMN burst INTEGER;
    CREATE TABLE revoked_tokens (
        jti TEXT PRIMARY KEY,
        client_id TEXT NOT NULL,
        expires_at INTEGER NOT NULL,
        revoked_at INTEGER NOT NULL
    );
    CREATE INDEX revoked_tokens_expiry ON revoked_tokens (expires_at);
    """,
    3: """
    CREATE TABLE assertions (
        client_id TEXT NOT NULL,
        jti TEXT NOT NULL,
        expires_at INTEGER NOT NULL,
        PRIMARY KEY (client_id, jti)
    );
    CREATE INDEX assertions_expiry ON assertions (expires_at);
    """,
}


class _StaleSnapshot(Exception):
    """Raised inside a write transaction to roll it back when a compare-and-swap fails."""


class SqliteStore:
    """Store adapter over one SQLite file; safe to share between the server and CLI processes."""

    shared = False  # one node per file: the assertion replay cache stays in memory

    def __init__(self, path: Path) -> None:
        self.path = path
        self._uri = f"{path.absolute().as_uri()}?mode=rw"
        self._migrate()

    @contextmanager
    def _connect(self, *, write: bool = False, bump: bool = True) -> Iterator[sqlite3.Connection]:
        """One transaction; a failing database (gone, full, read-only, corrupt) is StoreUnavailable.

        The file is opened read-write but never created here: a data directory that disappeared
        must be reported, not silently replaced by an empty store.
        """
        try:
            conn = sqlite3.connect(self._uri, uri=True, timeout=5.0, isolation_level=None)
        except sqlite3.Error as exc:
            raise StoreUnavailable(f"cannot open the store at {self.path}: {exc}") from exc
        try:
            conn.execute("PRAGMA synchronous = FULL")
            conn.execute("BEGIN IMMEDIATE" if write else "BEGIN")
            try:
                yield conn
            except BaseException:
                if conn.in_transaction:
                    conn.execute("ROLLBACK")
                raise
            if write and bump and conn.total_changes:  # only a real change moves the generation
                conn.execute("UPDATE meta SET value = value + 1 WHERE name = 'generation'")
            conn.execute("COMMIT")
        except sqlite3.IntegrityError:
            raise
        except sqlite3.Error as exc:
            raise StoreUnavailable(f"the store at {self.path} failed: {exc}") from exc
        finally:
            conn.close()

    def _migrate(self) -> None:
        try:
            self.path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
            fresh = not self.path.exists()
            conn = sqlite3.connect(self.path, timeout=5.0, isolation_level=None)
        except (OSError, sqlite3.Error) as exc:
            raise ConfigurationError(f"cannot open the store at {self.path}: {exc}") from exc
        try:
            if fresh:
                os.chmod(self.path, 0o600)
            conn.execute("PRAGMA journal_mode = WAL")
            conn.execute("BEGIN IMMEDIATE")
            version = conn.execute("PRAGMA user_version").fetchone()[0]
            if version > SCHEMA_VERSION:
                raise ConfigurationError(
                    f"the store at {self.path} has schema {version}, newer than this Titan ({SCHEMA_VERSION})"
                )
            for step in range(version + 1, SCHEMA_VERSION + 1):
                for statement in _MIGRATIONS[step].split(";"):
                    if statement.strip():
                        conn.execute(statement)
                conn.execute(f"PRAGMA user_version = {step}")
            conn.execute("COMMIT")
        except sqlite3.Error as exc:
            raise ConfigurationError(f"cannot prepare the store at {self.path}: {exc}") from exc
        finally:
            conn.close()

    def describe(self) -> str:
        return f"sqlite:///{self.path}"

    def close(self) -> None:
        """Nothing to release: every operation opens and closes its own connection."""

    def schema_version(self) -> int:
        with self._connect() as conn:
            return int(conn.execute("PRAGMA user_version").fetchone()[0])

    def generation(self) -> int:
        with self._connect() as conn:
            return int(conn.execute("SELECT value FROM meta WHERE name = 'generation'").fetchone()[0])

    def list_keys(self) -> list[KeyRecord]:
        with self._connect() as conn:
            rows = conn.execute(f"SELECT {KEY_COLUMNS} FROM keys ORDER BY created_at, kid").fetchall()  # noqa: S608
        return [key_from_row(row) for row in rows]

    def key_snapshot(self) -> KeySnapshot:
        with self._connect() as conn:
            generation = conn.execute("SELECT value FROM meta WHERE name = 'generation'").fetchone()[0]
            rows = conn.execute(f"SELECT {KEY_COLUMNS} FROM keys ORDER BY created_at, kid").fetchall()  # noqa: S608
        return KeySnapshot(generation=int(generation), keys=tuple(key_from_row(row) for row in rows))

    def save_keys(self, records: Sequence[KeyRecord], *, expected_generation: int) -> bool:
        ordered = ordered_for_save(records)
        try:
            with self._connect(write=True) as conn:
                generation = conn.execute("SELECT value FROM meta WHERE name = 'generation'").fetchone()[0]
                if generation != expected_generation:
                    raise _StaleSnapshot
                conn.executemany(
                    f"INSERT INTO keys ({KEY_COLUMNS}) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?) "  # noqa: S608
                    "ON CONFLICT (kid) DO UPDATE SET alg = excluded.alg, state = excluded.state, "
                    "created_at = excluded.created_at, public_jwk = excluded.public_jwk, "
                    "private_key = excluded.private_key, activates_at = excluded.activates_at, "
                    "retires_at = excluded.retires_at, removed_at = excluded.removed_at",
                    [key_to_row(record) for record in ordered],
                )
        except _StaleSnapshot:
            return False
        return True

    def list_clients(self) -> list[ClientRecord]:
        with self._connect() as conn:
            rows = conn.execute(f"SELECT {CLIENT_COLUMNS} FROM clients ORDER BY client_id").fetchall()  # noqa: S608
        return [client_from_row(row) for row in rows]

    def get_client(self, client_id: str) -> ClientRecord | None:
        with self._connect() as conn:
            row = conn.execute(
                f"SELECT {CLIENT_COLUMNS} FROM clients WHERE client_id = ?",  # noqa: S608
                (client_id,),
            ).fetchone()
        return None if row is None else client_from_row(row)

    def add_client(self, record: ClientRecord) -> None:
        try:
            with self._connect(write=True) as conn:
                conn.execute(
                    f"INSERT INTO clients ({CLIENT_COLUMNS}) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",  # noqa: S608
                    client_to_row(record),
                )
        except sqlite3.IntegrityError:
            raise ClientExists(f"client {record.client_id!r} is already registered") from None

    def set_client_secret(self, client_id: str, secret_hash: bytes, updated_at: int) -> bool:
        with self._connect(write=True) as conn:
            cursor = conn.execute(
                "UPDATE clients SET secret_hash = ?, updated_at = ? WHERE client_id = ?",
                (secret_hash, updated_at, client_id),
            )
            return cursor.rowcount == 1

    def remove_client(self, client_id: str) -> bool:
        with self._connect(write=True) as conn:
            return conn.execute("DELETE FROM clients WHERE client_id = ?", (client_id,)).rowcount == 1

    def set_client_disabled(self, client_id: str, *, disabled: bool, not_before: int | None, updated_at: int) -> bool:
        with self._connect(write=True) as conn:
            cursor = conn.execute(
                "UPDATE clients SET disabled = ?, not_before = COALESCE(?, not_before), updated_at = ? "
                "WHERE client_id = ?",
                (int(disabled), not_before, updated_at, client_id),
            )
            return cursor.rowcount == 1

    def revoke_token(self, token: RevokedToken) -> None:
        with self._connect(write=True) as conn:
            conn.execute(
                "INSERT INTO revoked_tokens (jti, client_id, expires_at, revoked_at) VALUES (?, ?, ?, ?) "
                "ON CONFLICT (jti) DO NOTHING",
                (token.jti, token.client_id, token.expires_at, token.revoked_at),
            )

    def revoked_tokens(self, now: int) -> list[RevokedToken]:
        with self._connect() as conn:
            rows = conn.execute(
                "SELECT jti, client_id, expires_at, revoked_at FROM revoked_tokens WHERE expires_at > ?", (now,)
            ).fetchall()
        return [RevokedToken(*row) for row in rows]

    def purge_revoked(self, now: int) -> int:
        with self._connect(write=True) as conn:
            return conn.execute("DELETE FROM revoked_tokens WHERE expires_at <= ?", (now,)).rowcount

    def claim_assertion(self, client_id: str, jti: str, expires_at: int) -> bool:
        with self._connect(write=True, bump=False) as conn:
            cursor = conn.execute(
                "INSERT INTO assertions (client_id, jti, expires_at) VALUES (?, ?, ?) ON CONFLICT DO NOTHING",
                (client_id, jti, expires_at),
            )
            return cursor.rowcount == 1

    def purge_assertions(self, now: int) -> int:
        with self._connect(write=True, bump=False) as conn:
            return conn.execute("DELETE FROM assertions WHERE expires_at <= ?", (now,)).rowcount

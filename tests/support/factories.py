"""Builders for settings, containers and clients used across the test suite."""

from __future__ import annotations

import base64
import time
from pathlib import Path

from app.clients.model import Client
from app.clients.secrets import generate_secret, hash_secret
from app.encoding import b64url
from app.store.port import ClientRecord
from containers import Container
from settings import Settings, load_settings

# A fixed key-encryption key for tests (32 bytes, base64url); never used outside tests.
TEST_KEK = b64url(bytes(range(32))).decode()


# A whole key rotation cycle in seconds, for end-to-end tests: keys sign for 4 s, are published
# 2 s ahead, tokens live 3 s, servers look at the store every second.
FAST_SCHEDULE = {
    "TITAN_KEY_ROTATION_INTERVAL": "4",
    "TITAN_KEY_PUBLISH_LEAD": "2",
    "TITAN_JWKS_MAX_AGE": "1",
    "TITAN_MAX_TTL": "3",
    "TITAN_DEFAULT_TTL": "3",
    "TITAN_CLOCK_SKEW": "0",
    "TITAN_KEY_RETIRE_HOLD": "3",
    "TITAN_REFRESH_INTERVAL": "1",
}


def test_env(data_dir: Path, **overrides: str) -> dict[str, str]:
    env = {
        "TITAN_DATA_DIR": str(data_dir),
        "TITAN_KEY_ENCRYPTION_KEY": TEST_KEK,
        "TITAN_LOG_LEVEL": "warning",
    }
    env.update({f"TITAN_{name.upper()}": value for name, value in overrides.items()})
    return env


def make_settings(data_dir: Path, **overrides: str) -> Settings:
    return load_settings(test_env(data_dir, **overrides))


def make_container(data_dir: Path, **overrides: str) -> Container:
    container = Container()
    container.settings.override(make_settings(data_dir, **overrides))
    return container


def register_client(
    container: Container,
    client_id: str = "orders",
    *,
    audiences: tuple[str, ...] = ("billing", "inventory"),
    scopes: tuple[str, ...] = ("invoices:read", "invoices:write"),
    max_ttl: int = 900,
) -> str:
    """Add a client to the store and return its secret."""
    secret = generate_secret()
    now = int(time.time())
    container.store().add_client(ClientRecord(client_id, hash_secret(secret), audiences, scopes, max_ttl, now, now))
    return secret


def make_client(
    client_id: str = "orders",
    *,
    audiences: tuple[str, ...] = ("billing", "inventory"),
    scopes: tuple[str, ...] = ("invoices:read", "invoices:write"),
    max_ttl: int = 900,
) -> Client:
    return Client.from_record(ClientRecord(client_id, hash_secret("s"), audiences, scopes, max_ttl, 0, 0))


def basic(client_id: str, secret: str) -> dict[str, str]:
    return {"Authorization": "Basic " + base64.b64encode(f"{client_id}:{secret}".encode()).decode()}

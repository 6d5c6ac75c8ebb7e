"""The keyring: first key, persistence across restarts, encryption at rest, KEK errors, algorithm change."""

from __future__ import annotations

import json
import stat
from pathlib import Path

import pytest

from app.errors import ConfigurationError
from app.keys.encryption import KeySealer
from app.keys.keyring import Keyring
from containers import Container
from settings import load_settings
from tests.support.factories import make_container


def load(container: Container) -> Keyring:
    keyring: Keyring = container.keyring()
    keyring.load()
    return keyring


def test_the_first_load_creates_one_active_key(container: Container) -> None:
    keyring = load(container)
    records = container.store().list_keys()
    assert [(record.kid, record.state, record.alg) for record in records] == [
        (keyring.active.kid, "active", "ES256")
    ]
    assert json.loads(keyring.key_set.jwks_body)["keys"][0]["kid"] == keyring.active.kid


def test_the_key_survives_a_restart(data_dir: Path) -> None:
    first = load(make_container(data_dir)).active
    second = load(make_container(data_dir)).active
    assert first.kid == second.kid
    assert first.header_segment == second.header_segment


def test_private_keys_are_encrypted_at_rest(container: Container) -> None:
    load(container)
    raw = container.settings().database_path.read_bytes()
    assert b"PRIVATE KEY" not in raw
    record = container.store().list_keys()[0]
    assert b"PRIVATE KEY" not in record.private_key
    assert "d" not in json.loads(record.public_jwk)  # no private parameter in the public JWK


def test_a_wrong_key_encryption_key_stops_without_replacing_keys(data_dir: Path) -> None:
    original = load(make_container(data_dir)).active.kid
    wrong = "A" * 43
    with pytest.raises(ConfigurationError, match="key-encryption key is wrong"):
        load(make_container(data_dir, key_encryption_key=wrong))
    assert [record.kid for record in make_container(data_dir).store().list_keys()] == [original]


def test_a_key_file_is_created_once_and_required_afterwards(tmp_path: Path) -> None:
    data_dir, kek_file = tmp_path / "data", tmp_path / "kek"
    settings = load_settings(
        {"TITAN_DATA_DIR": str(data_dir), "TITAN_KEY_ENCRYPTION_KEY_FILE": str(kek_file)}
    )

    def container() -> Container:
        fresh = Container()
        fresh.settings.override(settings)
        return fresh

    kid = load(container()).active.kid
    assert stat.S_IMODE(kek_file.stat().st_mode) == 0o600
    assert load(container()).active.kid == kid  # the file is read back, not replaced
    kek_file.unlink()
    with pytest.raises(ConfigurationError, match="no key-encryption key"):
        load(container())
    assert not kek_file.exists()


def test_a_malformed_key_encryption_key_is_refused(data_dir: Path) -> None:
    with pytest.raises(ConfigurationError, match="32 bytes"):
        load(make_container(data_dir, key_encryption_key="c2hvcnQ"))


def test_sealed_keys_are_bound_to_their_kid() -> None:
    sealer = KeySealer(bytes(32))
    sealed = sealer.seal("kid-1", b"secret")
    assert sealer.open("kid-1", sealed) == b"secret"
    with pytest.raises(ConfigurationError):
        sealer.open("kid-2", sealed)


def test_changing_the_algorithm_installs_a_new_key_and_keeps_the_old_published(data_dir: Path) -> None:
    old = load(make_container(data_dir)).active
    keyring = load(make_container(data_dir, jwt_algorithm="EdDSA"))
    assert keyring.active.alg == "EdDSA"
    assert keyring.active.kid != old.kid
    published = {jwk["kid"]: jwk["alg"] for jwk in json.loads(keyring.key_set.jwks_body)["keys"]}
    assert published == {old.kid: "ES256", keyring.active.kid: "EdDSA"}


def test_the_jwks_etag_changes_with_the_key_set(data_dir: Path) -> None:
    first = load(make_container(data_dir)).key_set
    second = load(make_container(data_dir, jwt_algorithm="RS256")).key_set
    assert first.jwks_etag != second.jwks_etag
    assert first.jwks_etag[0] == first.jwks_etag[-1] == '"'

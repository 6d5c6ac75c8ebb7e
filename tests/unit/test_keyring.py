"""The keyring and encryption at rest: first key, restarts, KEK errors, the JWKS body."""

from __future__ import annotations

import json
import stat
from pathlib import Path

import pytest

from app.errors import ConfigurationError
from app.keys.encryption import KeySealer, kek_id
from tests.support.keys import KeyRig, make_rig


def start(rig: KeyRig) -> KeyRig:
    """What the server does at start-up: due transitions, then load."""
    rig.rotator.tick()
    rig.keyring.load()
    return rig


def test_the_first_start_creates_one_active_key(data_dir: Path) -> None:
    rig = start(make_rig(data_dir))
    assert rig.states() == {rig.keyring.active.kid: "active"}
    assert json.loads(rig.keyring.key_set.jwks_body)["keys"][0]["kid"] == rig.keyring.active.kid


def test_the_key_survives_a_restart(data_dir: Path) -> None:
    first = start(make_rig(data_dir)).keyring.active
    second = start(make_rig(data_dir)).keyring.active
    assert first.kid == second.kid
    assert first.header_segment == second.header_segment


def test_loading_without_an_active_key_is_an_error(data_dir: Path) -> None:
    with pytest.raises(ConfigurationError, match="no active signing key"):
        make_rig(data_dir).keyring.load()


def test_private_keys_are_encrypted_at_rest(data_dir: Path) -> None:
    rig = start(make_rig(data_dir))
    assert b"PRIVATE KEY" not in (data_dir / "titan.sqlite3").read_bytes()
    record = rig.active()
    assert b"PRIVATE KEY" not in record.private_key
    assert "d" not in json.loads(record.public_jwk)  # no private parameter in the public JWK


def test_a_wrong_key_encryption_key_stops_without_replacing_keys(data_dir: Path) -> None:
    original = start(make_rig(data_dir)).keyring.active.kid
    wrong = make_rig(data_dir, kek="A" * 43)
    with pytest.raises(ConfigurationError, match="key-encryption key is wrong"):
        start(wrong)
    assert make_rig(data_dir).states() == {original: "active"}


def test_a_key_file_is_created_once_and_required_afterwards(tmp_path: Path) -> None:
    data_dir, kek_file = tmp_path / "data", tmp_path / "kek"
    kid = start(make_rig(data_dir, kek=None, kek_file=kek_file)).keyring.active.kid
    assert stat.S_IMODE(kek_file.stat().st_mode) == 0o600
    assert start(make_rig(data_dir, kek=None, kek_file=kek_file)).keyring.active.kid == kid
    kek_file.unlink()
    with pytest.raises(ConfigurationError, match="no key-encryption key"):
        start(make_rig(data_dir, kek=None, kek_file=kek_file))
    assert not kek_file.exists()  # never a new KEK over existing keys


@pytest.mark.parametrize(("kek", "message"), [("c2hvcnQ", "32 bytes"), ("!!!", "base64url"), (" , ", "no key")])
def test_a_malformed_key_encryption_key_is_refused(data_dir: Path, kek: str, message: str) -> None:
    with pytest.raises(ConfigurationError, match=message):
        start(make_rig(data_dir, kek=kek))


def test_sealed_keys_are_bound_to_their_kid_and_name_their_kek() -> None:
    old, new = bytes(32), bytes(range(32))
    sealed = KeySealer([old]).seal("kid-1", b"secret")
    assert sealed[1:9] == kek_id(old)
    both = KeySealer([new, old])
    assert both.open("kid-1", sealed) == b"secret"
    assert both.seal("kid-1", b"secret")[1:9] == kek_id(new)
    with pytest.raises(ConfigurationError, match="corrupt"):
        both.open("kid-2", sealed)
    with pytest.raises(ConfigurationError, match="key-encryption key is wrong"):
        KeySealer([new]).open("kid-1", sealed)


def test_the_jwks_etag_changes_with_the_key_set(data_dir: Path) -> None:
    rig = start(make_rig(data_dir))
    first = rig.keyring.key_set
    rig.rotator.rotate()
    second = rig.keyring.load()
    assert first.jwks_etag != second.jwks_etag
    assert len(json.loads(second.jwks_body)["keys"]) == 2
    assert first.jwks_etag[0] == first.jwks_etag[-1] == '"'

"""Encryption at rest for private keys: AES-256-GCM under a key-encryption key (KEK)."""

from __future__ import annotations

import base64
import binascii
import logging
import os
import secrets
from pathlib import Path
from typing import Final

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

from app.errors import ConfigurationError

log = logging.getLogger("titan.keys")

_FORMAT: Final = b"\x01"  # version byte of the sealed blob: 1 = AES-256-GCM, 12-byte nonce
_NONCE_BYTES: Final = 12


class KeySealer:
    """Seals and opens private keys; the key id is bound in as associated data."""

    def __init__(self, kek: bytes) -> None:
        if len(kek) != 32:
            raise ConfigurationError("the key-encryption key must be 32 bytes (256 bits)")
        self._aead = AESGCM(kek)

    def seal(self, kid: str, plaintext: bytes) -> bytes:
        nonce = os.urandom(_NONCE_BYTES)
        return _FORMAT + nonce + self._aead.encrypt(nonce, plaintext, kid.encode())

    def open(self, kid: str, sealed: bytes) -> bytes:
        if sealed[:1] != _FORMAT:
            raise ConfigurationError(f"the private key of {kid} is in an unknown format")
        nonce, ciphertext = sealed[1 : 1 + _NONCE_BYTES], sealed[1 + _NONCE_BYTES :]
        try:
            return self._aead.decrypt(nonce, ciphertext, kid.encode())
        except InvalidTag:
            raise ConfigurationError(
                f"cannot decrypt the private key of {kid}: the key-encryption key is wrong "
                "(check TITAN_KEY_ENCRYPTION_KEY or TITAN_KEY_ENCRYPTION_KEY_FILE)"
            ) from None


def encode_kek(kek: bytes) -> str:
    return base64.urlsafe_b64encode(kek).decode().rstrip("=")


def decode_kek(text: str, source: str) -> bytes:
    try:
        kek = base64.urlsafe_b64decode(text.strip() + "=" * (-len(text.strip()) % 4))
    except (binascii.Error, ValueError):
        raise ConfigurationError(f"{source}: the key-encryption key is not valid base64url") from None
    if len(kek) != 32:
        raise ConfigurationError(f"{source}: the key-encryption key must decode to 32 bytes, got {len(kek)}")
    return kek


def load_kek(value: str | None, path: Path, *, create: bool) -> bytes:
    """The KEK from the setting, else from the key file, else (``create``) a new 0600 key file."""
    if value is not None:
        return decode_kek(value, "TITAN_KEY_ENCRYPTION_KEY")
    if path.exists():
        try:
            return decode_kek(path.read_text(), str(path))
        except OSError as exc:
            raise ConfigurationError(f"cannot read the key-encryption key file {path}: {exc}") from exc
    if not create:
        raise ConfigurationError(
            f"no key-encryption key: set TITAN_KEY_ENCRYPTION_KEY or provide the file {path}"
        )
    path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
    kek = secrets.token_bytes(32)
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "w") as handle:
        handle.write(encode_kek(kek) + "\n")
    log.warning(
        "created a key-encryption key file at %s; in production set TITAN_KEY_ENCRYPTION_KEY "
        "from a secret manager instead",
        path,
    )
    return kek

"""Encryption at rest for private keys: AES-256-GCM under a key-encryption key (KEK).

A sealed blob names the KEK that sealed it (an 8-byte fingerprint), so several KEKs can be
held at once while the KEK is rotated: the first seals, any of them opens.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import logging
import os
import secrets
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Final

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

from app.errors import ConfigurationError

log = logging.getLogger("titan.keys")

_FORMAT: Final = b"\x02"  # version byte: 2 = KEK fingerprint + AES-256-GCM with a 12-byte nonce
_KEK_ID_BYTES: Final = 8
_NONCE_BYTES: Final = 12
KEK_ENV: Final = "TITAN_KEY_ENCRYPTION_KEY"


def kek_id(kek: bytes) -> bytes:
    """A fingerprint naming a KEK without revealing it."""
    return hashlib.sha256(b"titan-kek-id" + kek).digest()[:_KEK_ID_BYTES]


class KeySealer:
    """Seals private keys under the first KEK and opens them with whichever KEK sealed them."""

    def __init__(self, keks: Sequence[bytes]) -> None:
        if not keks:
            raise ConfigurationError("no key-encryption key")
        for kek in keks:
            if len(kek) != 32:
                raise ConfigurationError("a key-encryption key must be 32 bytes (256 bits)")
        self._primary_id = kek_id(keks[0])
        self._aeads = {kek_id(kek): AESGCM(kek) for kek in keks}

    def seal(self, kid: str, plaintext: bytes) -> bytes:
        nonce = os.urandom(_NONCE_BYTES)
        ciphertext = self._aeads[self._primary_id].encrypt(nonce, plaintext, kid.encode())
        return _FORMAT + self._primary_id + nonce + ciphertext

    def can_open(self, sealed: bytes) -> bool:
        return sealed[:1] == _FORMAT and sealed[1 : 1 + _KEK_ID_BYTES] in self._aeads

    def open(self, kid: str, sealed: bytes) -> bytes:
        if sealed[:1] != _FORMAT:
            raise ConfigurationError(f"the private key of {kid} is in an unknown format")
        sealer_id = sealed[1 : 1 + _KEK_ID_BYTES]
        aead = self._aeads.get(sealer_id)
        if aead is None:
            raise ConfigurationError(
                f"cannot decrypt the private key of {kid}: the key-encryption key is wrong, the key was "
                f"sealed under another one (check {KEK_ENV} or TITAN_KEY_ENCRYPTION_KEY_FILE)"
            )
        nonce = sealed[1 + _KEK_ID_BYTES : 1 + _KEK_ID_BYTES + _NONCE_BYTES]
        try:
            return aead.decrypt(nonce, sealed[1 + _KEK_ID_BYTES + _NONCE_BYTES :], kid.encode())
        except InvalidTag:
            raise ConfigurationError(f"the sealed private key of {kid} is corrupt") from None

    def reseal(self, kid: str, sealed: bytes) -> bytes:
        """The same private key sealed under the primary KEK."""
        return self.seal(kid, self.open(kid, sealed))


def encode_kek(kek: bytes) -> str:
    return base64.urlsafe_b64encode(kek).decode().rstrip("=")


def decode_keks(text: str, source: str) -> list[bytes]:
    """KEKs from comma- or newline-separated base64url values; the first one seals."""
    keks = []
    for item in text.replace(",", "\n").split():
        try:
            kek = base64.b64decode(item + "=" * (-len(item) % 4), altchars=b"-_", validate=True)
        except (binascii.Error, ValueError):
            raise ConfigurationError(f"{source}: a key-encryption key is not valid base64url") from None
        if len(kek) != 32:
            raise ConfigurationError(f"{source}: a key-encryption key must decode to 32 bytes, got {len(kek)}")
        keks.append(kek)
    if not keks:
        raise ConfigurationError(f"{source}: no key-encryption key in it")
    return keks


@dataclass(frozen=True, slots=True)
class KekSource:
    """Where the KEKs come from: the environment variable if set, else the key file."""

    value: str | None
    path: Path

    @property
    def from_environment(self) -> bool:
        return self.value is not None

    def load(self, *, create: bool) -> list[bytes]:
        """The KEKs; with ``create`` and nothing configured, a new 0600 key file with a fresh KEK."""
        if self.value is not None:
            return decode_keks(self.value, KEK_ENV)
        try:
            return decode_keks(self.path.read_text(), str(self.path))
        except FileNotFoundError:
            pass
        except OSError as exc:
            raise ConfigurationError(f"cannot read the key-encryption key file {self.path}: {exc}") from exc
        if not create:
            raise ConfigurationError(
                f"no key-encryption key: set {KEK_ENV} or provide the file {self.path} "
                "(the store holds keys sealed under one)"
            )
        kek = secrets.token_bytes(32)
        self.write([kek], exclusive=True)
        log.warning(
            "created a key-encryption key file at %s; in production set %s from a secret manager instead",
            self.path,
            KEK_ENV,
        )
        return [kek]

    def write(self, keks: Sequence[bytes], *, exclusive: bool = False) -> None:
        """Replace the key file atomically (mode 0600), primary KEK first."""
        self.path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
        text = "".join(encode_kek(kek) + "\n" for kek in keks)
        if exclusive:
            fd = os.open(self.path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
            with os.fdopen(fd, "w") as handle:
                handle.write(text)
                handle.flush()
                os.fsync(handle.fileno())
            return
        temporary = self.path.with_name(self.path.name + ".tmp")
        fd = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(fd, "w") as handle:
            handle.write(text)
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(temporary, self.path)

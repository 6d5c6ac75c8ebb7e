"""Test doubles for the Signer port, swapped in with container.signer.override(...)."""

from __future__ import annotations

import threading

from app.keys.material import JoseKey, generate_private_key
from app.signing.port import SigningKey


class FakeSigner:
    """Signs with a constant, so tests can see the pipeline used the overridden signer."""

    alg = "ES256"
    name = "FAKE-SIGNER"
    signature = b"fake-signature"

    def __init__(self) -> None:
        self.calls = 0

    def generate_key(self) -> JoseKey:
        return generate_private_key(self.alg)

    def sign(self, key: SigningKey, message: bytes) -> bytes:
        self.calls += 1
        return self.signature


class BlockingSigner(FakeSigner):
    """Holds every signature until ``release`` is set: a stand-in for a saturated crypto pool."""

    name = "BLOCKING-SIGNER"

    def __init__(self) -> None:
        super().__init__()
        self.release = threading.Event()
        self.started = threading.Semaphore(0)

    def sign(self, key: SigningKey, message: bytes) -> bytes:
        self.started.release()
        self.release.wait(10)
        return super().sign(key, message)


class FailingSigner(FakeSigner):
    name = "FAILING-SIGNER"

    def sign(self, key: SigningKey, message: bytes) -> bytes:
        raise RuntimeError("HSM unreachable")

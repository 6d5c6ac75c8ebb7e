"""A key-management rig on a temporary store with a clock the test moves by hand."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from app.keys.encryption import KekSource
from app.keys.keyring import Keyring
from app.keys.rotation import KeyRotator, SealerSource
from app.keys.schedule import Schedule
from app.signing.jose import JoseSigner
from app.store.port import KeyRecord
from app.store.sqlite import SqliteStore
from tests.support.factories import TEST_KEK


class FakeClock:
    def __init__(self, now: float = 1_000_000.0) -> None:
        self.now = now

    def __call__(self) -> float:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += seconds


SHORT = Schedule(rotation_interval=100, publish_lead=10, retire_hold=20)


@dataclass
class KeyRig:
    """Store, rotator and keyring sharing one data directory and one fake clock."""

    store: SqliteStore
    rotator: KeyRotator
    keyring: Keyring
    clock: FakeClock

    def states(self) -> dict[str, str]:
        return {key.kid: key.state for key in self.store.list_keys()}

    def by_state(self, state: str) -> list[KeyRecord]:
        return [key for key in self.store.list_keys() if key.state == state]

    def active(self) -> KeyRecord:
        (key,) = self.by_state("active")
        return key


def make_rig(
    data_dir: Path,
    *,
    clock: FakeClock | None = None,
    alg: str = "ES256",
    schedule: Schedule = SHORT,
    kek: str | None = TEST_KEK,
    kek_file: Path | None = None,
    store: SqliteStore | None = None,
) -> KeyRig:
    """A fresh rig; call again on the same data_dir to model a restart."""
    store = store or SqliteStore(data_dir / "titan.sqlite3")
    sealers = SealerSource(KekSource(kek, kek_file or data_dir / "key-encryption.key"), store)
    clock = clock or FakeClock()
    rotator = KeyRotator(
        store=store, signer=JoseSigner(alg), sealers=sealers, schedule=schedule, pickup_delay=2, clock=clock
    )
    return KeyRig(store=store, rotator=rotator, keyring=Keyring(store, sealers), clock=clock)

"""Background work: follow the store's change counter, reload clients and keys, drive key rotation."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections.abc import Callable
from typing import Final

from app.clients.registry import ClientRegistry
from app.keys.keyring import Keyring
from app.keys.rotation import KeyRotator
from app.revocation import DenyList
from app.store.port import Store

log = logging.getLogger("titan.refresh")

MIN_WAIT: Final = 0.05
PURGE_EVERY: Final = 60.0  # seconds between deny-list purges when nothing else changes


class Refresher:
    """Keeps the in-memory registry and keyring in step with the store and runs the key schedule.

    It wakes every ``interval`` seconds, or sooner when a key transition is due, so a rotation
    happens on time; all store work runs in a thread, off the event loop.
    """

    def __init__(
        self,
        *,
        store: Store,
        registry: ClientRegistry,
        keyring: Keyring,
        rotator: KeyRotator,
        deny_list: DenyList,
        interval: float,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self._store = store
        self._registry = registry
        self._keyring = keyring
        self._rotator = rotator
        self._deny_list = deny_list
        self._interval = interval
        self._clock = clock
        self._generation: int | None = None
        self._task: asyncio.Task[None] | None = None
        self.last_error: str | None = None
        self.last_success: float | None = None
        self.failures = 0
        self._last_purge = 0.0

    def load_now(self) -> None:
        """Apply due key transitions and load everything (blocking); used at start-up."""
        self._rotator.tick()
        generation = self._store.generation()
        self._keyring.load()
        self._registry.load()
        self._deny_list.load()
        self._generation = generation
        self.last_success = self._clock()

    async def refresh_once(self) -> bool:
        """Reload if the store changed; True when something was reloaded."""
        generation = await asyncio.to_thread(self._store.generation)
        if generation == self._generation:
            self.last_success = self._clock()
            return False
        await asyncio.to_thread(self._keyring.load)
        count = await asyncio.to_thread(self._registry.load)
        await asyncio.to_thread(self._deny_list.load)
        self._generation = generation
        self.last_success = self._clock()
        log.info("reloaded from the store (generation %d): %d clients", generation, count)
        return True

    async def rotate_once(self) -> bool:
        """Carry out due key transitions and swap the keyring; True when a transition happened."""
        applied = await asyncio.to_thread(self._rotator.tick)
        if not applied.transitions:
            return False
        await asyncio.to_thread(self._keyring.load)
        return True

    def next_key_event(self) -> float | None:
        """When the next key transition is due (epoch seconds), from the keys in memory."""
        if not self._keyring.loaded:
            return None
        return self._rotator.next_due(self._keyring.key_set.records)

    def _wait(self) -> float:
        due = self.next_key_event()
        wait = self._interval if due is None else min(self._interval, due - self._clock())
        return max(MIN_WAIT, wait)

    def start(self) -> None:
        self._task = asyncio.get_running_loop().create_task(self._run(), name="titan-refresher")

    async def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
            self._task = None

    async def _run(self) -> None:
        while True:
            await asyncio.sleep(self._wait())
            await self.cycle()

    async def cycle(self) -> bool:
        """One round of background work; a failure is reported, never raised: minting goes on
        with what is in memory, and the next round retries. True when the round succeeded."""
        try:
            await self.refresh_once()
            await self.rotate_once()
            await asyncio.to_thread(self._registry.refresh_remote)
            if self._clock() - self._last_purge >= PURGE_EVERY:
                await asyncio.to_thread(self._deny_list.load)  # drops entries of expired tokens
                if self._store.shared:  # the fleet's assertion jtis, once they cannot be replayed
                    await asyncio.to_thread(self._store.purge_assertions, int(self._clock()))
                self._last_purge = self._clock()
        except Exception as exc:
            self.failures += 1
            self.last_error = f"{type(exc).__name__}: {exc}"
            log.warning("store refresh failed, serving from memory: %s", self.last_error)
            return False
        if self.last_error is not None:
            log.info("store refresh recovered")
        self.last_error = None
        return True

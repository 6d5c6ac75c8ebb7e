"""Background refresh: poll the store's change counter and reload clients and keys off the loop."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time

from app.clients.registry import ClientRegistry
from app.keys.keyring import Keyring
from app.store.port import Store

log = logging.getLogger("titan.refresh")


class Refresher:
    """Keeps the in-memory registry and keyring in step with the store, every ``interval`` seconds."""

    def __init__(self, *, store: Store, registry: ClientRegistry, keyring: Keyring, interval: float) -> None:
        self._store = store
        self._registry = registry
        self._keyring = keyring
        self._interval = interval
        self._generation: int | None = None
        self._task: asyncio.Task[None] | None = None
        self.last_error: str | None = None
        self.last_success: float | None = None
        self.failures = 0

    def load_now(self) -> None:
        """Load everything (blocking); used at start-up before the first request."""
        generation = self._store.generation()
        self._keyring.load()
        self._registry.load()
        self._generation = generation
        self.last_success = time.time()

    async def refresh_once(self) -> bool:
        """Reload if the store changed; True when something was reloaded."""
        generation = await asyncio.to_thread(self._store.generation)
        if generation == self._generation:
            self.last_success = time.time()
            return False
        await asyncio.to_thread(self._keyring.load)
        count = await asyncio.to_thread(self._registry.load)
        self._generation = generation
        self.last_success = time.time()
        log.info("reloaded from the store (generation %d): %d clients", generation, count)
        return True

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
            await asyncio.sleep(self._interval)
            try:
                await self.refresh_once()
                if self.last_error is not None:
                    log.info("store refresh recovered")
                self.last_error = None
            except Exception as exc:  # keep minting with what is in memory; report the fault
                self.failures += 1
                self.last_error = f"{type(exc).__name__}: {exc}"
                log.warning("store refresh failed, serving from memory: %s", self.last_error)

"""The gate: admission of mints (a bound on those in progress), then a semaphore of slots guarding the crypto pool."""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Callable
from concurrent.futures import Executor
from dataclasses import dataclass
from typing import Final, TypeVar

from app.errors import Unavailable

T = TypeVar("T")

log = logging.getLogger("titan")

OVERLOAD_REPORT_EVERY: Final = 10.0  # seconds between "shedding" warnings while it lasts


@dataclass(frozen=True, slots=True)
class GateState:
    """A snapshot of the gate for stats and metrics."""

    slots: int
    max_waiting: int
    slot_timeout: float
    signing_mode: str
    in_flight: int
    waiting: int
    admitted: int
    rejected: int
    timed_out: int
    accepting: bool
    max_pending: int
    pending: int
    shed: int
    draining: bool


class Gate:
    """Admits at most ``slots`` calls at once; runs them in ``executor`` or inline on the loop.

    A caller that finds every slot taken waits at most ``slot_timeout`` seconds; when
    ``max_waiting`` callers already wait it is refused at once. Both refusals are 503s with
    Retry-After, so overload sheds quickly instead of piling up.

    Before any of that, ``enter`` admits a mint request as it arrives: at most ``max_pending``
    are in progress at once (reading the body, authenticating, waiting, signing); beyond that a
    request is refused at once with a 503. In inline mode this is the only bound, since inline
    signing never waits for a slot. ``drain`` (on SIGTERM) refuses every new mint the same way
    while in-flight ones finish.
    """

    def __init__(
        self,
        *,
        executor: Executor | None,
        slots: int,
        max_waiting: int,
        slot_timeout: float,
        inline: bool,
        max_pending: int = 1_000_000,
    ) -> None:
        if slots < 1:
            raise ValueError("a gate needs at least one slot")
        self._executor = executor
        self._slots = slots
        self._max_waiting = max_waiting
        self._slot_timeout = slot_timeout
        self._inline = inline or executor is None
        self._semaphore: asyncio.Semaphore | None = None
        self._idle: asyncio.Event | None = None
        self._in_flight = 0
        self._waiting = 0
        self._admitted = 0
        self._rejected = 0
        self._timed_out = 0
        self._max_pending = max_pending
        self._pending = 0
        self._shed = 0
        self._draining = False
        self._shed_reported = 0
        self._reported_at = 0.0

    def open(self) -> None:
        """Create the loop-bound parts; call from inside the running loop (the app lifespan)."""
        self._semaphore = asyncio.Semaphore(self._slots)
        self._idle = asyncio.Event()
        self._idle.set()

    async def close(self, timeout: float) -> bool:
        """Stop admitting, then wait up to ``timeout`` s for in-flight calls; True if all finished."""
        semaphore, idle = self._semaphore, self._idle
        self._semaphore = None
        if idle is None or semaphore is None:
            return True
        try:
            async with asyncio.timeout(timeout):
                await idle.wait()
        except TimeoutError:
            return False
        return True

    def enter(self) -> None:
        """Admit one mint request now, or raise Unavailable; pair every success with ``leave``."""
        if self._draining or self._semaphore is None:
            raise Unavailable("the service is shutting down", reason="shutting_down")
        if self._pending >= self._max_pending:
            self._shed += 1
            self._report_overload()
            raise Unavailable("too many mints are in progress; retry shortly", reason="overloaded")
        self._pending += 1

    def _report_overload(self) -> None:
        """One warning per OVERLOAD_REPORT_EVERY while shedding, not one log line per refusal."""
        now = time.monotonic()
        if now - self._reported_at >= OVERLOAD_REPORT_EVERY:
            log.warning(
                "overload: %d mint requests refused with 503 since the last report (%d in progress, limit %d)",
                self._shed - self._shed_reported,
                self._pending,
                self._max_pending,
            )
            self._shed_reported, self._reported_at = self._shed, now

    def leave(self) -> None:
        self._pending -= 1

    def drain(self) -> None:
        """Refuse new mints from now on (503, shutting_down); those in flight finish."""
        self._draining = True

    @property
    def draining(self) -> bool:
        return self._draining

    @property
    def inline(self) -> bool:
        return self._inline

    def run_inline(self, fn: Callable[..., T], *args: object) -> T:
        """Inline mode: run ``fn`` now on the loop. It never yields, so no second call can start
        meanwhile and a slot would always be free: only count it."""
        if self._semaphore is None:
            raise Unavailable("the service is shutting down", reason="shutting_down")
        self._admitted += 1
        return fn(*args)

    @property
    def accepting(self) -> bool:
        return self._semaphore is not None and not self._draining

    def state(self) -> GateState:
        return GateState(
            slots=self._slots,
            max_waiting=self._max_waiting,
            slot_timeout=self._slot_timeout,
            signing_mode="inline" if self._inline else "pool",
            in_flight=self._in_flight,
            waiting=self._waiting,
            admitted=self._admitted,
            rejected=self._rejected,
            timed_out=self._timed_out,
            accepting=self.accepting,
            max_pending=self._max_pending,
            pending=self._pending,
            shed=self._shed,
            draining=self._draining,
        )

    async def run(self, fn: Callable[..., T], *args: object) -> T:
        """Run ``fn(*args)`` once a slot is free; raise Unavailable if none comes in time."""
        semaphore = self._semaphore
        if semaphore is None:
            raise Unavailable("the service is shutting down", reason="shutting_down")
        if self._inline:
            return self.run_inline(fn, *args)
        if semaphore.locked():
            await self._wait_for_slot(semaphore)
        else:
            await semaphore.acquire()  # a free slot: returns at once
        self._admitted += 1
        self._in_flight += 1
        assert self._idle is not None
        self._idle.clear()
        try:
            return await asyncio.get_running_loop().run_in_executor(self._executor, fn, *args)
        finally:
            self._in_flight -= 1
            semaphore.release()
            if self._in_flight == 0:
                self._idle.set()

    async def _wait_for_slot(self, semaphore: asyncio.Semaphore) -> None:
        if self._waiting >= self._max_waiting:
            self._rejected += 1
            raise Unavailable("too many mints are waiting; retry shortly", reason="queue_full")
        self._waiting += 1
        try:
            async with asyncio.timeout(self._slot_timeout):
                await semaphore.acquire()
        except TimeoutError:
            self._timed_out += 1
            raise Unavailable("no signing slot became free in time; retry shortly", reason="slot_timeout") from None
        finally:
            self._waiting -= 1

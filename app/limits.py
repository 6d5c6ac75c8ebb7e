"""In-memory limits on the hot path, O(1) per request: per-client token buckets and brute-force guards.

Brute-force protection counts failed authentications per remote address and per
(client id, address) pair. Either reaching ``limit`` within ``window`` is refused for
``cooldown`` without checking credentials; from ``slowdown`` failures on, each further failure
is answered after a growing delay. Failures for a client id across *all* addresses are never
a reason to refuse: that would let anyone lock a real client out by sending its id with bad
secrets. The real client, from its own address and with its real secret, is never slowed or
refused by somebody else's failures.
"""

from __future__ import annotations

import math
import time
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass
from typing import Final

from app.errors import TitanError

MAX_TRACKED: Final = 100_000  # entries per table; the oldest go first beyond it
MAX_DELAY: Final = 2.0


class RateLimited(TitanError):
    error = "rate_limited"
    status_code = 429
    description = "too many requests; retry later"

    def __init__(self, description: str | None = None, *, reason: str | None = None, retry_after: int = 1):
        super().__init__(description, reason=reason)
        self.retry_after = retry_after


@dataclass(slots=True)
class _Bucket:
    tokens: float
    updated: float


class RateLimiter:
    """A token bucket per client: ``rate`` tokens a second, up to ``burst`` saved."""

    def __init__(self, *, rate: float, burst: int, clock: Callable[[], float] = time.monotonic) -> None:
        self._rate = rate
        self._burst = burst
        self._clock = clock
        self._buckets: OrderedDict[str, _Bucket] = OrderedDict()
        self.limited = 0

    def check(self, client_id: str, rate: float | None = None, burst: int | None = None) -> None:
        """Take one token for ``client_id`` or raise RateLimited with the wait in Retry-After."""
        rate = rate or self._rate
        burst = burst or self._burst
        now = self._clock()
        bucket = self._buckets.get(client_id)
        if bucket is None:
            bucket = self._buckets[client_id] = _Bucket(tokens=float(burst), updated=now)
            if len(self._buckets) > MAX_TRACKED:
                self._buckets.popitem(last=False)
        else:
            bucket.tokens = min(float(burst), bucket.tokens + (now - bucket.updated) * rate)
            bucket.updated = now
        if bucket.tokens >= 1.0:
            bucket.tokens -= 1.0
            return
        self.limited += 1
        wait = math.ceil((1.0 - bucket.tokens) / rate)
        raise RateLimited(
            f"client {client_id!r} exceeded its rate of {rate:g} tokens/s (burst {burst})",
            reason="rate_limited",
            retry_after=max(1, wait),
        )


@dataclass(slots=True)
class _Failures:
    count: int
    window_start: float
    blocked_until: float = 0.0


class _FailureTable:
    def __init__(self) -> None:
        self.entries: OrderedDict[object, _Failures] = OrderedDict()

    def get(self, key: object, now: float, window: float) -> _Failures | None:
        entry = self.entries.get(key)
        if entry is not None and now - entry.window_start > window and now >= entry.blocked_until:
            del self.entries[key]
            return None
        return entry

    def add(self, key: object, now: float, window: float) -> _Failures:
        entry = self.get(key, now, window)
        if entry is None:
            entry = self.entries[key] = _Failures(count=0, window_start=now)
            if len(self.entries) > MAX_TRACKED:
                self.entries.popitem(last=False)
        entry.count += 1
        return entry


class BruteForceGuard:
    """Slows, then refuses, repeated failed authentications from one address or for one id there."""

    def __init__(
        self,
        *,
        limit: int,
        slowdown: int,
        window: float,
        cooldown: float,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._limit = limit
        self._slowdown = slowdown
        self._window = window
        self._cooldown = cooldown
        self._clock = clock
        self._by_address = _FailureTable()
        self._by_pair = _FailureTable()
        self.refused = 0

    def check(self, client_id: str | None, address: str) -> None:
        """Refuse at once while the address, or this id from this address, is cooling off."""
        now = self._clock()
        for table, key in ((self._by_address, address), (self._by_pair, (client_id, address))):
            entry = table.get(key, now, self._window)
            if entry is not None and entry.blocked_until > now:
                self.refused += 1
                raise RateLimited(
                    "too many failed authentications; cooling off",
                    reason="brute_force",
                    retry_after=max(1, math.ceil(entry.blocked_until - now)),
                )

    def failed(self, client_id: str | None, address: str) -> float:
        """Count a failure; the delay (seconds) to wait before answering it."""
        now = self._clock()
        worst = 0
        for table, key in ((self._by_address, address), (self._by_pair, (client_id, address))):
            entry = table.add(key, now, self._window)
            if entry.count >= self._limit:
                entry.blocked_until = now + self._cooldown
            worst = max(worst, entry.count)
        if worst < self._slowdown:
            return 0.0
        return min(MAX_DELAY, 0.1 * 2.0 ** (worst - self._slowdown))

    def succeeded(self, client_id: str, address: str) -> None:
        """A good authentication clears this id's failures from this address."""
        self._by_pair.entries.pop((client_id, address), None)

"""The assertion replay cache: each (client, jti) is accepted once, remembered until it expires."""

from __future__ import annotations

import heapq
import time
from collections.abc import Callable


class ReplayCache:
    """O(log n) per insert; expired entries are purged as time passes."""

    def __init__(self, clock: Callable[[], float] = time.time) -> None:
        self._clock = clock
        self._seen: dict[tuple[str, str], float] = {}
        self._expiry: list[tuple[float, tuple[str, str]]] = []

    def __len__(self) -> int:
        return len(self._seen)

    def first_use(self, client_id: str, jti: str, expires_at: float) -> bool:
        """True the first time this (client, jti) is seen before it expires; False on a replay."""
        now = self._clock()
        while self._expiry and self._expiry[0][0] <= now:
            _, key = heapq.heappop(self._expiry)
            if self._seen.get(key, now + 1) <= now:
                del self._seen[key]
        key = (client_id, jti)
        if key in self._seen:
            return False
        self._seen[key] = expires_at
        heapq.heappush(self._expiry, (expires_at, key))
        return True

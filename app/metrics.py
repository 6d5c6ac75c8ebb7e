"""The metrics store behind /v1/stats and /metrics: counters, a latency histogram, rate windows."""

from __future__ import annotations

import bisect
import math
import time
from collections import Counter, deque
from collections.abc import Callable
from typing import Final

# Upper bounds (seconds) of the mint latency histogram buckets; +Inf is implied.
LATENCY_BUCKETS: Final = (
    0.0005,
    0.001,
    0.002,
    0.005,
    0.01,
    0.025,
    0.05,
    0.1,
    0.25,
    0.5,
    1.0,
    2.5,
    5.0,
    10.0,
    30.0,
    60.0,
)
RECENT_LATENCIES: Final = 4096
WINDOW_SECONDS: Final = 60


class RateWindow:
    """Events per second over the last ``size`` seconds, in one-second buckets (O(1) per event)."""

    def __init__(self, size: int = WINDOW_SECONDS, clock: Callable[[], float] = time.monotonic) -> None:
        self._size = size
        self._clock = clock
        self._counts = [0] * size
        self._seconds = [-1] * size

    def add(self, count: int = 1) -> None:
        second = int(self._clock())
        index = second % self._size
        if self._seconds[index] != second:
            self._seconds[index] = second
            self._counts[index] = 0
        self._counts[index] += count

    def total(self, seconds: int) -> int:
        """Events in the last ``seconds`` whole seconds, not counting the current partial one."""
        now = int(self._clock())
        wanted = range(now - seconds, now)
        return sum(count for second, count in zip(self._seconds, self._counts, strict=True) if second in wanted)


class MetricsStore:
    """Everything counted about minting; updated from the event loop only."""

    def __init__(self, clock: Callable[[], float] = time.monotonic) -> None:
        self._clock = clock
        self.started_at = clock()
        self.sec_signatures = 0
        self.jwks_requests = 0
        self.authentications: Counter[tuple[str, str]] = Counter()  # (method, outcome)
        self.revocations: Counter[str] = Counter()  # by actor: client, operator
        self.introspections: Counter[str] = Counter()  # by answer: active, inactive
        self.tokens_issued: Counter[str] = Counter()
        self.errors: Counter[str] = Counter()
        self.latency_buckets = [0] * (len(LATENCY_BUCKETS) + 1)
        self.latency_sum = 0.0
        self.latency_count = 0
        self.latency_max = 0.0
        self._recent: deque[float] = deque(maxlen=RECENT_LATENCIES)
        self.rate = RateWindow(clock=clock)

    def uptime(self) -> float:
        return self._clock() - self.started_at

    def record_authentication(self, method: str, outcome: str) -> None:
        self.authentications[(method, outcome)] += 1

    def record_revocation(self, actor: str) -> None:
        self.revocations[actor] += 1

    def record_introspection(self, active: bool) -> None:
        self.introspections["active" if active else "inactive"] += 1

    def record_jwks_request(self) -> None:
        self.jwks_requests += 1

    def record_signature(self) -> None:
        self.sec_signatures += 1

    def record_mint(self, endpoint: str, latency: float) -> None:
        self.tokens_issued[endpoint] += 1
        self.latency_buckets[bisect.bisect_left(LATENCY_BUCKETS, latency)] += 1
        self.latency_sum += latency
        self.latency_count += 1
        self.latency_max = max(self.latency_max, latency)
        self._recent.append(latency)
        self.rate.add()

    def record_error(self, reason: str) -> None:
        self.errors[reason] += 1

    def latency_percentiles(self) -> dict[str, float]:
        """p50/p95/p99 over the most recent mints and max since start, in milliseconds."""
        recent = sorted(self._recent)
        result = {name: _percentile(recent, q) * 1000 for name, q in (("p50", 0.50), ("p95", 0.95), ("p99", 0.99))}
        result["max"] = self.latency_max * 1000
        return {name: round(value, 3) for name, value in result.items()}

    @property
    def recent_samples(self) -> int:
        return len(self._recent)


def _percentile(ordered: list[float], q: float) -> float:
    """Nearest-rank percentile of an ascending list; 0.0 when empty."""
    if not ordered:
        return 0.0
    return ordered[max(0, math.ceil(q * len(ordered)) - 1)]

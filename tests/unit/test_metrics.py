"""The metrics store: rate windows, latency histogram and percentiles."""

from __future__ import annotations

from app.metrics import LATENCY_BUCKETS, MetricsStore, RateWindow


class FakeClock:
    def __init__(self, now: float = 1000.0) -> None:
        self.now = now

    def __call__(self) -> float:
        return self.now


def test_rate_window_counts_whole_past_seconds() -> None:
    clock = FakeClock()
    window = RateWindow(size=60, clock=clock)
    window.add(5)
    clock.now += 1
    window.add(3)
    assert window.total(1) == 5  # the current second is still partial
    clock.now += 1
    assert window.total(1) == 3
    assert window.total(60) == 8
    clock.now += 60
    assert window.total(60) == 0  # both seconds fell out of the window


def test_rate_window_reuses_buckets_after_wrapping() -> None:
    clock = FakeClock()
    window = RateWindow(size=3, clock=clock)
    window.add(10)
    clock.now += 3  # same bucket index, new second
    window.add(1)
    clock.now += 1
    assert window.total(3) == 1


def test_latencies_feed_the_histogram_and_percentiles() -> None:
    metrics = MetricsStore(clock=FakeClock())
    for millis in range(1, 101):
        metrics.record_mint("v1", millis / 1000)
    assert metrics.tokens_issued["v1"] == 100
    assert metrics.latency_count == 100
    assert sum(metrics.latency_buckets) == 100
    assert metrics.latency_buckets[LATENCY_BUCKETS.index(0.001)] == 1
    percentiles = metrics.latency_percentiles()
    assert percentiles == {"p50": 50.0, "p95": 95.0, "p99": 99.0, "max": 100.0}


def test_errors_and_signatures_are_counted() -> None:
    metrics = MetricsStore(clock=FakeClock())
    metrics.record_error("invalid_client")
    metrics.record_error("invalid_client")
    metrics.record_signature()
    assert metrics.errors == {"invalid_client": 2}
    assert metrics.sec_signatures == 1


def test_empty_percentiles_are_zero() -> None:
    assert MetricsStore(clock=FakeClock()).latency_percentiles() == {
        "p50": 0.0,
        "p95": 0.0,
        "p99": 0.0,
        "max": 0.0,
    }

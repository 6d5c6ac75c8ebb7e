"""Rate limits and brute-force protection, driven by an injected clock."""

from __future__ import annotations

import pytest

from app.limits import BruteForceGuard, RateLimited, RateLimiter


class Clock:
    def __init__(self) -> None:
        self.now = 100.0

    def __call__(self) -> float:
        return self.now


def test_a_bucket_allows_its_burst_then_its_rate() -> None:
    clock = Clock()
    limiter = RateLimiter(rate=2, burst=3, clock=clock)
    for _ in range(3):
        limiter.check("orders")
    with pytest.raises(RateLimited) as caught:
        limiter.check("orders")
    assert (caught.value.status_code, caught.value.retry_after, caught.value.reason) == (429, 1, "rate_limited")
    clock.now += 0.5  # one token back at 2/s
    limiter.check("orders")
    with pytest.raises(RateLimited):
        limiter.check("orders")
    assert limiter.limited == 2


def test_clients_have_their_own_buckets_and_rates() -> None:
    clock = Clock()
    limiter = RateLimiter(rate=1, burst=1, clock=clock)
    limiter.check("orders")
    limiter.check("billing")
    limiter.check("bulk", rate=100, burst=5)
    for _ in range(4):
        limiter.check("bulk", rate=100, burst=5)
    with pytest.raises(RateLimited):
        limiter.check("orders")


def test_retry_after_says_how_long_to_wait() -> None:
    clock = Clock()
    limiter = RateLimiter(rate=0.1, burst=1, clock=clock)
    limiter.check("slow")
    with pytest.raises(RateLimited) as caught:
        limiter.check("slow")
    assert caught.value.retry_after == 10


def guard(clock: Clock) -> BruteForceGuard:
    return BruteForceGuard(limit=5, slowdown=3, window=60, cooldown=300, clock=clock)


def test_failures_are_slowed_then_refused_for_the_cooldown() -> None:
    clock = Clock()
    brute = guard(clock)
    delays = [brute.failed("orders", "10.0.0.9") for _ in range(5)]
    assert delays[:2] == [0.0, 0.0]
    assert 0 < delays[2] < delays[3] < delays[4] <= 2.0
    with pytest.raises(RateLimited) as caught:
        brute.check("orders", "10.0.0.9")
    assert (caught.value.reason, caught.value.retry_after) == ("brute_force", 300)
    clock.now += 301
    brute.check("orders", "10.0.0.9")  # cooled off
    assert brute.refused == 1


def test_an_attacker_cannot_lock_a_real_client_out_by_its_id() -> None:
    clock = Clock()
    brute = guard(clock)
    for address in ("203.0.113.1", "203.0.113.2"):
        for _ in range(10):
            brute.failed("orders", address)
    brute.check("orders", "198.51.100.7")  # the real client, from its own address: not refused
    with pytest.raises(RateLimited):
        brute.check("orders", "203.0.113.1")


def test_an_address_guessing_many_ids_is_refused() -> None:
    clock = Clock()
    brute = guard(clock)
    for number in range(5):
        brute.failed(f"client-{number}", "203.0.113.5")
    with pytest.raises(RateLimited):
        brute.check("never-tried", "203.0.113.5")


def test_failures_outside_the_window_are_forgotten() -> None:
    clock = Clock()
    brute = guard(clock)
    for _ in range(4):
        brute.failed("orders", "10.0.0.9")
    clock.now += 61
    assert brute.failed("orders", "10.0.0.9") == 0.0
    brute.check("orders", "10.0.0.9")


def test_a_success_clears_the_pair() -> None:
    clock = Clock()
    brute = guard(clock)
    for _ in range(4):
        brute.failed("orders", "10.0.0.9")
    brute.succeeded("orders", "10.0.0.9")
    assert brute.failed("orders", "10.0.0.10") == 0.0

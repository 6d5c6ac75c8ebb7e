"""The gate: slots, the bounded wait queue, the slot timeout, pool and inline modes, shutdown."""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor

import pytest

from app.errors import Unavailable
from app.gate import Gate

pytestmark = pytest.mark.anyio


@pytest.fixture
def executor() -> Iterator[ThreadPoolExecutor]:
    pool = ThreadPoolExecutor(max_workers=4)
    yield pool
    pool.shutdown(wait=True)


def make_gate(executor: ThreadPoolExecutor | None, **options: object) -> Gate:
    settings: dict[str, object] = {"slots": 2, "max_waiting": 10, "slot_timeout": 5.0, "inline": False}
    settings.update(options)
    gate = Gate(executor=executor, **settings)  # type: ignore[arg-type]
    gate.open()
    return gate


async def test_pool_mode_runs_the_call_on_a_worker_thread(executor: ThreadPoolExecutor) -> None:
    gate = make_gate(executor)
    name = await gate.run(lambda: threading.current_thread().name)
    assert name != threading.current_thread().name
    assert gate.state().admitted == 1
    assert gate.state().signing_mode == "pool"


async def test_inline_mode_runs_the_call_on_the_loop_thread(executor: ThreadPoolExecutor) -> None:
    gate = make_gate(executor, inline=True)
    assert await gate.run(lambda: threading.current_thread().name) == threading.current_thread().name
    assert gate.state().signing_mode == "inline"


async def test_no_more_than_slots_calls_run_at_once(executor: ThreadPoolExecutor) -> None:
    gate = make_gate(executor, slots=2)
    release = threading.Event()
    running = 0
    peak = 0
    lock = threading.Lock()

    def work() -> None:
        nonlocal running, peak
        with lock:
            running += 1
            peak = max(peak, running)
        release.wait(5)
        with lock:
            running -= 1

    tasks = [asyncio.create_task(gate.run(work)) for _ in range(5)]
    await asyncio.sleep(0.1)
    state = gate.state()
    assert (state.in_flight, state.waiting) == (2, 3)
    release.set()
    await asyncio.gather(*tasks)
    assert peak == 2
    assert gate.state().admitted == 5


async def test_a_caller_waiting_past_the_slot_timeout_gets_unavailable(executor: ThreadPoolExecutor) -> None:
    gate = make_gate(executor, slots=1, slot_timeout=0.05)
    release = threading.Event()
    holder = asyncio.create_task(gate.run(release.wait, 5))
    await asyncio.sleep(0.02)
    with pytest.raises(Unavailable) as caught:
        await gate.run(lambda: None)
    assert caught.value.reason == "slot_timeout"
    assert caught.value.retry_after >= 1
    assert gate.state().timed_out == 1
    release.set()
    await holder
    assert gate.state().waiting == 0


async def test_a_full_wait_queue_refuses_at_once(executor: ThreadPoolExecutor) -> None:
    gate = make_gate(executor, slots=1, max_waiting=1)
    release = threading.Event()
    holder = asyncio.create_task(gate.run(release.wait, 5))
    waiter = asyncio.create_task(gate.run(lambda: "waited"))
    await asyncio.sleep(0.02)
    with pytest.raises(Unavailable) as caught:
        await gate.run(lambda: None)
    assert caught.value.reason == "queue_full"
    assert gate.state().rejected == 1
    release.set()
    assert await waiter == "waited"
    await holder


async def test_an_error_in_the_call_frees_the_slot(executor: ThreadPoolExecutor) -> None:
    gate = make_gate(executor, slots=1)

    def fail() -> None:
        raise RuntimeError("boom")

    with pytest.raises(RuntimeError, match="boom"):
        await gate.run(fail)
    assert await gate.run(lambda: 7) == 7
    assert gate.state().in_flight == 0


async def test_close_lets_in_flight_calls_finish_and_refuses_new_ones(executor: ThreadPoolExecutor) -> None:
    gate = make_gate(executor)
    release = threading.Event()
    in_flight = asyncio.create_task(gate.run(lambda: release.wait(5) and "done"))
    await asyncio.sleep(0.02)
    closing = asyncio.create_task(gate.close(timeout=5))
    await asyncio.sleep(0.02)
    assert not closing.done()
    with pytest.raises(Unavailable) as caught:
        await gate.run(lambda: None)
    assert caught.value.reason == "shutting_down"
    release.set()
    assert await in_flight == "done"
    assert await closing is True


async def test_close_gives_up_after_its_timeout(executor: ThreadPoolExecutor) -> None:
    gate = make_gate(executor)
    release = threading.Event()
    in_flight = asyncio.create_task(gate.run(release.wait, 5))
    await asyncio.sleep(0.02)
    assert await gate.close(timeout=0.05) is False
    release.set()
    await in_flight


def test_admission_refuses_beyond_max_pending_and_counts_it(executor: ThreadPoolExecutor) -> None:
    gate = make_gate(executor, max_pending=2)
    gate.enter()
    gate.enter()
    with pytest.raises(Unavailable) as caught:
        gate.enter()
    assert (caught.value.reason, caught.value.retry_after) == ("overloaded", 1)
    assert (gate.state().pending, gate.state().shed) == (2, 1)
    gate.leave()
    gate.enter()  # a place came free
    assert gate.state().pending == 2


def test_a_draining_gate_refuses_new_mints_and_is_not_accepting(executor: ThreadPoolExecutor) -> None:
    gate = make_gate(executor)
    gate.enter()  # admitted before the drain: it may finish
    gate.drain()
    with pytest.raises(Unavailable) as caught:
        gate.enter()
    assert caught.value.reason == "shutting_down"
    state = gate.state()
    assert (state.accepting, state.draining, state.pending, state.shed) == (False, True, 1, 0)

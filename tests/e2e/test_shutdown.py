"""SIGTERM under load: answers stay 200 or 503, nothing else breaks, and the process exits promptly."""

from __future__ import annotations

import signal
import threading
import time
from collections import Counter
from pathlib import Path

import httpx
import pytest

from tests.support.factories import basic
from tests.support.process import TitanProcess, add_client

pytestmark = pytest.mark.e2e


def test_sigterm_under_load_exits_cleanly(env: dict[str, str], servers: list[TitanProcess], tmp_path: Path) -> None:
    server = TitanProcess(env, tmp_path / "titan.log")
    servers.append(server)
    server.start()
    secret = add_client(env, "orders", "--audience", "billing", "--rate", "100000", "--burst", "100000")
    for _ in range(50):
        if server.post("/v1/tokens", json={"audience": "billing"}, headers=basic("orders", secret)).status_code == 200:
            break
        time.sleep(0.2)

    statuses: Counter[int] = Counter()
    refused = Counter[str]()
    stop = threading.Event()

    def load() -> None:
        with httpx.Client(base_url=server.base_url, timeout=10) as client:
            while not stop.is_set():
                try:
                    response = client.post("/v1/tokens", json={"audience": "billing"}, headers=basic("orders", secret))
                    statuses[response.status_code] += 1
                except httpx.TransportError as exc:  # the listener is gone: expected once shutdown starts
                    refused[type(exc).__name__] += 1
                    time.sleep(0.01)

    threads = [threading.Thread(target=load) for _ in range(8)]
    for thread in threads:
        thread.start()
    time.sleep(1.5)
    assert server.process is not None
    sent_at = time.monotonic()
    server.process.send_signal(signal.SIGTERM)
    code = server.process.wait(30)
    exited_after = time.monotonic() - sent_at
    stop.set()
    for thread in threads:
        thread.join(15)
    print(f"\nanswers {dict(statuses)}, transport errors after SIGTERM {dict(refused)}, exited in {exited_after:.2f} s")
    assert code == 0
    assert exited_after < 15
    assert statuses[200] > 0
    assert set(statuses) <= {200, 503}, statuses
    assert "Titan stopped" in server.logs()

"""Overload soak: ≥ 1,000 connections against a real server for a bounded time (heavy).

wrk (pinned to one CPU, the server to the other) keeps 1,000 connections minting as fast as they
can, far beyond what one worker serves; a probe measures single requests meanwhile. Two phases
share the time: the default settings (the worker serves all it admits), then a low admission
limit (TITAN_MAX_PENDING_MINTS=256) so that mints are shed with 503s. Asserted: no
crash, no socket errors or timeouts, every answer a 200 or 503 (429 cannot occur: the client's
rate limit is set out of reach), every 503 with Retry-After, memory bounded, and normal latency
again once the load stops. The figures are printed (run with -s) and, with TITAN_SOAK_REPORT
set (a directory), written there as soak-<phase>.json. TITAN_SOAK_SECONDS (default 60) sets the
total length.
"""

from __future__ import annotations

import json
import os
import shutil
import statistics
import subprocess
import threading
import time
from base64 import b64encode
from collections import defaultdict
from pathlib import Path

import httpx
import pytest

from tests.support.factories import basic
from tests.support.process import TitanProcess, add_client, pin_to_cpus, rss_bytes

pytestmark = [
    pytest.mark.e2e,
    pytest.mark.heavy,
    pytest.mark.skipif(shutil.which("wrk") is None, reason="the soak needs wrk (apt-get install wrk)"),
    pytest.mark.skipif((os.cpu_count() or 1) < 2, reason="the soak pins server and load to different CPUs"),
]

CONNECTIONS = 1000
TOTAL_SECONDS = int(os.environ.get("TITAN_SOAK_SECONDS", "60"))
PHASES = {  # name: (settings, share of the time)
    "default": ({}, 2 / 3),
    "shedding": ({"TITAN_MAX_PENDING_MINTS": "256"}, 1 / 3),
}
SCRIPT = Path(__file__).with_name("soak.lua")
MINT = {"json": {"audience": "billing"}}


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[max(0, round(q * len(ordered)) - 1)] if ordered else 0.0


def sequential_latencies_ms(server: TitanProcess, auth: dict[str, str], count: int = 30) -> list[float]:
    latencies = []
    with httpx.Client(base_url=server.base_url, timeout=10) as client:
        for _ in range(count):
            started = time.perf_counter()
            assert client.post("/v1/tokens", headers=auth, **MINT).status_code == 200
            latencies.append((time.perf_counter() - started) * 1000)
    return latencies


@pytest.mark.parametrize("phase", PHASES)
def test_soak_at_1000_connections(phase: str, env: dict[str, str], servers: list[TitanProcess], tmp_path: Path) -> None:
    overrides, share = PHASES[phase]
    seconds = max(5, round(TOTAL_SECONDS * share))
    settings = {"TITAN_AUDIT_SINK": "file", "TITAN_LOG_LEVEL": "info", **overrides}
    server = TitanProcess({**env, **settings}, tmp_path / "titan.log")
    servers.append(server)
    secret = add_client(env, "orders", "--audience", "billing", "--rate", "1000000", "--burst", "1000000")
    server.start()
    assert server.process is not None
    pid = server.process.pid
    pin_to_cpus(pid, {0})
    auth = basic("orders", secret)
    idle_ms = statistics.median(sequential_latencies_ms(server, auth))
    idle_rss = rss_bytes(pid)

    peak_rss = idle_rss
    probes: dict[int, list[float]] = defaultdict(list)
    probe_errors: list[str] = []
    stop = threading.Event()

    def watch_memory() -> None:
        nonlocal peak_rss
        while not stop.wait(0.5):
            peak_rss = max(peak_rss, rss_bytes(pid))

    def probe() -> None:
        with httpx.Client(base_url=server.base_url, timeout=30) as client:
            while not stop.wait(0.05):
                started = time.perf_counter()
                try:
                    response = client.post("/v1/tokens", headers=auth, **MINT)
                except httpx.TransportError as exc:
                    probe_errors.append(type(exc).__name__)
                    continue
                probes[response.status_code].append((time.perf_counter() - started) * 1000)

    watchers = [threading.Thread(target=watch_memory), threading.Thread(target=probe)]
    for watcher in watchers:
        watcher.start()
    credentials = b64encode(f"orders:{secret}".encode()).decode()
    wrk = subprocess.run(
        [
            "taskset",
            "-c",
            "1",
            "wrk",
            "-t2",
            f"-c{CONNECTIONS}",
            f"-d{seconds}s",
            "--timeout",
            "10s",
            "-s",
            str(SCRIPT),
            f"{server.base_url}/v1/tokens",
        ],
        env={**os.environ, "TITAN_BASIC": credentials},
        capture_output=True,
        text=True,
        timeout=seconds + 60,
        check=False,
    )
    stop.set()
    for watcher in watchers:
        watcher.join(30)
    assert wrk.returncode == 0, wrk.stderr
    line = next(line for line in wrk.stdout.splitlines() if line.startswith("SOAK "))
    result = json.loads(line.removeprefix("SOAK "))

    # The server drains what it had queued, then serves a single caller at its usual speed.
    deadline = time.monotonic() + 30
    while server.get("/v1/stats").json()["pipeline"]["pending"] and time.monotonic() < deadline:
        time.sleep(0.2)
    after_ms = statistics.median(sequential_latencies_ms(server, auth))
    stats = server.get("/v1/stats").json()

    statuses = {int(status): count for status, count in result["statuses"].items()}
    elapsed = result["duration_us"] / 1e6
    report = {
        "phase": phase,
        "connections": CONNECTIONS,
        "seconds": round(elapsed, 1),
        "max_pending_mints": stats["pipeline"]["max_pending"],
        "answers": statuses,
        "ok_per_second": round(statuses.get(200, 0) / elapsed),
        "answers_per_second": round(sum(statuses.values()) / elapsed),
        "wrk_p50_ms": result["p50_ms"],
        "wrk_p99_ms": result["p99_ms"],
        "wrk_max_ms": result["max_ms"],
        "socket_errors": {key: result[key] for key in ("connect_errors", "read_errors", "write_errors", "timeouts")},
        "probe_p99_ms": {status: round(percentile(values, 0.99), 2) for status, values in sorted(probes.items())},
        "probe_counts": {status: len(values) for status, values in sorted(probes.items())},
        "idle_rss_mib": round(idle_rss / 2**20, 1),
        "peak_rss_mib": round(peak_rss / 2**20, 1),
        "idle_median_ms": round(idle_ms, 2),
        "after_median_ms": round(after_ms, 2),
        "shed": stats["pipeline"]["shed"],
    }
    print("\nsoak:", json.dumps(report))
    if target := os.environ.get("TITAN_SOAK_REPORT"):
        Path(target, f"soak-{phase}.json").write_text(json.dumps(report, indent=2) + "\n")

    assert server.process.poll() is None, "the server died under load"
    assert report["socket_errors"] == {"connect_errors": 0, "read_errors": 0, "write_errors": 0, "timeouts": 0}
    assert set(statuses) <= {200, 429, 503}, statuses
    assert statuses.get(200, 0) > 0
    assert result["missing_retry_after"] == 0
    assert not probe_errors
    assert set(probes) <= {200, 429, 503}
    assert peak_rss < idle_rss + 256 * 2**20, "memory grew without bound under load"
    assert after_ms < max(10 * idle_ms, 50.0), "latency did not come back after the load"
    assert "Traceback" not in server.logs()
    if phase == "shedding":
        assert statuses.get(503, 0) > 0, "the admission limit never shed"
        assert report["shed"] > 0
        assert "overload: " in server.logs()  # summarized, not one line per refusal

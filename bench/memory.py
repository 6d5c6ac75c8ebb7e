"""Memory under sustained minting: the Titan worker's RSS after 10 thousand and after 1 million mints.

    python -m bench.memory [--total 1000000]

Titan is pinned to CPU 0 and wrk to CPU 1, with the audit log on (file sink).
"""

from __future__ import annotations

import argparse
import base64
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import httpx

from bench.run import ROOT, VENV_BIN, free_port, register_client, wait_ready


def rss_kib(pid: int) -> int:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1])
    raise RuntimeError(f"no VmRSS for {pid}")


def worker_pid(main_pid: int) -> int:
    children = Path(f"/proc/{main_pid}/task/{main_pid}/children").read_text().split()
    return int(children[0])


def issued(base: str) -> int:
    tokens: int = httpx.get(f"{base}/v1/stats").json()["tokens"]["issued"]
    return tokens


def load_until(base: str, target: int, env: dict[str, str]) -> None:
    while issued(base) < target:
        remaining = target - issued(base)
        seconds = max(1, min(10, remaining // 10000))
        subprocess.run(
            [
                "taskset",
                "-c",
                "1",
                "wrk",
                "-t1",
                "-c64",
                f"-d{seconds}s",
                "-s",
                str(ROOT / "bench" / "mint.lua"),
                f"{base}/v1/tokens",
            ],
            env=env,
            stdout=subprocess.DEVNULL,
            check=True,
        )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--total", type=int, default=1_000_000)
    args = parser.parse_args()
    workdir = Path(tempfile.mkdtemp(prefix="titan-memory-"))
    secret = register_client(workdir)
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    env = {**os.environ, "TITAN_DATA_DIR": str(workdir / "titan-data"), "TITAN_LOG_LEVEL": "warning"}
    server = subprocess.Popen(
        ["taskset", "-c", "0", str(VENV_BIN / "titan"), "serve", "--port", str(port)],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        start_new_session=True,
    )
    try:
        wait_ready(f"{base}/readyz", server)
        pid = worker_pid(server.pid)
        wrk_env = {**os.environ, "TITAN_BASIC": base64.b64encode(f"bench:{secret}".encode()).decode()}
        started = time.monotonic()
        load_until(base, 10_000, wrk_env)
        first = (issued(base), rss_kib(pid))
        print(f"after {first[0]:>9,} mints: RSS {first[1] / 1024:7.1f} MiB", flush=True)
        load_until(base, args.total, wrk_env)
        last = (issued(base), rss_kib(pid))
        print(f"after {last[0]:>9,} mints: RSS {last[1] / 1024:7.1f} MiB", flush=True)
        growth = (last[1] - first[1]) / 1024
        print(f"growth {growth:+.1f} MiB over {last[0] - first[0]:,} mints in {time.monotonic() - started:.0f} s")
        report = {
            "first": {"mints": first[0], "rss_kib": first[1]},
            "last": {"mints": last[0], "rss_kib": last[1]},
            "growth_mib": round(growth, 2),
        }
        (ROOT / "bench" / "results").mkdir(parents=True, exist_ok=True)
        (ROOT / "bench" / "results" / "memory.json").write_text(json.dumps(report, indent=2))
        if growth > 20:
            sys.exit(f"RSS grew by {growth:.1f} MiB: more than the 20 MiB allowed")
    finally:
        server.terminate()
        server.wait(30)


if __name__ == "__main__":
    main()

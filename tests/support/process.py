"""Run Titan as a user would: the `titan` command in a subprocess, served by a real Granian worker."""

from __future__ import annotations

import contextlib
import json
import os
import signal
import socket
import ssl
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import httpx


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


def titan_command() -> list[str]:
    """The installed `titan` entry point beside this interpreter, else the module."""
    script = Path(sys.executable).with_name("titan")
    return [str(script)] if script.exists() else [sys.executable, "-m", "app.cli"]


def run_cli(env: dict[str, str], *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [*titan_command(), *args],
        env={**os.environ, **env},
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )


def add_client(env: dict[str, str], client_id: str, *options: str) -> str:
    result = run_cli(env, "clients", "add", client_id, *options, "--json")
    assert result.returncode == 0, result.stderr
    secret: str = json.loads(result.stdout)["client_secret"]
    return secret


class TitanProcess:
    """One `titan serve` process on a free loopback port."""

    def __init__(self, env: dict[str, str], log_path: Path) -> None:
        self.port = free_port()
        self.env = {**os.environ, **env, "TITAN_PORT": str(self.port), "TITAN_HOST": "127.0.0.1"}
        certificate = env.get("TITAN_TLS_CERT_FILE")
        # Trust the test's own certificate for https.
        self.verify: ssl.SSLContext | bool = ssl.create_default_context(cafile=certificate) if certificate else True
        self.base_url = f"{'https' if certificate else 'http'}://127.0.0.1:{self.port}"
        self.log_path = log_path
        self.process: subprocess.Popen[bytes] | None = None

    def start(self, timeout: float = 30.0) -> TitanProcess:
        self.launch()
        return self.wait_ready(timeout)

    def launch(self) -> None:
        """Start the process without waiting for it (to start several at once)."""
        log = self.log_path.open("ab")
        self.process = subprocess.Popen(
            [*titan_command(), "serve"],
            env=self.env,
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
        log.close()

    def wait_ready(self, timeout: float = 30.0) -> TitanProcess:
        assert self.process is not None
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"titan serve exited with {self.process.returncode}:\n{self.logs()}")
            try:
                if httpx.get(f"{self.base_url}/readyz", timeout=1, verify=self.verify).status_code == 200:
                    return self
            except httpx.TransportError:
                pass
            time.sleep(0.1)
        self.kill()
        raise RuntimeError(f"titan serve was not ready within {timeout}s:\n{self.logs()}")

    def stop(self, timeout: float = 30.0) -> int:
        """SIGTERM, then wait; the exit code."""
        assert self.process is not None
        self.process.send_signal(signal.SIGTERM)
        return self.process.wait(timeout)

    def kill(self) -> None:
        """SIGKILL the whole process group: the Granian worker too, even if `titan serve` is gone."""
        if self.process is None:
            return
        with contextlib.suppress(ProcessLookupError):
            os.killpg(self.process.pid, signal.SIGKILL)
        self.process.wait(10)

    def logs(self) -> str:
        return self.log_path.read_text(errors="replace") if self.log_path.exists() else ""

    def get(self, path: str, **kwargs: Any) -> httpx.Response:
        return httpx.get(self.base_url + path, timeout=10, verify=self.verify, **kwargs)

    def post(self, path: str, **kwargs: Any) -> httpx.Response:
        return httpx.post(self.base_url + path, timeout=10, verify=self.verify, **kwargs)


def process_tree(pid: int) -> list[int]:
    """``pid`` and its descendants (Linux /proc), e.g. `titan serve` and its Granian worker."""
    tree, pending = [], [pid]
    while pending:
        current = pending.pop()
        tree.append(current)
        for task in Path(f"/proc/{current}/task").glob("*"):
            children = task / "children"
            if children.exists():
                pending.extend(int(child) for child in children.read_text().split())
    return tree


def pin_to_cpus(pid: int, cpus: set[int]) -> None:
    """Pin every thread of ``pid``'s process tree to ``cpus``."""
    for process in process_tree(pid):
        for task in Path(f"/proc/{process}/task").glob("*"):
            with contextlib.suppress(ProcessLookupError, PermissionError):
                os.sched_setaffinity(int(task.name), cpus)


def rss_bytes(pid: int) -> int:
    """Resident memory of ``pid``'s whole process tree."""
    total = 0
    for process in process_tree(pid):
        try:
            status = Path(f"/proc/{process}/status").read_text()
        except FileNotFoundError:
            continue
        for line in status.splitlines():
            if line.startswith("VmRSS:"):
                total += int(line.split()[1]) * 1024
    return total

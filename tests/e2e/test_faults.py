"""Faults a real deployment sees, against a real server: the data directory disappears, the disk
fills up and frees again. (A store that turns read-only or fails in other ways is covered with a
failing store double in tests/integration/test_faults.py: remounting a file system read-only is
refused while the server holds files open on it.) Minting goes on from memory, the fault shows in /readyz,
stats and the log, writes are refused with a clear 503, and everything recovers by itself."""

from __future__ import annotations

import shutil
import subprocess
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.support.factories import basic
from tests.support.factories import test_env as environment_for
from tests.support.process import TitanProcess, add_client, run_cli
from tests.support.waiting import wait_for

pytestmark = pytest.mark.e2e

MINT = {"json": {"audience": "billing"}}


def readiness(server: TitanProcess) -> dict[str, Any]:
    body: dict[str, Any] = server.get("/readyz").json()
    return body


def mint(server: TitanProcess, secret: str) -> str:
    response = server.post("/v1/tokens", headers=basic("orders", secret), **MINT)
    assert response.status_code == 200, response.text
    token: str = response.json()["access_token"]
    return token


def test_a_vanished_data_dir_is_reported_minting_goes_on_and_it_recovers(
    env: dict[str, str], servers: list[TitanProcess], data_dir: Path, tmp_path: Path
) -> None:
    secret = add_client(env, "orders", "--audience", "billing")
    server = TitanProcess(env, tmp_path / "titan.log").start()
    servers.append(server)
    mint(server, secret)

    moved = data_dir.rename(tmp_path / "moved-away")
    fault = wait_for(lambda: readiness(server)["store_error"])
    assert "store" in fault
    assert server.get("/readyz").status_code == 200  # still serving: keys and clients are in memory
    for _ in range(5):
        mint(server, secret)
    assert server.get("/.well-known/jwks.json").status_code == 200
    assert not (data_dir / "titan.db").exists(), "an empty store must not replace the lost one"

    shutil.rmtree(data_dir, ignore_errors=True)  # whatever the audit writer put back meanwhile
    moved.rename(data_dir)
    wait_for(lambda: readiness(server)["store_error"] is None)
    mint(server, secret)
    logs = server.logs()
    assert "store refresh failed, serving from memory" in logs
    assert "store refresh recovered" in logs


@pytest.fixture
def small_disk(tmp_path: Path) -> Iterator[Path]:
    """A 4 MiB tmpfs of its own, so the test can fill it (mounting needs root)."""
    mount_point = tmp_path / "disk"
    mount_point.mkdir()
    mounted = subprocess.run(
        ["mount", "-t", "tmpfs", "-o", "size=4m", "tmpfs", str(mount_point)], capture_output=True, check=False
    )
    if mounted.returncode != 0:
        pytest.skip(f"cannot mount a small tmpfs here (needs root): {mounted.stderr.decode().strip()}")
    yield mount_point
    subprocess.run(["umount", "-l", str(mount_point)], check=False)


def fill(disk: Path) -> Path:
    filler = disk / "filler"
    with filler.open("wb") as handle:
        try:
            while True:
                handle.write(b"\0" * 65536)
                handle.flush()
        except OSError:
            pass
    return filler


def test_a_full_disk_fails_writes_clearly_and_everything_recovers(
    small_disk: Path, servers: list[TitanProcess], tmp_path: Path
) -> None:
    env = {**environment_for(small_disk / "data"), "TITAN_REFRESH_INTERVAL": "1", "TITAN_LOG_LEVEL": "info"}
    secret = add_client(env, "orders", "--audience", "billing")
    server = TitanProcess(env, tmp_path / "titan.log").start()
    servers.append(server)
    auth = basic("orders", secret)
    mint(server, secret)

    # The disk fills up: minting goes on, audit lines are dropped and reported, writes get a 503.
    filler = fill(small_disk)
    tokens = [mint(server, secret) for _ in range(20)]
    audit_fault = wait_for(lambda: readiness(server)["audit_error"])
    assert "No space left" in audit_fault
    stats = server.get("/v1/stats").json()
    audit = stats["security"]["audit"]
    assert audit["failures"] >= 1
    assert audit["dropped"] >= 1
    refused = server.post("/oauth2/revoke", data={"token": tokens[0]}, headers=auth)
    assert refused.status_code == 503, refused.text
    assert refused.json()["error"] == "temporarily_unavailable"
    assert refused.headers["retry-after"] == "5"
    cli = run_cli(env, "clients", "add", "late", "--audience", "billing")
    assert cli.returncode != 0
    assert "store" in cli.stderr
    assert "Traceback" not in cli.stderr

    # Space comes back: the audit log and the store writes recover without a restart.
    filler.unlink()
    wait_for(lambda: mint(server, secret) and readiness(server)["audit_error"] is None)  # the next line written
    assert server.post("/oauth2/revoke", data={"token": tokens[0]}, headers=auth).status_code == 200
    introspected = server.post("/oauth2/introspect", data={"token": tokens[0]}, headers=auth).json()
    assert introspected == {"active": False}

    assert run_cli(env, "clients", "add", "late", "--audience", "billing").returncode == 0
    logs = server.logs()
    assert "audit log write failed" in logs
    assert "audit log writable again" in logs
    assert "Traceback" not in logs
    shutil.rmtree(small_disk / "data", ignore_errors=True)

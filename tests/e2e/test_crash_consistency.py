"""SIGKILL in the middle of client and key changes: the store stays consistent and loses nothing committed."""

from __future__ import annotations

import json
import os
import random
import signal
import sqlite3
import subprocess
import time
from pathlib import Path

import pytest

from tests.support.process import titan_command

pytestmark = [pytest.mark.e2e, pytest.mark.heavy]


def test_killed_writers_leave_a_consistent_store(env: dict[str, str], data_dir: Path) -> None:
    random.seed(11)
    full_env = {**os.environ, **env}
    committed: set[str] = set()
    # Kill within the span of a whole command on this machine (slower under load), so that
    # kills land in start-up, in the transaction and after it.
    started = time.monotonic()
    subprocess.run([*titan_command(), "clients", "list"], env=full_env, capture_output=True, check=True, timeout=60)
    span = (time.monotonic() - started) * 1.2
    for number in range(16):
        client_id = f"client-{number}"
        action = ["clients", "add", client_id, "--audience", "billing", "--json"]
        if number % 4 == 3:
            action = ["keys", "rotate", "--now"]
        process = subprocess.Popen(
            [*titan_command(), *action], env=full_env, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL
        )
        time.sleep(random.uniform(0.0, span))  # somewhere in start-up, the transaction, or after it
        if process.poll() is None:
            process.send_signal(signal.SIGKILL)
        output, _ = process.communicate(timeout=30)
        if process.returncode == 0 and action[0] == "clients":
            assert json.loads(output)["client_id"] == client_id
            committed.add(client_id)

    database = data_dir / "titan.sqlite3"
    connection = sqlite3.connect(database)
    try:
        assert connection.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
        stored = {row[0] for row in connection.execute("SELECT client_id FROM clients")}
        states = [row[0] for row in connection.execute("SELECT state FROM keys")]
    finally:
        connection.close()
    assert committed <= stored, "a client whose registration was confirmed is missing"
    assert states.count("active") <= 1
    listed = subprocess.run(
        [*titan_command(), "keys", "list", "--json"], env=full_env, capture_output=True, text=True, check=True
    )
    keys = json.loads(listed.stdout)
    print(f"\n{len(committed)} confirmed registrations kept, {len(stored)} clients stored, {len(keys)} keys")
    if keys:
        assert [key["state"] for key in keys].count("active") == 1

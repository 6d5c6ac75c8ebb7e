"""schemathesis against the served OpenAPI document, with valid credentials: no 5xx, every answer as documented."""

from __future__ import annotations

import base64
from pathlib import Path

import pytest

from tests.support.process import TitanProcess, add_client

pytestmark = [pytest.mark.e2e, pytest.mark.heavy]


def test_schemathesis_finds_no_server_error_and_no_schema_violation(
    env: dict[str, str], servers: list[TitanProcess], tmp_path: Path
) -> None:
    import subprocess
    import sys

    server = TitanProcess(env, tmp_path / "titan.log")
    servers.append(server)
    secret = add_client(env, "orders", "--audience", "billing", "--scope", "invoices:read", "--rate", "100000")
    server.start()
    credentials = base64.b64encode(f"orders:{secret}".encode()).decode()
    schemathesis = Path(sys.executable).with_name("schemathesis")
    result = subprocess.run(
        [
            str(schemathesis),
            "run",
            f"{server.base_url}/schema/openapi.json",
            "-H",
            f"Authorization: Basic {credentials}",
            "--max-examples",
            "40",
            "--seed",
            "1",
            "--checks",
            "not_a_server_error,response_schema_conformance,status_code_conformance",
        ],
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    summary = result.stdout[-3000:]
    assert result.returncode == 0, summary
    assert "failures" not in summary.lower() or "0 failures" in summary.lower(), summary
    assert secret not in result.stdout
    server.stop()

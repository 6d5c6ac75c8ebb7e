"""The whole service as a user runs it: CLI, a real Granian process, independent verification, restart."""

from __future__ import annotations

import json
import time
from pathlib import Path

import httpx
import jwt as pyjwt
import pytest

from tests.support.factories import basic
from tests.support.process import TitanProcess, add_client, run_cli

pytestmark = pytest.mark.e2e


def verify(server: TitanProcess, token: str, audience: str) -> dict[str, object]:
    """Verify like a stranger would: PyJWT with nothing but the served JWKS."""
    jwks_client = pyjwt.PyJWKClient(f"{server.base_url}/.well-known/jwks.json", cache_keys=False)
    key = jwks_client.get_signing_key_from_jwt(token)
    claims: dict[str, object] = pyjwt.decode(
        token, key.key, algorithms=["ES256"], audience=audience, issuer=server.base_url
    )
    return claims


def mint_status(server: TitanProcess, client_id: str, secret: str, expected: int) -> httpx.Response:
    """POST /v1/tokens until it answers ``expected``: the server picks CLI changes up within seconds."""
    deadline = time.monotonic() + 10
    while True:
        response = server.post("/v1/tokens", json={"audience": "billing"}, headers=basic(client_id, secret))
        if response.status_code == expected or time.monotonic() > deadline:
            assert response.status_code == expected, response.text
            return response
        time.sleep(0.2)


def mint_when_ready(server: TitanProcess, client_id: str, secret: str) -> dict[str, str]:
    body: dict[str, str] = mint_status(server, client_id, secret, 200).json()
    return body


def test_register_mint_verify_restart_verify(env: dict[str, str], servers: list[TitanProcess], tmp_path: Path) -> None:
    server = TitanProcess(env, tmp_path / "titan.log")
    servers.append(server)
    server.start()

    secret = add_client(
        env,
        "orders",
        "--audience",
        "billing",
        "--audience",
        "inventory",
        "--scope",
        "invoices:read",
        "--max-ttl",
        "900",
    )
    listed = run_cli(env, "clients", "list")
    assert "orders" in listed.stdout
    assert secret not in listed.stdout

    v1 = mint_when_ready(server, "orders", secret)
    oauth = server.post(
        "/oauth2/token",
        data={
            "grant_type": "client_credentials",
            "client_id": "orders",
            "client_secret": secret,
            "audience": "inventory",
        },
    )
    assert oauth.status_code == 200, oauth.text
    oauth_token = oauth.json()["access_token"]
    assert verify(server, v1["access_token"], "billing")["sub"] == "orders"
    assert verify(server, oauth_token, "inventory")["scope"] == "invoices:read"
    stats = server.get("/v1/stats").json()
    assert stats["crypto"]["algorithm"] == "ECDSA-ES256"
    assert stats["crypto"]["signatures_generated"] == 2
    assert stats["pipeline"]["workers"] == 1

    assert server.stop() == 0
    assert "Titan stopped" in server.logs()

    restarted = TitanProcess(env, tmp_path / "titan-2.log")
    restarted.port, restarted.base_url = server.port, server.base_url
    restarted.env = server.env
    servers.append(restarted)
    restarted.start()
    # Tokens minted before the restart still verify against the JWKS served after it.
    assert verify(restarted, v1["access_token"], "billing")["jti"] == v1["jti"]
    assert verify(restarted, oauth_token, "inventory")["sub"] == "orders"
    again = mint_when_ready(restarted, "orders", secret)
    assert again["kid"] == v1["kid"]
    assert restarted.stop() == 0


def test_cli_changes_reach_a_running_server(env: dict[str, str], servers: list[TitanProcess], tmp_path: Path) -> None:
    server = TitanProcess(env, tmp_path / "titan.log")
    servers.append(server)
    server.start()
    secret = add_client(env, "orders", "--audience", "billing")
    mint_when_ready(server, "orders", secret)

    rotated = run_cli(env, "clients", "rotate-secret", "orders", "--json")
    assert rotated.returncode == 0, rotated.stderr
    new_secret = json.loads(rotated.stdout)["client_secret"]
    mint_when_ready(server, "orders", new_secret)
    old = server.post("/v1/tokens", json={"audience": "billing"}, headers=basic("orders", secret))
    assert old.status_code == 401

    assert run_cli(env, "clients", "remove", "orders").returncode == 0
    mint_status(server, "orders", new_secret, 401)
    logs = server.logs()
    assert secret not in logs
    assert new_secret not in logs
    server.stop()


def test_a_wrong_key_encryption_key_stops_start_up_clearly(
    env: dict[str, str], servers: list[TitanProcess], tmp_path: Path
) -> None:
    first = TitanProcess(env, tmp_path / "first.log")
    servers.append(first)
    first.start()
    kid = first.get("/.well-known/jwks.json").json()["keys"][0]["kid"]
    first.stop()

    wrong = TitanProcess({**env, "TITAN_KEY_ENCRYPTION_KEY": "B" * 43}, tmp_path / "wrong.log")
    servers.append(wrong)
    with pytest.raises(RuntimeError, match="exited with 2"):
        wrong.start()
    assert "key-encryption key is wrong" in wrong.logs()
    keys = run_cli(env, "keys", "list", "--json")
    assert [key["kid"] for key in json.loads(keys.stdout)] == [kid]


def test_invalid_settings_stop_start_up_naming_the_variable(env: dict[str, str], tmp_path: Path) -> None:
    result = run_cli({**env, "TITAN_THREADS_PER_WORKER": "lots"}, "serve")
    assert result.returncode == 2
    assert "TITAN_THREADS_PER_WORKER" in result.stderr


def test_titan_bench_against_a_running_server(env: dict[str, str], servers: list[TitanProcess], tmp_path: Path) -> None:
    server = TitanProcess(env, tmp_path / "titan.log")
    servers.append(server)
    server.start()
    secret = add_client(env, "loadtest", "--audience", "billing", "--rate", "100000", "--burst", "100000")
    mint_when_ready(server, "loadtest", secret)
    result = run_cli(
        {**env, "TITAN_BENCH_CLIENT_SECRET": secret},
        *("bench", "--url", server.base_url, "--client-id", "loadtest", "--connections", "4", "--duration", "1"),
    )
    assert result.returncode == 0, result.stderr
    rows = {
        line.strip().split("  ", 1)[0]: line.strip().split("  ", 1)[-1].strip()
        for line in result.stdout.splitlines()[1:]
    }
    assert int(rows["status 200"].replace(",", "")) > 0
    assert rows["socket errors"] == "0"
    assert set(rows) == {
        "requests answered",
        "2xx per second",
        "latency p50",
        "latency p95",
        "latency p99",
        "latency max",
        "status 200",
        "socket errors",
    }
    assert secret not in result.stdout + result.stderr
    server.stop()

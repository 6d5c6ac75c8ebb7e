"""No secret and no whole token ever appears in logs, audit lines, stats, metrics or error bodies."""

from __future__ import annotations

import base64
import json
import time
from pathlib import Path

import pytest

from app.clients.assertions import ASSERTION_TYPE
from tests.support.assertions import ClientKey
from tests.support.factories import basic
from tests.support.process import TitanProcess, add_client, run_cli

pytestmark = pytest.mark.e2e


def test_secrets_and_tokens_never_leak(env: dict[str, str], servers: list[TitanProcess], tmp_path: Path) -> None:
    env = {**env, "TITAN_LOG_LEVEL": "debug"}
    server = TitanProcess(env, tmp_path / "titan.log")
    servers.append(server)
    server.start()
    secret = add_client(env, "orders", "--audience", "billing")
    key = ClientKey()
    jwk = tmp_path / "signer.jwk"
    jwk.write_text(json.dumps(key.public_jwk))
    assert run_cli(env, "clients", "add", "signer", "--audience", "billing", "--jwk", str(jwk)).returncode == 0

    secrets_seen = [secret, "wrong-secret-value-123"]
    bodies: list[str] = []
    tokens: list[str] = []

    def mint(headers: dict[str, str]) -> None:
        for _ in range(50):  # wait for the server to pick the client up
            response = server.post("/v1/tokens", json={"audience": "billing"}, headers=headers)
            bodies.append(response.text)
            if response.status_code != 401 or "wrong" in base64.b64decode(headers["Authorization"][6:]).decode():
                break
            time.sleep(0.2)
        if response.status_code == 200:
            tokens.append(response.json()["access_token"])

    mint(basic("orders", secret))
    mint(basic("orders", "wrong-secret-value-123"))
    bodies.append(server.post("/v1/tokens", json={"audience": "payroll"}, headers=basic("orders", secret)).text)
    for _ in range(50):  # fresh assertions until the server knows the new client
        assertion = key.assertion("signer", f"{server.base_url}/oauth2/token")
        secrets_seen.append(assertion)
        form = {
            "grant_type": "client_credentials",
            "client_assertion_type": ASSERTION_TYPE,
            "client_assertion": assertion,
        }
        response = server.post("/oauth2/token", data=form)
        bodies.append(response.text)
        if response.status_code == 200:
            tokens.append(response.json()["access_token"])
            break
        time.sleep(0.2)
    replay = server.post("/oauth2/token", data=form)
    assert replay.status_code == 401
    bodies.append(replay.text)
    rotated = run_cli(env, "clients", "rotate-secret", "orders", "--json")
    new_secret = json.loads(rotated.stdout)["client_secret"]
    secrets_seen.append(new_secret)
    bodies.append(server.post("/oauth2/revoke", data={"token": tokens[0]}, headers=basic("orders", secret)).text)
    run_cli(env, "keys", "rotate", "--now")
    assert len(tokens) == 2

    outputs = {
        "server log": server.logs(),
        "audit log": run_cli(env, "audit", "tail", "-n", "1000").stdout,
        "stats": server.get("/v1/stats").text,
        "metrics": server.get("/metrics").text,
        "error bodies": "\n".join(body for body in bodies if "access_token" not in body),
        "client list": run_cli(env, "clients", "list", "--json").stdout,
        "key list": run_cli(env, "keys", "list", "--json").stdout,
        "database": (Path(env["TITAN_DATA_DIR"]) / "titan.sqlite3").read_bytes().decode("latin-1"),
    }
    assert '"event":"mint"' in outputs["audit log"]
    kek = env["TITAN_KEY_ENCRYPTION_KEY"]
    for where, text in outputs.items():
        for value in [*secrets_seen, *tokens, kek]:
            assert value not in text, f"a secret or token leaked into the {where}"
        for token in tokens:
            assert token.split(".")[2] not in text, f"a token signature leaked into the {where}"
    server.stop()

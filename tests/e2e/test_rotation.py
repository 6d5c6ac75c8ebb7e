"""Key rotation on a real server with a schedule of seconds: no verification ever fails; crashes lose nothing."""

from __future__ import annotations

import json
import random
import time
from collections import deque
from pathlib import Path

import httpx
import pytest

from tests.support.factories import FAST_SCHEDULE, basic
from tests.support.process import TitanProcess, add_client, run_cli
from tests.support.verifier import CachingVerifier
from tests.support.waiting import wait_for

pytestmark = pytest.mark.e2e


@pytest.mark.heavy
def test_continuous_minting_across_rotations_never_fails_verification(
    env: dict[str, str], servers: list[TitanProcess], tmp_path: Path
) -> None:
    env = {**env, **FAST_SCHEDULE}
    server = TitanProcess(env, tmp_path / "titan.log")
    servers.append(server)
    server.start()
    secret = add_client(env, "orders", "--audience", "billing")
    verifier = CachingVerifier(f"{server.base_url}/.well-known/jwks.json", issuer=server.base_url, audience="billing")

    minted = verified = failures = 0
    kids: list[str] = []
    waiting: deque[tuple[float, str]] = deque()  # tokens to verify again near the end of their life
    deadline = time.monotonic() + 13
    with httpx.Client(base_url=server.base_url, timeout=5) as http:
        while time.monotonic() < deadline or waiting:
            if time.monotonic() < deadline:
                response = http.post("/v1/tokens", json={"audience": "billing"}, headers=basic("orders", secret))
                if response.status_code == 401:  # the server picks the new client up within a second
                    time.sleep(0.1)
                    continue
                assert response.status_code == 200, response.text
                body = response.json()
                token, kid = body["access_token"], body["kid"]
                minted += 1
                if not kids or kids[-1] != kid:
                    kids.append(kid)
                waiting.append((body["expires_at"] - 0.4, token))  # verify again just before it expires
                tokens = [token]
            else:
                tokens = []
            while waiting and waiting[0][0] <= time.time():
                tokens.append(waiting.popleft()[1])
            for token in tokens:
                try:
                    verifier.verify(token)
                    verified += 1
                except Exception as exc:  # every failure is counted and reported
                    failures += 1
                    print(f"verification failed: {type(exc).__name__}: {exc}")
            time.sleep(0.02)

    stats = server.get("/v1/stats").json()["keys"]
    print(
        f"\nminted {minted} tokens, {verified} verifications, {failures} failed; "
        f"signing keys in order: {len(kids)}; JWKS fetches {verifier.fetches}, "
        f"unknown-kid refetches {verifier.unknown_kid_refetches}; server rotations {stats['rotations']}"
    )
    assert failures == 0
    assert verified == 2 * minted
    assert len(kids) >= 3, "expected at least two rotations"
    assert verifier.unknown_kid_refetches == 0  # every key was published before it signed
    assert stats["rotations"] >= 2
    server.stop()


def store_keys(env: dict[str, str]) -> list[dict[str, object]]:
    result = run_cli(env, "keys", "list", "--json")
    assert result.returncode == 0, result.stderr
    keys: list[dict[str, object]] = json.loads(result.stdout)
    return keys


@pytest.mark.heavy
def test_sigkill_during_rotations_loses_nothing(
    env: dict[str, str], servers: list[TitanProcess], tmp_path: Path
) -> None:
    env = {**env, **FAST_SCHEDULE}
    random.seed(7)
    seen: set[str] = set()
    for attempt in range(4):
        server = TitanProcess(env, tmp_path / f"titan-{attempt}.log")
        servers.append(server)
        server.start()
        keys = store_keys(env)
        assert seen <= {str(key["kid"]) for key in keys}, "a key vanished from the store"
        assert [key["state"] for key in keys].count("active") == 1
        seen |= {str(key["kid"]) for key in keys}
        # Kill the server around its next key transition, at a random offset.
        next_event = server.get("/v1/stats").json()["keys"]["next_event_in_seconds"]
        time.sleep(max(0.0, next_event + random.uniform(-0.05, 0.05)))
        server.kill()  # SIGKILL to the whole process group: Granian's main process and its worker

    final = TitanProcess(env, tmp_path / "final.log")
    servers.append(final)
    final.start()
    keys = store_keys(env)
    assert [key["state"] for key in keys].count("active") == 1
    assert seen <= {str(key["kid"]) for key in keys}
    jwks = final.get("/.well-known/jwks.json").json()
    active = next(key["kid"] for key in keys if key["state"] == "active")
    assert active in {key["kid"] for key in jwks["keys"]}
    print(f"\n{len(seen)} keys seen across 4 SIGKILLs, all still in the store; one active: {active}")
    final.stop()


def test_key_commands_reach_a_running_server(env: dict[str, str], servers: list[TitanProcess], tmp_path: Path) -> None:
    server = TitanProcess(env, tmp_path / "titan.log")
    servers.append(server)
    server.start()
    secret = add_client(env, "orders", "--audience", "billing")

    def jwks_kids() -> set[str]:
        return {key["kid"] for key in server.get("/.well-known/jwks.json").json()["keys"]}

    (first,) = jwks_kids()
    rotated = run_cli(env, "keys", "rotate", "--now")
    assert rotated.returncode == 0, rotated.stderr
    wait_for(lambda: len(jwks_kids()) == 2)
    (second,) = jwks_kids() - {first}

    def mints_with(kid: str) -> bool:
        response = server.post("/v1/tokens", json={"audience": "billing"}, headers=basic("orders", secret))
        return response.status_code == 200 and response.json()["kid"] == kid

    wait_for(lambda: mints_with(second))
    revoked = run_cli(env, "keys", "revoke", first)
    assert revoked.returncode == 0, revoked.stderr
    wait_for(lambda: jwks_kids() == {second})
    states = {key["kid"]: key["state"] for key in store_keys(env)}
    assert states == {first: "removed", second: "active"}
    server.stop()

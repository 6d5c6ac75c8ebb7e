"""Fleet mode end to end: several `titan serve` processes on one PostgreSQL database act as one issuer.

Each test gets a throwaway database (skipped, with the reason, when no PostgreSQL is reachable).
"""

from __future__ import annotations

import json
from collections import Counter
from pathlib import Path
from typing import Any

import pytest

from tests.support.assertions import ClientKey
from tests.support.factories import FAST_SCHEDULE, basic
from tests.support.factories import test_env as environment_for
from tests.support.postgres import set_connections_allowed
from tests.support.process import TitanProcess, add_client, run_cli
from tests.support.verify import verify_with_pyjwt
from tests.support.waiting import wait_for

pytestmark = pytest.mark.e2e

ISSUER = "https://titan.fleet.test"  # what clients see: the load balancer in front of the fleet
MINT = {"json": {"audience": "billing"}}


def fleet_env(tmp_path: Path, name: str, postgres_url: str, **extra: str) -> dict[str, str]:
    """One instance's environment: its own data dir (audit log), the shared store, issuer and KEK."""
    return {
        **environment_for(tmp_path / name),
        "TITAN_STORE_URL": postgres_url,
        "TITAN_ISSUER": ISSUER,
        "TITAN_REFRESH_INTERVAL": "1",
        "TITAN_LOG_LEVEL": "info",
        **extra,
    }


def start_fleet(envs: list[dict[str, str]], tmp_path: Path, servers: list[TitanProcess]) -> list[TitanProcess]:
    """Start every instance at once (they migrate the fresh database concurrently), then wait for all."""
    fleet = [TitanProcess(env, tmp_path / f"titan-{index}.log") for index, env in enumerate(envs)]
    servers.extend(fleet)
    for server in fleet:
        server.launch()
    for server in fleet:
        server.wait_ready()
    return fleet


def audit_lines(data_dir: Path) -> list[dict[str, Any]]:
    path = data_dir / "audit.log"
    return [json.loads(line) for line in path.read_text().splitlines()] if path.exists() else []


def test_two_instances_on_one_database_act_as_one_issuer(
    postgres_url: str, servers: list[TitanProcess], tmp_path: Path
) -> None:
    env_a, env_b = (fleet_env(tmp_path, name, postgres_url) for name in ("a", "b"))
    migrated = run_cli(env_a, "migrate")
    assert migrated.returncode == 0, migrated.stderr
    assert "schema version 1, up to date" in migrated.stdout
    a, b = start_fleet([env_a, env_b], tmp_path, servers)

    # A client registered through one instance's CLI mints on the other.
    secret = add_client(env_a, "orders", "--audience", "billing")
    auth = basic("orders", secret)
    wait_for(lambda: b.post("/v1/tokens", headers=auth, **MINT).status_code == 200)

    # Same keys everywhere: a token from each instance verifies with the other's JWKS.
    jwks_a, jwks_b = a.get("/.well-known/jwks.json").json(), b.get("/.well-known/jwks.json").json()
    assert jwks_a == jwks_b
    token_a = a.post("/v1/tokens", headers=auth, **MINT).json()["access_token"]
    token_b = b.post("/v1/tokens", headers=auth, **MINT).json()["access_token"]
    for token, other_jwks in ((token_a, jwks_b), (token_b, jwks_a)):
        assert verify_with_pyjwt(token, other_jwks, audience="billing", issuer=ISSUER)["sub"] == "orders"

    # A revocation on one is seen by introspection on the other.
    assert b.post("/oauth2/introspect", data={"token": token_a}, headers=auth).json()["active"] is True
    assert a.post("/oauth2/revoke", data={"token": token_a}, headers=auth).status_code == 200
    wait_for(lambda: b.post("/oauth2/introspect", data={"token": token_a}, headers=auth).json() == {"active": False})

    # Operator commands work unchanged against the shared store and reach every instance.
    jti_b = verify_with_pyjwt(token_b, jwks_a, audience="billing", issuer=ISSUER)["jti"]
    assert run_cli(env_b, "tokens", "revoke", jti_b, "--client", "orders").returncode == 0
    wait_for(lambda: a.post("/oauth2/introspect", data={"token": token_b}, headers=auth).json() == {"active": False})
    rotated = run_cli(env_a, "keys", "rotate")
    assert rotated.returncode == 0, rotated.stderr
    published = json.loads(run_cli(env_b, "keys", "list", "--json").stdout)
    assert len(published) == 2
    for server in (a, b):
        wait_for(lambda server=server: len(server.get("/.well-known/jwks.json").json()["keys"]) == 2)

    # An assertion used on one instance is refused as a replay on the other.
    client_key = ClientKey()
    jwk_file = tmp_path / "client.jwk"
    jwk_file.write_text(json.dumps(client_key.public_jwk))
    added = run_cli(env_b, "clients", "add", "signer", "--audience", "billing", "--jwk", str(jwk_file))
    assert added.returncode == 0, added.stderr
    wait_for(lambda: all(server.get("/v1/stats").json()["clients"]["registered"] == 2 for server in (a, b)))
    assertion = client_key.assertion("signer", f"{ISSUER}/oauth2/token")
    form = {
        "grant_type": "client_credentials",
        "audience": "billing",
        "client_assertion_type": "urn:ietf:params:oauth:client-assertion-type:jwt-bearer",
        "client_assertion": assertion,
    }
    assert a.post("/oauth2/token", data=form).status_code == 200
    replayed = b.post("/oauth2/token", data=form)
    assert replayed.status_code == 401
    assert replayed.json()["error"] == "invalid_client"
    assert "replay" in replayed.json()["error_description"]

    # Client changes hold fleet-wide: disabled through the CLI, refused by both.
    assert run_cli(env_a, "clients", "disable", "orders").returncode == 0
    for server in (a, b):
        wait_for(lambda server=server: server.post("/v1/tokens", headers=auth, **MINT).status_code == 400)

    # Killing one instance leaves the other minting.
    assert run_cli(env_a, "clients", "enable", "orders").returncode == 0
    wait_for(lambda: b.post("/v1/tokens", headers=auth, **MINT).status_code == 200)
    a.kill()  # SIGKILL, the worker included
    assert all(b.post("/v1/tokens", headers=auth, **MINT).status_code == 200 for _ in range(20))
    assert b.get("/readyz").status_code == 200


def test_an_instance_that_loses_the_database_keeps_minting_reports_it_and_recovers(
    postgres_url: str, servers: list[TitanProcess], tmp_path: Path
) -> None:
    # A password in the URL (the test server trusts local connections, so any works): it must
    # never show in a log line, a readiness report, stats or metrics, even while failing.
    password = "pw-" + "s3cret-never-logged"
    with_password = postgres_url.replace("postgresql://postgres@", f"postgresql://postgres:{password}@")
    assert password in with_password
    env = {**fleet_env(tmp_path, "a", with_password), "TITAN_LOG_LEVEL": "debug"}
    (server,) = start_fleet([env], tmp_path, servers)
    secret = add_client(env, "orders", "--audience", "billing")
    auth = basic("orders", secret)
    wait_for(lambda: server.post("/v1/tokens", headers=auth, **MINT).status_code == 200)
    token = server.post("/v1/tokens", headers=auth, **MINT).json()["access_token"]
    reports: list[str] = []

    set_connections_allowed(postgres_url, False)
    try:
        fault = wait_for(lambda: server.get("/readyz").json()["store_error"])
        assert "StoreUnavailable" in fault
        reports += [fault, server.get("/v1/stats").text, server.get("/metrics").text]
        assert all(server.post("/v1/tokens", headers=auth, **MINT).status_code == 200 for _ in range(20))
        refused = server.post("/oauth2/revoke", data={"token": token}, headers=auth)
        assert refused.status_code == 503
        assert refused.json()["error"] == "temporarily_unavailable"
    finally:
        set_connections_allowed(postgres_url, True)
    wait_for(lambda: server.get("/readyz").json()["store_error"] is None, timeout=30)
    assert server.post("/oauth2/revoke", data={"token": token}, headers=auth).status_code == 200
    assert "store refresh recovered" in server.logs()
    cli_outputs = [run_cli(env, "keys", "list").stdout, run_cli(env, "migrate").stdout]
    for text in [*reports, *cli_outputs, server.logs()]:
        assert password not in text
    assert "postgres:***@" in run_cli(env, "migrate").stdout


@pytest.mark.heavy
def test_a_scheduled_rotation_happens_once_and_every_instance_converges(
    postgres_url: str, servers: list[TitanProcess], tmp_path: Path
) -> None:
    envs = [fleet_env(tmp_path, name, postgres_url, **FAST_SCHEDULE) for name in ("a", "b", "c")]
    fleet = start_fleet(envs, tmp_path, servers)

    def transitions() -> Counter[str]:
        """Every key transition audited across the fleet, by its description (kid and what happened)."""
        return Counter(
            line["detail"]
            for env in envs
            for line in audit_lines(Path(env["TITAN_DATA_DIR"]))
            if line["event"] == "key"
        )

    # Wait for two scheduled activations (about two rotation intervals, longer on a loaded machine).
    wait_for(lambda: sum("(publish lead over)" in detail for detail in transitions()) >= 2, timeout=40)
    # Every transition was applied by exactly one instance: across the fleet's audit logs each
    # (kid, transition) appears once.
    seen = transitions()
    assert all(count == 1 for count in seen.values()), seen
    listed = json.loads(run_cli(envs[0], "keys", "list", "--json").stdout)
    assert sum(1 for key in listed if key["state"] == "active") == 1

    # Every instance serves the same JWKS within one refresh interval of the last change.
    def converged() -> bool:
        documents = [server.get("/.well-known/jwks.json").json() for server in fleet]
        return all(document == documents[0] for document in documents)

    wait_for(converged, timeout=5)
    active = next(key["kid"] for key in listed if key["state"] == "active")
    secret = add_client(envs[0], "orders", "--audience", "billing")
    for server in fleet:  # and the client registered through the CLI mints on every instance
        wait_for(lambda server=server: server.post("/v1/tokens", headers=basic("orders", secret), **MINT).is_success)
    assert {key["kid"] for key in fleet[0].get("/.well-known/jwks.json").json()["keys"]} >= {active}


def test_a_single_node_moves_from_sqlite_to_postgresql_with_store_copy(
    postgres_url: str, servers: list[TitanProcess], tmp_path: Path
) -> None:
    single_env = {**environment_for(tmp_path / "single"), "TITAN_ISSUER": ISSUER, "TITAN_LOG_LEVEL": "info"}
    secret = add_client(single_env, "orders", "--audience", "billing")
    single = TitanProcess(single_env, tmp_path / "single.log").start()
    servers.append(single)
    old_token = single.post("/v1/tokens", headers=basic("orders", secret), **MINT).json()["access_token"]
    kept_token = single.post("/v1/tokens", headers=basic("orders", secret), **MINT).json()["access_token"]
    assert single.post("/oauth2/revoke", data={"token": old_token}, headers=basic("orders", secret)).status_code == 200
    old_jwks = single.get("/.well-known/jwks.json").json()
    assert single.stop() == 0

    copied = run_cli(single_env, "store", "copy", "--to", postgres_url)
    assert copied.returncode == 0, copied.stderr
    assert "copied 1 keys, 1 clients and 1 revoked tokens" in copied.stdout
    again = run_cli(single_env, "store", "copy", "--to", postgres_url)
    assert again.returncode == 2
    assert "is not empty" in again.stderr

    (fleet,) = start_fleet([fleet_env(tmp_path, "fleet", postgres_url)], tmp_path, servers)
    assert fleet.get("/.well-known/jwks.json").json() == old_jwks  # the same key, still sealed the same way
    assert fleet.post("/v1/tokens", headers=basic("orders", secret), **MINT).status_code == 200
    introspect = {"headers": basic("orders", secret)}
    assert fleet.post("/oauth2/introspect", data={"token": kept_token}, **introspect).json()["active"] is True
    assert fleet.post("/oauth2/introspect", data={"token": old_token}, **introspect).json() == {"active": False}

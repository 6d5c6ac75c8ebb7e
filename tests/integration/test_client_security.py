"""private_key_jwt, revocation, introspection, disabled clients, rate limits, brute force and audit, through the app."""

from __future__ import annotations

import asyncio
import json
import time
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

import pytest
from litestar.testing import AsyncTestClient

from app.asgi import create_app
from app.clients.assertions import ASSERTION_TYPE
from app.limits import BruteForceGuard
from app.store.port import ClientRecord
from containers import Container
from tests.support.assertions import ClientKey, hmac_with_public_key, unsigned_assertion
from tests.support.factories import basic, make_container, register_client

pytestmark = pytest.mark.anyio

ISSUER = "http://127.0.0.1:8000"
TOKEN_ENDPOINT = f"{ISSUER}/oauth2/token"
FORM = {"Content-Type": "application/x-www-form-urlencoded"}


def register_key_client(container: Container, key: ClientKey, client_id: str = "signer") -> None:
    now = int(time.time())
    container.store().add_client(
        ClientRecord(client_id, b"", ("billing",), ("invoices:read",), 900, now, now, jwks=json.dumps(key.public_jwk))
    )


async def form(http: AsyncTestClient, path: str, data: dict[str, Any], headers: dict[str, str] | None = None) -> Any:
    return await http.post(path, content=urlencode(data).encode(), headers={**FORM, **(headers or {})})


def assertion_fields(key: ClientKey, client_id: str = "signer", **overrides: Any) -> dict[str, str]:
    return {
        "client_assertion_type": ASSERTION_TYPE,
        "client_assertion": key.assertion(client_id, TOKEN_ENDPOINT, **overrides),
    }


@pytest.fixture
def key() -> ClientKey:
    return ClientKey("ES256")


@pytest.fixture
async def key_http(container: Container, key: ClientKey) -> Any:
    register_key_client(container, key)
    secret = register_client(container)
    async with AsyncTestClient(app=create_app(container)) as client:
        client.secret = secret  # type: ignore[attr-defined]
        yield client


async def test_private_key_jwt_on_the_oauth_endpoint(key_http: AsyncTestClient, key: ClientKey) -> None:
    response = await form(key_http, "/oauth2/token", {"grant_type": "client_credentials", **assertion_fields(key)})
    assert response.status_code == 200, response.text
    stats = (await key_http.get("/v1/stats")).json()
    assert stats["tokens"]["issued"] == 1


async def test_private_key_jwt_as_a_bearer_header_on_v1(key_http: AsyncTestClient, key: ClientKey) -> None:
    assertion = key.assertion("signer", f"{ISSUER}/v1/tokens")
    response = await key_http.post(
        "/v1/tokens", json={"audience": "billing"}, headers={"Authorization": f"Bearer {assertion}"}
    )
    assert response.status_code == 200, response.text
    assert response.json()["scope"] == "invoices:read"


@pytest.mark.parametrize(
    ("make", "reason"),
    [
        (lambda key: key.assertion("signer", "https://evil/token"), "assertion_audience"),
        (lambda key: key.assertion("signer", TOKEN_ENDPOINT, exp=int(time.time()) - 30), "assertion_expired"),
        (lambda key: unsigned_assertion("signer", TOKEN_ENDPOINT), "assertion_alg"),
        (lambda key: hmac_with_public_key(key, "signer", TOKEN_ENDPOINT), "assertion_alg"),
        (lambda key: ClientKey().assertion("signer", TOKEN_ENDPOINT), "assertion_signature"),
    ],
)
async def test_bad_assertions_are_invalid_client(
    key_http: AsyncTestClient, key: ClientKey, make: Any, reason: str
) -> None:
    fields = {
        "grant_type": "client_credentials",
        "client_assertion_type": ASSERTION_TYPE,
        "client_assertion": make(key),
    }
    response = await form(key_http, "/oauth2/token", fields)
    assert response.status_code == 401, response.text
    assert response.json()["error"] == "invalid_client"
    assert (await key_http.get("/v1/stats")).json()["errors"][reason] == 1


async def test_a_replayed_assertion_is_refused(key_http: AsyncTestClient, key: ClientKey) -> None:
    fields = {"grant_type": "client_credentials", **assertion_fields(key)}
    assert (await form(key_http, "/oauth2/token", fields)).status_code == 200
    replay = await form(key_http, "/oauth2/token", fields)
    assert replay.status_code == 401
    assert "replay" in replay.json()["error_description"]


async def test_a_key_client_cannot_use_a_secret_and_vice_versa(key_http: AsyncTestClient, key: ClientKey) -> None:
    secret_client_assertion = key.assertion("orders", TOKEN_ENDPOINT)
    fields = {"grant_type": "client_credentials", "audience": "billing", "client_assertion_type": ASSERTION_TYPE}
    response = await form(key_http, "/oauth2/token", {**fields, "client_assertion": secret_client_assertion})
    assert response.status_code == 401
    assert "client secret" in response.json()["error_description"]


async def test_a_wrong_assertion_type_is_invalid_request(key_http: AsyncTestClient, key: ClientKey) -> None:
    fields = {**assertion_fields(key), "client_assertion_type": "urn:other", "grant_type": "client_credentials"}
    response = await form(key_http, "/oauth2/token", fields)
    assert (response.status_code, response.json()["error"]) == (400, "invalid_request")


async def mint(http: AsyncTestClient) -> dict[str, Any]:
    response = await http.post("/v1/tokens", json={"audience": "billing"}, headers=basic("orders", http.secret))  # type: ignore[attr-defined]
    assert response.status_code == 200, response.text
    body: dict[str, Any] = response.json()
    return body


async def introspect(http: AsyncTestClient, token: str, key: ClientKey) -> dict[str, Any]:
    response = await form(http, "/oauth2/introspect", {"token": token, **assertion_fields(key)})
    assert response.status_code == 200, response.text
    assert response.headers["cache-control"] == "no-store"
    result: dict[str, Any] = response.json()
    return result


async def test_introspection_then_revocation(key_http: AsyncTestClient, key: ClientKey) -> None:
    token = await mint(key_http)
    active = await introspect(key_http, token["access_token"], key)
    assert active["active"] is True
    assert (active["client_id"], active["sub"], active["aud"], active["jti"]) == (
        "orders",
        "orders",
        "billing",
        token["jti"],
    )
    assert active["token_type"] == "Bearer"

    revoke = await form(key_http, "/oauth2/revoke", {"token": token["access_token"]}, basic("orders", key_http.secret))  # type: ignore[attr-defined]
    assert (revoke.status_code, revoke.content) == (200, b"")
    assert await introspect(key_http, token["access_token"], key) == {"active": False}
    stats = (await key_http.get("/v1/stats")).json()
    assert stats["security"]["revocations"] == {"client": 1}


async def test_a_client_may_not_revoke_another_clients_token(key_http: AsyncTestClient, key: ClientKey) -> None:
    token = await mint(key_http)
    response = await form(key_http, "/oauth2/revoke", {"token": token["access_token"], **assertion_fields(key)})
    assert (response.status_code, response.json()["error"]) == (400, "invalid_request")
    assert (await introspect(key_http, token["access_token"], key))["active"] is True


@pytest.mark.parametrize("token", ["not-a-token", "a.b.c", ""])
async def test_revoking_garbage_is_200_but_a_missing_token_is_an_error(key_http: AsyncTestClient, token: str) -> None:
    response = await form(key_http, "/oauth2/revoke", {"token": token}, basic("orders", key_http.secret))  # type: ignore[attr-defined]
    assert response.status_code == (400 if token == "" else 200)


async def test_introspection_of_foreign_expired_or_malformed_tokens(key_http: AsyncTestClient, key: ClientKey) -> None:
    foreign = ClientKey().assertion("orders", "billing")  # a well-formed JWT Titan did not sign
    for token in (foreign, "garbage", "a.b.c"):
        assert await introspect(key_http, token, key) == {"active": False}


async def test_introspection_requires_authentication(key_http: AsyncTestClient) -> None:
    response = await form(key_http, "/oauth2/introspect", {"token": "x"})
    assert (response.status_code, response.json()["error"]) == (401, "invalid_client")


async def test_a_disabled_client_cannot_mint_and_its_tokens_go_inactive(
    container: Container, key_http: AsyncTestClient, key: ClientKey
) -> None:
    token = await mint(key_http)
    await asyncio.sleep(1.05)  # whole-second iat: the token predates the disabling
    now = int(time.time())
    container.store().set_client_disabled("orders", disabled=True, not_before=now, updated_at=now)
    await container.refresher().refresh_once()
    assert await introspect(key_http, token["access_token"], key) == {"active": False}
    response = await key_http.post("/v1/tokens", json={"audience": "billing"}, headers=basic("orders", key_http.secret))  # type: ignore[attr-defined]
    assert (response.status_code, response.json()["error"]) == (400, "unauthorized_client")


async def test_rate_limits_answer_429_with_retry_after(data_dir: Path) -> None:
    container = make_container(data_dir, rate_limit="1", rate_burst="2")
    secret = register_client(container)
    async with AsyncTestClient(app=create_app(container)) as http:
        answers = [
            await http.post("/v1/tokens", json={"audience": "billing"}, headers=basic("orders", secret))
            for _ in range(3)
        ]
        stats = (await http.get("/v1/stats")).json()
    assert [answer.status_code for answer in answers] == [200, 200, 429]
    assert answers[2].headers["retry-after"] == "1"
    assert answers[2].json()["error"] == "rate_limited"
    assert stats["security"]["rate_limited"] == 1


async def test_brute_force_is_refused_for_a_cooling_off_period(container: Container) -> None:
    class Clock:
        now = 0.0

        def __call__(self) -> float:
            return self.now

    clock = Clock()
    container.brute_force_guard.override(BruteForceGuard(limit=3, slowdown=3, window=60, cooldown=120, clock=clock))
    secret = register_client(container)
    async with AsyncTestClient(app=create_app(container)) as http:
        for _ in range(3):
            wrong = await http.post("/v1/tokens", json={"audience": "billing"}, headers=basic("orders", "wrong"))
            assert wrong.status_code == 401
        refused = await http.post("/v1/tokens", json={"audience": "billing"}, headers=basic("orders", secret))
        assert (refused.status_code, refused.json()["error"]) == (429, "rate_limited")
        assert refused.headers["retry-after"] == "120"
        clock.now += 121
        after = await http.post("/v1/tokens", json={"audience": "billing"}, headers=basic("orders", secret))
        assert after.status_code == 200
        stats = (await http.get("/v1/stats")).json()["security"]
    assert stats["brute_force_refusals"] == 1
    assert stats["authentications"]["client_secret_basic"] == {"failure": 4, "success": 1}


async def test_the_audit_log_records_mints_denials_and_revocations(container: Container) -> None:
    secret = register_client(container)
    async with AsyncTestClient(app=create_app(container)) as http:
        minted = (await http.post("/v1/tokens", json={"audience": "billing"}, headers=basic("orders", secret))).json()
        await http.post("/v1/tokens", json={"audience": "payroll"}, headers=basic("orders", secret))
        await http.post("/v1/tokens", json={"audience": "billing"}, headers=basic("orders", "wrong-secret"))
        await form(http, "/oauth2/revoke", {"token": minted["access_token"]}, basic("orders", secret))
    text = container.settings().audit_path.read_text()
    events = [json.loads(line) for line in text.splitlines()]
    assert [(event["event"], event["outcome"], event.get("reason")) for event in events] == [
        ("key", "success", None),  # the first signing key was created
        ("mint", "success", None),
        ("denial", "denied", "audience_not_allowed"),
        ("denial", "denied", "wrong_secret"),
        ("revocation", "success", None),
    ]
    mint = events[1]
    assert (mint["client_id"], mint["audience"], mint["jti"], mint["kid"]) == (
        "orders",
        "billing",
        minted["jti"],
        minted["kid"],
    )
    assert mint["expires_at"] == minted["expires_at"]
    assert events[3]["client_id"] == "orders"
    assert secret not in text
    assert "wrong-secret" not in text
    assert minted["access_token"] not in text
    assert minted["access_token"].split(".")[2] not in text

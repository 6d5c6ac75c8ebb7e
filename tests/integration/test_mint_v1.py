"""POST /v1/tokens through the whole app: tokens that verify, and clear errors for bad input."""

from __future__ import annotations

import time
from typing import Any

import pytest
from litestar.testing import AsyncTestClient

from tests.support.factories import basic
from tests.support.verify import verify_with_joserfc, verify_with_pyjwt

pytestmark = pytest.mark.anyio

ISSUER = "http://127.0.0.1:8000"


async def test_a_minted_token_follows_rfc_9068_and_verifies_with_the_jwks(
    http: AsyncTestClient, auth: dict[str, str]
) -> None:
    before = int(time.time())
    response = await http.post(
        "/v1/tokens", json={"audience": "billing", "scope": "invoices:read", "ttl": 300}, headers=auth
    )
    assert response.status_code == 200, response.text
    assert response.headers["cache-control"] == "no-store"
    body = response.json()
    assert set(body) == {"access_token", "token_type", "expires_in", "expires_at", "scope", "kid", "jti"}
    assert (body["token_type"], body["expires_in"], body["scope"]) == ("Bearer", 300, "invoices:read")

    jwks = (await http.get("/.well-known/jwks.json")).json()
    claims = verify_with_pyjwt(body["access_token"], jwks, audience="billing", issuer=ISSUER)
    header, jose_claims = verify_with_joserfc(body["access_token"], jwks)
    assert jose_claims == claims
    assert header == {"alg": "ES256", "kid": body["kid"], "typ": "at+jwt"}
    assert claims["sub"] == claims["client_id"] == "orders"
    assert claims["aud"] == "billing"
    assert claims["scope"] == "invoices:read"
    assert claims["jti"] == body["jti"]
    assert claims["exp"] == body["expires_at"] == claims["iat"] + 300
    assert claims["nbf"] == claims["iat"] - 30
    assert before <= claims["iat"] <= int(time.time())


async def test_audience_may_be_a_list_and_scope_and_ttl_default(http: AsyncTestClient, auth: dict[str, str]) -> None:
    response = await http.post("/v1/tokens", json={"audience": ["billing", "inventory"]}, headers=auth)
    assert response.status_code == 200, response.text
    body = response.json()
    jwks = (await http.get("/.well-known/jwks.json")).json()
    claims = verify_with_pyjwt(body["access_token"], jwks, audience="inventory", issuer=ISSUER)
    assert claims["aud"] == ["billing", "inventory"]
    assert claims["scope"] == body["scope"] == "invoices:read invoices:write"
    assert body["expires_in"] == 300


async def test_every_token_has_its_own_jti(http: AsyncTestClient, auth: dict[str, str]) -> None:
    jtis = set()
    for _ in range(20):
        response = await http.post("/v1/tokens", json={"audience": "billing"}, headers=auth)
        jtis.add(response.json()["jti"])
    assert len(jtis) == 20


def assert_error(response: Any, status: int, error: str, fragment: str = "") -> None:
    assert response.status_code == status, response.text
    body = response.json()
    assert set(body) == {"error", "error_description"}
    assert body["error"] == error
    assert fragment in body["error_description"]


@pytest.mark.parametrize(
    ("payload", "status", "error", "fragment"),
    [
        ({"audience": "payroll"}, 400, "invalid_target", "'payroll' is not allowed"),
        ({"audience": "billing", "scope": "admin"}, 400, "invalid_scope", "'admin' is not allowed"),
        ({"audience": "billing", "ttl": 901}, 400, "invalid_request", "exceeds the maximum of 900s"),
        ({"audience": "billing", "ttl": 0}, 400, "invalid_request", ">= 1"),
        ({"audience": "billing", "ttl": -5}, 400, "invalid_request", ">= 1"),
        ({"audience": "billing", "ttl": 10**30}, 400, "invalid_request", ""),
        ({"audience": "billing", "ttl": "300"}, 400, "invalid_request", "Expected `int | null`, got `str`"),
        ({"audience": "billing", "ttl": 300.5}, 400, "invalid_request", "got `float`"),
        ({"audience": "billing", "ttl": True}, 400, "invalid_request", "got `bool`"),
        ({"audience": ""}, 400, "invalid_request", "length >= 1"),
        ({"audience": []}, 400, "invalid_request", "length >= 1"),
        ({"audience": "b" * 256}, 400, "invalid_request", "length <= 255"),
        ({"audience": ["billing"] * 17}, 400, "invalid_request", "length <= 16"),
        ({"audience": "bill ing"}, 400, "invalid_request", "matching regex"),
        ({"audience": 7}, 400, "invalid_request", "Expected `str | array`"),
        ({"audience": "billing", "scope": ""}, 400, "invalid_request", "length >= 1"),
        ({"audience": "billing", "scope": "a" * 2049}, 400, "invalid_request", "length <= 2048"),
        ({"audience": "billing", "scope": "a  b"}, 400, "invalid_request", "matching regex"),
        ({"audience": "billing", "sub": "admin"}, 400, "invalid_request", "unknown field `sub`"),
        ({"audience": "billing", "iss": "https://evil"}, 400, "invalid_request", "unknown field `iss`"),
        ({"scope": "invoices:read"}, 400, "invalid_request", "missing required field `audience`"),
        ([], 400, "invalid_request", "Expected `object`"),
    ],
)
async def test_bad_requests_get_a_clear_error(
    http: AsyncTestClient, auth: dict[str, str], payload: Any, status: int, error: str, fragment: str
) -> None:
    assert_error(await http.post("/v1/tokens", json=payload, headers=auth), status, error, fragment)


@pytest.mark.parametrize(
    ("content", "content_type", "status", "fragment"),
    [
        (b'{"audience": "billing"', "application/json", 400, "truncated"),
        (b"", "application/json", 400, "truncated"),
        (b"\xff\xfe", "application/json", 400, "invalid request body"),
        (b'{"audience": "billing", "audience": "payroll"}', "application/json", 400, "duplicate key"),
        (b'{"audience": "billing", "ttl": 60, "ttl": 900}', "application/json", 400, "duplicate key"),
        (b'{"audience": "bil\\u0000ling"}', "application/json", 400, "matching regex"),
        (b'{"audience": ' + b"[" * 7000 + b"]" * 7000 + b"}", "application/json", 400, "Expected `str`"),
        (b'{"audience": "billing", "ttl": 1e400}', "application/json", 400, "invalid request body"),
        (b'{"audience": "billing"}', "text/plain", 415, "application/json"),
        (b"audience=billing", "application/x-www-form-urlencoded", 415, "application/json"),
    ],
)
async def test_malformed_bodies_and_wrong_content_types(
    http: AsyncTestClient, auth: dict[str, str], content: bytes, content_type: str, status: int, fragment: str
) -> None:
    response = await http.post("/v1/tokens", content=content, headers={**auth, "Content-Type": content_type})
    assert_error(response, status, "invalid_request", fragment)


async def test_an_oversized_body_is_refused(http: AsyncTestClient, auth: dict[str, str]) -> None:
    response = await http.post(
        "/v1/tokens",
        content=b'{"audience": "' + b"a" * 20000 + b'"}',
        headers={**auth, "Content-Type": "application/json"},
    )
    assert_error(response, 413, "request_too_large")


@pytest.mark.parametrize(("method", "path"), [("POST", "/v1/tokens"), ("GET", "/v1/stats"), ("GET", "/nowhere")])
async def test_oversized_headers_are_refused_on_every_route(
    http: AsyncTestClient, auth: dict[str, str], method: str, path: str
) -> None:
    headers = {**auth, "Content-Type": "application/json", "X-Padding": "p" * 17000}
    response = await http.request(method, path, content=b'{"audience": "billing"}', headers=headers)
    assert_error(response, 431, "headers_too_large", "at most 16384 bytes")


@pytest.mark.parametrize(
    "headers",
    [
        {},
        {"Authorization": "Bearer abc"},
        {"Authorization": "Basic not-base64!"},
        basic("orders", "wrong-secret"),
        basic("nobody", "whatever"),
    ],
)
async def test_missing_or_wrong_credentials_get_401(http: AsyncTestClient, headers: dict[str, str]) -> None:
    response = await http.post("/v1/tokens", json={"audience": "billing"}, headers=headers)
    assert_error(response, 401, "invalid_client")
    assert response.headers["www-authenticate"].startswith("Basic realm=")


async def test_credentials_are_checked_before_the_body(http: AsyncTestClient) -> None:
    response = await http.post("/v1/tokens", content=b"{", headers={"Content-Type": "application/json"})
    assert_error(response, 401, "invalid_client")


async def test_unknown_routes_and_methods_use_the_same_error_body(http: AsyncTestClient) -> None:
    assert_error(await http.get("/v1/nothing"), 404, "not_found")
    assert_error(await http.get("/v1/tokens"), 405, "method_not_allowed")


async def test_denials_are_counted_by_reason(http: AsyncTestClient, auth: dict[str, str]) -> None:
    await http.post("/v1/tokens", json={"audience": "payroll"}, headers=auth)
    await http.post("/v1/tokens", json={"audience": "billing"}, headers=basic("orders", "nope"))
    errors = (await http.get("/v1/stats")).json()["errors"]
    assert errors["audience_not_allowed"] == 1
    assert errors["wrong_secret"] == 1

"""POST /oauth2/token: the client credentials grant per RFC 6749 §4.4 and §5, RFC 8707 resources."""

from __future__ import annotations

import warnings
from typing import Any

import pytest
from litestar.testing import AsyncTestClient

from tests.support.factories import basic
from tests.support.verify import verify_with_pyjwt

pytestmark = pytest.mark.anyio

FORM = {"Content-Type": "application/x-www-form-urlencoded"}
ISSUER = "http://127.0.0.1:8000"


async def token(http: AsyncTestClient, data: Any, headers: dict[str, str] | None = None) -> Any:
    return await http.post("/oauth2/token", content=_encode(data), headers={**FORM, **(headers or {})})


def _encode(data: Any) -> bytes:
    from urllib.parse import urlencode

    return urlencode(data, doseq=True).encode()


async def test_client_secret_basic(http: AsyncTestClient, auth: dict[str, str]) -> None:
    response = await token(http, {"grant_type": "client_credentials", "audience": "billing"}, auth)
    assert response.status_code == 200, response.text
    assert response.headers["cache-control"] == "no-store"
    assert response.headers["pragma"] == "no-cache"
    body = response.json()
    assert set(body) == {"access_token", "token_type", "expires_in", "scope"}
    assert (body["token_type"], body["expires_in"]) == ("Bearer", 300)
    jwks = (await http.get("/.well-known/jwks.json")).json()
    claims = verify_with_pyjwt(body["access_token"], jwks, audience="billing", issuer=ISSUER)
    assert claims["sub"] == "orders"


async def test_client_secret_post_with_scope_and_resource(http: AsyncTestClient, secret: str) -> None:
    response = await token(
        http,
        {
            "grant_type": "client_credentials",
            "client_id": "orders",
            "client_secret": secret,
            "scope": "invoices:read",
            "audience": ["billing", "inventory"],
        },
    )
    assert response.status_code == 200, response.text
    assert response.json()["scope"] == "invoices:read"


async def test_resource_indicators_are_audiences(container: Any, http: AsyncTestClient) -> None:
    from tests.support.factories import register_client

    secret = register_client(container, "reporter", audiences=("https://billing.internal/api",), scopes=())
    await container.refresher().refresh_once()
    response = await token(
        http,
        {"grant_type": "client_credentials", "resource": "https://billing.internal/api"},
        basic("reporter", secret),
    )
    assert response.status_code == 200, response.text
    assert "scope" not in response.json()
    jwks = (await http.get("/.well-known/jwks.json")).json()
    claims = verify_with_pyjwt(
        response.json()["access_token"], jwks, audience="https://billing.internal/api", issuer=ISSUER
    )
    assert "scope" not in claims


async def test_a_single_audience_client_may_omit_the_audience(container: Any, http: AsyncTestClient) -> None:
    from tests.support.factories import register_client

    secret = register_client(container, "solo", audiences=("billing",))
    await container.refresher().refresh_once()
    response = await token(http, {"grant_type": "client_credentials"}, basic("solo", secret))
    assert response.status_code == 200, response.text


def assert_oauth_error(response: Any, status: int, error: str) -> dict[str, str]:
    assert response.status_code == status, response.text
    body: dict[str, str] = response.json()
    assert set(body) == {"error", "error_description"}
    assert body["error"] == error
    assert response.headers["cache-control"] == "no-store"
    return body


@pytest.mark.parametrize(
    ("data", "status", "error"),
    [
        ({"grant_type": "password", "audience": "billing"}, 400, "unsupported_grant_type"),
        ({"grant_type": "authorization_code"}, 400, "unsupported_grant_type"),
        ({"audience": "billing"}, 400, "invalid_request"),
        ({"grant_type": "client_credentials", "audience": "payroll"}, 400, "invalid_target"),
        ({"grant_type": "client_credentials", "resource": "not-a-uri"}, 400, "invalid_target"),
        ({"grant_type": "client_credentials", "resource": "https://x/#frag"}, 400, "invalid_target"),
        ({"grant_type": "client_credentials", "audience": "billing", "scope": "admin"}, 400, "invalid_scope"),
        ({"grant_type": "client_credentials"}, 400, "invalid_request"),  # two audiences: must choose
        (
            {"grant_type": "client_credentials", "audience": "billing", "resource": "https://billing"},
            400,
            "invalid_request",
        ),
        (
            [("grant_type", "client_credentials"), ("grant_type", "client_credentials")],
            400,
            "invalid_request",
        ),
        ({"grant_type": "client_credentials", "audience": "billing", "ttl": "ten"}, 400, "invalid_request"),
        ({"grant_type": "client_credentials", "audience": "billing", "ttl": "901"}, 400, "invalid_request"),
    ],
)
async def test_errors_follow_rfc_6749_section_5_2(
    http: AsyncTestClient, auth: dict[str, str], data: Any, status: int, error: str
) -> None:
    assert_oauth_error(await token(http, data, auth), status, error)


async def test_unknown_parameters_are_ignored(http: AsyncTestClient, auth: dict[str, str]) -> None:
    response = await token(http, {"grant_type": "client_credentials", "audience": "billing", "foo": "bar"}, auth)
    assert response.status_code == 200, response.text


@pytest.mark.parametrize(
    ("data", "headers"),
    [
        ({"grant_type": "client_credentials", "audience": "billing"}, {}),
        ({"grant_type": "client_credentials", "client_id": "orders", "client_secret": "wrong"}, {}),
        ({"grant_type": "client_credentials", "client_id": "orders"}, {}),
        ({"grant_type": "client_credentials"}, basic("orders", "wrong")),
        ({"grant_type": "client_credentials"}, {"Authorization": "Basic %%%"}),
    ],
)
async def test_failed_client_authentication_is_invalid_client_401(
    http: AsyncTestClient, data: Any, headers: dict[str, str]
) -> None:
    response = await token(http, data, headers)
    assert_oauth_error(response, 401, "invalid_client")
    assert response.headers["www-authenticate"].startswith("Basic")


async def test_two_authentication_methods_at_once_are_refused(http: AsyncTestClient, secret: str) -> None:
    data = {
        "grant_type": "client_credentials",
        "audience": "billing",
        "client_id": "orders",
        "client_secret": secret,
    }
    assert_oauth_error(await token(http, data, basic("orders", secret)), 400, "invalid_request")


async def test_the_body_must_be_form_encoded(http: AsyncTestClient, auth: dict[str, str]) -> None:
    response = await http.post("/oauth2/token", json={"grant_type": "client_credentials"}, headers=auth)
    assert_oauth_error(response, 415, "invalid_request")


@pytest.mark.parametrize("content", [b"grant_type=client_credentials&\xff=1", b"a=1&&&b", b"x=%00"])
async def test_malformed_forms_are_invalid_request(http: AsyncTestClient, auth: dict[str, str], content: bytes) -> None:
    response = await http.post("/oauth2/token", content=content, headers={**FORM, **auth})
    assert_oauth_error(response, 400, "invalid_request")


async def test_a_stock_oauth2_client_library_gets_a_token(http: AsyncTestClient, secret: str) -> None:
    import authlib.deprecate  # noqa: F401  (it sets an "always" filter on import; ours must come after)
    from httpx import ASGITransport

    with warnings.catch_warnings():  # authlib announces its move to httpx2 when imported with httpx
        warnings.simplefilter("ignore", DeprecationWarning)
        from authlib.integrations.httpx_client import AsyncOAuth2Client

    async with AsyncOAuth2Client(
        client_id="orders",
        client_secret=secret,
        token_endpoint_auth_method="client_secret_basic",
        transport=ASGITransport(app=http.app),
        base_url="http://titan.test",
    ) as oauth:
        fetched = await oauth.fetch_token(
            "http://titan.test/oauth2/token", grant_type="client_credentials", audience="billing"
        )
    assert fetched["token_type"] == "Bearer"
    assert fetched["expires_in"] == 300
    jwks = (await http.get("/.well-known/jwks.json")).json()
    assert verify_with_pyjwt(fetched["access_token"], jwks, audience="billing", issuer=ISSUER)["sub"] == "orders"

"""The JWKS and the discovery documents verifiers rely on."""

from __future__ import annotations

import pytest
from joserfc.jwk import ECKey
from litestar.testing import AsyncTestClient

pytestmark = pytest.mark.anyio


async def test_the_jwks_publishes_the_active_key(http: AsyncTestClient, auth: dict[str, str]) -> None:
    response = await http.get("/.well-known/jwks.json")
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("application/jwk-set+json")
    keys = response.json()["keys"]
    assert len(keys) == 1
    jwk = keys[0]
    assert set(jwk) == {"kty", "crv", "x", "y", "kid", "use", "alg"}
    assert (jwk["kty"], jwk["crv"], jwk["use"], jwk["alg"]) == ("EC", "P-256", "sig", "ES256")
    assert ECKey.import_key({k: jwk[k] for k in ("kty", "crv", "x", "y")}).thumbprint() == jwk["kid"]  # RFC 7638
    minted = await http.post("/v1/tokens", json={"audience": "billing"}, headers=auth)
    assert minted.json()["kid"] == jwk["kid"]


async def test_the_jwks_is_cacheable_and_revalidates(http: AsyncTestClient) -> None:
    first = await http.get("/.well-known/jwks.json")
    assert first.headers["cache-control"] == "public, max-age=300"
    etag = first.headers["etag"]
    assert etag.startswith('"')
    again = await http.get("/.well-known/jwks.json", headers={"If-None-Match": etag})
    assert again.status_code == 304
    assert again.content == b""
    assert again.headers["etag"] == etag
    other = await http.get("/.well-known/jwks.json", headers={"If-None-Match": '"something-else"'})
    assert other.status_code == 200


@pytest.mark.parametrize("path", ["/.well-known/openid-configuration", "/.well-known/oauth-authorization-server"])
async def test_discovery_describes_the_issuer(http: AsyncTestClient, path: str) -> None:
    document = (await http.get(path)).json()
    assert document["issuer"] == "http://127.0.0.1:8000"
    assert document["token_endpoint"] == "http://127.0.0.1:8000/oauth2/token"
    assert document["jwks_uri"] == "http://127.0.0.1:8000/.well-known/jwks.json"
    assert document["grant_types_supported"] == ["client_credentials"]
    methods = ["client_secret_basic", "client_secret_post", "private_key_jwt"]
    assert document["token_endpoint_auth_methods_supported"] == methods
    assert document["token_endpoint_auth_signing_alg_values_supported"] == ["ES256", "EdDSA", "RS256"]
    assert document["revocation_endpoint"] == "http://127.0.0.1:8000/oauth2/revoke"
    assert document["introspection_endpoint"] == "http://127.0.0.1:8000/oauth2/introspect"
    assert document["id_token_signing_alg_values_supported"] == ["ES256"]


async def test_the_openapi_document_is_served(http: AsyncTestClient) -> None:
    document = (await http.get("/schema/openapi.json")).json()
    assert {"/v1/tokens", "/oauth2/token", "/.well-known/jwks.json", "/v1/stats", "/metrics"} <= set(document["paths"])
    for path in ("/v1/tokens", "/oauth2/token"):
        responses = document["paths"][path]["post"]["responses"]
        assert {"200", "400", "401", "413", "429", "431", "503"} <= set(responses)

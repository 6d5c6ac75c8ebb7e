"""Every selectable algorithm mints tokens that verify from the served JWKS alone."""

from __future__ import annotations

from pathlib import Path

import pytest
from litestar.testing import AsyncTestClient

from app.asgi import create_app
from tests.support.factories import basic, make_container, register_client
from tests.support.verify import verify_with_pyjwt

pytestmark = pytest.mark.anyio


@pytest.mark.parametrize(
    ("alg", "name", "kty"),
    [("ES256", "ECDSA-ES256", "EC"), ("RS256", "RSA-RS256", "RSA"), ("EdDSA", "EdDSA-Ed25519", "OKP")],
)
async def test_tokens_verify_for_each_algorithm(data_dir: Path, alg: str, name: str, kty: str) -> None:
    container = make_container(data_dir, jwt_algorithm=alg)
    secret = register_client(container)
    async with AsyncTestClient(app=create_app(container)) as http:
        minted = await http.post("/v1/tokens", json={"audience": "billing"}, headers=basic("orders", secret))
        jwks = (await http.get("/.well-known/jwks.json")).json()
        stats = (await http.get("/v1/stats")).json()
    assert minted.status_code == 200, minted.text
    assert [(key["alg"], key["kty"]) for key in jwks["keys"]] == [(alg, kty)]
    claims = verify_with_pyjwt(minted.json()["access_token"], jwks, audience="billing", issuer="http://127.0.0.1:8000")
    assert claims["sub"] == "orders"
    assert stats["crypto"]["algorithm"] == name

"""RFC 9068 claims built from a grant."""

from __future__ import annotations

import base64

import msgspec

from app.claims import JTI_BYTES, build_claims, claims_encoder, new_jti
from app.policy import Grant


def claims_dict(grant: Grant) -> dict[str, object]:
    claims = build_claims(
        issuer="https://auth.example.com",
        client_id="orders",
        grant=grant,
        now=1_000_000,
        clock_skew=30,
        jti="j1",
    )
    decoded: dict[str, object] = msgspec.json.decode(claims_encoder.encode(claims))
    return decoded


def test_claims_for_one_audience() -> None:
    assert claims_dict(Grant(("billing",), ("invoices:read", "invoices:write"), 300)) == {
        "iss": "https://auth.example.com",
        "sub": "orders",
        "aud": "billing",
        "iat": 1_000_000,
        "nbf": 1_000_000 - 30,
        "exp": 1_000_300,
        "jti": "j1",
        "client_id": "orders",
        "scope": "invoices:read invoices:write",
    }


def test_several_audiences_become_a_list() -> None:
    assert claims_dict(Grant(("billing", "inventory"), ("a",), 60))["aud"] == ["billing", "inventory"]


def test_no_scope_means_no_scope_claim() -> None:
    assert "scope" not in claims_dict(Grant(("billing",), (), 60))


def test_jti_is_unique_and_carries_128_random_bits() -> None:
    jtis = {new_jti() for _ in range(10_000)}
    assert len(jtis) == 10_000
    sample = jtis.pop()
    assert len(base64.urlsafe_b64decode(sample + "==")) == JTI_BYTES == 16

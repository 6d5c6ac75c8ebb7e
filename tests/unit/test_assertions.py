"""private_key_jwt: what makes a client assertion acceptable, and every way one is refused."""

from __future__ import annotations

import json
import time

import pytest

from app.clients.assertions import AssertionVerifier
from app.clients.model import Client, parse_client_jwks
from app.clients.replay import ReplayCache
from app.errors import InvalidClient
from app.store.port import ClientRecord
from tests.support.assertions import ClientKey, hmac_with_public_key, unsigned_assertion

TOKEN_ENDPOINT = "https://auth.example.com/oauth2/token"
ISSUER = "https://auth.example.com"


def client_with(*keys: ClientKey, client_id: str = "orders") -> Client:
    jwks = json.dumps({"keys": [key.public_jwk for key in keys]})
    return Client.from_record(ClientRecord(client_id, b"", ("billing",), (), 300, 0, 0, jwks=jwks))


@pytest.fixture
def verifier() -> AssertionVerifier:
    return AssertionVerifier(
        audiences=(TOKEN_ENDPOINT, ISSUER), max_lifetime=300, clock_skew=5, replay_cache=ReplayCache()
    )


@pytest.mark.parametrize("alg", ["ES256", "RS256", "EdDSA"])
def test_a_good_assertion_authenticates(verifier: AssertionVerifier, alg: str) -> None:
    key = ClientKey(alg)
    verifier.verify(client_with(key), key.assertion("orders", TOKEN_ENDPOINT))


def test_the_issuer_is_an_accepted_audience_too(verifier: AssertionVerifier) -> None:
    key = ClientKey()
    verifier.verify(client_with(key), key.assertion("orders", [ISSUER, "https://elsewhere"]))


def refused(verifier: AssertionVerifier, client: Client, assertion: str) -> str:
    with pytest.raises(InvalidClient) as caught:
        verifier.verify(client, assertion)
    assert caught.value.status_code == 401
    return caught.value.reason


def test_a_replayed_assertion_is_refused(verifier: AssertionVerifier) -> None:
    key = ClientKey()
    assertion = key.assertion("orders", TOKEN_ENDPOINT)
    verifier.verify(client_with(key), assertion)
    assert refused(verifier, client_with(key), assertion) == "assertion_replay"


def test_the_same_jti_from_another_client_is_not_a_replay(verifier: AssertionVerifier) -> None:
    key = ClientKey()
    verifier.verify(client_with(key), key.assertion("orders", TOKEN_ENDPOINT, jti="same"))
    verifier.verify(client_with(key, client_id="billing"), key.assertion("billing", TOKEN_ENDPOINT, jti="same"))


@pytest.mark.parametrize(
    ("overrides", "reason"),
    [
        ({"aud": "https://evil.example.com/token"}, "assertion_audience"),
        ({"aud": None}, "assertion_audience"),
        ({"exp": int(time.time()) - 60}, "assertion_expired"),
        ({"exp": None}, "assertion_claims"),
        ({"exp": int(time.time()) + 3600}, "assertion_lifetime"),
        ({"jti": None}, "assertion_claims"),
        ({"iat": int(time.time()) + 600}, "assertion_claims"),
        ({"sub": "someone-else"}, "assertion_claims"),
        ({"iss": "billing", "sub": "billing"}, "assertion_claims"),
    ],
)
def test_bad_claims_are_refused(verifier: AssertionVerifier, overrides: dict[str, object], reason: str) -> None:
    key = ClientKey()
    assert refused(verifier, client_with(key), key.assertion("orders", TOKEN_ENDPOINT, **overrides)) == reason


def test_alg_none_is_refused(verifier: AssertionVerifier) -> None:
    assert refused(verifier, client_with(ClientKey()), unsigned_assertion("orders", TOKEN_ENDPOINT)) == "assertion_alg"


def test_hmac_with_the_public_key_as_secret_is_refused(verifier: AssertionVerifier) -> None:
    key = ClientKey()
    forged = hmac_with_public_key(key, "orders", TOKEN_ENDPOINT)
    assert refused(verifier, client_with(key), forged) == "assertion_alg"


def test_a_key_of_another_client_does_not_verify(verifier: AssertionVerifier) -> None:
    registered, stranger = ClientKey(), ClientKey()
    assertion = stranger.assertion("orders", TOKEN_ENDPOINT)
    assert refused(verifier, client_with(registered), assertion) == "assertion_signature"


def test_an_algorithm_that_does_not_fit_the_key_is_refused(verifier: AssertionVerifier) -> None:
    rsa_key = ClientKey("RS256", kid="k")
    ec_key = ClientKey("ES256", kid="k")  # same kid, different type: only the EC key may verify ES256
    assert refused(verifier, client_with(rsa_key), ec_key.assertion("orders", TOKEN_ENDPOINT)) == "assertion_signature"


@pytest.mark.parametrize("assertion", ["", "a.b", "a.b.c.d", "!!.??.##", "x" * 9000])
def test_malformed_assertions_are_refused(verifier: AssertionVerifier, assertion: str) -> None:
    assert refused(verifier, client_with(ClientKey()), assertion) == "assertion_malformed"


def test_a_secret_client_cannot_use_assertions(verifier: AssertionVerifier) -> None:
    client = Client.from_record(ClientRecord("orders", b"h", ("billing",), (), 300, 0, 0))
    assert refused(verifier, client, ClientKey().assertion("orders", TOKEN_ENDPOINT)) == "assertion_no_key"


@pytest.mark.parametrize(
    ("jwk", "message"),
    [
        ({"kty": "oct", "k": "c2VjcmV0"}, "only EC P-256, RSA and OKP Ed25519"),
        ({"kty": "EC", "crv": "P-384", "x": "a", "y": "b"}, "P-256"),
    ],
)
def test_registration_refuses_unusable_keys(jwk: dict[str, str], message: str) -> None:
    with pytest.raises(ValueError, match=message):
        parse_client_jwks(json.dumps(jwk))


def test_registration_refuses_private_keys() -> None:
    import jwt as pyjwt

    key = ClientKey()
    private_jwk = json.loads(pyjwt.get_algorithm_by_name("ES256").to_jwk(key.private))
    with pytest.raises(ValueError, match="private key"):
        parse_client_jwks(json.dumps(private_jwk))


def test_replay_cache_forgets_expired_entries() -> None:
    now = [1000.0]
    cache = ReplayCache(clock=lambda: now[0])
    assert cache.first_use("c", "j1", 1010)
    assert not cache.first_use("c", "j1", 1010)
    now[0] = 1011
    assert cache.first_use("c", "j2", 1020)
    assert len(cache) == 1  # j1 was purged once expired

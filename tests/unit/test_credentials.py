"""Client credentials: HTTP Basic parsing, secrets and constant-time authentication."""

from __future__ import annotations

import base64

import pytest

from app.clients.authenticate import SecretCredentials
from app.clients.registry import ClientRegistry
from app.clients.secrets import generate_secret, hash_secret, secret_matches
from app.errors import InvalidClient
from app.http.credentials import parse_basic
from app.store.port import ClientRecord


def encode(text: str) -> str:
    return "Basic " + base64.b64encode(text.encode()).decode()


def test_parse_basic() -> None:
    assert parse_basic(encode("orders:s3cret")) == SecretCredentials("orders", "s3cret")


def test_parse_basic_form_decodes_both_parts() -> None:
    # RFC 6749 §2.3.1: id and secret are form-urlencoded before Basic encoding.
    assert parse_basic(encode("orders:a%3Ab+c")) == SecretCredentials("orders", "a:b c")


def test_the_scheme_is_case_insensitive() -> None:
    assert parse_basic("bAsIc " + encode("orders:x").split()[1]) == SecretCredentials("orders", "x")


@pytest.mark.parametrize(
    ("header", "reason"),
    [
        ("Bearer abc", "wrong_scheme"),
        ("Basic", "malformed_credentials"),
        ("Basic !!!", "malformed_credentials"),
        (encode("no-colon"), "malformed_credentials"),
        (encode(":secret"), "malformed_credentials"),
        (encode("orders:"), "malformed_credentials"),
        (encode("bad id:secret"), "malformed_credentials"),
        (encode("orders:" + "x" * 600), "malformed_credentials"),
        ("Basic " + base64.b64encode(b"orders:\xff\xfe").decode(), "malformed_credentials"),
        ("Basic " + "A" * 5000, "malformed_credentials"),
    ],
)
def test_malformed_basic_credentials_are_refused(header: str, reason: str) -> None:
    with pytest.raises(InvalidClient) as caught:
        parse_basic(header)
    assert caught.value.reason == reason


def test_secrets_are_256_bit_and_stored_as_digests() -> None:
    secret = generate_secret()
    assert len(base64.urlsafe_b64decode(secret + "=")) == 32
    digest = hash_secret(secret)
    assert secret.encode() not in digest
    assert secret_matches(secret, digest)
    assert not secret_matches(secret + "x", digest)


class OneClientStore:
    def __init__(self, secret: str) -> None:
        self.record = ClientRecord("orders", hash_secret(secret), ("billing",), (), 60, 0, 0)

    def list_clients(self) -> list[ClientRecord]:
        return [self.record]


def test_authenticate_gives_one_answer_for_every_failure() -> None:
    registry = ClientRegistry(OneClientStore("right"))  # type: ignore[arg-type]
    registry.load()
    assert registry.authenticate("orders", "right").client_id == "orders"
    with pytest.raises(InvalidClient) as wrong_secret:
        registry.authenticate("orders", "wrong")
    with pytest.raises(InvalidClient) as unknown:
        registry.authenticate("nobody", "right")
    assert str(wrong_secret.value) == str(unknown.value) == "client authentication failed"
    assert (wrong_secret.value.reason, unknown.value.reason) == ("wrong_secret", "unknown_client")

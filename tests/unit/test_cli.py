"""The titan command's client management, run in-process against a temporary store."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from app.cli import main
from app.clients.secrets import secret_matches
from app.keys.encryption import KeySealer, decode_keks
from containers import Container
from tests.support.assertions import ClientKey


def run(container: Container, capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    code = main(list(argv), container)
    out, err = capsys.readouterr()
    return code, out, err


def test_add_prints_the_secret_once_and_stores_only_its_digest(
    container: Container, capsys: pytest.CaptureFixture[str]
) -> None:
    code, out, _ = run(
        container,
        capsys,
        "clients",
        "add",
        "orders",
        "--audience",
        "billing",
        "--scope",
        "a:read a:write",
        "--max-ttl",
        "15m",
        "--json",
    )
    assert code == 0
    printed = json.loads(out)
    assert printed["client_id"] == "orders"
    record = container.store().get_client("orders")
    assert record is not None
    assert (record.audiences, record.scopes, record.max_ttl) == (("billing",), ("a:read", "a:write"), 900)
    assert secret_matches(printed["client_secret"], record.secret_hash)
    code, listed, _ = run(container, capsys, "clients", "list", "--json")
    assert printed["client_secret"] not in listed
    assert json.loads(listed)[0]["client_id"] == "orders"


def test_rotate_secret_replaces_it(container: Container, capsys: pytest.CaptureFixture[str]) -> None:
    run(container, capsys, "clients", "add", "orders", "--audience", "billing", "--json")
    code, out, _ = run(container, capsys, "clients", "rotate-secret", "orders", "--json")
    assert code == 0
    record = container.store().get_client("orders")
    assert record is not None
    assert secret_matches(json.loads(out)["client_secret"], record.secret_hash)


@pytest.mark.parametrize(
    ("argv", "code", "message"),
    [
        (["clients", "add", "bad id", "--audience", "billing"], 2, "client id must be"),
        (["clients", "add", "orders", "--audience", "bill ing"], 2, "audience 'bill ing'"),
        (
            ["clients", "add", "orders", "--audience", "billing", "--scope", 'x"y'],
            2,
            "not a valid scope token",
        ),
        (
            ["clients", "add", "orders", "--audience", "billing", "--max-ttl", "2h"],
            2,
            "TITAN_MAX_TTL (3600s)",
        ),
        (["clients", "add", "orders", "--audience", "billing", "--max-ttl", "soon"], 2, "--max-ttl"),
        (["clients", "remove", "nobody"], 1, "no client 'nobody'"),
        (["clients", "rotate-secret", "nobody"], 1, "no client 'nobody'"),
    ],
)
def test_bad_commands_exit_non_zero_with_a_message(
    container: Container, capsys: pytest.CaptureFixture[str], argv: list[str], code: int, message: str
) -> None:
    exit_code, out, err = run(container, capsys, *argv)
    assert exit_code == code
    assert message in err
    assert out == ""
    assert container.store().list_clients() == []


def test_a_client_id_is_registered_once(container: Container, capsys: pytest.CaptureFixture[str]) -> None:
    run(container, capsys, "clients", "add", "orders", "--audience", "billing")
    code, _, err = run(container, capsys, "clients", "add", "orders", "--audience", "billing")
    assert code == 2
    assert "already registered" in err


def test_keys_list_shows_the_active_key(container: Container, capsys: pytest.CaptureFixture[str]) -> None:
    container.refresher().load_now()
    kid = container.keyring().active.kid
    code, out, _ = run(container, capsys, "keys", "list", "--json")
    assert code == 0
    assert [(key["kid"], key["state"], key["alg"]) for key in json.loads(out)] == [(kid, "active", "ES256")]


def key_states(container: Container) -> dict[str, str]:
    return {key.kid: key.state for key in container.store().list_keys()}


def test_keys_rotate_publishes_then_rotate_now_activates(
    container: Container, capsys: pytest.CaptureFixture[str]
) -> None:
    container.refresher().load_now()
    first = container.keyring().active.kid
    code, out, _ = run(container, capsys, "keys", "rotate")
    assert code == 0
    assert out.startswith("published ")
    assert sorted(key_states(container).values()) == ["active", "published"]
    code, out, _ = run(container, capsys, "keys", "rotate")
    assert "already published" in out
    code, out, _ = run(container, capsys, "keys", "rotate", "--now")
    assert code == 0
    assert "warning: verifiers holding a cached JWKS" in out
    states = key_states(container)
    assert states[first] == "retired"
    assert sorted(states.values()) == ["active", "removed", "retired"]


def test_keys_revoke(container: Container, capsys: pytest.CaptureFixture[str]) -> None:
    container.refresher().load_now()
    kid = container.keyring().active.kid
    code, out, _ = run(container, capsys, "keys", "revoke", kid)
    assert code == 0
    assert f"removed {kid}" in out
    assert key_states(container)[kid] == "removed"
    code, _, err = run(container, capsys, "keys", "revoke", kid)
    assert code == 1
    assert "no published key" in err


def test_keys_rotate_kek_in_environment_mode_prints_the_new_key(
    container: Container, capsys: pytest.CaptureFixture[str]
) -> None:
    container.refresher().load_now()
    code, out, _ = run(container, capsys, "keys", "rotate-kek", "--json")
    assert code == 0
    new_kek = json.loads(out)["key_encryption_key"]
    record = container.store().list_keys()[0]
    assert KeySealer(decode_keks(new_kek, "test")).can_open(record.private_key)


def test_a_kid_starting_with_a_dash_can_be_revoked(container: Container, capsys: pytest.CaptureFixture[str]) -> None:
    code, _, err = run(container, capsys, "keys", "revoke", "-O-NGK0nriNLHk")
    assert code == 1  # parsed as a kid (no such key), not as an option
    assert "no published key '-O-NGK0nriNLHk'" in err


def test_add_a_private_key_jwt_client(container: Container, capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    jwk_file = tmp_path / "signer.jwk"
    jwk_file.write_text(json.dumps(ClientKey().public_jwk))
    code, out, _ = run(
        container, capsys, "clients", "add", "signer", "--audience", "billing", "--jwk", str(jwk_file), "--json"
    )
    assert code == 0
    assert json.loads(out) == {"client_id": "signer", "token_endpoint_auth_method": "private_key_jwt"}
    record = container.store().get_client("signer")
    assert record is not None
    assert (record.auth_method, record.secret_hash) == ("private_key_jwt", b"")


@pytest.mark.parametrize(
    ("options", "message"),
    [
        (["--jwk", "/nonexistent.jwk"], "cannot read"),
        (["--jwks-uri", "http://keys.example/jwks"], "https"),
        (["--jwk", "x", "--jwks-uri", "https://k/j"], "not both"),
        (["--rate", "0"], "positive"),
    ],
)
def test_bad_client_options(
    container: Container, capsys: pytest.CaptureFixture[str], options: list[str], message: str
) -> None:
    try:
        code, _, err = run(container, capsys, "clients", "add", "signer", "--audience", "billing", *options)
    except SystemExit as exit_:  # argparse refuses bad option values itself
        code, err = int(exit_.code or 0), capsys.readouterr().err
    assert code == 2
    assert message in err
    assert container.store().list_clients() == []


def test_disable_enable_and_rate_options(container: Container, capsys: pytest.CaptureFixture[str]) -> None:
    run(container, capsys, "clients", "add", "orders", "--audience", "billing", "--rate", "5", "--burst", "10")
    assert run(container, capsys, "clients", "disable", "orders")[0] == 0
    record = container.store().get_client("orders")
    assert record is not None
    assert (record.disabled, record.rate, record.burst) == (True, 5.0, 10)
    assert record.not_before is not None
    assert run(container, capsys, "clients", "enable", "orders")[0] == 0
    enabled = container.store().get_client("orders")
    assert enabled is not None
    assert (enabled.disabled, enabled.not_before) == (False, record.not_before)
    assert run(container, capsys, "clients", "disable", "nobody")[0] == 1


def test_operator_token_revocation_and_the_audit_trail(
    container: Container, capsys: pytest.CaptureFixture[str]
) -> None:
    run(container, capsys, "clients", "add", "orders", "--audience", "billing")
    code, out, _ = run(container, capsys, "tokens", "revoke", "jti-123", "--client", "orders")
    assert code == 0
    assert "jti-123" in out
    assert [token.jti for token in container.store().revoked_tokens(0)] == ["jti-123"]
    code, out, _ = run(container, capsys, "audit", "tail", "-n", "5")
    events = [json.loads(line) for line in out.splitlines()]
    assert [(event["event"], event.get("detail"), event.get("jti")) for event in events] == [
        ("client", "registered (client_secret)", None),
        ("revocation", None, "jti-123"),
    ]
    assert events[1]["actor"] == "operator"

"""private_key_jwt end to end: assertions built with PyJWT; mint, introspect, revoke, introspect again."""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Callable, Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest

from app.clients.assertions import ASSERTION_TYPE
from tests.support.assertions import ClientKey
from tests.support.process import TitanProcess, add_client, run_cli

pytestmark = pytest.mark.e2e


@pytest.fixture
def jwks_server() -> Iterator[tuple[str, dict[str, bytes]]]:
    """A calling service's own JWKS endpoint, on loopback."""
    documents: dict[str, bytes] = {}

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            body = documents.get(self.path, b"")
            self.send_response(200 if body else 404)
            self.send_header("Content-Type", "application/json")
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *args: object) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}", documents
    server.shutdown()
    server.server_close()


def test_private_key_jwt_mint_introspect_revoke(
    env: dict[str, str], servers: list[TitanProcess], tmp_path: Path, jwks_server: tuple[str, dict[str, bytes]]
) -> None:
    base, documents = jwks_server
    env = {**env, "TITAN_ALLOW_INSECURE_JWKS_URI": "true"}  # loopback http stands in for https here
    server = TitanProcess(env, tmp_path / "titan.log")
    servers.append(server)
    server.start()
    token_endpoint = f"{server.base_url}/oauth2/token"

    minter_key, checker_key = ClientKey("ES256", kid="minter-1"), ClientKey("EdDSA", kid="checker-1")
    jwk_file = tmp_path / "minter.jwk"
    jwk_file.write_text(json.dumps(minter_key.public_jwk))
    documents["/jwks"] = json.dumps({"keys": [checker_key.public_jwk]}).encode()
    assert (
        run_cli(
            env, "clients", "add", "minter", "--audience", "billing", "--scope", "invoices:read", "--jwk", str(jwk_file)
        ).returncode
        == 0
    )
    assert (
        run_cli(env, "clients", "add", "checker", "--audience", "billing", "--jwks-uri", f"{base}/jwks").returncode == 0
    )
    secret = add_client(env, "other", "--audience", "billing")

    def assertion_form(key: ClientKey, client_id: str) -> dict[str, str]:
        return {"client_assertion_type": ASSERTION_TYPE, "client_assertion": key.assertion(client_id, token_endpoint)}

    def eventually_200(path: str, form: Callable[[], dict[str, str]]) -> dict[str, object]:
        for _ in range(50):  # the server picks new clients up within a refresh interval
            response = server.post(path, data=form())  # a fresh assertion each try: never a replay
            if response.status_code == 200:
                body: dict[str, object] = response.json()
                return body
            time.sleep(0.2)
        raise AssertionError(response.text)

    minted = eventually_200(
        "/oauth2/token",
        lambda: {"grant_type": "client_credentials", "scope": "invoices:read", **assertion_form(minter_key, "minter")},
    )
    token = str(minted["access_token"])

    def introspect() -> dict[str, object]:
        return eventually_200("/oauth2/introspect", lambda: {"token": token, **assertion_form(checker_key, "checker")})

    first = introspect()
    assert (first["active"], first["client_id"], first["scope"]) == (True, "minter", "invoices:read")

    revoked = server.post("/oauth2/revoke", data={"token": token, **assertion_form(minter_key, "minter")})
    assert revoked.status_code == 200, revoked.text
    assert introspect() == {"active": False}

    replayed = assertion_form(minter_key, "minter")
    assert server.post("/oauth2/token", data={"grant_type": "client_credentials", **replayed}).status_code == 200
    again = server.post("/oauth2/token", data={"grant_type": "client_credentials", **replayed})
    assert (again.status_code, again.json()["error"]) == (401, "invalid_client")

    stats = server.get("/v1/stats").json()["security"]
    assert stats["authentications"]["private_key_jwt"]["success"] >= 4
    assert stats["revocations"] == {"client": 1}
    audit = run_cli(env, "audit", "tail", "-n", "200").stdout
    assert token not in audit
    assert replayed["client_assertion"] not in audit
    assert secret not in audit
    assert '"event":"revocation"' in audit
    server.stop()

"""HTTPS end to end: a self-signed certificate made here, served by Granian's TLS support."""

from __future__ import annotations

import datetime
import ipaddress
from pathlib import Path

import httpx
import jwt as pyjwt
import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

from tests.support.factories import basic
from tests.support.process import TitanProcess, add_client, run_cli

pytestmark = pytest.mark.e2e


def self_signed(directory: Path) -> tuple[Path, Path]:
    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "127.0.0.1")])
    now = datetime.datetime.now(datetime.UTC)
    certificate = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(minutes=1))
        .not_valid_after(now + datetime.timedelta(days=1))
        .add_extension(x509.SubjectAlternativeName([x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]), critical=False)
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .sign(key, hashes.SHA256())
    )
    cert_path, key_path = directory / "cert.pem", directory / "key.pem"
    cert_path.write_bytes(certificate.public_bytes(serialization.Encoding.PEM))
    key_path.write_bytes(
        key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption())
    )
    key_path.chmod(0o600)
    return cert_path, key_path


def test_titan_serves_https(env: dict[str, str], servers: list[TitanProcess], tmp_path: Path) -> None:
    cert, key = self_signed(tmp_path)
    env = {**env, "TITAN_TLS_CERT_FILE": str(cert), "TITAN_TLS_KEY_FILE": str(key)}
    server = TitanProcess(env, tmp_path / "titan.log")
    servers.append(server)
    server.start()
    assert server.base_url.startswith("https://")
    secret = add_client(env, "orders", "--audience", "billing")
    for _ in range(50):
        response = server.post("/v1/tokens", json={"audience": "billing"}, headers=basic("orders", secret))
        if response.status_code == 200:
            break
    assert response.status_code == 200, response.text
    token = response.json()["access_token"]
    discovery = server.get("/.well-known/openid-configuration").json()
    assert discovery["issuer"] == server.base_url  # https by default once TLS is on
    jwks = server.get("/.well-known/jwks.json").json()
    jwk = pyjwt.PyJWK(jwks["keys"][0])
    claims = pyjwt.decode(token, jwk.key, algorithms=["ES256"], audience="billing", issuer=server.base_url)
    assert claims["sub"] == "orders"
    with pytest.raises(httpx.ConnectError):  # an unverified certificate is refused by a careful client
        httpx.get(f"{server.base_url}/healthz", verify=True, timeout=5)
    assert server.stop() == 0


def test_tls_settings_must_come_in_pairs(env: dict[str, str], tmp_path: Path) -> None:
    cert, _ = self_signed(tmp_path)
    result = run_cli({**env, "TITAN_TLS_CERT_FILE": str(cert)}, "serve")
    assert result.returncode == 2
    assert "TITAN_TLS_KEY_FILE" in result.stderr
    missing = run_cli({**env, "TITAN_TLS_CERT_FILE": "/nope.pem", "TITAN_TLS_KEY_FILE": "/nope.key"}, "serve")
    assert missing.returncode == 2
    assert "no such file" in missing.stderr

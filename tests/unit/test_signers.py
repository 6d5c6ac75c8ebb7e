"""Every signer produces JWS signatures that independent libraries verify."""

from __future__ import annotations

import json

import jwt as pyjwt
import pytest
from joserfc import jws
from joserfc.jwk import KeySet

from app.claims import claims_encoder
from app.encoding import b64url
from app.keys.material import public_jwk, thumbprint
from app.signing import JoseSigner, SigningKey, display_name


# joserfc warns that RFC 9864 deprecates the polymorphic "EdDSA" name; Titan keeps it because
# verifiers (PyJWT among them) do not yet know the fully-specified "Ed25519".
@pytest.mark.filterwarnings("ignore:EdDSA is deprecated:joserfc.errors.SecurityWarning")
@pytest.mark.parametrize(
    ("alg", "name"), [("ES256", "ECDSA-ES256"), ("RS256", "RSA-RS256"), ("EdDSA", "EdDSA-Ed25519")]
)
def test_signatures_verify_with_pyjwt_and_joserfc(alg: str, name: str) -> None:
    signer = JoseSigner(alg)
    assert (signer.alg, signer.name, display_name(alg)) == (alg, name, name)
    jose_key = signer.generate_key()
    kid = thumbprint(jose_key)
    header = b64url(json.dumps({"alg": alg, "kid": kid, "typ": "at+jwt"}).encode())
    key = SigningKey(kid=kid, alg=alg, jose_key=jose_key, header_segment=header)
    payload = b64url(claims_encoder.encode({"sub": "orders"}))
    signing_input = header + b"." + payload
    token = (signing_input + b"." + b64url(signer.sign(key, signing_input))).decode()

    jwk = public_jwk(jose_key, alg)
    verified = pyjwt.decode(token, pyjwt.PyJWK(jwk).key, algorithms=[alg])
    assert verified == {"sub": "orders"}
    registry = jws.JWSRegistry(algorithms=[alg])
    compact = jws.deserialize_compact(token, KeySet.import_key_set({"keys": [jwk]}), registry=registry)
    assert json.loads(compact.payload) == {"sub": "orders"}


def test_es256_signatures_are_raw_64_bytes() -> None:
    signer = JoseSigner("ES256")
    jose_key = signer.generate_key()
    key = SigningKey(kid="k", alg="ES256", jose_key=jose_key, header_segment=b"h")
    assert len(signer.sign(key, b"message")) == 64


def test_an_unknown_algorithm_is_refused() -> None:
    with pytest.raises(ValueError, match="unsupported"):
        JoseSigner("HS256")

"""The ceiling: a framework-free ASGI app on Granian that decodes the body with msgspec and signs a
hand-assembled ES256 JWS with cryptography, nothing else.

Run: granian --interface asgi bench.baselines.ceiling_app:app
"""

from __future__ import annotations

import base64
from typing import Any

import msgspec
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives.asymmetric.utils import decode_dss_signature

from bench.baselines.common import PRIVATE_KEY, check_basic, claims, jwks_document


class MintBody(msgspec.Struct):
    audience: str | list[str]
    scope: str | None = None
    ttl: int | None = None


decoder = msgspec.json.Decoder(MintBody)
encoder = msgspec.json.Encoder()
HEADER = base64.urlsafe_b64encode(b'{"alg":"ES256","kid":"bench","typ":"at+jwt"}').rstrip(b"=")
ECDSA = ec.ECDSA(hashes.SHA256())
JSON_HEADERS = [(b"content-type", b"application/json")]


def b64(data: bytes) -> bytes:
    return base64.urlsafe_b64encode(data).rstrip(b"=")


def sign(payload: dict[str, Any]) -> bytes:
    signing_input = HEADER + b"." + b64(encoder.encode(payload))
    r, s = decode_dss_signature(PRIVATE_KEY.sign(signing_input, ECDSA))
    return signing_input + b"." + b64(r.to_bytes(32, "big") + s.to_bytes(32, "big"))


async def app(scope: dict[str, Any], receive: Any, send: Any) -> None:
    if scope["type"] == "lifespan":
        while (await receive())["type"] != "lifespan.shutdown":
            await send({"type": "lifespan.startup.complete"})
        await send({"type": "lifespan.shutdown.complete"})
        return
    status, body = 200, b""
    if scope["path"] == "/v1/tokens":
        chunks = []
        while True:
            message = await receive()
            chunks.append(message.get("body", b""))
            if not message.get("more_body"):
                break
        authorization = dict(scope["headers"]).get(b"authorization", b"").decode()
        if not check_basic(authorization):
            status, body = 401, b'{"error":"invalid_client"}'
        else:
            request = decoder.decode(b"".join(chunks))
            token = sign(claims(request.audience, request.ttl or 300))
            body = b'{"access_token":"' + token + b'","token_type":"Bearer","expires_in":300}'
    elif scope["path"] == "/.well-known/jwks.json":
        body = jwks_document()
    elif scope["path"] == "/readyz":
        body = b'{"status":"ready"}'
    else:
        status, body = 404, b'{"error":"not_found"}'
    await send({"type": "http.response.start", "status": status, "headers": JSON_HEADERS})
    await send({"type": "http.response.body", "body": body})

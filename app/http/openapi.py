"""OpenAPI entries for the routes served as raw ASGI (see app/http/fast.py), merged into Litestar's document."""

from __future__ import annotations

from typing import Any, Final

import msgspec

from app.http.schemas import ErrorBody, MintBody, OAuthTokenForm, OAuthTokenResponse, TokenForm, TokenResponse

REF: Final = "#/components/schemas/{name}"


def _json(name: str) -> dict[str, Any]:
    return {"application/json": {"schema": {"$ref": REF.format(name=name)}}}


def _error(description: str) -> dict[str, Any]:
    return {"description": description, "content": _json("ErrorBody")}


_COMMON_ERRORS: Final = {
    "400": _error("Malformed request, or audience, scope or ttl outside the client's policy (RFC 6749 §5.2 codes)"),
    "401": _error("Client authentication failed (invalid_client, with WWW-Authenticate)"),
    "405": _error("Method not allowed"),
    "413": _error("Body too large"),
    "415": _error("Wrong content type"),
    "429": _error("Rate limited, or cooling off after failed authentications (Retry-After)"),
    "431": _error("Request headers too large (TITAN_MAX_HEADER_BYTES)"),
    "503": _error("Overloaded, draining for shutdown, or the store unavailable (Retry-After)"),
}


def describe_fast_routes(document: dict[str, Any]) -> None:
    """Add POST /v1/tokens, POST /oauth2/token and GET /.well-known/jwks.json to ``document``."""
    _, components = msgspec.json.schema_components(
        [MintBody, TokenResponse, OAuthTokenForm, OAuthTokenResponse, TokenForm, ErrorBody], ref_template=REF
    )
    document.setdefault("components", {}).setdefault("schemas", {}).update(components)
    schemes = document["components"].setdefault("securitySchemes", {})
    schemes.setdefault("basic", {"type": "http", "scheme": "basic"})
    schemes["clientAssertion"] = {"type": "http", "scheme": "bearer", "description": "a private_key_jwt assertion"}
    paths = document.setdefault("paths", {})
    paths["/v1/tokens"] = {
        "post": {
            "tags": ["tokens"],
            "operationId": "mintToken",
            "summary": "Mint an access token",
            "description": "HTTP Basic (client id and secret) or `Authorization: Bearer <client assertion>`; "
            "answers a short-lived signed JWT (RFC 9068).",
            "security": [{"basic": []}, {"clientAssertion": []}],
            "requestBody": {"required": True, "content": _json("MintBody")},
            "responses": {"200": {"description": "The token", "content": _json("TokenResponse")}, **_COMMON_ERRORS},
        }
    }
    paths["/oauth2/token"] = {
        "post": {
            "tags": ["oauth2"],
            "operationId": "oauthToken",
            "summary": "OAuth 2.0 token endpoint (client credentials grant)",
            "description": "client_secret_basic, client_secret_post or private_key_jwt; audience or RFC 8707 "
            "resource; errors per RFC 6749 §5.2.",
            "security": [{"basic": []}, {}],
            "requestBody": {
                "required": True,
                "content": {
                    "application/x-www-form-urlencoded": {"schema": {"$ref": REF.format(name="OAuthTokenForm")}}
                },
            },
            "responses": {
                "200": {"description": "RFC 6749 §5.1 token response", "content": _json("OAuthTokenResponse")},
                **_COMMON_ERRORS,
            },
        }
    }
    paths["/.well-known/jwks.json"] = {
        "get": {
            "tags": ["discovery"],
            "operationId": "jwks",
            "summary": "Public signing keys (JWKS, RFC 7517)",
            "description": "Cache it for its max-age (Cache-Control); revalidate with If-None-Match; refetch when "
            "a token names an unknown kid.",
            "responses": {
                "200": {
                    "description": "The key set",
                    "content": {"application/jwk-set+json": {"schema": {"type": "object"}}},
                },
                "304": {"description": "Not modified since the ETag given"},
                "405": _error("Method not allowed"),
            },
        }
    }

    # Revocation and introspection are Litestar handlers that parse their form themselves:
    # document the form and the errors they answer with.
    form = {"application/x-www-form-urlencoded": {"schema": {"$ref": REF.format(name="TokenForm")}}}
    for path in ("/oauth2/revoke", "/oauth2/introspect"):
        operation = paths.get(path, {}).get("post")
        if operation is not None:
            operation["requestBody"] = {"required": True, "content": form}
            operation.setdefault("responses", {}).update(_COMMON_ERRORS)

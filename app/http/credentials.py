"""Reading client credentials from requests: HTTP Basic (RFC 7617, RFC 6749 §2.3.1), form posts,
and private_key_jwt assertions (RFC 7523), as form fields or an ``Authorization: Bearer`` header."""

from __future__ import annotations

import base64
import binascii
from typing import Any, Final
from urllib.parse import unquote_plus

from litestar import Request

from app.clients.assertions import ASSERTION_TYPE, claimed_client_id, parse_assertion
from app.clients.authenticate import AssertionCredentials, Credentials, SecretCredentials
from app.clients.model import is_client_id
from app.errors import InvalidClient, InvalidRequest

MAX_SECRET_LENGTH: Final = 512
MAX_HEADER_LENGTH: Final = 9000


def remote_address(request: Request[Any, Any, Any]) -> str:
    return request.client.host if request.client else "-"


def parse_basic(header: str, method: str = "client_secret_basic") -> SecretCredentials:
    """Credentials from an ``Authorization: Basic`` value; InvalidClient if malformed."""
    scheme, _, encoded = header.strip().partition(" ")
    if scheme.lower() != "basic":
        raise InvalidClient("use HTTP Basic authentication with the client id and secret", reason="wrong_scheme")
    if len(encoded) > MAX_HEADER_LENGTH:
        raise InvalidClient("the Authorization header is too long", reason="malformed_credentials")
    try:
        decoded = base64.b64decode(encoded.strip(), validate=True).decode("utf-8")
    except (binascii.Error, ValueError):
        raise InvalidClient("the Basic credentials are not valid base64", reason="malformed_credentials") from None
    client_id, colon, secret = decoded.partition(":")
    if not colon:
        raise InvalidClient("the Basic credentials must be client_id:client_secret", reason="malformed_credentials")
    # RFC 6749 §2.3.1: both parts are form-urlencoded before Basic encoding.
    return check_credentials(_form_decoded(client_id), _form_decoded(secret), method)


def _form_decoded(text: str) -> str:
    return unquote_plus(text) if "%" in text or "+" in text else text


def check_credentials(client_id: str, secret: str, method: str) -> SecretCredentials:
    """Reject credentials that cannot belong to any client, before any lookup."""
    if not is_client_id(client_id) or not secret or len(secret) > MAX_SECRET_LENGTH:
        raise InvalidClient(reason="malformed_credentials")
    return SecretCredentials(client_id=client_id, secret=secret, method=method)


def assertion_credentials(assertion: str, posted_client_id: str | None = None) -> AssertionCredentials:
    _, claims, _, _ = parse_assertion(assertion)
    client_id = claimed_client_id(claims)
    if not is_client_id(client_id):
        raise InvalidClient(reason="malformed_credentials")
    if posted_client_id is not None and posted_client_id != client_id:
        raise InvalidRequest("client_id does not match the client assertion", reason="client_id_mismatch")
    return AssertionCredentials(client_id=client_id, assertion=assertion)


def header_credentials(authorization: str | None) -> Credentials:
    """``Authorization: Basic`` (client secret) or ``Bearer`` (a private_key_jwt assertion)."""
    if authorization is None:
        raise InvalidClient(
            "client authentication is required (HTTP Basic or Bearer assertion)", reason="missing_credentials"
        )
    scheme, _, value = authorization.strip().partition(" ")
    if scheme.lower() == "bearer":
        return assertion_credentials(value.strip())
    return parse_basic(authorization)


def form_credentials(authorization: str | None, fields: dict[str, list[str]]) -> Credentials:
    """Exactly one of: HTTP Basic, client_id + client_secret, or a client assertion (RFC 6749 §2.3)."""
    posted_id = _one(fields, "client_id")
    posted_secret = _one(fields, "client_secret")
    assertion_type, assertion = _one(fields, "client_assertion_type"), _one(fields, "client_assertion")
    methods = sum((authorization is not None, posted_secret is not None, assertion is not None))
    if methods > 1:
        raise InvalidRequest("use one client authentication method, not several", reason="two_auth_methods")
    if assertion is not None or assertion_type is not None:
        if assertion_type != ASSERTION_TYPE or not assertion:
            raise InvalidRequest(
                f"client_assertion_type must be {ASSERTION_TYPE} with a client_assertion", reason="assertion_type"
            )
        return assertion_credentials(assertion, posted_id)
    if authorization is not None:
        credentials = parse_basic(authorization)
        if posted_id is not None and posted_id != credentials.client_id:
            raise InvalidRequest("client_id does not match the authenticated client", reason="client_id_mismatch")
        return credentials
    if posted_id is None or posted_secret is None:
        raise InvalidClient(
            "authenticate with HTTP Basic, client_id and client_secret, or a client assertion",
            reason="missing_credentials",
        )
    return check_credentials(posted_id, posted_secret, "client_secret_post")


def _one(fields: dict[str, list[str]], name: str) -> str | None:
    values = fields.get(name)
    return None if values is None else values[0]

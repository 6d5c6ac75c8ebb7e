"""Reading client credentials from requests: HTTP Basic (RFC 7617, RFC 6749 §2.3.1) and form posts."""

from __future__ import annotations

import base64
import binascii
from typing import Final
from urllib.parse import unquote_plus

from app.clients.model import is_client_id
from app.errors import InvalidClient

MAX_SECRET_LENGTH: Final = 512
MAX_HEADER_LENGTH: Final = 2048


def parse_basic(header: str) -> tuple[str, str]:
    """(client_id, secret) from an ``Authorization: Basic`` value; InvalidClient if malformed."""
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
    return check_credentials(unquote_plus(client_id), unquote_plus(secret))


def check_credentials(client_id: str, secret: str) -> tuple[str, str]:
    """Reject credentials that cannot belong to any client, before any lookup."""
    if not is_client_id(client_id) or not secret or len(secret) > MAX_SECRET_LENGTH:
        raise InvalidClient(reason="malformed_credentials")
    return client_id, secret

"""Shared encoders, built once: base64url without padding and msgspec JSON."""

from __future__ import annotations

import binascii
from typing import Final

import msgspec

json_encoder: Final = msgspec.json.Encoder()


_URLSAFE: Final = bytes.maketrans(b"+/", b"-_")


def b64url(data: bytes) -> bytes:
    """base64url without padding (RFC 7515 §2), as used in every JWS segment."""
    return binascii.b2a_base64(data, newline=False).translate(_URLSAFE).rstrip(b"=")

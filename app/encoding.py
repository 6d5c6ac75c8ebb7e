"""Shared encoders, built once: base64url without padding and msgspec JSON."""

from __future__ import annotations

import base64
from typing import Final

import msgspec

json_encoder: Final = msgspec.json.Encoder()


def b64url(data: bytes) -> bytes:
    return base64.urlsafe_b64encode(data).rstrip(b"=")

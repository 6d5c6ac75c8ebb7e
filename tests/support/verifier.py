"""A verifier as careful services run one: it caches the JWKS for its max-age, refetches on an unknown kid."""

from __future__ import annotations

import re
import time
from typing import Any

import httpx
import jwt as pyjwt


class CachingVerifier:
    """Honours ``Cache-Control: max-age`` on the JWKS and refetches once when a kid is unknown."""

    def __init__(self, jwks_url: str, *, issuer: str, audience: str) -> None:
        self._url = jwks_url
        self._issuer = issuer
        self._audience = audience
        self._keys: dict[str, pyjwt.PyJWK] = {}
        self._expires = 0.0
        self.fetches = 0
        self.unknown_kid_refetches = 0

    def _fetch(self) -> None:
        response = httpx.get(self._url, timeout=10)
        response.raise_for_status()
        match = re.search(r"max-age=(\d+)", response.headers.get("cache-control", ""))
        max_age = int(match.group(1)) if match else 0
        self._keys = {jwk["kid"]: pyjwt.PyJWK(jwk) for jwk in response.json()["keys"]}
        self._expires = time.monotonic() + max_age
        self.fetches += 1

    def verify(self, token: str) -> dict[str, Any]:
        if time.monotonic() >= self._expires:
            self._fetch()
        kid = pyjwt.get_unverified_header(token)["kid"]
        if kid not in self._keys:
            self.unknown_kid_refetches += 1
            self._fetch()
        key = self._keys[kid]  # KeyError: the issuer signed with a key it does not publish
        claims: dict[str, Any] = pyjwt.decode(
            token, key.key, algorithms=[key.algorithm_name], audience=self._audience, issuer=self._issuer
        )
        return claims

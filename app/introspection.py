"""Checking Titan's own tokens: signature, issuer, expiry, the deny list and the client's not-before."""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

from joserfc.jws import JWSRegistry

from app.clients.assertions import parse_assertion
from app.clients.registry import ClientRegistry
from app.errors import InvalidClient
from app.keys.keyring import Keyring
from app.revocation import DenyList


class TokenInspector:
    """Answers whether a token is active, and its claims if it is (RFC 7662 semantics)."""

    def __init__(
        self,
        *,
        issuer: str,
        keyring: Keyring,
        clients: ClientRegistry,
        deny_list: DenyList,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self._issuer = issuer
        self._keyring = keyring
        self._clients = clients
        self._deny_list = deny_list
        self._clock = clock

    def verified_claims(self, token: str) -> dict[str, Any] | None:
        """Claims of a token Titan signed with a published key and that has not expired; else None."""
        try:
            header, claims, signing_input, signature = parse_assertion(token)
        except InvalidClient:
            return None
        published = self._keyring.key_set.public_keys.get(header.get("kid"))  # type: ignore[arg-type]
        if published is None or header.get("alg") != published[0] or header.get("typ") != "at+jwt":
            return None
        if not JWSRegistry.algorithms[published[0]].verify(signing_input, signature, published[1]):
            return None
        expires = claims.get("exp")
        if claims.get("iss") != self._issuer or not isinstance(expires, int) or expires <= self._clock():
            return None
        return claims

    def active_claims(self, token: str) -> dict[str, Any] | None:
        """Verified claims of a token that is neither revoked nor from a disabled or removed client."""
        claims = self.verified_claims(token)
        if claims is None or claims.get("jti") in self._deny_list:
            return None
        client = self._clients.get(str(claims.get("client_id")))
        if client is None:
            return None
        if client.not_before is not None and int(claims.get("iat", 0)) < client.not_before:
            return None
        return claims

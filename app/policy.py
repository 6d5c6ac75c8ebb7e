"""Per-client minting policy: which audience, scope and lifetime a request may have (pure logic)."""

from __future__ import annotations

from dataclasses import dataclass

from app.clients.model import Client, is_audience, is_scope_token
from app.errors import InvalidRequest, InvalidScope, InvalidTarget


@dataclass(frozen=True, slots=True)
class Grant:
    """What a token will carry once policy has allowed it."""

    audience: tuple[str, ...]
    scope: tuple[str, ...]
    ttl: int


def decide(
    client: Client,
    *,
    audience: tuple[str, ...] | None,
    scope: str | None,
    ttl: int | None,
    default_ttl: int,
    max_ttl: int,
) -> Grant:
    """Allow the request as a Grant, or raise the error that says what is wrong with it."""
    return Grant(
        audience=_audience(client, audience),
        scope=_scope(client, scope),
        ttl=_ttl(client, ttl, default_ttl=default_ttl, max_ttl=max_ttl),
    )


def _audience(client: Client, requested: tuple[str, ...] | None) -> tuple[str, ...]:
    if not requested:
        if len(client.audiences) == 1:
            return client.audiences
        raise InvalidRequest(
            "audience is required: this client may request " + ", ".join(client.audiences)
            if client.audiences
            else "this client has no audience it may request",
            reason="audience_missing",
        )
    unique = tuple(dict.fromkeys(requested))
    for audience in unique:
        if not is_audience(audience):
            raise InvalidTarget(
                "audience must be 1-255 printable ASCII characters without spaces",
                reason="audience_malformed",
            )
        if audience not in client.allowed_audiences:
            raise InvalidTarget(
                f"audience {audience!r} is not allowed for client {client.client_id!r}",
                reason="audience_not_allowed",
            )
    return unique


def _scope(client: Client, requested: str | None) -> tuple[str, ...]:
    if requested is None:
        return client.scopes
    tokens = requested.split(" ")
    if not all(tokens):
        raise InvalidScope("scope must be scope tokens separated by single spaces", reason="scope_malformed")
    unique = tuple(dict.fromkeys(tokens))
    for token in unique:
        if not is_scope_token(token):
            raise InvalidScope(f"scope token {token[:40]!r} is malformed (RFC 6749 §3.3)", reason="scope_malformed")
        if token not in client.allowed_scopes:
            raise InvalidScope(
                f"scope {token!r} is not allowed for client {client.client_id!r}", reason="scope_not_allowed"
            )
    return unique


def _ttl(client: Client, requested: int | None, *, default_ttl: int, max_ttl: int) -> int:
    limit = min(client.max_ttl, max_ttl)
    if requested is None:
        return min(default_ttl, limit)
    if requested < 1:
        raise InvalidRequest("ttl must be a positive number of seconds", reason="ttl_invalid")
    if requested > limit:
        raise InvalidRequest(
            f"ttl {requested}s exceeds the maximum of {limit}s for client {client.client_id!r}",
            reason="ttl_too_long",
        )
    return requested

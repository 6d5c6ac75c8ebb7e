"""Public documents for verifiers: the JWKS (RFC 7517) and discovery (RFC 8414, OpenID Discovery)."""

from __future__ import annotations

from typing import Any, Final

from litestar import Controller, Response, get
from litestar.di import NamedDependency

from app.clients.assertions import ACCEPTED_ALGS
from app.http.errors import JSON
from app.keys.keyring import PUBLISHED_STATES
from app.stats import Observed

JWKS_MEDIA_TYPE: Final = "application/jwk-set+json"
AUTH_METHODS: Final = ["client_secret_basic", "client_secret_post", "private_key_jwt"]
ASSERTION_ALGS: Final = sorted(ACCEPTED_ALGS)


def discovery_document(observed: NamedDependency[Observed]) -> dict[str, Any]:
    """Issuer metadata shared by both discovery endpoints."""
    settings = observed.settings
    published = (record for record in observed.keyring.key_set.records if record.state in PUBLISHED_STATES)
    algs = sorted({observed.signer.alg} | {record.alg for record in published})
    return {
        "issuer": settings.issuer,
        "token_endpoint": settings.url("/oauth2/token"),
        "jwks_uri": settings.url("/.well-known/jwks.json"),
        "grant_types_supported": ["client_credentials"],
        "response_types_supported": [],
        "token_endpoint_auth_methods_supported": AUTH_METHODS,
        "token_endpoint_auth_signing_alg_values_supported": ASSERTION_ALGS,
        "revocation_endpoint": settings.url("/oauth2/revoke"),
        "revocation_endpoint_auth_methods_supported": AUTH_METHODS,
        "introspection_endpoint": settings.url("/oauth2/introspect"),
        "introspection_endpoint_auth_methods_supported": AUTH_METHODS,
        "subject_types_supported": ["public"],
        "id_token_signing_alg_values_supported": algs,
        "access_token_signing_alg_values_supported": algs,
        "service_documentation": settings.url("/schema"),
    }


class WellKnownController(Controller):
    path = "/.well-known"
    tags = ["discovery"]  # noqa: RUF012

    @get(
        "/openid-configuration",
        operation_id="openidConfiguration",
        name="wellknown:openid",
        summary="OpenID Connect discovery document",
    )
    async def openid_configuration(self, observed: NamedDependency[Observed]) -> Response[dict[str, Any]]:
        return Response(content=discovery_document(observed), media_type=JSON)

    @get(
        "/oauth-authorization-server",
        operation_id="oauthAuthorizationServer",
        name="wellknown:oauth",
        summary="OAuth 2.0 authorization server metadata (RFC 8414)",
    )
    async def oauth_authorization_server(self, observed: NamedDependency[Observed]) -> Response[dict[str, Any]]:
        return Response(content=discovery_document(observed), media_type=JSON)

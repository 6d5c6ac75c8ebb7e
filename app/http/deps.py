"""Litestar dependency providers that bridge to the dependency-injector container on app.state."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Final

from litestar import Request
from litestar.datastructures import State
from litestar.di import Provide

from app.clients.authenticate import Authenticator
from app.clients.model import Client
from app.http.credentials import form_credentials, remote_address
from app.introspection import TokenInspector
from app.metrics import MetricsStore
from app.revocation import Revoker
from app.stats import Observed
from containers import Container


def container_of(state: State) -> Container:
    container: Container = state["container"]
    return container


@dataclass(frozen=True, slots=True)
class Services:
    """What the revocation and introspection endpoints need."""

    authenticator: Authenticator
    inspector: TokenInspector
    revoker: Revoker
    metrics: MetricsStore

    async def authenticate(self, request: Request[Any, Any, Any], fields: dict[str, list[str]]) -> Client:
        """The client authenticated by a form body's method (OAuth endpoints)."""
        credentials = form_credentials(request.headers.get("authorization"), fields)
        return await self.authenticator.authenticate(credentials, remote_address(request))


def provide_services(state: State) -> Services:
    container = container_of(state)
    return Services(
        authenticator=container.authenticator(),
        inspector=container.inspector(),
        revoker=container.revoker(),
        metrics=container.metrics(),
    )


def provide_observed(state: State) -> Observed:
    container = container_of(state)
    return Observed(
        settings=container.settings(),
        metrics=container.metrics(),
        gate=container.gate(),
        keyring=container.keyring(),
        clients=container.clients(),
        refresher=container.refresher(),
        signer=container.signer(),
        schedule=container.schedule(),
        limiter=container.rate_limiter(),
        guard=container.brute_force_guard(),
        audit=container.audit(),
        deny_list=container.deny_list(),
    )


DEPENDENCIES: Final = {
    "observed": Provide(provide_observed, sync_to_thread=False),
    "services": Provide(provide_services, sync_to_thread=False),
}

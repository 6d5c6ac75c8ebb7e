"""Litestar dependency providers that bridge to the dependency-injector container on app.state."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Final

from litestar import Request
from litestar.datastructures import State
from litestar.di import Provide

from app.clients.authenticate import Authenticator
from app.clients.model import Client
from app.clients.registry import ClientRegistry
from app.http.credentials import form_credentials, header_credentials, remote_address
from app.introspection import TokenInspector
from app.keys.keyring import Keyring
from app.metrics import MetricsStore
from app.minting import Minter
from app.revocation import Revoker
from app.stats import Observed
from containers import Container


def container_of(state: State) -> Container:
    container: Container = state["container"]
    return container


def provide_minter(state: State) -> Minter:
    minter: Minter = container_of(state).minter()
    return minter


def provide_clients(state: State) -> ClientRegistry:
    clients: ClientRegistry = container_of(state).clients()
    return clients


def provide_keyring(state: State) -> Keyring:
    keyring: Keyring = container_of(state).keyring()
    return keyring


@dataclass(frozen=True, slots=True)
class Services:
    """What the OAuth and token endpoints need beside the minter."""

    authenticator: Authenticator
    inspector: TokenInspector
    revoker: Revoker
    metrics: MetricsStore

    async def authenticate(self, request: Request[Any, Any, Any], fields: dict[str, list[str]]) -> Client:
        """The client authenticated by a form body's method (OAuth endpoints)."""
        credentials = form_credentials(request.headers.get("authorization"), fields)
        return await self.authenticator.authenticate(credentials, remote_address(request))

    async def authenticate_header(self, request: Request[Any, Any, Any]) -> Client:
        """The client authenticated by the Authorization header: Basic or Bearer assertion."""
        credentials = header_credentials(request.headers.get("authorization"))
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
    "minter": Provide(provide_minter, sync_to_thread=False),
    "clients": Provide(provide_clients, sync_to_thread=False),
    "keyring": Provide(provide_keyring, sync_to_thread=False),
    "observed": Provide(provide_observed, sync_to_thread=False),
    "services": Provide(provide_services, sync_to_thread=False),
}

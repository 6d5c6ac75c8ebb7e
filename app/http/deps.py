"""Litestar dependency providers that bridge to the dependency-injector container on app.state."""

from __future__ import annotations

from typing import Final

from litestar.datastructures import State
from litestar.di import Provide

from app.clients.registry import ClientRegistry
from app.keys.keyring import Keyring
from app.minting import Minter
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
    )


DEPENDENCIES: Final = {
    "minter": Provide(provide_minter, sync_to_thread=False),
    "clients": Provide(provide_clients, sync_to_thread=False),
    "keyring": Provide(provide_keyring, sync_to_thread=False),
    "observed": Provide(provide_observed, sync_to_thread=False),
}

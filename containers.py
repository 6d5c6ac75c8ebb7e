"""The dependency-injection container: every Titan collaborator, wired once."""

from __future__ import annotations

from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor

from dependency_injector import containers, providers

from app.clients.registry import ClientRegistry
from app.gate import Gate
from app.keys.encryption import KekSource
from app.keys.keyring import Keyring
from app.keys.rotation import KeyRotator, SealerSource
from app.keys.schedule import Schedule
from app.metrics import MetricsStore
from app.minting import Minter
from app.refresher import Refresher
from app.signing.jose import JoseSigner
from app.store.sqlite import SqliteStore
from settings import load_settings


def crypto_pool(threads: int) -> Iterator[ThreadPoolExecutor]:
    """The crypto thread pool, a Resource started and shut down by the app lifespan."""
    executor = ThreadPoolExecutor(max_workers=threads, thread_name_prefix="titan-crypto")
    try:
        yield executor
    finally:
        executor.shutdown(wait=True, cancel_futures=False)


class Container(containers.DeclarativeContainer):
    """Settings, store, keys and their schedule, signer, gate, metrics, clients and the minter."""

    settings = providers.Singleton(load_settings)

    store = providers.Singleton(SqliteStore, path=settings.provided.database_path)

    signer = providers.Singleton(JoseSigner, alg=settings.provided.jwt_algorithm)

    kek_source = providers.Singleton(
        KekSource, value=settings.provided.key_encryption_key, path=settings.provided.kek_path
    )

    sealers = providers.Singleton(SealerSource, source=kek_source, store=store)

    schedule = providers.Singleton(Schedule.from_settings, settings)

    rotator = providers.Singleton(
        KeyRotator,
        store=store,
        signer=signer,
        sealers=sealers,
        schedule=schedule,
        pickup_delay=settings.provided.refresh_interval,
    )

    keyring = providers.Singleton(Keyring, store=store, sealers=sealers)

    clients = providers.Singleton(ClientRegistry, store=store)

    executor = providers.Resource(crypto_pool, threads=settings.provided.threads_per_worker)

    gate = providers.Singleton(
        Gate,
        executor=executor,
        slots=settings.provided.slots,
        max_waiting=settings.provided.mint_max_waiting,
        slot_timeout=settings.provided.mint_slot_timeout_sec,
        inline=settings.provided.signing_inline,
    )

    metrics = providers.Singleton(MetricsStore)

    minter = providers.Singleton(
        Minter,
        settings=settings,
        keyring=keyring,
        signer=signer,
        gate=gate,
        metrics=metrics,
    )

    refresher = providers.Singleton(
        Refresher,
        store=store,
        registry=clients,
        keyring=keyring,
        rotator=rotator,
        interval=settings.provided.refresh_interval,
    )

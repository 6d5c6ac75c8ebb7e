"""The dependency-injection container: every Titan collaborator, wired once."""

from __future__ import annotations

from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor

from dependency_injector import containers, providers

from app.audit import AuditLog
from app.clients.assertions import AssertionVerifier
from app.clients.authenticate import Authenticator
from app.clients.registry import ClientRegistry
from app.clients.replay import ReplayCache
from app.gate import Gate
from app.introspection import TokenInspector
from app.keys.encryption import KekSource
from app.keys.keyring import Keyring
from app.keys.rotation import KeyRotator, SealerSource
from app.keys.schedule import Schedule
from app.limits import BruteForceGuard, RateLimiter
from app.metrics import MetricsStore
from app.minting import Minter
from app.refresher import Refresher
from app.revocation import DenyList, Revoker
from app.signing.jose import JoseSigner
from app.store.factory import shared_or_none, store_resource
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

    store = providers.Resource(store_resource, settings=settings)

    audit = providers.Singleton(
        AuditLog,
        sink=settings.provided.audit_sink,
        path=settings.provided.audit_path,
        max_bytes=settings.provided.audit_max_bytes,
        backups=settings.provided.audit_backups,
        queue_size=settings.provided.audit_queue_size,
    )

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
        audit=audit,
    )

    keyring = providers.Singleton(Keyring, store=store, sealers=sealers)

    clients = providers.Singleton(ClientRegistry, store=store, jwks_refresh=settings.provided.client_jwks_refresh)

    replay_cache = providers.Singleton(ReplayCache)

    assertion_verifier = providers.Singleton(
        AssertionVerifier,
        audiences=settings.provided.assertion_audiences,
        max_lifetime=settings.provided.assertion_max_lifetime,
        clock_skew=settings.provided.clock_skew,
        replay_cache=replay_cache,
    )

    brute_force_guard = providers.Singleton(
        BruteForceGuard,
        limit=settings.provided.auth_failure_limit,
        slowdown=settings.provided.auth_failure_slowdown,
        window=settings.provided.auth_failure_window,
        cooldown=settings.provided.auth_cooldown,
    )

    rate_limiter = providers.Singleton(
        RateLimiter, rate=settings.provided.rate_limit, burst=settings.provided.rate_burst
    )

    executor = providers.Resource(crypto_pool, threads=settings.provided.threads_per_worker)

    gate = providers.Singleton(
        Gate,
        executor=executor,
        slots=settings.provided.slots,
        max_waiting=settings.provided.mint_max_waiting,
        slot_timeout=settings.provided.mint_slot_timeout_sec,
        inline=settings.provided.signing_inline,
        max_pending=settings.provided.max_pending_mints,
    )

    metrics = providers.Singleton(MetricsStore)

    authenticator = providers.Singleton(
        Authenticator,
        registry=clients,
        verifier=assertion_verifier,
        guard=brute_force_guard,
        metrics=metrics,
        audit=audit,
        replay_store=providers.Callable(shared_or_none, store),
    )

    deny_list = providers.Singleton(DenyList, store=store)

    revoker = providers.Singleton(Revoker, store=store, deny_list=deny_list, metrics=metrics, audit=audit)

    inspector = providers.Singleton(
        TokenInspector, issuer=settings.provided.issuer, keyring=keyring, clients=clients, deny_list=deny_list
    )

    minter = providers.Singleton(
        Minter,
        settings=settings,
        keyring=keyring,
        signer=signer,
        gate=gate,
        metrics=metrics,
        limiter=rate_limiter,
        audit=audit,
    )

    refresher = providers.Singleton(
        Refresher,
        store=store,
        registry=clients,
        keyring=keyring,
        rotator=rotator,
        deny_list=deny_list,
        interval=settings.provided.refresh_interval,
    )

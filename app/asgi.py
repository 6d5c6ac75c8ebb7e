"""The ASGI application: create_app() builds Litestar around a container; the lifespan runs resources."""

from __future__ import annotations

import asyncio
import gc
import logging
import signal
import threading
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from typing import Final

from litestar import Litestar
from litestar.datastructures import State
from litestar.openapi import OpenAPIConfig
from litestar.openapi.spec import Components, SecurityScheme

from app import __version__
from app.gate import Gate
from app.http.deps import DEPENDENCIES
from app.http.errors import EXCEPTION_HANDLERS
from app.http.fast import document_fast_routes, fast_routes
from app.http.oauth import OAuthController
from app.http.ops import OpsController
from app.http.wellknown import WellKnownController
from app.logging import configure_logging
from app.orphan import expected_parent, watch_parent
from containers import Container

log = logging.getLogger("titan")

SHUTDOWN_GRACE_SECONDS: Final = 30.0
# Sent by `titan serve` to its worker on SIGTERM: refuse new mints while in-flight ones finish.
DRAIN_SIGNAL: Final = signal.SIGUSR1


def _watch_drain_signal(on_drain: Callable[[], None]) -> Callable[[], None]:
    """Call ``on_drain`` on DRAIN_SIGNAL; returns the undo. A no-op off the main thread."""
    if threading.current_thread() is not threading.main_thread():
        return lambda: None
    loop = asyncio.get_running_loop()
    loop.add_signal_handler(DRAIN_SIGNAL, on_drain)

    def unwatch() -> None:
        loop.remove_signal_handler(DRAIN_SIGNAL)
        signal.signal(DRAIN_SIGNAL, signal.SIG_IGN)

    return unwatch


def _draining(gate: Gate) -> Callable[[], None]:
    def drain() -> None:
        log.info("shutdown: draining, new mints get 503 while in-flight ones finish")
        gate.drain()

    return drain


def create_app(container: Container | None = None) -> Litestar:
    """A Titan application; pass a container to override collaborators (tests do)."""
    if threading.current_thread() is threading.main_thread():
        # Until the lifespan watches it, a drain request must not kill the worker (its default).
        signal.signal(DRAIN_SIGNAL, signal.SIG_IGN)
    container = container or Container()
    settings = container.settings()
    configure_logging(settings.log_level)

    @asynccontextmanager
    async def lifespan(_: Litestar) -> AsyncIterator[None]:
        container.init_resources()
        container.audit().start()
        refresher = container.refresher()
        await asyncio.to_thread(refresher.load_now)
        gate = container.gate()
        gate.open()
        unwatch_drain = _watch_drain_signal(_draining(gate))
        parent = expected_parent()
        parent_watch = asyncio.create_task(watch_parent(parent)) if parent is not None else None
        refresher.start()
        # Everything built so far lives as long as the process: move it out of the collector's
        # reach, so full collections stop scanning it (measured: p99 52 ms -> 10 ms under load).
        gc.collect()
        gc.freeze()
        log.info(
            "Titan %s ready: issuer %s, store %s, %s, key %s, %s signing, %d threads, %d slots",
            __version__,
            settings.issuer,
            container.store().describe(),
            container.signer().name,
            container.keyring().active.kid,
            settings.signing_mode,
            settings.threads_per_worker,
            settings.slots,
        )
        try:
            yield
        finally:
            unwatch_drain()
            if parent_watch is not None:
                parent_watch.cancel()
            await refresher.stop()
            if not await gate.close(timeout=min(SHUTDOWN_GRACE_SECONDS, settings.mint_slot_timeout_sec)):
                log.warning("shutdown: some mints were still in flight after the grace period")
            container.shutdown_resources()  # the crypto pool and the store
            container.audit().close()
            log.info("Titan stopped")

    app = Litestar(
        route_handlers=[OAuthController, WellKnownController, OpsController],
        on_startup=[document_fast_routes],
        dependencies=DEPENDENCIES,
        exception_handlers=EXCEPTION_HANDLERS,  # type: ignore[arg-type]
        lifespan=[lifespan],
        state=State({"container": container}),
        request_max_body_size=settings.max_body_bytes,
        openapi_config=OpenAPIConfig(
            title="Titan",
            version=__version__,
            description="Service-to-service token issuer: short-lived signed JWTs for calling services.",
            path="/schema",
            components=Components(
                security_schemes={"basic": SecurityScheme(type="http", scheme="basic")},
            ),
        ),
        logging_config=None,
    )
    # The hottest routes (minting and the JWKS) are answered ahead of Litestar's router and
    # per-route middleware; every other request goes through Litestar as usual.
    app.asgi_handler = fast_routes(container)(app.asgi_handler)
    return app

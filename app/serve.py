"""Running Titan under Granian: one worker, ASGI interface with lifespan, graceful shutdown."""

from __future__ import annotations

import logging

from granian import Granian
from granian.constants import Interfaces

from app.asgi import SHUTDOWN_GRACE_SECONDS
from app.logging import configure_logging
from containers import Container

log = logging.getLogger("titan")


def preflight(container: Container) -> None:
    """Open the store and load the keys once in this process, so a bad setup fails here, clearly."""
    container.refresher().load_now()


def serve(container: Container) -> None:
    settings = container.settings()
    configure_logging(settings.log_level)
    preflight(container)
    scheme = "https" if settings.tls else "http"
    log.info("serving %s on %s:%d (one Granian worker)", scheme, settings.host, settings.port)
    Granian(
        "app.asgi:create_app",
        factory=True,
        interface=Interfaces.ASGI,
        address=settings.host,
        port=settings.port,
        workers=settings.uvcorn_workers,
        log_access=False,
        log_level=settings.log_level,  # type: ignore[arg-type]
        workers_kill_timeout=int(SHUTDOWN_GRACE_SECONDS) + 5,
        ssl_cert=settings.tls_cert_file,
        ssl_key=settings.tls_key_file,
    ).serve()

"""Running Titan under Granian: one worker, ASGI interface with lifespan, draining then graceful shutdown."""

from __future__ import annotations

import logging
import os
import time

from granian import Granian
from granian.constants import Interfaces
from granian.http import HTTP1Settings

from app.asgi import DRAIN_SIGNAL, SHUTDOWN_GRACE_SECONDS
from app.logging import configure_logging
from app.orphan import MAIN_PID_VARIABLE
from containers import Container
from settings import Settings

log = logging.getLogger("titan")


class DrainingGranian(Granian):  # type: ignore[misc,valid-type]
    """Granian that, on SIGTERM or SIGINT, first lets its worker drain for ``drain_seconds``.

    While draining the worker still answers on its open connections, but every new mint gets a
    503 with Retry-After and ``Connection: close`` and /readyz says not ready, so a load balancer
    moves traffic away; then Granian's own graceful stop runs (in-flight mints finish).
    """

    drain_seconds: float = 0.0

    def shutdown(self, exit_code: int = 0) -> None:
        if self.interrupt_signal and self.drain_seconds > 0:
            for worker in self.wrks:
                if worker.is_alive() and worker.inner.pid:
                    os.kill(worker.inner.pid, DRAIN_SIGNAL)
            log.info("draining for %.0f s before stopping", self.drain_seconds)
            time.sleep(self.drain_seconds)
        super().shutdown(exit_code)


def preflight(container: Container) -> None:
    """Open the store and load the keys once in this process, so a bad setup fails here, clearly.

    The worker opens its own store; this process keeps no connection."""
    try:
        container.refresher().load_now()
    finally:
        container.shutdown_resources()


def build_server(settings: Settings) -> DrainingGranian:
    server = DrainingGranian(
        "app.asgi:create_app",
        factory=True,
        interface=Interfaces.ASGI,
        address=settings.host,
        port=settings.port,
        workers=settings.uvcorn_workers,
        backlog=settings.listen_backlog,
        backpressure=settings.max_concurrent_requests,
        http1_settings=HTTP1Settings(
            header_read_timeout=settings.header_read_timeout * 1000,
            # Granian's own hard limit stays above Titan's, so Titan answers with its error body.
            max_buffer_size=max(HTTP1Settings.max_buffer_size, 4 * settings.max_header_bytes),
        ),
        log_access=False,
        log_level=settings.log_level,
        workers_kill_timeout=int(SHUTDOWN_GRACE_SECONDS) + 5,
        ssl_cert=settings.tls_cert_file,
        ssl_key=settings.tls_key_file,
    )
    server.drain_seconds = float(settings.shutdown_drain)
    return server


def serve(container: Container) -> None:
    settings = container.settings()
    configure_logging(settings.log_level)
    preflight(container)
    scheme = "https" if settings.tls else "http"
    log.info("serving %s on %s:%d (one Granian worker)", scheme, settings.host, settings.port)
    os.environ[MAIN_PID_VARIABLE] = str(os.getpid())  # the worker stops if this process dies
    build_server(settings).serve()

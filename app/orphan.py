"""Stop a Granian worker whose `titan serve` parent is gone, instead of serving on as an orphan."""

from __future__ import annotations

import asyncio
import logging
import os
import signal
from typing import Final

log = logging.getLogger("titan")

MAIN_PID_VARIABLE: Final = "_TITAN_MAIN_PID"  # set by `titan serve` for its worker; not a setting
CHECK_EVERY: Final = 1.0


def expected_parent() -> int | None:
    """The pid of `titan serve` when this process is its worker, else None (tests, embedding)."""
    value = os.environ.get(MAIN_PID_VARIABLE, "")
    return int(value) if value.isdigit() else None


async def watch_parent(parent: int, interval: float = CHECK_EVERY) -> None:
    """Once the parent is gone (killed with SIGKILL, say), stop this worker gracefully: a
    supervisor that restarts `titan serve` must not find the port still held by an orphan."""
    while True:
        await asyncio.sleep(interval)
        if os.getppid() != parent:
            log.error("titan serve (pid %d) is gone; stopping this worker", parent)
            os.kill(os.getpid(), signal.SIGTERM)
            return

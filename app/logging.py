"""Process logging: one line per event on stderr, never a secret or a whole token."""

from __future__ import annotations

import logging
import sys


def configure_logging(level: str) -> None:
    """Send Titan's loggers to stderr at ``level`` (idempotent)."""
    logger = logging.getLogger("titan")
    logger.setLevel(level.upper())
    if not any(getattr(handler, "_titan", False) for handler in logger.handlers):
        handler = logging.StreamHandler(sys.stderr)
        handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(name)s: %(message)s"))
        handler._titan = True  # type: ignore[attr-defined]
        logger.addHandler(handler)

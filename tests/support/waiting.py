"""Waiting in end-to-end tests: poll a condition until it holds, never a fixed sleep."""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any


def wait_for(condition: Callable[[], Any], timeout: float = 15.0, interval: float = 0.2) -> Any:
    """The first truthy value of ``condition()``; AssertionError if none comes within ``timeout`` s."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if value := condition():
            return value
        time.sleep(interval)
    raise AssertionError("the condition did not come true in time")

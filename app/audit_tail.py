"""`titan audit tail`: print the last lines of the audit log and follow it across rotations."""

from __future__ import annotations

import sys
import time
from collections import deque
from pathlib import Path
from typing import IO


def follow_audit(path: Path, *, lines: int, follow: bool, poll: float = 0.5, stop_after: float | None = None) -> None:
    """Print the last ``lines`` lines; with ``follow``, keep printing new ones until interrupted."""
    handle = _open(path)
    if handle is not None:
        for line in deque(handle, maxlen=max(0, lines)):
            sys.stdout.write(line)
        sys.stdout.flush()
    if not follow:
        if handle is not None:
            handle.close()
        return
    started = time.monotonic()
    inode = path.stat().st_ino if path.exists() else None
    while stop_after is None or time.monotonic() - started < stop_after:
        if handle is not None:
            for line in handle:
                sys.stdout.write(line)
            sys.stdout.flush()
        time.sleep(poll)
        current = path.stat().st_ino if path.exists() else None
        if current != inode:  # rotated or recreated: read the new file from its start
            if handle is not None:
                handle.close()
            handle, inode = _open(path), current
    if handle is not None:
        handle.close()


def _open(path: Path) -> IO[str] | None:
    try:
        return path.open(encoding="utf-8", errors="replace")
    except FileNotFoundError:
        return None

"""The audit log: one JSON line per mint, denial, revocation, key and client change.

Lines are buffered on the caller's thread and written in batches by one writer thread, so
minting never waits on the disk; when the buffer is full a line is dropped and counted.
Never holds a secret, an assertion or a whole token: only the fields of ``AuditEvent``.
"""

from __future__ import annotations

import contextlib
import logging
import os
import sys
import threading
import time
from collections import deque
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import IO, Final

import msgspec

log = logging.getLogger("titan.audit")

SINKS: Final = ("file", "stdout", "off")


class AuditEvent(msgspec.Struct, frozen=True, omit_defaults=True):
    """One audit line. ``outcome`` is success or denied; ``reason`` says why."""

    time: str
    event: str
    outcome: str
    client_id: str | None = None
    audience: str | list[str] | None = None
    scope: str | None = None
    kid: str | None = None
    jti: str | None = None
    expires_at: int | None = None
    remote: str | None = None
    reason: str | None = None
    detail: str | None = None
    method: str | None = None
    actor: str | None = None


_encoder: Final = msgspec.json.Encoder()


class _Timestamps:
    """ISO 8601 UTC with milliseconds; the part down to the second is formatted once per second."""

    def __init__(self) -> None:
        self._second = -1
        self._prefix = ""

    def __call__(self, moment: float) -> str:
        second = int(moment)
        if second != self._second:
            self._second = second
            self._prefix = datetime.fromtimestamp(second, UTC).strftime("%Y-%m-%dT%H:%M:%S")
        return f"{self._prefix}.{int((moment - second) * 1000):03d}Z"


_now_iso: Final = _Timestamps()  # used by the writer thread only


class RotatingWriter:
    """Appends lines to a file, rotating it to .1 ... .N when it would pass ``max_bytes``."""

    def __init__(self, path: Path, max_bytes: int, backups: int) -> None:
        self.path = path
        self._max_bytes = max_bytes
        self._backups = backups
        self._handle: IO[bytes] | None = None
        self._size = 0  # tracked here: asking the file would be a system call per line

    def _open(self) -> IO[bytes]:
        if self._handle is None:
            self.path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
            fd = os.open(self.path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o600)
            self._size = os.fstat(fd).st_size
            self._handle = os.fdopen(fd, "ab")
        return self._handle

    def write(self, line: bytes) -> None:
        handle = self._open()
        if self._size + len(line) > self._max_bytes and self._size > 0:
            self._rotate()
            handle = self._open()
        handle.write(line)
        self._size += len(line)

    def flush(self) -> None:
        if self._handle is not None:
            self._handle.flush()

    def _rotate(self) -> None:
        self.close()
        for index in range(self._backups - 1, 0, -1):
            older = self.path.with_name(f"{self.path.name}.{index}")
            if older.exists():
                older.replace(self.path.with_name(f"{self.path.name}.{index + 1}"))
        if self._backups > 0:
            self.path.replace(self.path.with_name(f"{self.path.name}.1"))
        else:
            self.path.unlink()

    def close(self) -> None:
        if self._handle is not None:
            self._handle.close()
            self._handle = None

    def discard(self) -> None:
        """Drop the handle after a failed write; its unwritten buffer is lost with the batch (counted)."""
        handle, self._handle = self._handle, None
        if handle is not None:
            with contextlib.suppress(OSError):
                handle.close()


class AuditLog:
    """A bounded in-memory buffer drained by a writer thread into a file (rotated by size), stdout, or nothing.

    ``record`` only appends to a deque (atomic, no lock, no wake-up); the writer drains it every
    ``flush_interval`` seconds, encodes and writes in batches, so minting pays almost nothing.
    """

    def __init__(
        self,
        *,
        sink: str,
        path: Path,
        max_bytes: int = 10 * 1024 * 1024,
        backups: int = 5,
        queue_size: int = 10000,
        flush_interval: float = 0.05,
        clock: Callable[[], float] = time.time,
    ) -> None:
        if sink not in SINKS:
            raise ValueError(f"unknown audit sink {sink!r}")
        self.sink = sink
        self.path = path
        self._writer = RotatingWriter(path, max_bytes, backups) if sink == "file" else None
        self._pending: deque[tuple[float, str, str, dict[str, object]]] = deque()
        self._capacity = queue_size
        self._flush_interval = flush_interval
        self._clock = clock
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self.written = 0
        self.dropped = 0
        self.failures = 0
        self.last_error: str | None = None

    def record(self, event: str, outcome: str = "success", **fields: object) -> None:
        """Queue one line; never blocks. Fields are those of AuditEvent."""
        if self.sink == "off":
            return
        if len(self._pending) >= self._capacity:
            self.dropped += 1
            return
        self._pending.append((self._clock(), event, outcome, fields))

    def start(self) -> None:
        if self.sink != "off" and self._thread is None:
            self._stop.clear()
            self._thread = threading.Thread(target=self._run, name="titan-audit", daemon=True)
            self._thread.start()

    def close(self, timeout: float = 5.0) -> None:
        """Write what is queued, then stop the writer thread."""
        if self._thread is not None:
            self._stop.set()
            self._thread.join(timeout)
            self._thread = None
        self._drain()  # whatever is left (and everything, when used without a thread: the CLI)
        if self._writer is not None:
            self._writer.close()

    def _run(self) -> None:
        while not self._stop.wait(self._flush_interval):
            try:
                self._drain()
            except Exception:  # the writer must outlive any one bad batch
                self.failures += 1
                log.exception("audit writer: unexpected error; continuing")

    def _drain(self) -> None:
        if not self._pending:
            return
        lines = []
        while self._pending:
            moment, event, outcome, fields = self._pending.popleft()
            line = AuditEvent(time=_now_iso(moment), event=event, outcome=outcome, **fields)  # type: ignore[arg-type]
            lines.append(_encoder.encode(line) + b"\n")
        self._write(lines)

    def _write(self, lines: list[bytes]) -> None:
        count = len(lines)
        try:
            if self._writer is not None:
                for line in lines:  # line by line, so rotation happens at line boundaries
                    self._writer.write(line)
                self._writer.flush()
            else:
                sys.stdout.buffer.write(b"".join(lines))
                sys.stdout.flush()
            self.written += count
            if self.last_error is not None:
                log.warning("audit log writable again")
                self.last_error = None
        except OSError as exc:  # the disk is full or gone: count it, keep serving
            self.failures += 1
            self.dropped += count
            if self.last_error is None:
                log.error("audit log write failed: %s", exc)
            self.last_error = str(exc)
            if self._writer is not None:
                self._writer.discard()

"""`titan bench`: a short load test against a running instance, with a live progress line and a table.

A small HTTP/1.1 keep-alive client on asyncio streams (no extra dependency): each connection
sends the same prepared request in a loop and reads the answer by its Content-Length. Answers
are counted by status; only 2xx counts as done. For the side-by-side suite, see bench/run.py.
"""

from __future__ import annotations

import asyncio
import base64
import json
import math
import sys
import time
from collections import Counter
from dataclasses import dataclass, field
from typing import Final
from urllib.parse import quote, urlsplit

ENDPOINTS: Final = ("v1", "oauth2", "jwks")


@dataclass
class Tally:
    statuses: Counter[int] = field(default_factory=Counter)
    latencies: list[float] = field(default_factory=list)
    socket_errors: int = 0

    @property
    def done(self) -> int:
        return sum(count for status, count in self.statuses.items() if 200 <= status < 300)


def build_request(url: str, endpoint: str, client_id: str, secret: str, audience: str) -> tuple[str, int, bytes]:
    parts = urlsplit(url)
    if parts.scheme != "http" or not parts.hostname:
        raise ValueError("titan bench speaks plain http to a running instance, e.g. http://127.0.0.1:8000")
    host, port = parts.hostname, parts.port or 80
    credentials = base64.b64encode(f"{quote(client_id, safe='')}:{quote(secret, safe='')}".encode()).decode()
    if endpoint == "jwks":
        head = f"GET /.well-known/jwks.json HTTP/1.1\r\nHost: {host}\r\n\r\n"
        return host, port, head.encode()
    if endpoint == "oauth2":
        path, media = "/oauth2/token", "application/x-www-form-urlencoded"
        body = f"grant_type=client_credentials&audience={quote(audience, safe='')}".encode()
    else:
        path, media = "/v1/tokens", "application/json"
        body = json.dumps({"audience": audience}).encode()
    head = (
        f"POST {path} HTTP/1.1\r\nHost: {host}\r\nAuthorization: Basic {credentials}\r\n"
        f"Content-Type: {media}\r\nContent-Length: {len(body)}\r\n\r\n"
    )
    return host, port, head.encode() + body


async def _connection(host: str, port: int, request: bytes, deadline: float, tally: Tally) -> None:
    while time.monotonic() < deadline:
        try:
            reader, writer = await asyncio.open_connection(host, port)
        except OSError:
            tally.socket_errors += 1
            await asyncio.sleep(0.1)
            continue
        try:
            while time.monotonic() < deadline:
                started = time.perf_counter()
                writer.write(request)
                status_line = await reader.readline()
                if not status_line:
                    raise ConnectionError("closed")
                status = int(status_line.split()[1])
                length = 0
                while (line := await reader.readline()) not in (b"\r\n", b""):
                    name, _, value = line.partition(b":")
                    if name.strip().lower() == b"content-length":
                        length = int(value)
                await reader.readexactly(length)
                tally.latencies.append(time.perf_counter() - started)
                tally.statuses[status] += 1
        except (OSError, ConnectionError, asyncio.IncompleteReadError, ValueError, IndexError):
            tally.socket_errors += 1
        finally:
            writer.close()


async def _progress(tally: Tally, started: float, deadline: float) -> None:
    last_done, last_time = 0, started
    while time.monotonic() < deadline:
        await asyncio.sleep(1)
        now, done = time.monotonic(), tally.done
        rate = (done - last_done) / (now - last_time)
        failed = sum(tally.statuses.values()) - done + tally.socket_errors
        sys.stderr.write(f"\r  {now - started:5.1f}s  {done:>9,} ok  {rate:>9,.0f}/s  {failed:>6,} failed   ")
        sys.stderr.flush()
        last_done, last_time = done, now
    sys.stderr.write("\n")


def _percentile(ordered: list[float], q: float) -> float:
    return ordered[max(0, math.ceil(q * len(ordered)) - 1)] * 1000 if ordered else 0.0


async def run_bench(
    url: str, *, endpoint: str, client_id: str, secret: str, audience: str, connections: int, duration: float
) -> Tally:
    host, port, request = build_request(url, endpoint, client_id, secret, audience)
    tally = Tally()
    started = time.monotonic()
    deadline = started + duration
    tasks = [_connection(host, port, request, deadline, tally) for _ in range(connections)]
    await asyncio.gather(_progress(tally, started, deadline), *tasks)
    return tally


def report(tally: Tally, duration: float) -> str:
    ordered = sorted(tally.latencies)
    rows = [
        ("requests answered", f"{sum(tally.statuses.values()):,}"),
        ("2xx per second", f"{tally.done / duration:,.0f}"),
        ("latency p50", f"{_percentile(ordered, 0.50):.2f} ms"),
        ("latency p95", f"{_percentile(ordered, 0.95):.2f} ms"),
        ("latency p99", f"{_percentile(ordered, 0.99):.2f} ms"),
        ("latency max", f"{(ordered[-1] * 1000 if ordered else 0):.2f} ms"),
        *((f"status {status}", f"{count:,}") for status, count in sorted(tally.statuses.items())),
        ("socket errors", f"{tally.socket_errors:,}"),
    ]
    width = max(len(name) for name, _ in rows)
    return "\n".join(f"  {name.ljust(width)}  {value}" for name, value in rows)

"""`titan bench`: the prepared requests and the result table (no timing is asserted)."""

from __future__ import annotations

import base64
from collections import Counter

import pytest

from app.bench import Tally, build_request, report


def test_a_v1_request_carries_basic_credentials_and_a_json_body() -> None:
    host, port, request = build_request("http://127.0.0.1:8123", "v1", "orders", "s:ecret", "billing")
    assert (host, port) == ("127.0.0.1", 8123)
    head, _, body = request.partition(b"\r\n\r\n")
    assert head.startswith(b"POST /v1/tokens HTTP/1.1\r\n")
    assert b"Basic " + base64.b64encode(b"orders:s%3Aecret") in head
    assert body == b'{"audience": "billing"}'
    assert f"Content-Length: {len(body)}".encode() in head


def test_an_oauth_request_is_a_form() -> None:
    _, _, request = build_request("http://localhost:8000", "oauth2", "orders", "s", "https://billing")
    assert request.startswith(b"POST /oauth2/token HTTP/1.1")
    assert request.endswith(b"grant_type=client_credentials&audience=https%3A%2F%2Fbilling")


def test_https_is_refused_clearly() -> None:
    with pytest.raises(ValueError, match="plain http"):
        build_request("https://auth.example.com", "v1", "a", "b", "c")


def test_the_report_counts_statuses_and_errors() -> None:
    tally = Tally(statuses=Counter({200: 98, 429: 2}), latencies=[0.001] * 99 + [0.05], socket_errors=1)
    rows = dict(line.strip().split("  ", 1) for line in report(tally, duration=2.0).splitlines())
    rows = {name: value.strip() for name, value in rows.items()}
    assert rows["2xx per second"] == "49"
    assert rows["status 429"] == "2"
    assert rows["latency p99"] == "1.00 ms"
    assert rows["latency max"] == "50.00 ms"
    assert rows["socket errors"] == "1"

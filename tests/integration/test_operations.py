"""Stats, Prometheus metrics, liveness and readiness."""

from __future__ import annotations

import pytest
from litestar.testing import AsyncTestClient

from containers import Container

pytestmark = pytest.mark.anyio


async def test_stats_report_the_pipeline_and_what_it_did(http: AsyncTestClient, auth: dict[str, str]) -> None:
    for _ in range(3):
        assert (await http.post("/v1/tokens", json={"audience": "billing"}, headers=auth)).status_code == 200
    await http.post("/v1/tokens", json={"audience": "payroll"}, headers=auth)
    stats = (await http.get("/v1/stats")).json()
    assert stats["crypto"]["algorithm"] == "ECDSA-ES256"
    assert stats["crypto"]["signatures_generated"] == 3
    assert stats["crypto"]["active_kid"] == (await http.get("/.well-known/jwks.json")).json()["keys"][0]["kid"]
    pipeline = stats["pipeline"]
    assert pipeline["workers"] == 1
    assert pipeline["threads"] == 32
    assert pipeline["slots"] == 64
    assert pipeline["slot_timeout_seconds"] == 60
    assert pipeline["signing_mode"] == "inline"  # the measured default
    assert (pipeline["in_flight"], pipeline["waiting"], pipeline["rejected"], pipeline["timed_out"]) == (
        0,
        0,
        0,
        0,
    )
    assert pipeline["admitted"] == 3
    assert set(stats["throughput"]) == {"last_second", "last_minute", "per_second_last_minute"}
    assert set(stats["latency_ms"]) == {"p50", "p95", "p99", "max", "samples"}
    assert stats["latency_ms"]["samples"] == 3
    assert 0 < stats["latency_ms"]["p50"] <= stats["latency_ms"]["max"]
    assert stats["errors"] == {"audience_not_allowed": 1}
    assert stats["tokens"] == {"issued": 3, "by_endpoint": {"v1": 3}}
    assert stats["service"]["uptime_seconds"] >= 0
    assert stats["clients"] == {"registered": 1}


async def test_metrics_in_prometheus_text(http: AsyncTestClient, auth: dict[str, str]) -> None:
    await http.post("/v1/tokens", json={"audience": "billing"}, headers=auth)
    response = await http.get("/metrics")
    assert response.headers["content-type"].startswith("text/plain; version=0.0.4")
    lines = response.text.splitlines()
    assert "titan_sec_signatures_total 1" in lines
    assert 'titan_tokens_issued_total{endpoint="v1"} 1' in lines
    assert 'titan_mint_latency_seconds_bucket{le="+Inf"} 1' in lines
    assert "titan_mint_latency_seconds_count 1" in lines
    assert "titan_gate_slots 64" in lines
    assert "# TYPE titan_mint_latency_seconds histogram" in lines
    for line in lines:  # every sample line is "name{labels} number"
        if not line.startswith("#"):
            _name, value = line.rsplit(" ", 1)
            float(value.replace("+Inf", "inf"))


async def test_health_and_readiness(http: AsyncTestClient) -> None:
    assert (await http.get("/healthz")).json() == {"status": "ok"}
    ready = await http.get("/readyz")
    assert ready.status_code == 200
    assert ready.json()["checks"] == {"keys_loaded": True, "pipeline_accepting": True}


async def test_readiness_fails_once_the_gate_closes(container: Container, http: AsyncTestClient) -> None:
    await container.gate().close(timeout=1)
    response = await http.get("/readyz")
    assert response.status_code == 503
    assert response.json()["status"] == "not_ready"


async def test_stats_and_metrics_describe_the_keys(http: AsyncTestClient) -> None:
    kid = (await http.get("/.well-known/jwks.json")).json()["keys"][0]["kid"]
    await http.get("/.well-known/jwks.json", headers={"If-None-Match": "*"})
    keys = (await http.get("/v1/stats")).json()["keys"]
    assert keys["active_kid"] == kid
    assert keys["by_state"] == {"published": [], "active": [kid], "retired": []}
    assert keys["jwks_requests"] == 2
    assert keys["rotations"] == 0
    assert 0 <= keys["active_age_seconds"] < 60
    assert 86400 - 60 < keys["next_rotation_in_seconds"] <= 86400 + 1  # activation times are whole seconds
    assert keys["next_event_in_seconds"] == pytest.approx(keys["next_rotation_in_seconds"] - 3600 - 1, abs=1)
    assert keys["schedule"] == {
        "rotation_interval_seconds": 86400,
        "publish_lead_seconds": 3600,
        "retire_hold_seconds": 7200,
        "jwks_max_age_seconds": 300,
    }
    lines = (await http.get("/metrics")).text.splitlines()
    assert "titan_jwks_requests_total 2" in lines
    assert 'titan_keys{state="active"} 1' in lines
    assert "titan_key_rotations_total 0" in lines
    assert any(line.startswith("titan_key_next_rotation_seconds ") for line in lines)
    assert any(line.startswith("titan_key_age_seconds ") for line in lines)


async def test_a_rotation_is_picked_up_by_the_running_app(container: Container, http: AsyncTestClient) -> None:
    first = (await http.get("/v1/stats")).json()["keys"]["active_kid"]
    container.rotator().rotate(immediately=True)
    assert await container.refresher().refresh_once()
    stats = (await http.get("/v1/stats")).json()["keys"]
    assert stats["active_kid"] != first
    assert stats["by_state"]["retired"] == [first]
    assert stats["rotations"] == 1
    jwks = {key["kid"] for key in (await http.get("/.well-known/jwks.json")).json()["keys"]}
    assert jwks == {first, stats["active_kid"]}

"""Operator endpoints: stats, Prometheus metrics, liveness and readiness."""

from __future__ import annotations

from typing import Any

from litestar import Controller, Response, get
from litestar.di import NamedDependency

from app.http.errors import JSON
from app.stats import Observed, prometheus_text, stats_document

PROMETHEUS = "text/plain; version=0.0.4; charset=utf-8"


class OpsController(Controller):
    tags = ["operations"]  # noqa: RUF012

    @get("/v1/stats", operation_id="stats", name="ops:stats", summary="Live figures of the mint pipeline")
    async def stats(self, observed: NamedDependency[Observed]) -> Response[dict[str, Any]]:
        return Response(content=stats_document(observed), media_type=JSON)

    @get("/metrics", operation_id="metrics", name="ops:metrics", summary="Prometheus metrics")
    async def metrics(self, observed: NamedDependency[Observed]) -> Response[str]:
        return Response(content=prometheus_text(observed), media_type=PROMETHEUS)

    @get("/healthz", operation_id="healthz", name="ops:healthz", summary="Liveness: the process answers")
    async def healthz(self) -> Response[dict[str, Any]]:
        return Response(content={"status": "ok"}, media_type=JSON)

    @get(
        "/readyz",
        operation_id="readyz",
        name="ops:readyz",
        summary="Readiness: keys loaded, pipeline accepting",
    )
    async def readyz(self, observed: NamedDependency[Observed]) -> Response[dict[str, Any]]:
        checks = {
            "keys_loaded": observed.keyring.loaded,
            "pipeline_accepting": observed.gate.accepting,
        }
        ready = all(checks.values())
        body = {
            "status": "ready" if ready else "not_ready",
            "checks": checks,
            "store_error": observed.refresher.last_error,
            "audit_error": observed.audit.last_error,
        }
        return Response(content=body, media_type=JSON, status_code=200 if ready else 503)

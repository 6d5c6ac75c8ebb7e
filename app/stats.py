"""Operator views: the /v1/stats document and the Prometheus text exposition, from one snapshot."""

from __future__ import annotations

import time
from dataclasses import dataclass
from typing import Any

from app import __version__
from app.audit import AuditLog
from app.clients.registry import ClientRegistry
from app.gate import Gate
from app.keys.keyring import Keyring
from app.keys.schedule import Schedule, active_key, next_rotation
from app.limits import BruteForceGuard, RateLimiter
from app.metrics import LATENCY_BUCKETS, MetricsStore
from app.refresher import Refresher
from app.revocation import DenyList
from app.signing.port import Signer
from settings import Settings


@dataclass(frozen=True, slots=True)
class Observed:
    """The collaborators whose state operators read."""

    settings: Settings
    metrics: MetricsStore
    gate: Gate
    keyring: Keyring
    clients: ClientRegistry
    refresher: Refresher
    signer: Signer
    schedule: Schedule
    limiter: RateLimiter
    guard: BruteForceGuard
    audit: AuditLog
    deny_list: DenyList


def stats_document(observed: Observed) -> dict[str, Any]:
    """The JSON served at GET /v1/stats."""
    settings, metrics = observed.settings, observed.metrics
    gate = observed.gate.state()
    keyring = observed.keyring
    last_second = metrics.rate.total(1)
    last_minute = metrics.rate.total(60)
    return {
        "service": {
            "name": "titan",
            "version": __version__,
            "issuer": settings.issuer,
            "uptime_seconds": round(metrics.uptime(), 3),
        },
        "crypto": {
            "algorithm": observed.signer.name,
            "jws_alg": observed.signer.alg,
            "signatures_generated": metrics.sec_signatures,
            "active_kid": keyring.active.kid if keyring.loaded else None,
        },
        "keys": _keys_document(observed),
        "pipeline": {
            "workers": settings.uvcorn_workers,
            "threads": settings.threads_per_worker,
            "semaphore_multiplier": settings.semaphore_multiplier,
            "slots": gate.slots,
            "slot_timeout_seconds": gate.slot_timeout,
            "max_waiting": gate.max_waiting,
            "signing_mode": gate.signing_mode,
            "accepting": gate.accepting,
            "in_flight": gate.in_flight,
            "waiting": gate.waiting,
            "admitted": gate.admitted,
            "rejected": gate.rejected,
            "timed_out": gate.timed_out,
            "max_pending": gate.max_pending,
            "pending": gate.pending,
            "shed": gate.shed,
            "draining": gate.draining,
        },
        "throughput": {
            "last_second": last_second,
            "last_minute": last_minute,
            "per_second_last_minute": round(last_minute / 60, 3),
        },
        "latency_ms": {**metrics.latency_percentiles(), "samples": metrics.recent_samples},
        "tokens": {"issued": sum(metrics.tokens_issued.values()), "by_endpoint": dict(metrics.tokens_issued)},
        "errors": dict(sorted(metrics.errors.items())),
        "clients": {"registered": len(observed.clients)},
        "security": _security_document(observed),
        "store": {
            "kind": settings.store_kind,
            "last_refresh_error": observed.refresher.last_error,
            "refresh_failures": observed.refresher.failures,
            "seconds_since_refresh": _since(observed.refresher.last_success),
        },
    }


def _since(moment: float | None) -> float | None:
    return None if moment is None else round(time.time() - moment, 3)


def _security_document(observed: Observed) -> dict[str, Any]:
    metrics, audit = observed.metrics, observed.audit
    authentications: dict[str, dict[str, int]] = {}
    for (method, outcome), count in sorted(metrics.authentications.items()):
        authentications.setdefault(method, {})[outcome] = count
    return {
        "authentications": authentications,
        "rate_limited": observed.limiter.limited,
        "brute_force_refusals": observed.guard.refused,
        "revocations": dict(metrics.revocations),
        "revoked_tokens_tracked": len(observed.deny_list),
        "introspections": dict(metrics.introspections),
        "audit": {
            "sink": audit.sink,
            "written": audit.written,
            "dropped": audit.dropped,
            "failures": audit.failures,
            "last_error": audit.last_error,
        },
    }


def _keys_document(observed: Observed) -> dict[str, Any]:
    keyring = observed.keyring
    if not keyring.loaded:
        return {"loaded": False}
    key_set, now = keyring.key_set, time.time()
    active = active_key(key_set.records)
    rotation = next_rotation(key_set.records, observed.schedule)
    event = observed.refresher.next_key_event()
    return {
        "loaded": True,
        "active_kid": key_set.active.kid,
        "active_alg": key_set.active.alg,
        "active_age_seconds": None if active is None else max(0.0, round(now - (active.activates_at or 0), 3)),
        "next_rotation_at": rotation,
        "next_rotation_in_seconds": None if rotation is None else round(rotation - now, 3),
        "next_event_in_seconds": None if event is None else round(event - now, 3),
        "by_state": {state: key_set.kids(state) for state in ("published", "active", "retired")},
        "rotations": keyring.rotations,
        "jwks_requests": observed.metrics.jwks_requests,
        "schedule": {
            "rotation_interval_seconds": observed.schedule.rotation_interval,
            "publish_lead_seconds": observed.schedule.publish_lead,
            "retire_hold_seconds": observed.schedule.retire_hold,
            "jwks_max_age_seconds": observed.settings.jwks_max_age,
        },
    }


def prometheus_text(observed: Observed) -> str:
    """The same figures in the Prometheus text format (version 0.0.4)."""
    settings, metrics = observed.settings, observed.metrics
    gate = observed.gate.state()
    lines: list[str] = []

    def metric(name: str, kind: str, help_text: str, samples: list[tuple[str, float]]) -> None:
        lines.append(f"# HELP {name} {help_text}")
        lines.append(f"# TYPE {name} {kind}")
        lines.extend(f"{name}{labels} {_number(value)}" for labels, value in samples)

    kid = observed.keyring.active.kid if observed.keyring.loaded else ""
    metric(
        "titan_info",
        "gauge",
        "Build and configuration of this instance.",
        [(f'{{version="{__version__}",algorithm="{observed.signer.name}",kid="{kid}"}}', 1)],
    )
    metric("titan_sec_signatures_total", "counter", "Signatures generated.", [("", metrics.sec_signatures)])
    metric(
        "titan_tokens_issued_total",
        "counter",
        "Access tokens issued, by endpoint.",
        [(f'{{endpoint="{name}"}}', count) for name, count in sorted(metrics.tokens_issued.items())],
    )
    metric(
        "titan_errors_total",
        "counter",
        "Refused or failed requests, by reason.",
        [(f'{{reason="{reason}"}}', count) for reason, count in sorted(metrics.errors.items())],
    )
    if observed.keyring.loaded:
        metric(
            "titan_keys",
            "gauge",
            "Published keys by state.",
            [
                (f'{{state="{state}"}}', len(observed.keyring.key_set.kids(state)))
                for state in ("published", "active", "retired")
            ],
        )
    metric(
        "titan_authentications_total",
        "counter",
        "Client authentications, by method and outcome.",
        [
            (f'{{method="{method}",outcome="{outcome}"}}', count)
            for (method, outcome), count in sorted(metrics.authentications.items())
        ],
    )
    metric(
        "titan_revocations_total",
        "counter",
        "Token revocations, by who revoked.",
        [(f'{{actor="{actor}"}}', count) for actor, count in sorted(metrics.revocations.items())],
    )
    cumulative = 0
    buckets: list[tuple[str, float]] = []
    for bound, count in zip((*LATENCY_BUCKETS, float("inf")), metrics.latency_buckets, strict=True):
        cumulative += count
        buckets.append((f'_bucket{{le="{_number(bound)}"}}', cumulative))
    lines.append("# HELP titan_mint_latency_seconds Time to mint a token, policy to signature.")
    lines.append("# TYPE titan_mint_latency_seconds histogram")
    lines.extend(f"titan_mint_latency_seconds{suffix} {_number(value)}" for suffix, value in buckets)
    lines.append(f"titan_mint_latency_seconds_sum {_number(metrics.latency_sum)}")
    lines.append(f"titan_mint_latency_seconds_count {metrics.latency_count}")
    for name, kind, help_text, value in (
        ("titan_gate_slots", "gauge", "Signing slots (threads x multiplier).", gate.slots),
        ("titan_gate_threads", "gauge", "Crypto pool threads.", settings.threads_per_worker),
        ("titan_gate_in_flight", "gauge", "Mints holding a slot now.", gate.in_flight),
        ("titan_gate_waiting", "gauge", "Mints waiting for a slot now.", gate.waiting),
        (
            "titan_gate_rejected_total",
            "counter",
            "Mints refused because the wait queue was full.",
            gate.rejected,
        ),
        ("titan_gate_timed_out_total", "counter", "Mints that waited past the slot timeout.", gate.timed_out),
        ("titan_gate_pending", "gauge", "Mint requests in progress now (admitted, not yet answered).", gate.pending),
        ("titan_gate_shed_total", "counter", "Mint requests refused at admission (overload).", gate.shed),
        ("titan_gate_draining", "gauge", "1 while shutting down (new mints refused).", int(gate.draining)),
        ("titan_clients_registered", "gauge", "Registered clients.", len(observed.clients)),
        (
            "titan_store_refresh_failures_total",
            "counter",
            "Failed background refreshes.",
            observed.refresher.failures,
        ),
        ("titan_uptime_seconds", "gauge", "Seconds since start.", metrics.uptime()),
        ("titan_jwks_requests_total", "counter", "JWKS requests, 304s included.", metrics.jwks_requests),
        ("titan_rate_limited_total", "counter", "Mints refused by a client's rate limit.", observed.limiter.limited),
        ("titan_brute_force_refusals_total", "counter", "Requests refused while cooling off.", observed.guard.refused),
        (
            "titan_audit_lines_dropped_total",
            "counter",
            "Audit lines lost to a full queue or sink.",
            observed.audit.dropped,
        ),
        (
            "titan_key_rotations_total",
            "counter",
            "Active key changes seen by this process.",
            observed.keyring.rotations,
        ),
        *_key_gauges(observed),
    ):
        metric(name, kind, help_text, [("", value)])
    return "\n".join(lines) + "\n"


def _key_gauges(observed: Observed) -> list[tuple[str, str, str, float]]:
    document = _keys_document(observed)
    if not document["loaded"]:
        return []
    gauges = [
        (
            "titan_key_age_seconds",
            "gauge",
            "Seconds since the active key started signing.",
            document["active_age_seconds"],
        ),
        (
            "titan_key_next_rotation_seconds",
            "gauge",
            "Seconds until the next key starts signing.",
            document["next_rotation_in_seconds"],
        ),
    ]
    return [gauge for gauge in gauges if gauge[3] is not None]


def _number(value: float) -> str:
    if value == float("inf"):
        return "+Inf"
    if isinstance(value, int) or float(value).is_integer():
        return str(int(value))
    return repr(round(float(value), 6))

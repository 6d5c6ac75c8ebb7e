"""Typed, frozen settings for Titan, loaded from TITAN_* environment variables."""

from __future__ import annotations

import dataclasses
import logging
import os
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Final
from urllib.parse import urlsplit

ENV_PREFIX: Final = "TITAN_"
SIGNING_ALGORITHMS: Final = ("ES256", "RS256", "EdDSA")
SIGNING_MODES: Final = ("pool", "inline")
LOG_LEVELS: Final = ("debug", "info", "warning", "error")

_DURATION = re.compile(r"^(\d{1,9})([smhd]?)$")
_UNIT_SECONDS: Final = {"": 1, "s": 1, "m": 60, "h": 3600, "d": 86400}

log = logging.getLogger("titan.settings")


class SettingsError(ValueError):
    """A TITAN_* variable holds a value Titan cannot run with."""

    def __init__(self, variable: str, message: str) -> None:
        super().__init__(f"{variable}: {message}")
        self.variable = variable


def parse_duration(text: str) -> int:
    """Whole seconds from '90', '90s', '15m', '24h' or '7d'."""
    match = _DURATION.match(text.strip())
    if match is None:
        raise ValueError(f"expected whole seconds with an optional s/m/h/d suffix, got {text!r}")
    return int(match.group(1)) * _UNIT_SECONDS[match.group(2)]


def _parse_int(text: str) -> int:
    if not re.fullmatch(r"\d{1,9}", text.strip()):
        raise ValueError(f"expected a whole number, got {text!r}")
    return int(text)


def _parse_choice(choices: tuple[str, ...]) -> Callable[[str], str]:
    by_folded = {choice.lower(): choice for choice in choices}

    def parse(text: str) -> str:
        try:
            return by_folded[text.strip().lower()]
        except KeyError:
            raise ValueError(f"expected one of {', '.join(choices)}, got {text!r}") from None

    return parse


def _parse_rate(text: str) -> float:
    if not re.fullmatch(r"\d{1,9}(\.\d{1,6})?", text.strip()):
        raise ValueError(f"expected a number like 100 or 2.5, got {text!r}")
    return float(text)


def _parse_bool(text: str) -> bool:
    folded = text.strip().lower()
    if folded in ("1", "true", "yes", "on"):
        return True
    if folded in ("0", "false", "no", "off"):
        return False
    raise ValueError(f"expected true or false, got {text!r}")


def _parse_text(text: str) -> str:
    if not text.strip():
        raise ValueError("must not be empty")
    return text.strip()


@dataclass(frozen=True, slots=True)
class Settings:
    """Everything Titan reads from its environment; every field is a TITAN_* variable."""

    jwt_algorithm: str = "ES256"
    uvcorn_workers: int = 1
    threads_per_worker: int = 32
    semaphore_multiplier: int = 2
    mint_slot_timeout_sec: int = 60
    mint_max_waiting: int = 1024
    max_pending_mints: int = 1024
    signing_mode: str = "inline"
    issuer: str = ""
    host: str = "127.0.0.1"
    port: int = 8000
    data_dir: Path = Path(".titan")
    default_ttl: int = 300
    max_ttl: int = 3600
    clock_skew: int = 30
    refresh_interval: int = 2
    jwks_max_age: int = 300
    key_rotation_interval: int = 86400
    key_publish_lead: int = 3600
    key_retire_hold: int = 7200
    max_body_bytes: int = 16384
    key_encryption_key: str | None = dataclasses.field(default=None, repr=False)
    key_encryption_key_file: Path | None = None
    log_level: str = "info"
    audit_sink: str = "file"
    audit_max_bytes: int = 10 * 1024 * 1024
    audit_backups: int = 5
    audit_queue_size: int = 10000
    rate_limit: float = 100.0
    rate_burst: int = 200
    auth_failure_limit: int = 10
    auth_failure_slowdown: int = 5
    auth_failure_window: int = 60
    auth_cooldown: int = 300
    assertion_max_lifetime: int = 300
    client_jwks_refresh: int = 300
    allow_insecure_jwks_uri: bool = False
    tls_cert_file: Path | None = None
    tls_key_file: Path | None = None
    listen_backlog: int = 1024
    max_concurrent_requests: int = 1024
    max_header_bytes: int = 16384
    header_read_timeout: int = 10
    shutdown_drain: int = 2
    store_url: str | None = dataclasses.field(default=None, repr=False)  # may hold a password
    store_pool_size: int = 4

    @property
    def tls(self) -> bool:
        return self.tls_cert_file is not None

    @property
    def slots(self) -> int:
        """Concurrent mints admitted past the gate: threads x multiplier."""
        return self.threads_per_worker * self.semaphore_multiplier

    @property
    def signing_inline(self) -> bool:
        return self.signing_mode == "inline"

    @property
    def assertion_audiences(self) -> tuple[str, ...]:
        """What a client assertion's aud may be: the token endpoint or the issuer (RFC 7523 §3)."""
        return (self.url("/oauth2/token"), self.issuer, self.url("/v1/tokens"))

    @property
    def audit_path(self) -> Path:
        return self.data_dir / "audit.log"

    @property
    def database_path(self) -> Path:
        """The SQLite file: from TITAN_STORE_URL (sqlite:///path), else DATA_DIR/titan.sqlite3."""
        if self.store_url is not None and self.store_url.startswith(SQLITE_PREFIX):
            return Path(self.store_url.removeprefix(SQLITE_PREFIX))
        return self.data_dir / "titan.sqlite3"

    @property
    def store_kind(self) -> str:
        """``postgresql`` (fleet mode) or ``sqlite`` (one node, the default)."""
        return "postgresql" if self.store_url is not None and self.store_url.startswith(POSTGRES_PREFIXES) else "sqlite"

    @property
    def kek_path(self) -> Path:
        return self.key_encryption_key_file or self.data_dir / "key-encryption.key"

    def url(self, path: str) -> str:
        """An absolute URL of this issuer for an endpoint path."""
        return f"{self.issuer}{path}"


_PARSERS: Final[dict[str, Callable[[str], Any]]] = {
    "jwt_algorithm": _parse_choice(SIGNING_ALGORITHMS),
    "uvcorn_workers": _parse_int,
    "threads_per_worker": _parse_int,
    "semaphore_multiplier": _parse_int,
    "mint_slot_timeout_sec": parse_duration,
    "mint_max_waiting": _parse_int,
    "max_pending_mints": _parse_int,
    "signing_mode": _parse_choice(SIGNING_MODES),
    "issuer": _parse_text,
    "host": _parse_text,
    "port": _parse_int,
    "data_dir": lambda text: Path(_parse_text(text)),
    "default_ttl": parse_duration,
    "max_ttl": parse_duration,
    "clock_skew": parse_duration,
    "refresh_interval": parse_duration,
    "jwks_max_age": parse_duration,
    "key_rotation_interval": parse_duration,
    "key_publish_lead": parse_duration,
    "key_retire_hold": parse_duration,
    "max_body_bytes": _parse_int,
    "key_encryption_key": _parse_text,
    "key_encryption_key_file": lambda text: Path(_parse_text(text)),
    "log_level": _parse_choice(LOG_LEVELS),
    "audit_sink": _parse_choice(("file", "stdout", "off")),
    "audit_max_bytes": _parse_int,
    "audit_backups": _parse_int,
    "audit_queue_size": _parse_int,
    "rate_limit": _parse_rate,
    "rate_burst": _parse_int,
    "auth_failure_limit": _parse_int,
    "auth_failure_slowdown": _parse_int,
    "auth_failure_window": parse_duration,
    "auth_cooldown": parse_duration,
    "assertion_max_lifetime": parse_duration,
    "client_jwks_refresh": parse_duration,
    "allow_insecure_jwks_uri": _parse_bool,
    "tls_cert_file": lambda text: Path(_parse_text(text)),
    "tls_key_file": lambda text: Path(_parse_text(text)),
    "listen_backlog": _parse_int,
    "max_concurrent_requests": _parse_int,
    "max_header_bytes": _parse_int,
    "header_read_timeout": parse_duration,
    "shutdown_drain": parse_duration,
    "store_url": lambda text: parse_store_url(_parse_text(text)),
    "store_pool_size": _parse_int,
}

# (field, lowest, highest): bounds checked after parsing, named by variable on failure.
_BOUNDS: Final = (
    ("uvcorn_workers", 1, 1),
    ("threads_per_worker", 1, 1024),
    ("semaphore_multiplier", 1, 64),
    ("mint_slot_timeout_sec", 1, 3600),
    ("mint_max_waiting", 0, 1_000_000),
    ("port", 1, 65535),
    ("default_ttl", 1, 86400),
    ("max_ttl", 1, 86400),
    ("clock_skew", 0, 600),
    ("refresh_interval", 1, 3600),
    ("jwks_max_age", 0, 86400),
    ("key_rotation_interval", 1, 365 * 86400),
    ("key_publish_lead", 0, 365 * 86400),
    ("key_retire_hold", 0, 365 * 86400),
    ("audit_max_bytes", 4096, 1 << 40),
    ("audit_backups", 0, 1000),
    ("audit_queue_size", 1, 10_000_000),
    ("rate_limit", 0.001, 1_000_000),
    ("rate_burst", 1, 10_000_000),
    ("auth_failure_limit", 1, 1_000_000),
    ("auth_failure_slowdown", 1, 1_000_000),
    ("auth_failure_window", 1, 86400),
    ("auth_cooldown", 0, 86400),
    ("assertion_max_lifetime", 1, 3600),
    ("client_jwks_refresh", 1, 86400),
    ("max_body_bytes", 256, 1_048_576),
    ("max_pending_mints", 1, 1_000_000),
    ("listen_backlog", 128, 65535),
    ("max_concurrent_requests", 1, 1_000_000),
    ("max_header_bytes", 1024, 262_144),
    ("header_read_timeout", 1, 3600),
    ("shutdown_drain", 0, 300),
    ("store_pool_size", 1, 100),
)


SQLITE_PREFIX: Final = "sqlite:///"
POSTGRES_PREFIXES: Final = ("postgresql://", "postgres://")


def parse_store_url(url: str) -> str:
    if url.startswith(SQLITE_PREFIX) and len(url) > len(SQLITE_PREFIX):
        return url
    if url.startswith(POSTGRES_PREFIXES):
        return url
    raise ValueError("must be sqlite:///PATH (sqlite:////absolute/path) or postgresql://USER@HOST/DB")


def env_name(field: str) -> str:
    return f"{ENV_PREFIX}{field.upper()}"


def _check_issuer(issuer: str) -> str:
    parts = urlsplit(issuer)
    if parts.scheme not in ("http", "https") or not parts.netloc:
        raise SettingsError(env_name("issuer"), f"must be an http(s) URL, got {issuer!r}")
    if parts.query or parts.fragment:
        raise SettingsError(env_name("issuer"), "must not have a query or fragment (RFC 8414 §2)")
    return issuer.rstrip("/")


def _check_invariants(settings: Settings) -> None:
    """Relations between settings that keep tokens verifiable; each names the variable to change."""
    if settings.default_ttl > settings.max_ttl:
        raise SettingsError(
            env_name("default_ttl"),
            f"{settings.default_ttl}s exceeds {env_name('max_ttl')} ({settings.max_ttl}s)",
        )
    if settings.key_publish_lead < settings.jwks_max_age:
        raise SettingsError(
            env_name("key_publish_lead"),
            f"{settings.key_publish_lead}s is shorter than {env_name('jwks_max_age')} ({settings.jwks_max_age}s): "
            "verifiers caching the JWKS would meet tokens signed by a key they have not fetched",
        )
    if settings.key_retire_hold < settings.max_ttl + settings.clock_skew:
        raise SettingsError(
            env_name("key_retire_hold"),
            f"{settings.key_retire_hold}s is shorter than {env_name('max_ttl')} + {env_name('clock_skew')} "
            f"({settings.max_ttl + settings.clock_skew}s): a retired key would leave the JWKS "
            "while tokens it signed are still valid",
        )
    if settings.auth_failure_slowdown > settings.auth_failure_limit:
        raise SettingsError(
            env_name("auth_failure_slowdown"),
            f"{settings.auth_failure_slowdown} exceeds {env_name('auth_failure_limit')} "
            f"({settings.auth_failure_limit}): failures are slowed before they are refused",
        )
    if settings.key_rotation_interval < settings.key_publish_lead:
        raise SettingsError(
            env_name("key_rotation_interval"),
            f"{settings.key_rotation_interval}s is shorter than {env_name('key_publish_lead')} "
            f"({settings.key_publish_lead}s): the next key must be published before it is due",
        )


def _check_tls(settings: Settings) -> None:
    if (settings.tls_cert_file is None) != (settings.tls_key_file is None):
        missing = "tls_key_file" if settings.tls_key_file is None else "tls_cert_file"
        raise SettingsError(env_name(missing), "TLS needs both TITAN_TLS_CERT_FILE and TITAN_TLS_KEY_FILE")
    for field in ("tls_cert_file", "tls_key_file"):
        path = getattr(settings, field)
        if path is not None and not path.is_file():
            raise SettingsError(env_name(field), f"no such file: {path}")


def _check_fleet(settings: Settings) -> None:
    """A shared store needs a key-encryption key every instance has: never one generated locally."""
    if (
        settings.store_kind == "postgresql"
        and settings.key_encryption_key is None
        and not (settings.key_encryption_key_file)
    ):
        raise SettingsError(
            env_name("key_encryption_key"),
            "a PostgreSQL store is shared by several instances: give them all the same key-encryption key "
            f"(set it or {env_name('key_encryption_key_file')}); Titan will not generate one per instance",
        )


def load_settings(environ: Mapping[str, str] | None = None) -> Settings:
    """Read TITAN_* variables; raise SettingsError naming the first variable that is wrong."""
    env = os.environ if environ is None else environ
    values: dict[str, Any] = {}
    for field, parse in _PARSERS.items():
        name = env_name(field)
        raw = env.get(name)
        if raw is None:
            continue
        try:
            values[field] = parse(raw)
        except ValueError as exc:
            raise SettingsError(name, str(exc)) from None
    known = {env_name(field) for field in _PARSERS}
    for name in sorted(set(env) - known):
        if name.startswith(ENV_PREFIX):
            log.warning("ignoring unknown setting %s", name)

    settings = Settings(**values)
    if settings.store_kind == "postgresql" and "issuer" not in values:
        raise SettingsError(
            env_name("issuer"),
            "a PostgreSQL store means a fleet: set the one issuer URL its clients see (the load balancer's), "
            "the same on every instance",
        )
    for field, lowest, highest in _BOUNDS:
        value = getattr(settings, field)
        if not lowest <= value <= highest:
            hint = (
                " (Titan runs one worker per process: start more instances to scale out)"
                if (field == "uvcorn_workers")
                else ""
            )
            raise SettingsError(env_name(field), f"must be between {lowest} and {highest}, got {value}{hint}")
    _check_invariants(settings)
    _check_tls(settings)
    _check_fleet(settings)
    host = f"[{settings.host}]" if ":" in settings.host else settings.host
    scheme = "https" if settings.tls else "http"
    issuer = settings.issuer or f"{scheme}://{host}:{settings.port}"
    return dataclasses.replace(settings, issuer=_check_issuer(issuer))

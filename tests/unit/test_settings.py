"""Settings: defaults, parsing, bounds and the errors that name the variable."""

from __future__ import annotations

import logging
from pathlib import Path

import pytest

from settings import Settings, SettingsError, load_settings, parse_duration


def test_defaults_follow_the_seed() -> None:
    settings = load_settings({})
    assert settings.jwt_algorithm == "ES256"
    assert settings.uvcorn_workers == 1
    assert settings.threads_per_worker == 32
    assert settings.semaphore_multiplier == 2
    assert settings.slots == 64
    assert settings.mint_slot_timeout_sec == 60
    assert settings.signing_mode == "inline"  # measured faster than the pool on this 2-core machine
    assert settings.host == "127.0.0.1"
    assert settings.port == 8000
    assert settings.data_dir == Path(".titan")
    assert settings.issuer == "http://127.0.0.1:8000"
    assert settings.default_ttl <= settings.max_ttl


@pytest.mark.parametrize(
    ("text", "seconds"),
    [("0", 0), ("90", 90), ("90s", 90), ("15m", 900), ("24h", 86400), ("7d", 604800), (" 5m ", 300)],
)
def test_parse_duration(text: str, seconds: int) -> None:
    assert parse_duration(text) == seconds


@pytest.mark.parametrize("text", ["", "1.5", "-3", "10x", "m", "1 h", "1h30m", "99999999999"])
def test_parse_duration_rejects(text: str) -> None:
    with pytest.raises(ValueError, match="whole seconds"):
        parse_duration(text)


def test_every_variable_is_read() -> None:
    settings = load_settings(
        {
            "TITAN_JWT_ALGORITHM": "rs256",
            "TITAN_THREADS_PER_WORKER": "8",
            "TITAN_SEMAPHORE_MULTIPLIER": "3",
            "TITAN_MINT_SLOT_TIMEOUT_SEC": "2m",
            "TITAN_MINT_MAX_WAITING": "10",
            "TITAN_SIGNING_MODE": "pool",
            "TITAN_ISSUER": "https://auth.example.com/",
            "TITAN_HOST": "0.0.0.0",
            "TITAN_PORT": "9000",
            "TITAN_DATA_DIR": "/var/lib/titan",
            "TITAN_DEFAULT_TTL": "5m",
            "TITAN_MAX_TTL": "1h",
            "TITAN_CLOCK_SKEW": "10s",
            "TITAN_REFRESH_INTERVAL": "5",
            "TITAN_JWKS_MAX_AGE": "10m",
            "TITAN_MAX_BODY_BYTES": "4096",
            "TITAN_KEY_ENCRYPTION_KEY_FILE": "/run/secrets/kek",
            "TITAN_LOG_LEVEL": "DEBUG",
        }
    )
    assert settings == Settings(
        jwt_algorithm="RS256",
        threads_per_worker=8,
        semaphore_multiplier=3,
        mint_slot_timeout_sec=120,
        mint_max_waiting=10,
        signing_mode="pool",
        issuer="https://auth.example.com",
        host="0.0.0.0",
        port=9000,
        data_dir=Path("/var/lib/titan"),
        default_ttl=300,
        max_ttl=3600,
        clock_skew=10,
        refresh_interval=5,
        jwks_max_age=600,
        max_body_bytes=4096,
        key_encryption_key_file=Path("/run/secrets/kek"),
        log_level="debug",
    )
    assert settings.slots == 24
    assert not settings.signing_inline


@pytest.mark.parametrize(
    ("variable", "value", "message"),
    [
        ("TITAN_JWT_ALGORITHM", "HS256", "expected one of ES256, RS256, EdDSA"),
        ("TITAN_THREADS_PER_WORKER", "many", "whole number"),
        ("TITAN_THREADS_PER_WORKER", "0", "between 1 and 1024"),
        ("TITAN_UVCORN_WORKERS", "4", "one worker per process"),
        ("TITAN_SEMAPHORE_MULTIPLIER", "-1", "whole number"),
        ("TITAN_MINT_SLOT_TIMEOUT_SEC", "0", "between 1 and 3600"),
        ("TITAN_PORT", "70000", "between 1 and 65535"),
        ("TITAN_MAX_TTL", "2d", "between 1 and 86400"),
        ("TITAN_DEFAULT_TTL", "2h", "exceeds TITAN_MAX_TTL"),
        ("TITAN_ISSUER", "ftp://x", r"http\(s\) URL"),
        ("TITAN_ISSUER", "https://auth.example.com/?a=b", "query or fragment"),
        ("TITAN_SIGNING_MODE", "threads", "expected one of pool, inline"),
        ("TITAN_HOST", "  ", "must not be empty"),
        ("TITAN_MAX_BODY_BYTES", "10", "between 256"),
    ],
)
def test_invalid_values_stop_with_the_variable_named(variable: str, value: str, message: str) -> None:
    with pytest.raises(SettingsError, match=message) as caught:
        load_settings({variable: value})
    assert caught.value.variable == variable
    assert str(caught.value).startswith(variable)


def test_issuer_follows_host_and_port_when_unset() -> None:
    assert load_settings({"TITAN_HOST": "::1", "TITAN_PORT": "8443"}).issuer == "http://[::1]:8443"


def test_unknown_titan_variables_are_reported(caplog: pytest.LogCaptureFixture) -> None:
    with caplog.at_level(logging.WARNING, logger="titan.settings"):
        load_settings({"TITAN_MAX_TLL": "5"})
    assert "TITAN_MAX_TLL" in caplog.text


def test_the_key_encryption_key_is_not_in_the_repr() -> None:
    settings = load_settings({"TITAN_KEY_ENCRYPTION_KEY": "c2VjcmV0"})
    assert "c2VjcmV0" not in repr(settings)


@pytest.mark.parametrize(
    ("env", "variable", "message"),
    [
        (
            {"TITAN_KEY_PUBLISH_LEAD": "4m", "TITAN_JWKS_MAX_AGE": "5m"},
            "TITAN_KEY_PUBLISH_LEAD",
            "shorter than TITAN_JWKS_MAX_AGE",
        ),
        (
            {"TITAN_KEY_RETIRE_HOLD": "1h", "TITAN_MAX_TTL": "1h", "TITAN_CLOCK_SKEW": "1s"},
            "TITAN_KEY_RETIRE_HOLD",
            r"TITAN_MAX_TTL \+ TITAN_CLOCK_SKEW",
        ),
        (
            {"TITAN_KEY_ROTATION_INTERVAL": "30m", "TITAN_KEY_PUBLISH_LEAD": "1h"},
            "TITAN_KEY_ROTATION_INTERVAL",
            "shorter than TITAN_KEY_PUBLISH_LEAD",
        ),
        ({"TITAN_KEY_ROTATION_INTERVAL": "0"}, "TITAN_KEY_ROTATION_INTERVAL", "between 1"),
    ],
)
def test_key_schedule_invariants_stop_start_up(env: dict[str, str], variable: str, message: str) -> None:
    with pytest.raises(SettingsError, match=message) as caught:
        load_settings(env)
    assert caught.value.variable == variable


def test_a_schedule_of_seconds_is_allowed() -> None:
    settings = load_settings(
        {
            "TITAN_KEY_ROTATION_INTERVAL": "4",
            "TITAN_KEY_PUBLISH_LEAD": "2",
            "TITAN_JWKS_MAX_AGE": "1",
            "TITAN_MAX_TTL": "3",
            "TITAN_DEFAULT_TTL": "3",
            "TITAN_CLOCK_SKEW": "0",
            "TITAN_KEY_RETIRE_HOLD": "3",
        }
    )
    assert (settings.key_rotation_interval, settings.key_publish_lead, settings.key_retire_hold) == (4, 2, 3)


def test_key_schedule_defaults() -> None:
    settings = load_settings({})
    assert (settings.key_rotation_interval, settings.key_publish_lead, settings.key_retire_hold) == (86400, 3600, 7200)


def test_tls_needs_both_files_that_exist(tmp_path: Path) -> None:
    cert, key = tmp_path / "cert.pem", tmp_path / "key.pem"
    cert.write_text("x")
    key.write_text("x")
    with pytest.raises(SettingsError) as only_cert:
        load_settings({"TITAN_TLS_CERT_FILE": str(cert)})
    assert only_cert.value.variable == "TITAN_TLS_KEY_FILE"
    with pytest.raises(SettingsError, match="no such file") as missing:
        load_settings({"TITAN_TLS_CERT_FILE": str(cert), "TITAN_TLS_KEY_FILE": str(tmp_path / "nope")})
    assert missing.value.variable == "TITAN_TLS_KEY_FILE"
    settings = load_settings({"TITAN_TLS_CERT_FILE": str(cert), "TITAN_TLS_KEY_FILE": str(key)})
    assert settings.tls
    assert settings.issuer == "https://127.0.0.1:8000"


def test_store_urls_select_the_adapter_and_fleet_mode_needs_a_shared_issuer_and_kek(tmp_path: Path) -> None:
    sqlite = load_settings({"TITAN_STORE_URL": f"sqlite:///{tmp_path}/t.db"})
    assert (sqlite.store_kind, sqlite.database_path) == ("sqlite", tmp_path / "t.db")
    assert load_settings({}).database_path == Path(".titan") / "titan.sqlite3"
    fleet = {"TITAN_STORE_URL": "postgresql://titan:pw@db/titan", "TITAN_ISSUER": "https://titan.example"}
    with pytest.raises(SettingsError, match="TITAN_KEY_ENCRYPTION_KEY"):
        load_settings(fleet)
    settings = load_settings({**fleet, "TITAN_KEY_ENCRYPTION_KEY_FILE": "/run/secrets/kek"})
    assert settings.store_kind == "postgresql"
    assert "pw" not in repr(settings)
    with pytest.raises(SettingsError, match="TITAN_ISSUER"):
        load_settings({"TITAN_STORE_URL": fleet["TITAN_STORE_URL"], "TITAN_KEY_ENCRYPTION_KEY_FILE": "/k"})
    for wrong in ("mysql://db/titan", "sqlite://relative", "sqlite:///"):
        with pytest.raises(SettingsError, match="TITAN_STORE_URL"):
            load_settings({"TITAN_STORE_URL": wrong})

"""The one error hierarchy of Titan; app/http/errors.py maps it to HTTP."""

from __future__ import annotations

from typing import ClassVar


class TitanError(Exception):
    """Base of every error a caller or operator may see.

    Subclasses set the RFC 6749 §5.2 style ``error`` code, the HTTP status and a default
    description; ``reason`` is a finer code for metrics and logs.
    """

    error: ClassVar[str] = "server_error"
    status_code: ClassVar[int] = 500
    description: ClassVar[str] = "the server could not complete the request"

    def __init__(self, description: str | None = None, *, reason: str | None = None) -> None:
        self.error_description = description or self.description
        self.reason = reason or self.error
        self.client_id: str | None = None  # who asked, when known: for the audit log
        super().__init__(self.error_description)


class InvalidRequest(TitanError):
    error = "invalid_request"
    status_code = 400
    description = "the request is missing a parameter or is malformed"


class UnsupportedMediaType(TitanError):
    error = "invalid_request"
    status_code = 415
    description = "unsupported content type"


class InvalidClient(TitanError):
    """Client authentication failed; the answer never says which part was wrong."""

    error = "invalid_client"
    status_code = 401
    description = "client authentication failed"


class UnauthorizedClient(TitanError):
    error = "unauthorized_client"
    status_code = 400
    description = "this client may not mint tokens"


class InvalidScope(TitanError):
    error = "invalid_scope"
    status_code = 400
    description = "the requested scope is not allowed for this client"


class InvalidTarget(TitanError):
    error = "invalid_target"
    status_code = 400
    description = "the requested audience is not allowed for this client"


class UnsupportedGrantType(TitanError):
    error = "unsupported_grant_type"
    status_code = 400
    description = "only the client_credentials grant is supported"


class RequestTooLarge(TitanError):
    error = "request_too_large"
    status_code = 413
    description = "the request body is too large"


class HeadersTooLarge(TitanError):
    error = "headers_too_large"
    status_code = 431
    description = "the request headers are too large"


class MethodNotAllowed(TitanError):
    error = "method_not_allowed"
    status_code = 405
    description = "method not allowed"

    def __init__(self, allowed: str) -> None:
        super().__init__(f"use {allowed}", reason="method_not_allowed")
        self.allow = allowed


class NotFound(TitanError):
    error = "not_found"
    status_code = 404
    description = "no such resource"


class Unavailable(TitanError):
    """The service cannot take the request now; the caller should retry after ``retry_after``."""

    error = "temporarily_unavailable"
    status_code = 503
    description = "the service is temporarily unavailable"

    def __init__(self, description: str | None = None, *, reason: str | None = None, retry_after: int = 1):
        super().__init__(description, reason=reason)
        self.retry_after = retry_after


class StoreUnavailable(Unavailable):
    """The store could not be read or written (disk full, read-only, gone, database down)."""

    description = "the store is unavailable; retry shortly"

    def __init__(self, description: str | None = None) -> None:
        super().__init__(description, reason="store_unavailable", retry_after=5)


class ConfigurationError(TitanError):
    """Start-up cannot continue: wrong key-encryption key, unreadable store, bad settings."""

    error = "configuration_error"
    description = "Titan is not configured correctly"


class ClientExists(TitanError):
    error = "client_exists"
    status_code = 409
    description = "a client with this id is already registered"

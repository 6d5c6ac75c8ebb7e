"""The one place errors become HTTP answers: {"error", "error_description"} bodies, counted and logged."""

from __future__ import annotations

import logging
from typing import Any, Final

from litestar import Request, Response
from litestar.exceptions import HTTPException

from app.encoding import json_encoder
from app.errors import TitanError
from app.http.deps import container_of
from app.http.schemas import ErrorBody
from containers import Container

log = logging.getLogger("titan.http")

JSON: Final = "application/json"
NO_STORE: Final = {"Cache-Control": "no-store", "Pragma": "no-cache"}  # token responses, RFC 6749 §5.1
WWW_AUTHENTICATE: Final = 'Basic realm="titan", charset="UTF-8"'

_HTTP_ERROR_CODES: Final = {
    400: "invalid_request",
    401: "invalid_client",
    404: "not_found",
    405: "method_not_allowed",
    413: "request_too_large",
    415: "invalid_request",
    429: "too_many_requests",
    431: "request_header_too_large",
}


def error_headers(status_code: int, extra: dict[str, str] | None = None) -> dict[str, str]:
    headers = {"Cache-Control": "no-store"}
    if status_code == 401:
        headers["WWW-Authenticate"] = WWW_AUTHENTICATE
    headers.update(extra or {})
    return headers


def error_body(error: str, description: str) -> bytes:
    return json_encoder.encode(ErrorBody(error=error, error_description=description))


def error_response(
    status_code: int, error: str, description: str, headers: dict[str, str] | None = None
) -> Response[bytes]:
    return Response(
        content=error_body(error, description),
        status_code=status_code,
        media_type=JSON,
        headers=error_headers(status_code, headers),
    )


def _count(request: Request[Any, Any, Any], reason: str) -> None:
    container_of(request.app.state).metrics().record_error(reason)


def record_denial(container: Container, exc: TitanError, method: str, path: str, remote: str) -> dict[str, str]:
    """Count, log and audit a refused request; the extra headers its answer needs."""
    container.metrics().record_error(exc.reason)
    # Refusals that come in storms under load (429, 503) are summarized elsewhere, not logged each.
    level = logging.DEBUG if exc.status_code in (429, 503) else logging.INFO
    log.log(
        level, "denied %s %s from %s: %s (%s) %s", method, path, remote, exc.error, exc.reason, exc.error_description
    )
    container.audit().record(
        "denial",
        "denied",
        client_id=exc.client_id,
        remote=remote,
        reason=exc.reason,
        detail=f"{method} {path}: {exc.error}",
    )
    retry_after = getattr(exc, "retry_after", None)
    return {} if retry_after is None else {"Retry-After": str(retry_after)}


def handle_titan_error(request: Request[Any, Any, Any], exc: TitanError) -> Response[bytes]:
    remote = request.client.host if request.client else "-"
    extra = record_denial(container_of(request.app.state), exc, request.method, request.url.path, remote)
    return error_response(exc.status_code, exc.error, exc.error_description, extra)


def handle_http_exception(request: Request[Any, Any, Any], exc: HTTPException) -> Response[bytes]:
    error = _HTTP_ERROR_CODES.get(exc.status_code, "server_error" if exc.status_code >= 500 else "http_error")
    _count(request, error)
    description = str(exc.detail) if exc.detail else error.replace("_", " ")
    extra = getattr(exc, "extra", None)
    if exc.status_code == 400 and isinstance(extra, list) and extra:
        description = f"{description}: {extra[0].get('message', '')}".rstrip(": ")
    headers = dict(exc.headers or {})
    return error_response(exc.status_code, error, description, headers)


def handle_unexpected(request: Request[Any, Any, Any], exc: Exception) -> Response[bytes]:
    _count(request, "server_error")
    log.exception("unexpected error on %s %s", request.method, request.url.path, exc_info=exc)
    return error_response(500, "server_error", "the server could not complete the request")


EXCEPTION_HANDLERS: Final = {
    TitanError: handle_titan_error,
    HTTPException: handle_http_exception,
    Exception: handle_unexpected,
}

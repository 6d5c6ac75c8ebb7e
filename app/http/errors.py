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

log = logging.getLogger("titan.http")

JSON: Final = "application/json"
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


def error_response(
    status_code: int, error: str, description: str, headers: dict[str, str] | None = None
) -> Response[bytes]:
    all_headers = {"Cache-Control": "no-store"}
    if status_code == 401:
        all_headers["WWW-Authenticate"] = WWW_AUTHENTICATE
    all_headers.update(headers or {})
    return Response(
        content=json_encoder.encode(ErrorBody(error=error, error_description=description)),
        status_code=status_code,
        media_type=JSON,
        headers=all_headers,
    )


def _count(request: Request[Any, Any, Any], reason: str) -> None:
    container_of(request.app.state).metrics().record_error(reason)


def handle_titan_error(request: Request[Any, Any, Any], exc: TitanError) -> Response[bytes]:
    _count(request, exc.reason)
    remote = request.client.host if request.client else "-"
    log.info(
        "denied %s %s from %s: %s (%s) %s",
        request.method,
        request.url.path,
        remote,
        exc.error,
        exc.reason,
        exc.error_description,
    )
    container_of(request.app.state).audit().record(
        "denial",
        "denied",
        client_id=exc.client_id,
        remote=remote,
        reason=exc.reason,
        detail=f"{request.method} {request.url.path}: {exc.error}",
    )
    retry_after = getattr(exc, "retry_after", None)
    headers = {"Retry-After": str(retry_after)} if retry_after is not None else None
    return error_response(exc.status_code, exc.error, exc.error_description, headers)


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

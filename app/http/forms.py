"""application/x-www-form-urlencoded bodies of the OAuth endpoints, parsed strictly."""

from __future__ import annotations

from typing import Any, Final
from urllib.parse import parse_qsl

from litestar import Request

from app.errors import InvalidRequest, UnsupportedMediaType

FORM: Final = "application/x-www-form-urlencoded"
MAX_FIELDS: Final = 64
REPEATABLE: Final = frozenset({"audience", "resource"})


def media_type(request: Request[Any, Any, Any]) -> str:
    return request.headers.get("content-type", "").partition(";")[0].strip().lower()


def parse_form(body: bytes) -> dict[str, list[str]]:
    """Form fields by name; a field other than audience/resource may appear once (RFC 6749 §3.2)."""
    try:
        text = body.decode("utf-8")
        pairs = parse_qsl(text, keep_blank_values=True, strict_parsing=bool(text), max_num_fields=MAX_FIELDS)
    except (UnicodeDecodeError, ValueError) as exc:
        raise InvalidRequest(f"the form body is malformed: {exc}", reason="malformed_body") from None
    fields: dict[str, list[str]] = {}
    for name, value in pairs:
        if "\x00" in value or "\x00" in name:
            raise InvalidRequest("the form body contains a NUL character", reason="malformed_body")
        fields.setdefault(name, []).append(value)
        if len(fields[name]) > 1 and name not in REPEATABLE:
            raise InvalidRequest(f"parameter {name!r} is repeated", reason="repeated_parameter")
    return fields


async def read_form(request: Request[Any, Any, Any]) -> dict[str, list[str]]:
    if media_type(request) != FORM:
        raise UnsupportedMediaType(f"the body must be {FORM}", reason="wrong_content_type")
    return parse_form(await request.body())


def one(fields: dict[str, list[str]], name: str) -> str | None:
    values = fields.get(name)
    return None if values is None else values[0]

"""application/x-www-form-urlencoded bodies of the OAuth endpoints, parsed strictly."""

from __future__ import annotations

from typing import Any, Final
from urllib.parse import parse_qsl, urlsplit

from litestar import Request

from app.errors import InvalidRequest, InvalidTarget, UnsupportedMediaType

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


def form_audience(fields: dict[str, list[str]]) -> tuple[str, ...] | None:
    audiences, resources = fields.get("audience", []), fields.get("resource", [])
    if audiences and resources:
        raise InvalidRequest("send either audience or resource, not both", reason="audience_and_resource")
    for resource in resources:
        parts = urlsplit(resource)
        if not parts.scheme or not parts.netloc or parts.fragment:
            raise InvalidTarget(
                "resource must be an absolute URI without a fragment (RFC 8707 §2)",
                reason="resource_malformed",
            )
    return tuple(audiences or resources) or None


def form_ttl(fields: dict[str, list[str]]) -> int | None:
    text = one(fields, "ttl")
    if text is None:
        return None
    if not text.isascii() or not text.isdigit() or len(text) > 9:
        raise InvalidRequest("ttl must be a whole number of seconds", reason="ttl_invalid")
    return int(text)

"""The in-memory view of a registered client and the validation of its identifiers."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Final

from app.store.port import ClientRecord

CLIENT_ID_PATTERN: Final = r"^[A-Za-z0-9][A-Za-z0-9._~-]{0,127}$"
# RFC 6749 §3.3: scope-token = 1*NQCHAR, NQCHAR = %x21 / %x23-5B / %x5D-7E
SCOPE_TOKEN_PATTERN: Final = r"^[\x21\x23-\x5b\x5d-\x7e]{1,128}$"
# An audience: a service name or an absolute URI; printable ASCII, no spaces.
AUDIENCE_PATTERN: Final = r"^[\x21-\x7e]{1,255}$"

_CLIENT_ID = re.compile(CLIENT_ID_PATTERN)
_SCOPE_TOKEN = re.compile(SCOPE_TOKEN_PATTERN)
_AUDIENCE = re.compile(AUDIENCE_PATTERN)


def is_client_id(text: str) -> bool:
    return _CLIENT_ID.match(text) is not None


def is_scope_token(text: str) -> bool:
    return _SCOPE_TOKEN.match(text) is not None


def is_audience(text: str) -> bool:
    return _AUDIENCE.match(text) is not None


@dataclass(frozen=True, slots=True)
class Client:
    """A registered client as the mint path sees it: sets for O(1) policy checks."""

    client_id: str
    secret_hash: bytes = field(repr=False)
    audiences: tuple[str, ...]
    scopes: tuple[str, ...]
    max_ttl: int
    allowed_audiences: frozenset[str]
    allowed_scopes: frozenset[str]

    @classmethod
    def from_record(cls, record: ClientRecord) -> Client:
        return cls(
            client_id=record.client_id,
            secret_hash=record.secret_hash,
            audiences=record.audiences,
            scopes=record.scopes,
            max_ttl=record.max_ttl,
            allowed_audiences=frozenset(record.audiences),
            allowed_scopes=frozenset(record.scopes),
        )

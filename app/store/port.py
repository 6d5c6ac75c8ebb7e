"""Records kept by the store and the Store protocol every adapter implements."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Protocol


@dataclass(frozen=True, slots=True)
class KeyRecord:
    """A signing key as stored: public half in clear, private half encrypted."""

    kid: str
    alg: str
    state: str
    created_at: int
    public_jwk: str
    private_key: bytes = field(repr=False)
    activates_at: int | None = None
    retires_at: int | None = None
    removed_at: int | None = None


@dataclass(frozen=True, slots=True)
class KeySnapshot:
    generation: int
    keys: tuple[KeyRecord, ...]


@dataclass(frozen=True, slots=True)
class ClientRecord:
    """A registered calling service and its minting policy."""

    client_id: str
    secret_hash: bytes = field(repr=False)
    audiences: tuple[str, ...]
    scopes: tuple[str, ...]
    max_ttl: int
    created_at: int
    updated_at: int
    jwks: str | None = None  # public JWKS (JSON) for private_key_jwt clients
    jwks_uri: str | None = None  # or where to fetch it
    not_before: int | None = None  # tokens issued before this are inactive
    disabled: bool = False  # refuses new mints
    rate: float | None = None  # tokens per second; None: the global default
    burst: int | None = None

    @property
    def auth_method(self) -> str:
        return "private_key_jwt" if self.jwks is not None or self.jwks_uri is not None else "client_secret"


@dataclass(frozen=True, slots=True)
class RevokedToken:
    jti: str
    client_id: str
    expires_at: int
    revoked_at: int


class Store(Protocol):
    """Durable state shared by the server and the CLI; never touched on the mint hot path.

    Every operation is one transaction. A store that cannot be reached or written raises
    StoreUnavailable; ``shared`` says whether several Titan instances may use it at once.
    """

    shared: bool

    def describe(self) -> str:
        """Where the store is, for logs (never with a password)."""
        ...

    def close(self) -> None: ...

    def schema_version(self) -> int: ...

    def generation(self) -> int:
        """A number that grows with every committed change, for cheap change polling."""
        ...

    def list_keys(self) -> list[KeyRecord]: ...

    def key_snapshot(self) -> KeySnapshot:
        """Every key record and the generation they were read at, in one read."""
        ...

    def save_keys(self, records: Sequence[KeyRecord], *, expected_generation: int) -> bool:
        """Insert or replace ``records`` in one transaction, only if nothing changed since
        ``expected_generation`` (compare-and-swap); False when something did."""
        ...

    def list_clients(self) -> list[ClientRecord]: ...

    def get_client(self, client_id: str) -> ClientRecord | None: ...

    def add_client(self, record: ClientRecord) -> None:
        """Insert a new client; raise ClientExists if the id is taken."""
        ...

    def set_client_secret(self, client_id: str, secret_hash: bytes, updated_at: int) -> bool: ...

    def remove_client(self, client_id: str) -> bool: ...

    def set_client_disabled(self, client_id: str, *, disabled: bool, not_before: int | None, updated_at: int) -> bool:
        """Disable (refuse mints, ``not_before`` for introspection) or re-enable a client."""
        ...

    def revoke_token(self, token: RevokedToken) -> None:
        """Add a jti to the deny list (idempotent)."""
        ...

    def revoked_tokens(self, now: int) -> list[RevokedToken]:
        """The deny list entries that have not expired yet."""
        ...

    def purge_revoked(self, now: int) -> int:
        """Drop deny list entries of expired tokens; how many."""
        ...

    def claim_assertion(self, client_id: str, jti: str, expires_at: int) -> bool:
        """Record a client assertion's jti; False if it was recorded before (a replay)."""
        ...

    def purge_assertions(self, now: int) -> int:
        """Forget assertion jtis that have expired; how many."""
        ...

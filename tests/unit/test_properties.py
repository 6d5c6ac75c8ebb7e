"""Property-based tests (hypothesis) for claim building, the policy and the settings loader."""

from __future__ import annotations

import msgspec
from hypothesis import given, settings
from hypothesis import strategies as st

from app.claims import build_claims, claims_encoder
from app.clients.model import is_scope_token
from app.errors import TitanError
from app.policy import decide
from settings import Settings, SettingsError, load_settings
from tests.support.factories import make_client

scope_tokens = st.text(
    alphabet=st.characters(min_codepoint=0x21, max_codepoint=0x7E, exclude_characters='"\\'), min_size=1, max_size=20
)
audiences = st.text(alphabet=st.characters(min_codepoint=0x21, max_codepoint=0x7E), min_size=1, max_size=40)


@given(
    allowed=st.lists(audiences, min_size=1, max_size=4, unique=True),
    requested=st.lists(audiences, min_size=1, max_size=4),
    scopes=st.lists(scope_tokens, max_size=4, unique=True),
    asked_scope=st.one_of(st.none(), st.text(max_size=60)),
    ttl=st.one_of(st.none(), st.integers(min_value=-(10**12), max_value=10**12)),
    client_max=st.integers(min_value=1, max_value=86400),
)
def test_policy_grants_only_what_the_client_may_have(
    allowed: list[str],
    requested: list[str],
    scopes: list[str],
    asked_scope: str | None,
    ttl: int | None,
    client_max: int,
) -> None:
    client = make_client(audiences=tuple(allowed), scopes=tuple(scopes), max_ttl=client_max)
    try:
        grant = decide(client, audience=tuple(requested), scope=asked_scope, ttl=ttl, default_ttl=300, max_ttl=3600)
    except TitanError as exc:
        refusal: TitanError | None = exc
    else:
        refusal = None
    if refusal is not None:  # every refusal is a clear 4xx, never something else
        assert 400 <= refusal.status_code < 500
        assert refusal.error_description
        return
    assert set(grant.audience) <= set(allowed)
    assert set(grant.scope) <= set(scopes)
    assert all(is_scope_token(token) for token in grant.scope)
    assert 1 <= grant.ttl <= min(client_max, 3600)


@given(
    client_id=st.from_regex(r"\A[A-Za-z0-9][A-Za-z0-9._~-]{0,20}\Z"),
    audience=st.lists(audiences, min_size=1, max_size=3, unique=True),
    scopes=st.lists(scope_tokens, max_size=3, unique=True),
    now=st.integers(min_value=0, max_value=2**40),
    ttl=st.integers(min_value=1, max_value=86400),
    skew=st.integers(min_value=0, max_value=600),
)
def test_claims_round_trip_and_keep_their_invariants(
    client_id: str, audience: list[str], scopes: list[str], now: int, ttl: int, skew: int
) -> None:
    from app.policy import Grant

    claims = build_claims(
        issuer="https://auth.example.com",
        client_id=client_id,
        grant=Grant(tuple(audience), tuple(scopes), ttl),
        now=now,
        clock_skew=skew,
        jti="j",
    )
    decoded = msgspec.json.decode(claims_encoder.encode(claims))
    assert decoded["sub"] == decoded["client_id"] == client_id
    assert decoded["exp"] - decoded["iat"] == ttl
    assert decoded["iat"] - decoded["nbf"] == skew
    assert decoded["aud"] == (audience[0] if len(audience) == 1 else audience)
    assert decoded.get("scope", "") == " ".join(scopes)


@settings(max_examples=300)
@given(
    st.dictionaries(
        st.sampled_from(
            [
                "TITAN_PORT",
                "TITAN_THREADS_PER_WORKER",
                "TITAN_DEFAULT_TTL",
                "TITAN_MAX_TTL",
                "TITAN_CLOCK_SKEW",
                "TITAN_JWT_ALGORITHM",
                "TITAN_KEY_PUBLISH_LEAD",
                "TITAN_JWKS_MAX_AGE",
                "TITAN_RATE_LIMIT",
                "TITAN_ISSUER",
            ]
        ),
        st.text(max_size=12),
        max_size=4,
    )
)
def test_the_settings_loader_accepts_or_names_the_variable(environ: dict[str, str]) -> None:
    try:
        loaded = load_settings(environ)
    except SettingsError as exc:
        error: SettingsError | None = exc
    else:
        error = None
    if error is not None:
        assert error.variable.startswith("TITAN_")
        assert str(error).startswith(error.variable)
        return
    assert isinstance(loaded, Settings)
    assert loaded.default_ttl <= loaded.max_ttl
    assert loaded.key_publish_lead >= loaded.jwks_max_age

"""Per-client policy: audience, scope and lifetime decisions."""

from __future__ import annotations

import pytest

from app.errors import InvalidRequest, InvalidScope, InvalidTarget
from app.policy import Grant, decide
from tests.support.factories import make_client


def grant(
    audience: tuple[str, ...] | None = ("billing",),
    scope: str | None = None,
    ttl: int | None = None,
    *,
    default_ttl: int = 300,
    max_ttl: int = 3600,
    **client: object,
) -> Grant:
    return decide(
        make_client(**client),  # type: ignore[arg-type]
        audience=audience,
        scope=scope,
        ttl=ttl,
        default_ttl=default_ttl,
        max_ttl=max_ttl,
    )


def test_an_allowed_request_is_granted_as_asked() -> None:
    assert grant(("billing",), "invoices:read", 120) == Grant(("billing",), ("invoices:read",), 120)


def test_several_audiences_are_kept_in_order_without_repeats() -> None:
    assert grant(("inventory", "billing", "inventory")).audience == ("inventory", "billing")


def test_an_audience_outside_the_policy_is_refused() -> None:
    with pytest.raises(InvalidTarget, match="'payroll' is not allowed") as caught:
        grant(("billing", "payroll"))
    assert caught.value.reason == "audience_not_allowed"


def test_a_missing_audience_defaults_only_when_the_client_has_one() -> None:
    assert grant(None, audiences=("billing",)).audience == ("billing",)
    with pytest.raises(InvalidRequest, match="audience is required: this client may request billing, inventory"):
        grant(None)


def test_a_malformed_audience_is_refused() -> None:
    with pytest.raises(InvalidTarget, match="printable ASCII"):
        grant(("bill ing",))


def test_scope_defaults_to_everything_the_client_may_have() -> None:
    assert grant(scope=None).scope == ("invoices:read", "invoices:write")


def test_a_client_without_scopes_gets_no_scope() -> None:
    assert grant(scope=None, scopes=()).scope == ()


def test_requested_scopes_are_deduplicated() -> None:
    assert grant(scope="invoices:write invoices:read invoices:write").scope == (
        "invoices:write",
        "invoices:read",
    )


@pytest.mark.parametrize("scope", ["invoices:delete", "invoices:read admin"])
def test_a_scope_outside_the_policy_is_refused(scope: str) -> None:
    with pytest.raises(InvalidScope, match="is not allowed"):
        grant(scope=scope)


@pytest.mark.parametrize("scope", ["", "a  b", " invoices:read", 'say"hi"', "back\\slash"])
def test_a_malformed_scope_is_refused(scope: str) -> None:
    with pytest.raises(InvalidScope) as caught:
        grant(scope=scope)
    assert caught.value.reason == "scope_malformed"


def test_ttl_defaults_to_the_global_default() -> None:
    assert grant(default_ttl=300).ttl == 300


def test_ttl_never_exceeds_the_client_or_global_maximum() -> None:
    client = make_client(max_ttl=900)
    allowed = decide(client, audience=("billing",), scope=None, ttl=900, default_ttl=300, max_ttl=3600)
    assert allowed.ttl == 900
    with pytest.raises(InvalidRequest, match="exceeds the maximum of 900s"):
        decide(client, audience=("billing",), scope=None, ttl=901, default_ttl=300, max_ttl=3600)
    with pytest.raises(InvalidRequest, match="exceeds the maximum of 600s"):
        decide(client, audience=("billing",), scope=None, ttl=700, default_ttl=300, max_ttl=600)
    capped = decide(make_client(max_ttl=60), audience=("billing",), scope=None, ttl=None, default_ttl=300, max_ttl=3600)
    assert capped.ttl == 60


@pytest.mark.parametrize("ttl", [0, -5])
def test_a_non_positive_ttl_is_refused(ttl: int) -> None:
    with pytest.raises(InvalidRequest, match="positive"):
        grant(ttl=ttl)

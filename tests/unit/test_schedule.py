"""The key schedule as pure decisions over key records at a given moment."""

from __future__ import annotations

import dataclasses

from app.keys.schedule import (
    MARGIN,
    Activate,
    CreateActive,
    Publish,
    Remove,
    Schedule,
    apply,
    merge,
    next_due,
    next_rotation,
    plan,
)
from app.store.port import KeyRecord

SCHEDULE = Schedule(rotation_interval=100, publish_lead=10, retire_hold=20)
T0 = 1_000


def record(kid: str, state: str, alg: str = "ES256", **times: int | None) -> KeyRecord:
    return KeyRecord(kid=kid, alg=alg, state=state, created_at=T0, public_jwk="{}", private_key=b"x", **times)


def new_key(state: str, now: int) -> KeyRecord:
    return dataclasses.replace(record("new", state), created_at=now)


ACTIVE = record("k1", "active", activates_at=T0, retires_at=T0 + 100)


def test_no_key_at_all_creates_an_active_one() -> None:
    assert plan([], now=T0, alg="ES256", schedule=SCHEDULE) == [CreateActive("no active key")]


def test_nothing_is_due_while_the_active_key_is_young() -> None:
    publish_at = T0 + 100 - 10 - MARGIN
    assert plan([ACTIVE], now=publish_at - 1, alg="ES256", schedule=SCHEDULE) == []
    assert next_due([ACTIVE], alg="ES256", schedule=SCHEDULE) == publish_at


def test_the_next_key_is_published_a_lead_ahead_of_the_planned_end() -> None:
    now = T0 + 100 - 10 - MARGIN
    assert plan([ACTIVE], now=now, alg="ES256", schedule=SCHEDULE) == [Publish(T0 + 100, "rotation interval")]


def test_a_late_publication_still_keeps_the_whole_lead() -> None:
    now = T0 + 150  # the server was down past the planned end
    (action,) = plan([ACTIVE], now=now, alg="ES256", schedule=SCHEDULE)
    assert action == Publish(now + 10 + MARGIN, "rotation interval")


def test_a_published_key_activates_when_its_lead_is_over() -> None:
    pending = record("k2", "published", activates_at=T0 + 100)
    keys = [dataclasses.replace(ACTIVE, retires_at=T0 + 100), pending]
    assert plan(keys, now=T0 + 99, alg="ES256", schedule=SCHEDULE) == []
    assert next_due(keys, alg="ES256", schedule=SCHEDULE) == T0 + 100
    assert next_rotation(keys, SCHEDULE) == T0 + 100
    assert plan(keys, now=T0 + 100, alg="ES256", schedule=SCHEDULE) == [Activate("k2", "publish lead over")]


def test_activation_retires_the_previous_key_for_the_hold() -> None:
    pending = record("k2", "published", activates_at=T0 + 100)
    changes = apply([ACTIVE, pending], Activate("k2", ""), now=T0 + 100, schedule=SCHEDULE, new_key=new_key)
    by_kid = {key.kid: key for key in changes}
    assert (by_kid["k1"].state, by_kid["k1"].retires_at, by_kid["k1"].removed_at) == (
        "retired",
        T0 + 100,
        T0 + 100 + 20 + MARGIN,
    )
    assert (by_kid["k2"].state, by_kid["k2"].activates_at, by_kid["k2"].retires_at) == ("active", T0 + 100, T0 + 200)


def test_a_retired_key_is_removed_after_the_hold_and_its_private_key_wiped() -> None:
    retired = record("k0", "retired", retires_at=T0, removed_at=T0 + 21)
    assert plan([ACTIVE, retired], now=T0 + 20, alg="ES256", schedule=SCHEDULE) == []
    assert plan([ACTIVE, retired], now=T0 + 21, alg="ES256", schedule=SCHEDULE) == [Remove("k0", "retire hold over")]
    (removed,) = apply([ACTIVE, retired], Remove("k0", ""), now=T0 + 21, schedule=SCHEDULE, new_key=new_key)
    assert (removed.state, removed.removed_at, removed.private_key) == ("removed", T0 + 21, b"")


def test_without_an_active_key_a_published_one_is_promoted_at_once() -> None:
    pending = record("k2", "published", activates_at=T0 + 500)
    assert plan([pending], now=T0, alg="ES256", schedule=SCHEDULE) == [
        Activate("k2", "no active key: promoting the published one")
    ]


def test_an_algorithm_change_publishes_a_new_key_at_once() -> None:
    (action,) = plan([ACTIVE], now=T0 + 5, alg="RS256", schedule=SCHEDULE)
    assert action == Publish(T0 + 5 + 10 + MARGIN, "algorithm changed to RS256")


def test_a_published_key_of_the_old_algorithm_is_replaced() -> None:
    stale = record("k2", "published", alg="ES256", activates_at=T0 + 100)
    actions = plan([ACTIVE, stale], now=T0 + 5, alg="EdDSA", schedule=SCHEDULE)
    assert actions == [
        Remove("k2", "algorithm changed to EdDSA"),
        Publish(T0 + 5 + 10 + MARGIN, "algorithm changed to EdDSA"),
    ]


def test_create_active_retires_the_old_key_and_drops_pending_ones() -> None:
    pending = record("k2", "published", activates_at=T0 + 100)
    changes = apply([ACTIVE, pending], CreateActive("emergency"), now=T0 + 7, schedule=SCHEDULE, new_key=new_key)
    assert {key.kid: key.state for key in changes} == {"k1": "retired", "k2": "removed", "new": "active"}
    keys = merge([ACTIVE, pending], changes)
    assert [key.kid for key in keys if key.state == "active"] == ["new"]


def test_publish_marks_the_planned_end_on_the_active_key() -> None:
    changes = apply([ACTIVE], Publish(T0 + 100, ""), now=T0 + 89, schedule=SCHEDULE, new_key=new_key)
    by_kid = {key.kid: key for key in changes}
    assert (by_kid["new"].state, by_kid["new"].activates_at, by_kid["new"].created_at) == (
        "published",
        T0 + 100,
        T0 + 89,
    )
    assert by_kid["k1"].retires_at == T0 + 100

"""The rotator against a real store with an injected clock: the lifecycle, restarts, operator commands."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from app.errors import ConfigurationError, NotFound
from app.keys.encryption import KeySealer, decode_keks, encode_kek
from app.keys.schedule import MARGIN
from app.store.port import KeySnapshot
from app.store.sqlite import SqliteStore
from tests.support.factories import TEST_KEK
from tests.support.keys import SHORT, FakeClock, KeyRig, make_rig

T0 = 1_000_000.0
PUBLISH_AT = T0 + SHORT.rotation_interval - SHORT.publish_lead - MARGIN
ACTIVATE_AT = T0 + SHORT.rotation_interval
REMOVE_AT = ACTIVATE_AT + SHORT.retire_hold + MARGIN


def jwks_kids(rig: KeyRig) -> set[str]:
    return {key["kid"] for key in json.loads(rig.keyring.load().jwks_body)["keys"]}


def assert_one_active(rig: KeyRig) -> None:
    assert len(rig.by_state("active")) == 1


def step(rig: KeyRig, at: float) -> tuple[str, ...]:
    rig.clock.now = at
    return rig.rotator.tick().transitions


def test_a_whole_lifecycle_through_two_rotations(data_dir: Path) -> None:
    rig = make_rig(data_dir, clock=FakeClock(T0))
    assert step(rig, T0) != ()
    first = rig.active()
    assert (first.activates_at, first.retires_at) == (T0, T0 + 100)

    assert step(rig, PUBLISH_AT - 1) == ()
    (published,) = step(rig, PUBLISH_AT)
    assert published.startswith("published")
    (second,) = rig.by_state("published")
    assert second.activates_at == ACTIVATE_AT
    assert jwks_kids(rig) == {first.kid, second.kid}  # in the JWKS a whole lead before it signs
    assert rig.keyring.active.kid == first.kid
    assert_one_active(rig)

    assert step(rig, ACTIVATE_AT - 0.5) == ()
    assert step(rig, ACTIVATE_AT) == (f"activated {second.kid} (publish lead over)",)
    assert rig.keyring.load().active.kid == second.kid
    (retired,) = rig.by_state("retired")
    assert (retired.kid, retired.retires_at, retired.removed_at) == (first.kid, ACTIVATE_AT, REMOVE_AT)
    assert jwks_kids(rig) == {first.kid, second.kid}  # still verifiable during the hold
    assert_one_active(rig)

    assert step(rig, REMOVE_AT - 1) == ()
    assert step(rig, REMOVE_AT) == (f"removed {first.kid} (retire hold over)",)
    assert jwks_kids(rig) == {second.kid}
    removed = next(key for key in rig.store.list_keys() if key.kid == first.kid)
    assert (removed.state, removed.private_key) == ("removed", b"")

    step(rig, ACTIVATE_AT + PUBLISH_AT - T0)
    (third,) = rig.by_state("published")
    step(rig, ACTIVATE_AT + 100)
    assert rig.keyring.load().active.kid == third.kid
    assert rig.keyring.rotations == 2
    assert [key.state for key in rig.store.list_keys()] == ["removed", "retired", "active"]


@pytest.mark.parametrize(
    ("stop_at", "label"),
    [
        (T0 + 1, "active only"),
        (PUBLISH_AT + 1, "published pending"),
        (ACTIVATE_AT + 1, "retired in hold"),
        (REMOVE_AT + 1, "removed"),
    ],
)
def test_a_restart_in_any_state_reaches_the_same_keys(
    data_dir: Path, tmp_path: Path, stop_at: float, label: str
) -> None:
    """One rig runs straight through; the other restarts (a new process) at ``stop_at``."""
    straight = make_rig(tmp_path / "straight", clock=FakeClock(T0))
    restarted = make_rig(data_dir, clock=FakeClock(T0))
    checkpoints = [T0, PUBLISH_AT, ACTIVATE_AT, REMOVE_AT, T0 + 190, T0 + 200, T0 + 300]
    for at in checkpoints:
        if at >= stop_at and restarted.clock.now < stop_at:
            restarted = make_rig(data_dir, clock=FakeClock(stop_at))  # the process died, then came back
        step(straight, at)
        step(restarted, at)
        assert [key.state for key in straight.store.list_keys()] == [
            key.state for key in restarted.store.list_keys()
        ], (
            label,
            at,
        )
        assert_one_active(restarted)
        restarted.keyring.load()  # the restarted process can decrypt and sign with what is active


def test_an_emergency_rotation_activates_a_new_key_at_once(data_dir: Path) -> None:
    rig = make_rig(data_dir, clock=FakeClock(T0))
    step(rig, T0)
    step(rig, PUBLISH_AT)
    old, pending = rig.active(), rig.by_state("published")[0]
    rig.clock.now = PUBLISH_AT + 1
    applied = rig.rotator.rotate(immediately=True)
    assert applied.transitions[0].startswith("created and activated")
    new = rig.active()
    assert new.kid not in (old.kid, pending.kid)
    assert rig.states()[old.kid] == "retired"  # tokens it signed still verify
    assert rig.states()[pending.kid] == "removed"
    assert jwks_kids(rig) == {old.kid, new.kid}
    assert rig.keyring.active.kid == new.kid


def test_an_operator_rotation_goes_through_the_publish_lead_plus_pickup(data_dir: Path) -> None:
    rig = make_rig(data_dir, clock=FakeClock(T0))
    step(rig, T0)
    rig.clock.now = T0 + 5
    (line,) = rig.rotator.rotate().transitions
    assert "rotation requested by an operator" in line
    (pending,) = rig.by_state("published")
    assert pending.activates_at is not None
    assert pending.activates_at >= T0 + 5 + SHORT.publish_lead + 2  # 2 = the refresh interval of the rig
    assert rig.rotator.rotate().transitions == ()  # one is already scheduled
    step(rig, pending.activates_at)
    assert rig.active().kid == pending.kid


def test_revoking_the_active_key_replaces_it_at_once(data_dir: Path) -> None:
    rig = make_rig(data_dir, clock=FakeClock(T0))
    step(rig, T0)
    compromised = rig.active()
    rig.clock.now = T0 + 3
    applied = rig.rotator.revoke(compromised.kid)
    assert applied.transitions[0] == f"removed {compromised.kid} (revoked by an operator)"
    assert rig.states()[compromised.kid] == "removed"
    assert compromised.kid not in jwks_kids(rig)
    assert rig.keyring.active.kid != compromised.kid
    assert_one_active(rig)


def test_revoking_the_active_key_promotes_a_published_one(data_dir: Path) -> None:
    rig = make_rig(data_dir, clock=FakeClock(T0))
    step(rig, T0)
    step(rig, PUBLISH_AT)
    (pending,) = rig.by_state("published")
    rig.rotator.revoke(rig.active().kid)
    assert rig.active().kid == pending.kid


def test_revoking_a_published_or_retired_key(data_dir: Path) -> None:
    rig = make_rig(data_dir, clock=FakeClock(T0))
    step(rig, T0)
    step(rig, PUBLISH_AT)
    (pending,) = rig.by_state("published")
    rig.rotator.revoke(pending.kid)
    assert rig.states()[pending.kid] == "removed"
    step(rig, PUBLISH_AT + 1)  # the schedule publishes a replacement
    (replacement,) = rig.by_state("published")
    step(rig, replacement.activates_at or 0)
    (retired,) = rig.by_state("retired")
    rig.rotator.revoke(retired.kid)
    assert retired.kid not in jwks_kids(rig)
    with pytest.raises(NotFound):
        rig.rotator.revoke(retired.kid)
    with pytest.raises(NotFound):
        rig.rotator.revoke("no-such-kid")


def test_an_algorithm_change_is_a_rotation(data_dir: Path) -> None:
    rig = make_rig(data_dir, clock=FakeClock(T0))
    step(rig, T0)
    es256 = rig.active()
    switched = make_rig(data_dir, clock=FakeClock(T0 + 5), alg="RS256")  # restarted with TITAN_JWT_ALGORITHM
    step(switched, T0 + 5)
    (pending,) = switched.by_state("published")
    assert pending.alg == "RS256"
    assert switched.active().kid == es256.kid  # ES256 keeps signing through the lead
    step(switched, pending.activates_at or 0)
    assert (switched.active().kid, switched.active().alg) == (pending.kid, "RS256")
    assert switched.states()[es256.kid] == "retired"
    assert {key["alg"] for key in json.loads(switched.keyring.load().jwks_body)["keys"]} == {"ES256", "RS256"}


def test_rotating_a_file_kek_reseals_every_key(tmp_path: Path) -> None:
    data_dir, kek_file = tmp_path / "data", tmp_path / "kek"
    rig = make_rig(data_dir, clock=FakeClock(T0), kek=None, kek_file=kek_file)
    step(rig, T0)
    step(rig, PUBLISH_AT)
    old_kek = decode_keks(kek_file.read_text(), "file")
    new_kek, generated = rig.rotator.rotate_kek()
    assert generated
    assert decode_keks(kek_file.read_text(), "file") == [new_kek]
    for key in rig.store.list_keys():
        KeySealer([new_kek]).open(key.kid, key.private_key)
        assert not KeySealer(old_kek).can_open(key.private_key)
    restarted = make_rig(data_dir, clock=FakeClock(PUBLISH_AT), kek=None, kek_file=kek_file)
    restarted.keyring.load()
    step(restarted, ACTIVATE_AT)  # the published key still activates under the new KEK
    assert restarted.keyring.load().active.kid == restarted.active().kid


def test_rotating_an_environment_kek_returns_the_new_one(data_dir: Path) -> None:
    rig = make_rig(data_dir, clock=FakeClock(T0))
    step(rig, T0)
    new_kek, generated = rig.rotator.rotate_kek()
    assert generated
    with pytest.raises(ConfigurationError, match="key-encryption key is wrong"):
        make_rig(data_dir, clock=FakeClock(T0)).keyring.load()  # the old value no longer opens them
    make_rig(data_dir, clock=FakeClock(T0), kek=encode_kek(new_kek)).keyring.load()
    both = f"{encode_kek(new_kek)},{TEST_KEK}"
    make_rig(data_dir, clock=FakeClock(T0), kek=both).keyring.load()


class FlakyStore(SqliteStore):
    """Someone else writes between our snapshot and our save, once."""

    def __init__(self, path: Path) -> None:
        super().__init__(path)
        self.interfere = True

    def key_snapshot(self) -> KeySnapshot:
        snapshot = super().key_snapshot()
        if self.interfere:
            self.interfere = False
            self.remove_client("nobody")  # any write moves the generation
        return snapshot


def test_a_conflicting_writer_makes_the_rotator_retry(data_dir: Path) -> None:
    flaky = FlakyStore(data_dir / "titan.sqlite3")
    rig = make_rig(data_dir, clock=FakeClock(T0), store=flaky)
    step(rig, T0)
    assert not flaky.interfere
    assert_one_active(rig)


def test_rotating_to_a_rolled_out_environment_kek(data_dir: Path) -> None:
    rig = make_rig(data_dir, clock=FakeClock(T0))
    step(rig, T0)
    new = encode_kek(bytes(range(100, 132)))
    rolled_out = make_rig(data_dir, clock=FakeClock(T0), kek=f"{new},{TEST_KEK}")
    kek, generated = rolled_out.rotator.rotate_kek()
    assert (encode_kek(kek), generated) == (new, False)
    make_rig(data_dir, clock=FakeClock(T0), kek=new).keyring.load()  # the old KEK is no longer needed

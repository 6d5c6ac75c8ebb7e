"""The key schedule as pure logic: which transition is due for a set of key records at a moment.

States: published (in the JWKS, not signing) -> active (signing) -> retired (in the JWKS, not
signing) -> removed. Every time a decision needs is stored on the records, so any process,
restarted at any point, reaches the same decisions.

- A key is published ``publish_lead`` before it activates, so verifiers that cache the JWKS
  for at most ``TITAN_JWKS_MAX_AGE`` (<= lead) hold it before the first token it signs.
- The active key is replaced ``rotation_interval`` after it activated.
- A retired key stays published ``retire_hold`` (>= max TTL + clock skew) after its last
  signature, so every token it signed expires before it leaves the JWKS.
"""

from __future__ import annotations

import dataclasses
import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Final

from app.store.port import KeyRecord
from settings import Settings

# Seconds added to planned activations and removals, covering the store write and reload.
MARGIN: Final = 1


@dataclass(frozen=True, slots=True)
class Schedule:
    rotation_interval: int
    publish_lead: int
    retire_hold: int

    @classmethod
    def from_settings(cls, settings: Settings) -> Schedule:
        return cls(settings.key_rotation_interval, settings.key_publish_lead, settings.key_retire_hold)


@dataclass(frozen=True, slots=True)
class CreateActive:
    """No key may sign (first start, revoked or emergency): make one and activate it at once."""

    reason: str


@dataclass(frozen=True, slots=True)
class Publish:
    """Put a new key in the JWKS, to activate at ``activates_at``."""

    activates_at: int
    reason: str


@dataclass(frozen=True, slots=True)
class Activate:
    """Make the published key ``kid`` the active one; the previous active key retires."""

    kid: str
    reason: str


@dataclass(frozen=True, slots=True)
class Remove:
    """Take ``kid`` out of the JWKS and wipe its private key."""

    kid: str
    reason: str


Action = CreateActive | Publish | Activate | Remove
KeyFactory = Callable[[str, int], KeyRecord]  # (state, now) -> a new key record


def _stamp(now: float) -> int:
    return math.ceil(now)


def active_key(keys: Sequence[KeyRecord]) -> KeyRecord | None:
    return next((key for key in keys if key.state == "active"), None)


def pending_keys(keys: Sequence[KeyRecord]) -> list[KeyRecord]:
    """Published keys waiting to sign, soonest first."""
    return sorted((key for key in keys if key.state == "published"), key=lambda key: (key.activates_at or 0, key.kid))


def planned_end(active: KeyRecord, schedule: Schedule) -> int:
    return active.retires_at or (active.activates_at or active.created_at) + schedule.rotation_interval


def plan(keys: Sequence[KeyRecord], *, now: float, alg: str, schedule: Schedule) -> list[Action]:
    """The transitions due at ``now``, in the order they must be applied."""
    actions: list[Action] = [
        Remove(key.kid, "retire hold over")
        for key in keys
        if key.state == "retired" and key.removed_at is not None and key.removed_at <= now
    ]
    pending = pending_keys(keys)
    actions += [Remove(key.kid, f"algorithm changed to {alg}") for key in pending if key.alg != alg]
    pending = [key for key in pending if key.alg == alg]
    active = active_key(keys)
    if active is None:
        if pending:
            actions.append(Activate(pending[0].kid, "no active key: promoting the published one"))
        else:
            actions.append(CreateActive("no active key"))
        return actions
    if pending:
        if (pending[0].activates_at or 0) <= now:
            actions.append(Activate(pending[0].kid, "publish lead over"))
    elif active.alg != alg:
        actions.append(Publish(_stamp(now) + schedule.publish_lead + MARGIN, f"algorithm changed to {alg}"))
    elif now >= planned_end(active, schedule) - schedule.publish_lead - MARGIN:
        activates_at = max(planned_end(active, schedule), _stamp(now) + schedule.publish_lead + MARGIN)
        actions.append(Publish(activates_at, "rotation interval"))
    return actions


def next_rotation(keys: Sequence[KeyRecord], schedule: Schedule) -> int | None:
    """When the active key is planned to hand over to the next one."""
    pending = pending_keys(keys)
    if pending:
        return pending[0].activates_at
    active = active_key(keys)
    return None if active is None else planned_end(active, schedule)


def next_due(keys: Sequence[KeyRecord], *, alg: str, schedule: Schedule) -> float | None:
    """The earliest moment a transition will be due, or None when nothing is planned."""
    moments = [key.removed_at for key in keys if key.state == "retired" and key.removed_at is not None]
    pending = [key for key in pending_keys(keys) if key.alg == alg]
    active = active_key(keys)
    if pending:
        moments.append(pending[0].activates_at or 0)
    elif active is not None and active.alg == alg:
        moments.append(planned_end(active, schedule) - schedule.publish_lead - MARGIN)
    return float(min(moments)) if moments else None


def apply(
    keys: Sequence[KeyRecord], action: Action, *, now: float, schedule: Schedule, new_key: KeyFactory
) -> list[KeyRecord]:
    """The records ``action`` changes or creates (pure: ``keys`` is not modified)."""
    stamp = _stamp(now)
    by_kid = {key.kid: key for key in keys}
    active = active_key(keys)

    def retire(key: KeyRecord) -> KeyRecord:
        return dataclasses.replace(
            key, state="retired", retires_at=stamp, removed_at=stamp + schedule.retire_hold + MARGIN
        )

    def activate(key: KeyRecord) -> KeyRecord:
        return dataclasses.replace(
            key,
            state="active",
            activates_at=stamp,
            retires_at=stamp + schedule.rotation_interval,
            removed_at=None,
        )

    match action:
        case Remove(kid=kid):
            return [dataclasses.replace(by_kid[kid], state="removed", removed_at=stamp, private_key=b"")]
        case Activate(kid=kid):
            changes = [activate(by_kid[kid])]
            return changes if active is None else [retire(active), *changes]
        case Publish(activates_at=activates_at):
            published = dataclasses.replace(new_key("published", stamp), activates_at=activates_at)
            changes = [published]
            if active is not None:
                changes.append(dataclasses.replace(active, retires_at=activates_at))
            return changes
        case CreateActive():
            changes = [retire(active)] if active is not None else []
            changes += [
                dataclasses.replace(key, state="removed", removed_at=stamp, private_key=b"")
                for key in pending_keys(keys)
            ]
            changes.append(activate(new_key("active", stamp)))
            return changes
    raise AssertionError(f"unknown action {action!r}")  # pragma: no cover


def merge(keys: Sequence[KeyRecord], changes: Sequence[KeyRecord]) -> list[KeyRecord]:
    """``keys`` with ``changes`` applied by kid; new kids appended."""
    changed = {key.kid: key for key in changes}
    merged = [changed.pop(key.kid, key) for key in keys]
    return merged + list(changed.values())

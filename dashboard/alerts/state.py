"""The alert state machine, pure: one observation in, the instance's next state and the event to send out."""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import datetime, timedelta

OK, PENDING, FIRING, RESOLVED = "ok", "pending", "firing", "resolved"
ACTIVE = (PENDING, FIRING)


@dataclass(frozen=True)
class Instance:
    state: str = OK
    episode: int = 0
    started: datetime | None = None
    fired: datetime | None = None
    ended: datetime | None = None
    ok_since: datetime | None = None
    value: float | None = None
    held: bool = False  # resolved by hand while still breaching: stays resolved until the breach clears once


@dataclass(frozen=True)
class Timing:
    for_s: int = 0  # breaching this long before it fires
    clear_s: int = 0  # within limits this long before a firing alert resolves


def breaching(value: float | None, threshold: float, below: bool, band: float, active: bool) -> bool:
    """Whether ``value`` is below ``threshold`` (``below``) or at least ``threshold``; an active alert must come back
    past the band to count as clear.

    ``band`` is relative (0.02: 2 % of the threshold), so a value hovering at the threshold does not flap."""
    if value is None or value != value:  # no number (no planned time, no reading): nothing to say
        return False
    margin = abs(threshold) * band if active else 0.0
    return value < threshold + margin if below else value >= threshold - margin


def step(inst: Instance, breach: bool, value: float | None, at: datetime, t: Timing) -> tuple[Instance, str | None]:
    """The next state after one observation at ``at``, and 'firing' or 'resolved' when a message is due."""
    if inst.held:
        return (inst, None) if breach else (replace(inst, held=False, value=value), None)
    if inst.state in (OK, RESOLVED):
        if not breach:
            return inst, None
        started = replace(
            inst, state=PENDING, episode=inst.episode + 1, started=at, fired=None, ended=None, ok_since=None, value=value
        )
        return _fire_if_due(started, at, t)
    if inst.state == PENDING:
        if not breach:  # it never fired: back to quiet, and nobody was told
            return replace(inst, state=OK, started=None, value=value), None
        return _fire_if_due(replace(inst, value=value), at, t)
    # FIRING
    if breach:
        return replace(inst, ok_since=None, value=value), None
    ok_since = inst.ok_since or at
    if at - ok_since >= timedelta(seconds=t.clear_s):
        return replace(inst, state=RESOLVED, ended=at, ok_since=None, value=value), "resolved"
    return replace(inst, ok_since=ok_since, value=value), None


def _fire_if_due(inst: Instance, at: datetime, t: Timing) -> tuple[Instance, str | None]:
    assert inst.started is not None
    if at - inst.started >= timedelta(seconds=t.for_s):
        return replace(inst, state=FIRING, fired=at), "firing"
    return inst, None


def resolve_by_hand(inst: Instance, at: datetime) -> tuple[Instance, str | None]:
    """A person closes a firing or pending alert; if the breach goes on, the next evaluation starts a new episode."""
    if inst.state not in ACTIVE:
        return inst, None
    event = "resolved" if inst.state == FIRING else None
    return replace(inst, state=RESOLVED, ended=at, ok_since=None, held=True), event

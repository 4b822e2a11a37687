"""The alert state machine on its own: pending, firing, resolved, the 'for' and clear periods, bands, by hand."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from dashboard.alerts.state import FIRING, OK, PENDING, RESOLVED, Instance, Timing, breaching, resolve_by_hand, step

T = datetime(2026, 1, 1, tzinfo=UTC)


def run(breaches: list[bool], timing: Timing) -> tuple[list[str], list[tuple[int, str]]]:
    """Feed one observation a minute; the state after each and the (minute, event) pairs."""
    inst, states, events = Instance(), [], []
    for minute, b in enumerate(breaches):
        inst, event = step(inst, b, 1.0 if b else 0.0, T + timedelta(minutes=minute), timing)
        states.append(inst.state)
        if event:
            events.append((minute, event))
    return states, events


@pytest.mark.parametrize(
    "pattern, timing, states, events",
    [
        ("..##..", Timing(), "ooffrr", [(2, "firing"), (4, "resolved")]),
        # 'for' 2 minutes: pending at 1 and 2, firing at 3 (two minutes after the first breach)
        (".####.", Timing(for_s=120), "oppffr", [(3, "firing"), (5, "resolved")]),
        # a breach shorter than 'for' never fires and tells nobody
        (".##...", Timing(for_s=180), "oppooo", []),
        # clear 2 minutes: resolved only after two minutes within limits
        ("##....", Timing(clear_s=120), "ffffrr", [(0, "firing"), (4, "resolved")]),
        # a breach inside the clear period keeps the same alert
        ("##.#..#....", Timing(clear_s=120), "fffffffffrr", [(0, "firing"), (9, "resolved")]),
    ],
)
def test_states_and_events_by_hand(pattern, timing, states, events):
    got_states, got_events = run([c == "#" for c in pattern], timing)
    letter = {OK: "o", PENDING: "p", FIRING: "f", RESOLVED: "r"}
    assert "".join(letter[s] for s in got_states) == states
    assert got_events == events


def test_flapping_input_gives_one_alert_not_ten():
    flapping = [True] * 3 + [True, False] * 10 + [False] * 5  # fires at 0, then at every other minute from 5 to 21
    _, plain = run(flapping, Timing())
    _, held = run(flapping, Timing(clear_s=180))
    assert sum(e == "firing" for _, e in plain) == 10
    assert [e for _, e in held] == ["firing", "resolved"]


def test_a_new_breach_after_resolution_is_a_new_episode():
    inst = Instance()
    for minute, b in enumerate([True, False, True]):
        inst, _ = step(inst, b, 1.0, T + timedelta(minutes=minute), Timing())
    assert (inst.state, inst.episode, inst.started) == (FIRING, 2, T + timedelta(minutes=2))


@pytest.mark.parametrize(
    "value, threshold, below, band, active, expected",
    [
        (0.59, 0.6, True, 0.0, False, True),
        (0.60, 0.6, True, 0.0, False, False),  # 'below' is strict
        (0.62, 0.6, True, 0.05, True, True),  # active: must climb past 0.63 to clear
        (0.62, 0.6, True, 0.05, False, False),  # not active: the band does not apply
        (600, 600, False, 0.0, False, True),  # durations count from 'at least'
        (599, 600, False, 0.0, False, False),
        (580, 600, False, 0.05, True, True),
        (None, 0.6, True, 0.0, True, False),  # no number: nothing to say
        (float("nan"), 0.6, True, 0.0, False, False),
        (float("inf"), 600, False, 0.0, False, True),  # a machine that never sent data
    ],
)
def test_breaching(value, threshold, below, band, active, expected):
    assert breaching(value, threshold, below, band, active) is expected


def test_resolve_by_hand_holds_until_the_breach_clears_once():
    inst, _ = step(Instance(), True, 1.0, T, Timing())
    inst, event = resolve_by_hand(inst, T + timedelta(minutes=1))
    assert (inst.state, event) == (RESOLVED, "resolved")
    inst, event = step(inst, True, 1.0, T + timedelta(minutes=2), Timing())
    assert (inst.state, event) == (RESOLVED, None)  # still breaching: the person said it is handled
    inst, _ = step(inst, False, 0.0, T + timedelta(minutes=3), Timing())
    inst, event = step(inst, True, 1.0, T + timedelta(minutes=4), Timing())
    assert (inst.state, inst.episode, event) == (FIRING, 2, "firing")

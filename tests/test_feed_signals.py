"""The feed's pure part: topics and payloads, the shift calendar, counters, and minutes worked out by hand."""

from __future__ import annotations

import json
import random
from datetime import UTC, datetime, time

import pytest

from dashboard.feed import messages
from dashboard.feed.calendar import Calendar
from dashboard.feed.messages import Count, Rejected, State
from dashboard.feed.signals import MachineInfo, counter_delta
from dashboard.feed.tracker import Tracker

T0 = datetime(2026, 1, 5, 6, 0, tzinfo=UTC)  # a Monday, 06:00 UTC: the shift has just begun
MS0 = round(T0.timestamp() * 1000)
INFO = MachineInfo("M1", "L1", "P1", 2.0, Calendar("UTC", ((time(6), 8.0),)), {"temperature": 11})


def ms(minute: int, second: float = 0) -> int:
    return MS0 + round((minute * 60 + second) * 1000)


def topic(signal: str, machine: str = "M1", line: str = "L1", plant: str = "P1") -> str:
    return f"plants/{plant}/{line}/{machine}/{signal}"


def state(minute: int, second: float, st: str, reason: str = "") -> tuple[str, bytes]:
    return topic("state"), json.dumps({"ts": ms(minute, second) / 1000, "state": st, "reason": reason}).encode()


def count(minute: int, second: float, total: int, good: int) -> tuple[str, bytes]:
    return topic("count"), json.dumps({"ts": ms(minute, second) / 1000, "total": total, "good": good}).encode()


# Five minutes of one machine (ideal cycle 2 s) and what they must give, worked out by hand:
#   06:00 running all minute                                  planned 60 run 60  parts 110-100=10, good 108-99=9
#   06:01 down (jam) from 06:01:30                             planned 60 run 30  parts 6, good 5
#   06:02 running again from 06:02:15                          planned 60 run 45  parts 4, good 4
#   06:03 counter reset to 0 at some point: it reads 5         planned 60 run 60  parts 5, good 5
#   06:04 planned stop 06:04:00-06:04:45, then running         planned 15 run 15  parts 4, good 4
SCRIPT = [
    state(0, 0, "running"),
    count(0, 0, 100, 99),
    count(0, 59, 110, 108),
    state(1, 30, "down", "jam"),
    count(1, 59, 116, 113),
    state(2, 15, "running"),
    count(2, 59, 120, 117),
    count(3, 59, 5, 5),
    state(4, 0, "planned_stop"),
    state(4, 45, "running"),
    count(4, 59, 9, 9),
]
ROWS = {
    ms(0): (60.0, 60.0, 10, 9),
    ms(1): (60.0, 30.0, 6, 5),
    ms(2): (60.0, 45.0, 4, 4),
    ms(3): (60.0, 60.0, 5, 5),
    ms(4): (15.0, 15.0, 4, 4),
}
EVENTS = {ms(1, 30): (ms(2, 15), "jam")}


def tracker() -> Tracker:
    return Tracker({"M1": INFO}, frozenset({"jam", "unknown"}), late_ms=3_600_000)


def apply(batches: list, rows: dict, events: dict) -> None:
    """What the tables hold after writing ``batches`` in order (upserts, and deletes of undone events)."""
    for b in batches:
        for m, minute, planned, run, total, good, cycle in b.production:
            assert (m, cycle) == ("M1", 2.0)
            rows[minute] = (planned, run, total, good)
        for _, start in b.dropped:
            events.pop(start)
        for _, start, end, reason in b.downtime:
            events[start] = (end, reason)


def test_counter_delta_counts_resets_and_rollovers():
    assert counter_delta(10, 15) == 5
    assert counter_delta(500, 3) == 3  # reset: counting began again from zero
    assert counter_delta(65530, 4) == 10  # a 16-bit counter wrapped: 6 to the top, then 4
    assert counter_delta(2**32 - 2, 1) == 3
    assert counter_delta(40000, 5) == 5  # far from the top of any range: a reset, not a wrap


def test_an_hour_in_order_gives_the_hand_worked_minutes_and_events():
    tr = tracker()
    for t, p in SCRIPT:
        assert tr.receive(t, p, ms(5)) is None
    rows, events = {}, {}
    apply([tr.flush(ms(5, 2))], rows, events)
    assert rows == ROWS
    assert events == EVENTS


def test_shuffled_repeated_and_late_messages_give_the_same_rows():
    rnd = random.Random(7)
    script = SCRIPT + rnd.sample(SCRIPT, 4)  # duplicates
    rnd.shuffle(script)
    tr = tracker()
    rows, events, batches = {}, {}, []
    for i, (t, p) in enumerate(script):
        assert tr.receive(t, p, ms(5)) is None
        if i % 3 == 2:  # minutes are written part way, then corrected by what comes after
            batches.append(tr.flush(ms(5, 2)))
    batches.append(tr.flush(ms(5, 2)))
    apply(batches, rows, events)
    assert rows == ROWS
    assert events == EVENTS


def test_a_late_stop_corrects_a_written_minute_and_adds_its_event():
    tr = tracker()
    for t, p in SCRIPT:
        tr.receive(t, p, ms(5))
    rows, events = {}, {}
    apply([tr.flush(ms(5, 2))], rows, events)
    tr.receive(*state(3, 30, "idle", "jam"), ms(6))
    tr.receive(*state(3, 40, "running"), ms(6))
    late = tr.flush(ms(6, 2))
    apply([late], rows, events)
    assert rows[ms(3)] == (60.0, 50.0, 5, 5)
    assert {r[1] for r in late.production} == {ms(3), ms(4), ms(5)}  # from the late minute on, nothing before
    assert events == EVENTS | {ms(3, 30): (ms(3, 40), "jam")}


def test_a_late_earlier_start_moves_an_event_and_removes_the_old_one():
    tr = tracker()
    for t, p in SCRIPT:
        tr.receive(t, p, ms(5))
    rows, events = {}, {}
    apply([tr.flush(ms(5, 2))], rows, events)
    tr.receive(*state(1, 10, "down", "jam"), ms(6))
    b = tr.flush(ms(6, 2))
    assert b.dropped == [("M1", ms(1, 30))]
    apply([b], rows, events)
    assert events == {ms(1, 10): (ms(2, 15), "jam")}
    assert rows[ms(1)] == (60.0, 10.0, 6, 5)


def test_a_duplicate_changes_nothing():
    tr = tracker()
    for t, p in SCRIPT:
        tr.receive(t, p, ms(5))
    tr.flush(ms(5, 2))
    for t, p in SCRIPT:
        tr.receive(t, p, ms(5, 3))
    b = tr.flush(ms(5, 3))
    assert len(b) == 0


def test_a_silent_running_machine_gets_its_minutes_as_time_passes():
    tr = tracker()
    tr.receive(*state(0, 0, "running"), ms(0, 1))
    b = tr.flush(ms(3, 1))  # 06:03:01 is within the grace: 06:02 is not written yet
    assert [(r[1], r[2], r[3]) for r in b.production] == [(ms(0), 60.0, 60.0), (ms(1), 60.0, 60.0)]
    b = tr.flush(ms(3, 2))
    assert [r[1] for r in b.production] == [ms(2)]


def test_shift_calendar_and_planned_stops():
    # Shift 06:00-14:00 UTC. The machine, state unknown until then, runs from 13:59:30 past the shift's end:
    # 13:59 is planned whole with 30 s run; 14:00 is not planned and has no parts, so it has no row.
    tr = tracker()
    tr.receive(*state(479, 30, "running"), ms(481))
    b = tr.flush(ms(481, 2))
    assert [(r[1], r[2], r[3]) for r in b.production] == [(ms(479), 60.0, 30.0)]
    # A planned stop (a break) inside the shift takes its time out of planned time.
    tr = tracker()
    tr.receive(*state(10, 0, "running"), ms(12))
    tr.receive(*state(10, 20, "planned_stop"), ms(12))
    tr.receive(*state(11, 50, "running"), ms(12))
    b = tr.flush(ms(12, 2))
    assert [(r[1], r[2], r[3]) for r in b.production] == [(ms(10), 20.0, 20.0), (ms(11), 10.0, 10.0)]
    assert b.downtime == []


def test_calendar_follows_the_plants_clock_over_dst():
    cal = Calendar("America/Detroit", ((time(22), 8.0),))  # a night shift, 22:00-06:00 local
    a = round(datetime(2026, 3, 8, tzinfo=UTC).timestamp() * 1000)
    b = round(datetime(2026, 3, 9, 4, tzinfo=UTC).timestamp() * 1000)
    h = 3_600_000
    # Sat 22:00 EST = 03:00Z Sun; Sun 22:00 EDT = 02:00Z Mon: the clock moved in between.
    assert cal.intervals(a, b) == [(a + 3 * h, a + 11 * h), (a + 26 * h, b)]


@pytest.mark.parametrize(
    "topic_, payload, why",
    [
        ("plants/P1/L1/M1/state", b"{not json", messages.MALFORMED),
        ("plants/P1/L1/M1/state", b'["running"]', messages.MALFORMED),
        ("plants/P1/L1/M1/state", b'{"ts": 1767592800, "state": "dancing"}', messages.MALFORMED),
        ("plants/P1/L1/M1/state", b'{"state": "running"}', messages.MALFORMED),
        ("plants/P1/L1/M1/state", b'{"ts": "2026-01-05 06:00", "state": "running"}', messages.MALFORMED),
        ("plants/P1/L1/M1/count", b'{"ts": 1767592800, "total": -1, "good": 0}', messages.IMPOSSIBLE),
        ("plants/P1/L1/M1/count", b'{"ts": 1767592800, "total": "5", "good": 0}', messages.MALFORMED),
        ("plants/P1/L1/M1/sensors/temperature", b'{"ts": 1767592800, "value": NaN}', messages.IMPOSSIBLE),
        ("plants/P1/L1/M1/sensors/temperature", b'{"ts": 1767592800, "value": true}', messages.MALFORMED),
        ("plants/P1/L1/M1/sensors/temperature", b'{"ts": -5, "value": 1}', messages.IMPOSSIBLE),
        ("plants/P1/L1/M1", b"{}", messages.TOPIC),
        ("site/P1/L1/M1/state", b"{}", messages.TOPIC),
        ("plants/P1/L1/M9/state", b'{"ts": 1767592800, "state": "running"}', messages.UNKNOWN_MACHINE),
        ("plants/P1/L2/M1/state", b'{"ts": 1767592800, "state": "running"}', messages.UNKNOWN_MACHINE),
        ("plants/P1/L1/M1/sensors/pressure", b'{"ts": 1767592800, "value": 1}', messages.UNKNOWN_MACHINE),
        ("plants/P1/L1/M1/state", b'{"ts": 1767589199, "state": "running"}', messages.TOO_LATE),
        ("plants/P1/L1/M1/state", b'{"ts": 1767593101, "state": "running"}', messages.IMPOSSIBLE),
    ],
)
def test_bad_messages_are_counted_by_reason_and_change_nothing(topic_, payload, why):
    tr = tracker()
    assert tr.receive(topic_, payload, MS0) == why
    assert tr.rejected == {why: 1}
    assert len(tr.flush(MS0 + 10_000)) == 0


def test_an_unknown_reason_is_kept_as_unknown_and_times_take_iso_or_epoch():
    _, sig = messages.parse(
        "plants/P1/L1/M1/state",
        b'{"ts": "2026-01-05T07:00:00+01:00", "state": "down", "reason": "gremlins"}',
        frozenset({"jam", "unknown"}),
    )
    assert sig == State("M1", MS0, "down", "unknown")
    _, sig = messages.parse("plants/P1/L1/M1/count", b'{"ts": 1767592800.5, "total": 3, "good": 2}')
    assert sig == Count("M1", MS0 + 500, 3, 2)
    with pytest.raises(Rejected):
        messages.parse("plants/P1/L1/M1/count", b"{" + b" " * 5000 + b"}")


def test_readings_become_telemetry_keyed_by_sensor():
    tr = tracker()
    tr.receive(topic("sensors/temperature"), b'{"ts": 1767592800.25, "value": 61.5}', MS0)
    tr.receive(topic("sensors/temperature"), b'{"ts": 1767592800.25, "value": 61.5}', MS0)  # repeated
    assert tr.flush(MS0).telemetry == {(11, MS0 + 250): 61.5}

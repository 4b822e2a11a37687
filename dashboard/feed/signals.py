"""One machine's states and counters, as they arrive in any order, into per-minute production rows and downtime events."""

from __future__ import annotations

import bisect
from dataclasses import dataclass, field

from dashboard.feed.calendar import Calendar
from dashboard.feed.messages import Count, State

MINUTE = 60_000
GRACE_MS = 2_000  # a minute is written this long after it ends, so its last counter message can arrive first
ROLLOVER = (2**16, 2**31, 2**32, 2**63)  # where PLC counters wrap
STOPPED = ("down", "idle")  # states that are downtime events; planned_stop is not lost time


def counter_delta(prev: int, new: int) -> int:
    """Parts counted between two readings of a cumulative counter. A counter near the top of its range that
    comes back small has wrapped; any other drop is a reset, after which it counted ``new`` parts from zero."""
    if new >= prev:
        return new - prev
    for top in ROLLOVER:
        if prev < top:
            if prev >= 0.9 * top and new < 0.1 * top:
                return new + top - prev
            break
    return new


@dataclass(frozen=True)
class MachineInfo:
    machine_id: str
    line_id: str
    plant_id: str
    ideal_cycle_s: float
    calendar: Calendar
    sensors: dict[str, int] = field(default_factory=dict)  # kind -> sensor_id


@dataclass
class Output:
    """What one machine has to write: production rows, downtime events to upsert, event starts to delete."""

    # (machine, minute_ms, planned_s, run_s, total, good, ideal_cycle_s)
    rows: list[tuple] = field(default_factory=list)
    events: list[tuple] = field(default_factory=list)  # (machine, start_ms, end_ms, reason)
    dropped_events: list[tuple] = field(default_factory=list)  # (machine, start_ms)
    clamped: int = 0  # minutes whose good count was more than the total (counters that disagree)


class MachineSignals:
    """Signals of one machine kept sorted by time; minutes are (re)computed from them, so a late or repeated
    message gives the same rows as if everything had arrived in order."""

    def __init__(self, info: MachineInfo) -> None:
        self.info = info
        self.states: list[tuple[int, str, str]] = []  # (ts_ms, state, reason)
        self.counts: list[tuple[int, int, int]] = []  # (ts_ms, total, good)
        self.dirty_from: int | None = None  # earliest minute a new signal touched
        self.done_until: int | None = None  # minutes before this have been computed
        self.written: set[int] = set()  # minutes that have a production row
        self.events: dict[int, tuple[int, str]] = {}  # start_ms -> (end_ms, reason) as last written
        self.states_changed = False

    def add(self, sig: State | Count) -> bool:
        """Keep ``sig``; False when it repeats what is known (a duplicate changes nothing)."""
        if isinstance(sig, State):
            changed = _put(self.states, (sig.ts_ms, sig.state, sig.reason))
            self.states_changed |= changed
        else:
            changed = _put(self.counts, (sig.ts_ms, sig.total, sig.good))
        if changed:
            minute = sig.ts_ms - sig.ts_ms % MINUTE
            self.dirty_from = minute if self.dirty_from is None else min(self.dirty_from, minute)
        return changed

    def first_ms(self) -> int | None:
        firsts = [s[0][0] for s in (self.states, self.counts) if s]
        return min(firsts) if firsts else None

    def close(self, now_ms: int, floor_ms: int) -> Output:
        """Compute every minute that ended before ``now_ms`` (less the grace) and is new or touched by a new
        signal, never before ``floor_ms`` (the late horizon); and the downtime events that have ended."""
        out = Output()
        end = (now_ms - GRACE_MS) // MINUTE * MINUTE
        first = self.first_ms()
        if first is None:
            return out
        start = first - first % MINUTE if self.done_until is None else self.done_until
        if self.dirty_from is not None:
            start = min(start, self.dirty_from)
        start = max(start, floor_ms - floor_ms % MINUTE)
        if start < end:
            self._minutes(start, end, out)
            self.done_until = end
            self.dirty_from = None if self.dirty_from is None or self.dirty_from < end else self.dirty_from
        if self.states_changed:
            self._events(floor_ms, out)
            self.states_changed = False
        return out

    def _minutes(self, a: int, b: int, out: Output) -> None:
        n = (b - a) // MINUTE
        planned, run = [0] * n, [0] * n
        plan = self.info.calendar.intervals(a, b)
        for s, e, state in self._segments(a, b):
            for ps, pe in plan:  # the part of [s, e) inside planned shift time
                lo, hi = max(s, ps), min(e, pe)
                while lo < hi:
                    i = (lo - a) // MINUTE
                    cut = min(hi, a + (i + 1) * MINUTE)
                    if state != "planned_stop":
                        planned[i] += cut - lo
                        if state == "running":
                            run[i] += cut - lo
                    lo = cut
        total, good = self._counts(a, b, n)
        m = self.info.machine_id
        for i in range(n):
            minute = a + i * MINUTE
            if planned[i] or total[i] or minute in self.written:
                g = good[i]
                if g > total[i]:
                    out.clamped += 1
                    g = total[i]
                out.rows.append((m, minute, planned[i] / 1000, run[i] / 1000, total[i], g, self.info.ideal_cycle_s))
                self.written.add(minute)

    def _segments(self, a: int, b: int) -> list[tuple[int, int, str | None]]:
        """[start, end, state) pieces covering [a, b); None before the first known state."""
        i = bisect.bisect_right(self.states, (a, "\uffff"))
        state = self.states[i - 1][1] if i else None
        pieces, at = [], a
        for ts, st, _ in self.states[i:]:
            if ts >= b:
                break
            if ts > at:
                pieces.append((at, ts, state))
                at = ts
            state = st
        pieces.append((at, b, state))
        return pieces

    def _counts(self, a: int, b: int, n: int) -> tuple[list[int], list[int]]:
        total, good = [0] * n, [0] * n
        i = bisect.bisect_left(self.counts, (a,))
        for j in range(max(i, 1), len(self.counts)):
            ts, t, g = self.counts[j]
            if ts >= b:
                break
            _, pt, pg = self.counts[j - 1]
            k = (ts - a) // MINUTE
            total[k] += counter_delta(pt, t)
            good[k] += counter_delta(pg, g)
        return total, good

    def _events(self, floor_ms: int, out: Output) -> None:
        """Stretches of down or idle with one reason, each ended by the next different state."""
        now: dict[int, tuple[int, str]] = {}
        open_at: tuple[int, str, str] | None = None
        for ts, st, reason in self.states:
            if open_at and (st, reason) != open_at[1:]:
                now[open_at[0]] = (ts, open_at[2])
                open_at = None
            if st in STOPPED and open_at is None:
                open_at = (ts, st, reason)
        m = self.info.machine_id
        for start, (end, reason) in now.items():
            if end > floor_ms and self.events.get(start) != (end, reason):
                out.events.append((m, start, end, reason))
        for start in [s for s in self.events if s not in now]:
            if self.events[start][0] > floor_ms:
                out.dropped_events.append((m, start))
            del self.events[start]
        self.events.update(now)

    def prune(self, before_ms: int) -> None:
        """Forget what lies before ``before_ms``, keeping the last state and counter reading before it."""
        i = bisect.bisect_left(self.counts, (before_ms,))
        del self.counts[: max(i - 1, 0)]
        # The state in force at ``before_ms`` is kept from the first of its repeats: that is where its event began.
        j = bisect.bisect_left(self.states, (before_ms,)) - 1
        while j > 0 and self.states[j - 1][1:] == self.states[j][1:]:
            j -= 1
        del self.states[: max(j, 0)]
        self.written = {m for m in self.written if m >= before_ms}
        self.events = {s: v for s, v in self.events.items() if v[0] >= before_ms}


def _put(seq: list[tuple], item: tuple) -> bool:
    """Insert by time; an item at a time already held replaces it (a correction) unless equal (a duplicate)."""
    i = bisect.bisect_left(seq, (item[0],))
    if i < len(seq) and seq[i][0] == item[0]:
        if seq[i] == item:
            return False
        seq[i] = item
        return True
    seq.insert(i, item)
    return True

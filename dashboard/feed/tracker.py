"""Messages in, batches of rows out: checks each message against the known machines and the late horizon, and
turns what passes into production rows, downtime events and telemetry. Pure: no broker, no database."""

from __future__ import annotations

import logging
import time
from collections import Counter
from dataclasses import dataclass, field

from dashboard.feed import messages
from dashboard.feed.messages import Count, Reading, Rejected, State
from dashboard.feed.signals import GRACE_MS, MINUTE, MachineInfo, MachineSignals

log = logging.getLogger(__name__)
FUTURE_MS = 300_000  # a clock this far ahead of ours is wrong, not early


@dataclass
class Batch:
    production: list[tuple] = field(default_factory=list)  # (machine, minute_ms, planned_s, run_s, total, good, cycle)
    downtime: list[tuple] = field(default_factory=list)  # (machine, start_ms, end_ms, reason)
    dropped: list[tuple] = field(default_factory=list)  # (machine, start_ms): events a later message undid
    telemetry: dict[tuple[int, int], float] = field(default_factory=dict)  # (sensor_id, ts_ms) -> value
    signals: list[State | Count] = field(default_factory=list)  # kept, so a restarted feed can go on

    def __len__(self) -> int:
        return len(self.production) + len(self.downtime) + len(self.dropped) + len(self.telemetry) + len(self.signals)


class Tracker:
    def __init__(self, machines: dict[str, MachineInfo], reasons: frozenset[str], late_ms: int) -> None:
        self.machines = {m: MachineSignals(info) for m, info in machines.items()}
        self.reasons = reasons
        self.late_ms = late_ms
        self.rejected: Counter = Counter()
        self.accepted = 0
        self._pending = Batch()
        self._logged = _Throttle()

    def receive(self, topic: str, payload: bytes, now_ms: int) -> str | None:
        """Take one message; return why it was refused (also counted and logged with its topic), or None."""
        try:
            addr, sig = messages.parse(topic, payload, self.reasons)
            self._check(addr, sig, now_ms)
        except Rejected as exc:
            self.rejected[exc.why] += 1
            self._logged.warn(exc.why, "feed refused %s (%s): %s", topic[:200], exc.why, exc)
            return exc.why
        self.accepted += 1
        if isinstance(sig, Reading):
            sensor = self.machines[sig.machine_id].info.sensors[sig.kind]
            self._pending.telemetry[(sensor, sig.ts_ms)] = sig.value
        elif self.machines[sig.machine_id].add(sig):
            self._pending.signals.append(sig)
        return None

    def _check(self, addr: messages.Address, sig: messages.Signal, now_ms: int) -> None:
        ms = self.machines.get(addr.machine)
        if ms is None or (ms.info.plant_id, ms.info.line_id) != (addr.plant, addr.line):
            raise Rejected(messages.UNKNOWN_MACHINE, f"no machine {addr.machine} on line {addr.line} of {addr.plant}")
        if isinstance(sig, Reading) and sig.kind not in ms.info.sensors:
            raise Rejected(messages.UNKNOWN_MACHINE, f"machine {addr.machine} has no {sig.kind} sensor")
        if sig.ts_ms < now_ms - self.late_ms:
            raise Rejected(messages.TOO_LATE, f"{(now_ms - sig.ts_ms) / 1000:.0f} s old, past the late horizon")
        if sig.ts_ms > now_ms + FUTURE_MS:
            raise Rejected(messages.IMPOSSIBLE, f"{(sig.ts_ms - now_ms) / 1000:.0f} s in the future")

    def restore(
        self, signals: list[State | Count], written: dict[str, set[int]], events: dict[str, dict], now_ms: int
    ) -> None:
        """What a previous run kept: its signals within the horizon, the minutes and events it wrote. Minutes up to
        ``now_ms`` stay as they are until a new message touches them: while the feed was away they may have been
        written by another road (the demo's backfill), and messages held for it by the broker say what changed."""
        for sig in signals:
            if sig.machine_id in self.machines:
                self.machines[sig.machine_id].add(sig)
        for ms in self.machines.values():
            ms.dirty_from, ms.states_changed = None, False
            ms.done_until = (now_ms - GRACE_MS) // MINUTE * MINUTE
        for m, minutes in written.items():
            if m in self.machines:
                self.machines[m].written |= minutes
        for m, evs in events.items():
            if m in self.machines:
                self.machines[m].events.update(evs)

    def flush(self, now_ms: int) -> Batch:
        """Everything to write now: new telemetry and signals, and the minutes and events they settle."""
        batch, self._pending = self._pending, Batch()
        floor = now_ms - self.late_ms
        for ms in self.machines.values():
            out = ms.close(now_ms, floor)
            batch.production += out.rows
            batch.downtime += out.events
            batch.dropped += out.dropped_events
            if out.clamped:
                self.rejected[messages.IMPOSSIBLE] += out.clamped
                self._logged.warn(
                    "clamped",
                    "feed: %s counted more good parts than parts in %d minute(s)",
                    ms.info.machine_id,
                    out.clamped,
                )
            ms.prune(floor - MINUTE)
        return batch


class _Throttle:
    """Log at most a few lines per reason every 10 s, then how many more there were."""

    def __init__(self, per_window: int = 5, window_s: float = 10.0) -> None:
        self.per_window, self.window_s = per_window, window_s
        self.seen: Counter = Counter()
        self.since = time.monotonic()

    def warn(self, key: str, fmt: str, *args: object) -> None:
        now = time.monotonic()
        if now - self.since > self.window_s:
            extra = {k: n - self.per_window for k, n in self.seen.items() if n > self.per_window}
            if extra:
                log.warning("feed: %s more refused in the last %.0f s", extra, now - self.since)
            self.seen.clear()
            self.since = now
        self.seen[key] += 1
        if self.seen[key] <= self.per_window:
            log.warning(fmt, *args)

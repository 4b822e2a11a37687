"""A plant's shift calendar as planned intervals in UTC milliseconds, following its own time zone (DST included)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

DAY_MS = 86_400_000


@dataclass(frozen=True)
class Calendar:
    """Shifts start at a plant-local wall-clock time every day and last ``hours``; planned stops inside them
    (breaks, days off) come from the machines' ``planned_stop`` state."""

    tz: str
    shifts: tuple[tuple[time, float], ...]  # (local start, hours)

    def intervals(self, a_ms: int, b_ms: int) -> list[tuple[int, int]]:
        """Planned [start, end) intervals overlapping [a_ms, b_ms), clipped to it, merged and sorted."""
        zone = ZoneInfo(self.tz)
        longest = max((h for _, h in self.shifts), default=0)
        first = datetime.fromtimestamp(a_ms / 1000, zone).date() - timedelta(days=1 + int(longest // 24))
        last = datetime.fromtimestamp(b_ms / 1000, zone).date()
        out: list[tuple[int, int]] = []
        day = first
        while day <= last:
            for starts, hours in self.shifts:
                s = _local_ms(day, starts, zone)
                e = s + round(hours * 3_600_000)
                s, e = max(s, a_ms), min(e, b_ms)
                if s < e:
                    out.append((s, e))
            day += timedelta(days=1)
        return _merge(out)


def _local_ms(day: date, at: time, zone: ZoneInfo) -> int:
    # A start that falls in a DST gap moves forward with the clock; fold=0 takes the first of a repeated hour.
    return round(datetime.combine(day, at, tzinfo=zone).timestamp() * 1000)


def _merge(spans: list[tuple[int, int]]) -> list[tuple[int, int]]:
    spans.sort()
    out: list[tuple[int, int]] = []
    for s, e in spans:
        if out and s <= out[-1][1]:
            out[-1] = (out[-1][0], max(out[-1][1], e))
        else:
            out.append((s, e))
    return out

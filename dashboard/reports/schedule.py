"""When a report is due: daily or weekly at a plant-local time, across daylight-saving changes."""

from __future__ import annotations

from datetime import datetime, time, timedelta

import pandas as pd

WEEKDAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")


def due_slot(every: str, weekday: int | None, at: time, tz: str, now: datetime) -> datetime:
    """The latest scheduled instant at or before ``now`` (UTC). A time that does not exist on a spring-forward day
    moves on to the first one that does; a time that happens twice in autumn is the first of the two."""
    local = pd.Timestamp(now).tz_convert(tz)
    for back in range(0, 9):
        day = (local - pd.Timedelta(days=back)).date()
        if every == "weekly" and day.weekday() != weekday:
            continue
        slot = pd.Timestamp(datetime.combine(day, at)).tz_localize(tz, nonexistent="shift_forward", ambiguous=True)
        if slot <= local:
            return slot.tz_convert("UTC").to_pydatetime()
    raise AssertionError("a daily or weekly slot always falls in the last 9 days")


def describe(every: str, weekday: int | None, at: time, tz: str) -> str:
    when = "daily" if every == "daily" else f"weekly on {WEEKDAYS[weekday or 0].capitalize()}"
    return f"{when} at {at:%H:%M} ({tz})"


def too_old(slot: datetime, now: datetime, grace: timedelta = timedelta(hours=6)) -> bool:
    """A slot missed by more than ``grace`` (every app was down) is skipped, not sent late as if it were current."""
    return now - slot > grace

"""The sensor explorer's view in the URL fragment: sensors, span and zoomed window, so a link opens the same view."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from urllib.parse import urlencode

import pandas as pd

from dashboard.viewstate import from_fragment

KEYS = ("sensor", "span", "t0", "t1")
MAX_BACK = timedelta(days=366)  # how far back a zoom may reach: the longest span the explorer offers
MAX_SENSORS = 10


@dataclass(frozen=True)
class Link:
    sensors: tuple[int, ...] = ()
    span: str | None = None
    window: tuple[datetime, datetime] | None = None  # UTC


def _when(raw: str | None) -> pd.Timestamp | None:
    if not raw:
        return None
    try:
        t = pd.Timestamp(str(raw)[:40])
    except (ValueError, TypeError):
        return None
    if pd.isna(t):
        return None
    return t.tz_localize("UTC") if t.tzinfo is None else t.tz_convert("UTC")


def parse(fragment: str | None) -> Link:
    """What a fragment asks for; anything unusable is left out (the explorer then opens as it would without it)."""
    q = from_fragment(fragment)
    sensors = []
    for v in str(q.get("sensor") or "").split(",")[:MAX_SENSORS]:
        if v.strip().isdigit():
            sensors.append(int(v.strip()))
    span = str(q["span"])[:8] if q.get("span") else None
    a, b = _when(q.get("t0")), _when(q.get("t1"))
    window = (a.to_pydatetime(), b.to_pydatetime()) if a is not None and b is not None and b > a else None
    return Link(tuple(dict.fromkeys(sensors)), span, window)


def clamp(window: tuple[datetime, datetime] | None, end: datetime) -> tuple[datetime, datetime] | None:
    """A linked window kept within the last year up to ``end``; None when nothing of it is left."""
    if window is None:
        return None
    a, b = max(window[0], end - MAX_BACK), min(window[1], end)
    return (a, b) if b > a else None


def _iso(t: pd.Timestamp) -> str:
    t = pd.Timestamp(t).tz_convert("UTC")
    spec = "seconds" if t.microsecond == 0 else "milliseconds"
    return t.isoformat(timespec=spec).replace("+00:00", "Z")


def fragment(current: str | None, sensors: list[int], span: str | None, window: tuple | None) -> str:
    """The fragment with the explorer's keys set and every other key (the filters other pages use) kept."""
    q = {k: v for k, v in from_fragment(current).items() if k not in KEYS}
    if sensors:
        q["sensor"] = ",".join(str(int(v)) for v in sensors)
    if span:
        q["span"] = span
    if window is not None:
        q["t0"], q["t1"] = _iso(window[0]), _iso(window[1])
    return "#" + urlencode(q, safe=",:") if q else ""

"""Numbers and durations formatted for people."""

from __future__ import annotations

import math


def _bad(x: float | None) -> bool:
    return x is None or (isinstance(x, float) and (math.isnan(x) or math.isinf(x)))


def pct(x: float | None, digits: int = 1) -> str:
    """0.8523 -> '85.2 %'; no value -> '–'."""
    return "–" if _bad(x) else f"{x * 100:.{digits}f} %"


def count(x: float | None, unit: str = "") -> str:
    """1234 -> '1.2 k', 2_500_000 -> '2.5 M'."""
    if _bad(x):
        return "–"
    sign, x = ("-" if x < 0 else ""), abs(x)
    for size, suffix in ((1e9, " G"), (1e6, " M"), (1e3, " k")):
        if x >= size:
            text = f"{sign}{x / size:.1f}{suffix}"
            break
    else:
        text = f"{sign}{x:.0f}" if x == int(x) or x >= 100 else f"{sign}{x:.1f}"
    return f"{text} {unit}".rstrip() if unit else text


def duration(seconds: float | None) -> str:
    """273600 -> '3 d 4 h', 5400 -> '1 h 30 min', 42 -> '42 s'."""
    if _bad(seconds):
        return "–"
    s = int(round(seconds))
    d, s = divmod(s, 86400)
    h, s = divmod(s, 3600)
    m, s = divmod(s, 60)
    if d:
        return f"{d} d {h} h"
    if h:
        return f"{h} h {m} min" if m else f"{h} h"
    if m:
        return f"{m} min"
    return f"{s} s"


def money(x: float | None, currency: str = "$") -> str:
    """1_534_000 -> '$1.5 M'."""
    if _bad(x):
        return "–"
    return f"{'-' if x < 0 else ''}{currency}{count(abs(x))}"

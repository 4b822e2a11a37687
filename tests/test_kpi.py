"""OEE from additive parts, checked against answers worked out by hand."""

from __future__ import annotations

import math

import pandas as pd
import pytest

from dashboard import fmt, kpi


def _parts(*machines: tuple[float, float, int, int, float]) -> pd.DataFrame:
    """(planned s, run s, total, good, ideal cycle s) per machine -> additive parts."""
    rows = [
        dict(planned_s=p, run_s=r, total_count=t, good_count=g, ideal_run_s=c * t, good_ideal_s=c * g)
        for p, r, t, g, c in machines
    ]
    return pd.DataFrame(rows)


def test_two_machines_with_different_cycle_times():
    # A: 300 s planned, 270 run, 120 made at 2 s, 115 good -> ideal 240, good ideal 230
    # B: 300 s planned, 240 run, 55 made at 4 s, 55 good   -> ideal 220, good ideal 220
    # all: A = 510/600 = 0.85, P = 460/510, Q = 450/460, OEE = 450/600 = 0.75
    t = kpi.totals(_parts((300, 270, 120, 115, 2.0), (300, 240, 55, 55, 4.0)))
    assert t.availability == pytest.approx(0.85)
    assert t.performance == pytest.approx(460 / 510)
    assert t.quality == pytest.approx(450 / 460)
    assert t.oee == pytest.approx(0.75)
    assert t.availability * t.performance * t.quality == pytest.approx(t.oee)
    assert t.scrap_rate == pytest.approx(5 / 175)


def test_average_of_ratios_is_not_what_we_show():
    parts = _parts((600, 600, 300, 300, 2.0), (60, 30, 5, 5, 2.0))
    per_machine = kpi.add_ratios(parts).oee.mean()
    # good ideal seconds 600 + 10 over planned 660; the mean of 1.0 and 10/60 would say 58.3 %
    assert kpi.totals(parts).oee == pytest.approx(610 / 660)
    assert kpi.totals(parts).oee != pytest.approx(per_machine)


def test_no_planned_time_is_a_gap_not_zero():
    r = kpi.add_ratios(_parts((0, 0, 0, 0, 2.0))).iloc[0]
    assert all(math.isnan(r[c]) for c in ("availability", "performance", "quality", "oee"))


@pytest.mark.parametrize(("on_hand", "daily", "expected"), [(300, 100, 3.0), (50, 200, 0.25), (10, 0, math.inf)])
def test_days_of_cover(on_hand, daily, expected):
    assert kpi.days_of_cover(on_hand, daily) == expected


@pytest.mark.parametrize(
    ("fn", "value", "text"),
    [
        (fmt.pct, 0.8523, "85.2 %"),
        (fmt.pct, float("nan"), "–"),
        (fmt.count, 1234, "1.2 k"),
        (fmt.count, 2_500_000, "2.5 M"),
        (fmt.count, 999, "999"),
        (fmt.count, -4200, "-4.2 k"),
        (fmt.duration, 3 * 86400 + 4 * 3600 + 59, "3 d 4 h"),
        (fmt.duration, 5400, "1 h 30 min"),
        (fmt.duration, 42, "42 s"),
    ],
)
def test_numbers_for_people(fn, value, text):
    assert fn(value) == text

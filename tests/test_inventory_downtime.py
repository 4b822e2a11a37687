"""Days of cover, inventory value, below-reorder flags and downtime per reason, against hand-worked answers."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pandas as pd
import pytest

from dashboard import ingest, queries

AT = datetime(2026, 2, 10, 12, tzinfo=UTC)


def _write(engine, tables: dict[str, list[tuple]]) -> None:
    cols = {
        "plant": ["plant_id", "name", "tz"],
        "line": ["line_id", "plant_id", "name"],
        "machine": ["machine_id", "line_id", "name", "ideal_cycle_s"],
        "downtime_reason": ["reason_code", "label", "category"],
        "downtime": ["machine_id", "start_ts", "end_ts", "reason_code"],
        "material": ["material_id", "name", "unit", "unit_cost"],
        "stock_policy": ["plant_id", "material_id", "reorder_point", "safety_stock", "lead_time_days"],
        "inventory_level": ["plant_id", "material_id", "ts", "on_hand"],
        "inventory_movement": ["plant_id", "material_id", "ts", "kind", "qty"],
    }
    with engine.begin() as conn:
        for table, rows in tables.items():
            ingest.upsert(conn, table, pd.DataFrame(rows, columns=cols[table]))


@pytest.fixture
def stock(db_engine):
    day = timedelta(days=1)
    _write(
        db_engine,
        {
            "plant": [("P", "Plant", "Etc/UTC")],
            "material": [("M1", "Steel", "kg", 2.5), ("M2", "Paint", "L", 10.0)],
            "stock_policy": [("P", "M1", 500, 200, 3), ("P", "M2", 50, 20, 5)],
            "inventory_level": [
                ("P", "M1", AT - day, 1000.0),
                ("P", "M1", AT, 800.0),
                ("P", "M1", AT + day, 1.0),  # after the moment asked about: ignored
                ("P", "M2", AT - timedelta(hours=1), 40.0),
            ],
            "inventory_movement": [
                *[("P", "M1", AT - i * day + timedelta(hours=1), "consumption", 100.0) for i in range(1, 8)],
                ("P", "M1", AT - 8 * day, "consumption", 5000.0),  # older than the 7-day window
                ("P", "M1", AT - 2 * day, "receipt", 900.0),  # receipts are not use
                ("P", "M2", AT - 3 * day, "consumption", 30.0),
                ("P", "M2", AT - 1 * day, "consumption", 40.0),
            ],
        },
    )
    return db_engine


def test_days_of_cover_value_and_reorder(stock):
    s = queries.inventory_status(stock, AT).set_index("material_id")
    # M1: 800 on hand, 7 x 100 used in the last 7 days = 100 a day -> 8 days; 800 x 2.5 = 2000; above 500
    # M2: 40 on hand, 30 + 40 used in 7 days = 10 a day -> 4 days; 40 x 10 = 400; at or below 50
    assert s.loc["M1", ["on_hand", "daily_use", "days_of_cover", "value"]].tolist() == [800.0, 100.0, 8.0, 2000.0]
    assert s.loc["M2", ["on_hand", "daily_use", "days_of_cover", "value"]].tolist() == [40.0, 10.0, 4.0, 400.0]
    assert s["below_reorder"].to_dict() == {"M2": True, "M1": False}
    assert list(s.index) == ["M2", "M1"]  # most at risk first


def test_material_not_used_has_no_days_of_cover(stock):
    s = queries.inventory_status(stock, AT - timedelta(days=20))
    assert s.empty  # no level recorded that early: nothing to say, rather than a zero


@pytest.fixture
def stops(db_engine):
    t = datetime(2026, 2, 10, 8, 50, tzinfo=UTC)
    _write(
        db_engine,
        {
            "plant": [("P", "Plant", "Etc/UTC")],
            "line": [("L", "P", "Line")],
            "machine": [("M", "L", "M", 2.0), ("N", "L", "N", 2.0)],
            "downtime_reason": [("jam", "Part jam", "minor_stop"), ("mech", "Mechanical", "breakdown")],
            "downtime": [
                ("M", t, t + timedelta(minutes=30), "jam"),  # 08:50-09:20
                ("M", t + timedelta(minutes=50), t + timedelta(minutes=80), "mech"),  # 09:40-10:10
                ("M", t + timedelta(minutes=100), t + timedelta(minutes=105), "unknown"),  # 10:30-10:35
                ("N", t + timedelta(minutes=20), t + timedelta(minutes=30), "mech"),  # 09:10-09:20, machine N
            ],
        },
    )
    return db_engine


@pytest.mark.parametrize(
    ("hours", "machines", "expected"),
    [
        (1, None, {"jam": 1200.0, "mech": 1200.0 + 600.0}),  # 09:00-10:00 clips both ends
        (2, None, {"mech": 1800.0 + 600.0, "jam": 1200.0, "unknown": 300.0}),
        (2, ("N",), {"mech": 600.0}),
    ],
)
def test_downtime_is_clipped_to_the_range_and_unknown_is_shown(stops, hours, machines, expected):
    start = datetime(2026, 2, 10, 9, tzinfo=UTC)
    got = queries.downtime_by_reason(stops, start, start + timedelta(hours=hours), queries.Scope(machines=machines))
    assert dict(zip(got.reason_code, got.seconds, strict=True)) == expected
    assert got.seconds.is_monotonic_decreasing
    if "unknown" in expected:
        assert got.set_index("reason_code").loc["unknown", "label"] == "Unknown"


def test_inventory_per_day_for_the_overview_sparklines(stock):
    """By hand, per UTC day over (AT - 3 days, AT]:
    - Feb 9: M1's last snapshot that day is 1000 kg ($2,500, above 500); M2 has none yet -> $2,500, 0 below;
      used: M1 100 kg at 13:00 ($250) + M2 40 L ($400) = $650.
    - Feb 10: M1 800 kg ($2,000, above) + M2 40 L at 11:00 ($400, below 50) -> $2,400, 1 below; nothing used
      (M1's 13:00 use of Feb 10 is after AT).
    - Feb 8: M1 100 kg at 13:00 ($250); no snapshot -> value 0. Feb 7: M2 30 L ($300) + M1 $250 = $550."""
    d = queries.inventory_daily(stock, AT - timedelta(days=4), AT, None, "Etc/UTC").set_index("day")
    day = lambda n: (AT - timedelta(days=n)).date()  # noqa: E731
    assert d.loc[day(1), "value"] == pytest.approx(2500.0) and d.loc[day(1), "below"] == 0
    assert d.loc[day(1), "use_value"] == pytest.approx(650.0)
    assert d.loc[day(0), "value"] == pytest.approx(2400.0) and d.loc[day(0), "below"] == 1
    assert d.loc[day(0), "use_value"] == pytest.approx(0.0)
    assert d.loc[day(3), "use_value"] == pytest.approx(550.0) and d.loc[day(3), "value"] == 0
    assert queries.inventory_daily(stock, AT - timedelta(days=4), AT, ("X",), "Etc/UTC").empty

"""Hand-built datasets whose KPIs are worked out by hand in the tests that use them."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pandas as pd
import sqlalchemy as sa

from dashboard import ingest, rollups

D = datetime(2026, 1, 14, tzinfo=UTC)  # winter: Berlin is UTC+1, Kolkata UTC+5:30


def _minutes(first: datetime, n: int) -> pd.DatetimeIndex:
    return pd.date_range(first, periods=n, freq="min")


def _block(machine: str, first: datetime, n: int, run: float, total: int, good: int, cycle: float) -> pd.DataFrame:
    return pd.DataFrame(
        {
            "machine_id": machine,
            "ts": _minutes(first, n),
            "planned_s": 60.0,
            "run_s": run,
            "total_count": total,
            "good_count": good,
            "startup_rejects": 0,
            "ideal_cycle_s": cycle,
        }
    )


def load_known(engine: sa.Engine) -> None:
    """Two plants, three machines, one evening that crosses local midnight in both zones."""
    dims = {
        "plant": pd.DataFrame(
            [("BER", "Berlin", "Europe/Berlin"), ("CCU", "Kolkata", "Asia/Kolkata")], columns=["plant_id", "name", "tz"]
        ),
        "line": pd.DataFrame(
            [("BER-L1", "BER", "L1"), ("CCU-L1", "CCU", "L1")], columns=["line_id", "plant_id", "name"]
        ),
        "machine": pd.DataFrame(
            [("B1", "BER-L1", "B1", 2.0), ("K1", "CCU-L1", "K1", 3.0), ("K2", "CCU-L1", "K2", 1.5)],
            columns=["machine_id", "line_id", "name", "ideal_cycle_s"],
        ),
    }
    rows = pd.concat(
        [
            _block("B1", D + timedelta(hours=22, minutes=30), 30, 50, 20, 18, 2.0),  # Berlin 23:30-24:00 on the 14th
            _block("B1", D + timedelta(hours=23), 30, 30, 12, 12, 2.0),  # Berlin 00:00-00:30 on the 15th
            _block("K1", D + timedelta(hours=18), 30, 60, 18, 18, 3.0),  # Kolkata 23:30-24:00 on the 14th
            _block("K1", D + timedelta(hours=18, minutes=30), 30, 40, 10, 8, 3.0),  # Kolkata 00:00-00:30 on the 15th
            _block("K2", D + timedelta(hours=18), 30, 45, 28, 26, 1.5),  # Kolkata 23:30-24:00 on the 14th
        ]
    )
    with engine.begin() as conn:
        for table, frame in dims.items():
            ingest.upsert(conn, table, frame)
        ingest.upsert(conn, "production", rows)
    rollups.refresh(engine)


def load_stock(engine: sa.Engine, now: datetime) -> None:
    """Two materials at plant BER, recorded an hour ago, with a week of use behind them.

    M1: 800 kg on hand, 7 x 100 kg used in the week -> 100 kg a day, 8 days of cover, 800 x $2.50 = $2,000, above 500.
    M2: 40 L on hand, 30 + 40 L used in the week -> 10 L a day, 4 days of cover, 40 x $10 = $400, below 50.
    """
    day = timedelta(days=1)
    at = now - timedelta(hours=1)
    cols = {
        "material": ["material_id", "name", "unit", "unit_cost"],
        "stock_policy": ["plant_id", "material_id", "reorder_point", "safety_stock", "lead_time_days"],
        "inventory_level": ["plant_id", "material_id", "ts", "on_hand"],
        "inventory_movement": ["plant_id", "material_id", "ts", "kind", "qty"],
    }
    rows = {
        "material": [("M1", "Steel coil", "kg", 2.5), ("M2", "Paint", "L", 10.0)],
        "stock_policy": [("BER", "M1", 500, 200, 3), ("BER", "M2", 50, 20, 5)],
        "inventory_level": [("BER", "M1", at - day, 1000.0), ("BER", "M1", at, 800.0), ("BER", "M2", at, 40.0)],
        "inventory_movement": [
            *[("BER", "M1", at - i * day + timedelta(minutes=5), "consumption", 100.0) for i in range(0, 7)],
            ("BER", "M2", at - 3 * day, "consumption", 30.0),
            ("BER", "M2", at - day, "consumption", 40.0),
        ],
    }
    with engine.begin() as conn:
        for table, data in rows.items():
            ingest.upsert(conn, table, pd.DataFrame(data, columns=cols[table]))


def _plant_zone(now: pd.Timestamp) -> str:
    """A zone where it is mid-day now, so 'today so far' holds the last 30 minutes whatever the clock says."""
    for tz in ("Etc/UTC", "Etc/GMT-6", "Etc/GMT+6", "Etc/GMT-12"):
        if 2 <= now.tz_convert(tz).hour < 22:
            return tz
    raise AssertionError("unreachable")


def load_today(engine: sa.Engine, now: pd.Timestamp) -> pd.Timestamp:
    """Plant KA, two machines, five minutes today worth OEE 75.0 % (worked out in the tests); returns the next minute."""
    tz = _plant_zone(now)
    dims = {
        "plant": pd.DataFrame([("KA", "Known Answer Works", tz)], columns=["plant_id", "name", "tz"]),
        "line": pd.DataFrame([("KA-L1", "KA", "Line 1")], columns=["line_id", "plant_id", "name"]),
        "machine": pd.DataFrame(
            [("KA-A", "KA-L1", "A", 2.0), ("KA-B", "KA-L1", "B", 4.0)],
            columns=["machine_id", "line_id", "name", "ideal_cycle_s"],
        ),
    }
    # Five minutes at the start of the last whole 15-minute bucket, which is what the trend draws.
    first = now.floor("15min") - pd.Timedelta(minutes=15)
    minutes = pd.date_range(first, periods=5, freq="min")
    # Per minute: A runs 54 s, makes 24 at 2 s, 23 good; B runs 48 s, makes 11 at 4 s, all good.
    rows = pd.concat(
        [
            pd.DataFrame(
                {
                    "machine_id": "KA-A",
                    "ts": minutes,
                    "planned_s": 60.0,
                    "run_s": 54.0,
                    "total_count": 24,
                    "good_count": 23,
                    "startup_rejects": 0,
                    "ideal_cycle_s": 2.0,
                }
            ),
            pd.DataFrame(
                {
                    "machine_id": "KA-B",
                    "ts": minutes,
                    "planned_s": 60.0,
                    "run_s": 48.0,
                    "total_count": 11,
                    "good_count": 11,
                    "startup_rejects": 0,
                    "ideal_cycle_s": 4.0,
                }
            ),
        ]
    )
    with engine.begin() as conn:
        for table, frame in dims.items():
            ingest.upsert(conn, table, frame)
        ingest.upsert(conn, "production", rows)
    return first + pd.Timedelta(minutes=5)

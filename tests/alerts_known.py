"""A plant whose alerts are worked out by hand, minute by minute (see the comments): loaders for the alert tests."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import numpy as np
import pandas as pd
import sqlalchemy as sa

from dashboard import ingest, rollups

T0 = datetime(2026, 3, 2, 6, 0, tzinfo=UTC)
MINUTES = 135


def _production(machine: str, minutes: range, total: int = 30, good: int | None = None, run: float = 60.0) -> list:
    return [
        (machine, T0 + timedelta(minutes=m), 60.0, run, total, total if good is None else good, 0, 2.0) for m in minutes
    ]


def load(engine: sa.Engine) -> None:
    """Plants P (UTC) and Q; machines M1, M2, M3 at P and Q1 at Q; two sensors on M2; one material at P.

    Every machine makes 30 parts a minute at 2 s a part when it runs well (OEE 100 %). Then, from T0:
    - M1 makes nothing in minutes 30-44 although planned (down 15 minutes);
    - M2 runs at half speed (15 parts) in minutes 60-74 and makes 15 bad of 30 in minutes 100-114;
    - M3 sends nothing in minutes 10-29 (a dead feed) and runs normally otherwise;
    - sensor 1 (limit 80) reads 90 from 20:00 to 20:44 (45 s) and from 50:00 to 52:59 (180 s), else 70;
    - sensor 2 (limit 80) reads 90 from 10:00 to 11:59, then flaps from 12:00 to 31:59 in 2-minute cycles of
      30 s within and 90 s beyond, then 70;
    - material MAT at P (reorder point 500, safety stock 200, lead time 3 days, 100 a day used over the last week)
      has 1,000 on hand, 450 from minute 10, 150 from minute 20 and 1,000 again from minute 30."""
    dims = {
        "plant": pd.DataFrame(
            [("P", "Plant P", "Etc/UTC"), ("Q", "Plant Q", "Etc/UTC")], columns=["plant_id", "name", "tz"]
        ),
        "line": pd.DataFrame([("P-L1", "P", "L1"), ("Q-L1", "Q", "L1")], columns=["line_id", "plant_id", "name"]),
        "machine": pd.DataFrame(
            [
                ("M1", "P-L1", "M1", 2.0),
                ("M2", "P-L1", "M2", 2.0),
                ("M3", "P-L1", "M3", 2.0),
                ("Q1", "Q-L1", "Q1", 2.0),
            ],
            columns=["machine_id", "line_id", "name", "ideal_cycle_s"],
        ),
        "sensor": pd.DataFrame(
            [(1, "M2", "temperature", "°C", None, 80.0), (2, "M2", "vibration", "mm/s", None, 80.0)],
            columns=["sensor_id", "machine_id", "kind", "unit", "lo_limit", "hi_limit"],
        ),
        "material": pd.DataFrame([("MAT", "Steel", "kg", 2.0)], columns=["material_id", "name", "unit", "unit_cost"]),
        "stock_policy": pd.DataFrame(
            [("P", "MAT", 500.0, 200.0, 3.0)],
            columns=["plant_id", "material_id", "reorder_point", "safety_stock", "lead_time_days"],
        ),
    }
    rows = (
        _production("M1", range(0, 30))
        + _production("M1", range(30, 45), total=0, run=0.0)
        + _production("M1", range(45, MINUTES))
        + _production("M2", range(0, 60))
        + _production("M2", range(60, 75), total=15)
        + _production("M2", range(75, 100))
        + _production("M2", range(100, 115), good=15)
        + _production("M2", range(115, MINUTES))
        + _production("M3", range(0, 10))
        + _production("M3", range(30, MINUTES))
        + _production("Q1", range(0, MINUTES))
    )
    production = pd.DataFrame(
        rows,
        columns=[
            "machine_id",
            "ts",
            "planned_s",
            "run_s",
            "total_count",
            "good_count",
            "startup_rejects",
            "ideal_cycle_s",
        ],
    )
    secs = np.arange(0, 60 * 60)
    s1 = np.where(((secs >= 1200) & (secs < 1245)) | ((secs >= 3000) & (secs < 3180)), 90.0, 70.0)
    flap = (secs >= 720) & (secs < 1920) & (((secs - 720) % 120) >= 30)
    s2 = np.where(((secs >= 600) & (secs < 720)) | flap, 90.0, 70.0)
    ts = pd.DatetimeIndex([T0 + timedelta(seconds=int(s)) for s in secs])
    telemetry = pd.concat(
        [pd.DataFrame({"sensor_id": 1, "ts": ts, "value": s1}), pd.DataFrame({"sensor_id": 2, "ts": ts, "value": s2})]
    )
    levels = pd.DataFrame(
        [("P", "MAT", T0 + timedelta(minutes=m), q) for m, q in ((0, 1000.0), (10, 450.0), (20, 150.0), (30, 1000.0))],
        columns=["plant_id", "material_id", "ts", "on_hand"],
    )
    use = pd.DataFrame(
        [("P", "MAT", T0 - timedelta(days=i), "consumption", 100.0) for i in range(7)],
        columns=["plant_id", "material_id", "ts", "kind", "qty"],
    )
    with engine.begin() as conn:
        for table, frame in dims.items():
            ingest.upsert(conn, table, frame)
        ingest.upsert(conn, "production", production)
        ingest.upsert(conn, "telemetry", telemetry)
        ingest.upsert(conn, "inventory_level", levels)
        ingest.upsert(conn, "inventory_movement", use)
    rollups.refresh(engine)

"""Seven orders at Stuttgart and Detroit around the 2026 spring DST change, worked out by hand in test_orders.py.

Stuttgart (Europe/Berlin) moves its clocks from 02:00 CET to 03:00 CEST on Sunday 2026-03-29 (01:00 UTC);
Detroit (America/Detroit) is on EDT, UTC-4, all week. The view is plant-local 2026-03-29 to 2026-03-31.
"""

from __future__ import annotations

from datetime import date

import pandas as pd
import sqlalchemy as sa

from dashboard import ingest

FIRST, LAST = date(2026, 3, 29), date(2026, 3, 31)
ZONES = {"STR": "Europe/Berlin", "DET": "America/Detroit"}
# Each plant's window [local FIRST 00:00, local LAST+1 00:00) in UTC.
WINDOWS = {
    "STR": (pd.Timestamp("2026-03-28 23:00Z"), pd.Timestamp("2026-03-31 22:00Z")),
    "DET": (pd.Timestamp("2026-03-29 04:00Z"), pd.Timestamp("2026-04-01 04:00Z")),
}
T = pd.Timestamp
ORDER_COLUMNS = [
    "order_id", "plant_id", "material_id", "kind", "customer", "qty_ordered", "qty_produced", "line_id",
    "created_at", "released_at", "planned_start", "planned_finish", "actual_start", "actual_finish", "hold_reason",
]  # fmt: skip
N = None
ORDERS = [
    # O1 crosses local midnight (released 00:30 CET) and the DST change (start 03:30 CEST): queue is 3 h on the
    # wall clock but 2 h of calendar time. Issued 00:30 CEST on the 30th: late in Stuttgart, on time by UTC date.
    ("O1", "STR", "FG-100", "MTO", "Bosch", 100, 100, "STR-L1", T("2026-03-28 20:00Z"), T("2026-03-28 23:30Z"),
     T("2026-03-28 23:00Z"), T("2026-03-29 04:00Z"), T("2026-03-29 01:30Z"), T("2026-03-29 05:00Z"), N),
    # O2 ships in two partial deliveries, the last on the promised day.
    ("O2", "STR", "FG-200", "MTS", N, 100, 100, "STR-L1", T("2026-03-30 06:00Z"), T("2026-03-30 08:00Z"),
     N, N, T("2026-03-30 09:00Z"), T("2026-03-30 13:00Z"), N),
    # O3 ships 50 on time, then 10 come back (a reversal): 40 of 50 is short.
    ("O3", "STR", "FG-100", "MTO", "Daimler", 50, 50, "STR-L1", T("2026-03-30 07:00Z"), T("2026-03-30 07:30Z"),
     N, N, T("2026-03-30 10:00Z"), T("2026-03-30 12:00Z"), N),
    # O4 is released but waits for material; promised well ahead.
    ("O4", "STR", "FG-300", "MTO", "Bosch", 30, 0, "STR-L1", T("2026-03-31 06:00Z"), T("2026-03-31 07:00Z"),
     N, N, N, N, "material"),
    # O5 is still in production, promised on the 30th and nothing shipped: late, and pending for OTIF.
    ("O5", "STR", "FG-200", "MTS", N, 20, 12, "STR-L1", T("2026-03-25 08:00Z"), T("2026-03-25 09:00Z"),
     N, N, T("2026-03-26 06:00Z"), N, N),
    # O6 is issued 22:00 EDT on the 31st, its promised day in Detroit (already 1 April by UTC date).
    ("O6", "DET", "FG-900", "MTO", "Ford", 10, 10, "DET-L1", T("2026-03-30 20:00Z"), T("2026-03-30 22:00Z"),
     N, N, T("2026-03-31 00:00Z"), T("2026-03-31 04:00Z"), N),
    # O7 is created, not released, promised in two days: at risk.
    ("O7", "DET", "FG-900", "MTO", "Ford", 5, 0, "DET-L1", T("2026-03-31 12:00Z"), N, N, N, N, N, N),
]  # fmt: skip
RUNS = [
    ("O1", "STR-L1-M1", T("2026-03-29 01:30Z"), T("2026-03-29 03:30Z"), 100),
    ("O1", "STR-L1-M2", T("2026-03-29 03:00Z"), T("2026-03-29 05:00Z"), 100),
    ("O2", "STR-L1-M1", T("2026-03-30 09:00Z"), T("2026-03-30 13:00Z"), 100),
    ("O3", "STR-L1-M2", T("2026-03-30 10:00Z"), T("2026-03-30 12:00Z"), 50),
    ("O5", "STR-L1-M2", T("2026-03-26 06:00Z"), N, 12),
    ("O6", "DET-L1-M1", T("2026-03-31 00:00Z"), T("2026-03-31 04:00Z"), 10),
]
DELIVERIES = [
    ("O1", 1, date(2026, 3, 29), 100, T("2026-03-29 22:30Z")),
    ("O2", 1, date(2026, 3, 31), 60, T("2026-03-30 15:00Z")),
    ("O2", 2, date(2026, 3, 31), 40, T("2026-03-31 10:00Z")),
    ("O3", 1, date(2026, 3, 31), 50, T("2026-03-30 16:00Z")),
    ("O3", 2, date(2026, 3, 31), -10, T("2026-03-31 09:00Z")),
    ("O4", 1, date(2026, 4, 10), 30, N),
    ("O5", 1, date(2026, 3, 30), 20, N),
    ("O6", 1, date(2026, 3, 31), 10, T("2026-04-01 02:00Z")),
    ("O7", 1, date(2026, 4, 2), 5, N),
]


def frames() -> dict[str, pd.DataFrame]:
    """The plants, lines, machines, orders, runs and deliveries as the tables take them."""
    ts = lambda f, cols: f.assign(**{c: pd.to_datetime(f[c], utc=True) for c in cols})  # noqa: E731
    orders = ts(pd.DataFrame(ORDERS, columns=ORDER_COLUMNS), ORDER_COLUMNS[8:14])
    runs = ts(pd.DataFrame(RUNS, columns=["order_id", "machine_id", "start_ts", "end_ts", "qty_good"]), ["end_ts"])
    deliveries = pd.DataFrame(DELIVERIES, columns=["order_id", "delivery_no", "promised_date", "qty", "goods_issue_at"])
    return {
        "plant": pd.DataFrame(
            [("STR", "Stuttgart Machining", ZONES["STR"]), ("DET", "Detroit Assembly", ZONES["DET"])],
            columns=["plant_id", "name", "tz"],
        ),
        "line": pd.DataFrame(
            [("STR-L1", "STR", "Line 1"), ("DET-L1", "DET", "Line 1")], columns=["line_id", "plant_id", "name"]
        ),
        "machine": pd.DataFrame(
            [
                ("STR-L1-M1", "STR-L1", "Machine 1", 2.0),
                ("STR-L1-M2", "STR-L1", "Machine 2", 3.0),
                ("DET-L1-M1", "DET-L1", "Machine 1", 4.0),
            ],
            columns=["machine_id", "line_id", "name", "ideal_cycle_s"],
        ),  # fmt: skip
        "production_order": orders,
        "production_order_run": runs,
        "delivery": ts(deliveries, ["goods_issue_at"]),
    }


def load_orders(engine: sa.Engine) -> None:
    with engine.begin() as conn:
        for table, frame in frames().items():
            ingest.upsert(conn, table, frame)


def facts() -> pd.DataFrame:
    """The facts the orders query returns for the known orders, built by hand from the same rows."""
    f = frames()
    d = f["delivery"]
    issued = d[d["goods_issue_at"].notna()]
    rows = []
    for o in f["production_order"].itertuples():
        mine, out = d[d.order_id == o.order_id], issued[issued.order_id == o.order_id]
        rows.append(
            {
                **o._asdict(),
                "promised_date": mine["promised_date"].min(),
                "shipped": float(out["qty"].sum()),
                "last_issue": out.loc[out["qty"] > 0, "goods_issue_at"].max(),
                "issues": len(out),
                "open_rows": int(mine["goods_issue_at"].isna().sum()),
            }
        )
    return pd.DataFrame(rows).drop(columns="Index")

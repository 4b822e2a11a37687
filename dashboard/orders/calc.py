"""Lead time by stage, work in progress and OTIF from order facts: pure functions, DataFrame in, DataFrame out.

The rules, in words (the page and README say the same):
- An order is COMPLETE once production finished, something was issued and no scheduled delivery is left open
  (a delivery row without a goods issue). It completes at its last goods issue of a positive quantity.
- Stages run from one recorded event to the next, in calendar time (real elapsed seconds, so a night that loses an
  hour to daylight saving is an hour shorter): waiting = created -> released, queue = released -> start,
  production = start -> finish, dispatch = finish -> completion. They are added and averaged over complete orders
  only; every other order is work in progress (WIP) and never averaged in.
- The plant's own time zone decides the day: an order's lead time counts for the plant-local date it completed,
  its OTIF for the plant-local date promised.
- OTIF per order line (one production order, one material): ON TIME if its last goods issue, as a date on the
  plant's wall clock, is on or before the promised date (the earliest promised date of its deliveries) and no
  delivery is left open; IN FULL if the net quantity shipped (reversals are negative rows) is at least the ordered
  quantity less OTIF_TOLERANCE_PCT percent. An order is PENDING, left out of the ratio and counted apart, while
  nothing has been issued, or while something is still to ship and its promised date has not passed yet.
"""

from __future__ import annotations

from datetime import date, datetime

import numpy as np
import pandas as pd

STAGES = ["waiting", "queue", "production", "dispatch"]
STAGE_LABELS = {
    "waiting": "Waiting (created → released)",
    "queue": "Queue (released → start)",
    "production": "Production (start → finish)",
    "dispatch": "Dispatch (finish → goods issue)",
}
# (from event, to event) per stage; "completed_at" is the last positive goods issue of a complete order.
STAGE_EVENTS = {
    "waiting": ("created_at", "released_at"),
    "queue": ("released_at", "actual_start"),
    "production": ("actual_start", "actual_finish"),
    "dispatch": ("actual_finish", "completed_at"),
}
TIMES = ["created_at", "released_at", "planned_start", "planned_finish", "actual_start", "actual_finish", "last_issue"]
Windows = dict[str, tuple[datetime, datetime]]  # plant_id -> [start, end) in UTC


def _utc(col: pd.Series) -> pd.Series:
    return pd.to_datetime(col, utc=True)


def local_dates(times: pd.Series, plants: pd.Series, zones: dict[str, str]) -> pd.Series:
    """The date on each row's plant's wall clock for each instant (NaT stays missing)."""
    out = pd.Series(pd.NaT, index=times.index, dtype="datetime64[ns]")
    times = _utc(times)
    for plant, tz in zones.items():
        mask = (plants == plant).to_numpy()
        if mask.any():
            out[mask] = times[mask].dt.tz_convert(tz).dt.tz_localize(None).dt.normalize()
    return out


def enrich(facts: pd.DataFrame, zones: dict[str, str], tolerance_pct: float) -> pd.DataFrame:
    """Facts with completion, stage seconds, lead time, plant-local dates and the OTIF parts that need no clock."""
    f = facts.copy()
    for col in TIMES:
        f[col] = _utc(f[col])
    f["promised_date"] = pd.to_datetime(f["promised_date"])
    f["complete"] = (
        f["actual_finish"].notna() & (f["issues"] > 0) & (f["open_rows"] == 0) & f["last_issue"].notna()
    ).astype(bool)
    f["completed_at"] = f["last_issue"].where(f["complete"])
    for stage, (a, b) in STAGE_EVENTS.items():
        f[f"{stage}_s"] = (f[b] - f[a]).dt.total_seconds().where(f["complete"])
    f["lead_s"] = (f["completed_at"] - f["created_at"]).dt.total_seconds()
    f["completed_day"] = local_dates(f["completed_at"], f["plant_id"], zones)
    f["last_issue_day"] = local_dates(f["last_issue"], f["plant_id"], zones)
    f["in_full"] = f["shipped"] >= f["qty_ordered"] * (1 - tolerance_pct / 100.0)
    f["on_time"] = (f["open_rows"] == 0) & f["last_issue"].notna() & (f["last_issue_day"] <= f["promised_date"])
    return f


def _in_windows(times: pd.Series, plants: pd.Series, windows: Windows) -> pd.Series:
    keep = pd.Series(False, index=times.index)
    for plant, (start, end) in windows.items():
        keep |= (plants == plant) & (times >= pd.Timestamp(start)) & (times < pd.Timestamp(end))
    return keep


def local_range(start: datetime, end: datetime, tz: str) -> tuple[date, date]:
    """The first and last plant-local dates of [start, end)."""
    first = pd.Timestamp(start).tz_convert(tz).date()
    last = (pd.Timestamp(end).tz_convert(tz) - pd.Timedelta(microseconds=1)).date()
    return first, last


def completed(enriched: pd.DataFrame, windows: Windows) -> pd.DataFrame:
    """Complete orders whose completion falls in their plant's window: the orders lead time is made of."""
    f = enriched[enriched["complete"]]
    return f[_in_windows(f["completed_at"], f["plant_id"], windows)].reset_index(drop=True)


def stage_summary(done: pd.DataFrame, key: str = "plant_id") -> pd.DataFrame:
    """Mean seconds per stage and the mean lead time per ``key``; the stage means add up to the lead time."""
    cols = [f"{s}_s" for s in STAGES]
    if done.empty:
        return pd.DataFrame(columns=[key, "orders", *cols, "lead_s"])
    g = done.groupby(key, as_index=False)
    out = g[[*cols, "lead_s"]].mean()
    out.insert(1, "orders", g.size()["size"].to_numpy())
    return out


def lead_by_kind(done: pd.DataFrame) -> dict[str, float]:
    """Mean lead time in seconds for MTO and MTS (NaN when none completed)."""
    means = done.groupby("kind")["lead_s"].mean() if len(done) else pd.Series(dtype=float)
    return {k: float(means.get(k, np.nan)) for k in ("MTO", "MTS")}


def bands(done: pd.DataFrame, delayed_days: float, critical_days: float) -> pd.DataFrame:
    """Lead time in days with its band: on time up to ``delayed_days``, delayed up to ``critical_days``, critical."""
    days = done["lead_s"] / 86400.0
    band = np.select([days <= delayed_days, days <= critical_days], ["on time", "delayed"], "critical")
    return done.assign(lead_days=days, band=band)


def promised_in(enriched: pd.DataFrame, windows: Windows, zones: dict[str, str]) -> pd.DataFrame:
    """Orders whose promised date (plant-local) lies within their plant's window."""
    keep = pd.Series(False, index=enriched.index)
    for plant, (start, end) in windows.items():
        first, last = local_range(start, end, zones[plant])
        p = enriched["promised_date"]
        keep |= (enriched["plant_id"] == plant) & (p >= pd.Timestamp(first)) & (p <= pd.Timestamp(last))
    return enriched[keep].reset_index(drop=True)


def otif_status(orders: pd.DataFrame, today: dict[str, date]) -> pd.DataFrame:
    """Each order's OTIF status on ``today`` (per plant): pending, or counted with on time / in full / OTIF."""
    plant_today = pd.to_datetime(orders["plant_id"].map(today))
    shipped_any = orders["last_issue"].notna()
    settled = (orders["open_rows"] == 0) | (orders["promised_date"] < plant_today)
    counted = shipped_any & settled
    on_time, in_full = counted & orders["on_time"], counted & orders["in_full"]
    status = np.select(
        [~counted, on_time & in_full, ~on_time & in_full, on_time & ~in_full],
        ["pending", "on time, in full", "late", "short"],
        "late and short",
    )
    return orders.assign(counted=counted, otif=on_time & in_full, status=status)


def otif_summary(status: pd.DataFrame) -> dict[str, float]:
    """Counted, OTIF, on time and in full orders, pending ones apart, and the OTIF ratio (NaN when none counted)."""
    counted = int(status["counted"].sum()) if len(status) else 0
    otif = int(status["otif"].sum()) if len(status) else 0
    return {
        "counted": counted,
        "otif": otif,
        "on_time": int((status["counted"] & status["on_time"]).sum()) if len(status) else 0,
        "in_full": int((status["counted"] & status["in_full"]).sum()) if len(status) else 0,
        "pending": int((~status["counted"]).sum()) if len(status) else 0,
        "ratio": otif / counted if counted else float("nan"),
    }


def otif_weekly(status: pd.DataFrame) -> pd.DataFrame:
    """OTIF per plant and plant-local week (Monday) of the promised date, over counted orders."""
    cols = ["plant_id", "week", "counted", "otif", "pending", "ratio"]
    if status.empty:
        return pd.DataFrame(columns=cols)
    f = status.assign(week=status["promised_date"].dt.to_period("W-SUN").dt.start_time)
    g = f.groupby(["plant_id", "week"], as_index=False).agg(
        counted=("counted", "sum"), otif=("otif", "sum"), pending=("counted", lambda s: int((~s).sum()))
    )
    g["ratio"] = (g["otif"] / g["counted"].where(g["counted"] > 0)).astype(float)
    return g[cols]


def wip(enriched: pd.DataFrame, as_of: dict[str, datetime]) -> pd.DataFrame:
    """Orders open at each plant's ``as_of`` with the stage each is in: created, not yet complete."""
    at = _utc(enriched["plant_id"].map({p: pd.Timestamp(t) for p, t in as_of.items()}))
    before = lambda col: enriched[col].notna() & (enriched[col] <= at)  # noqa: E731
    open_ = (enriched["created_at"] <= at) & ~before("completed_at")
    stage = np.select(
        [~before("released_at"), ~before("actual_start"), ~before("actual_finish")],
        ["waiting", "queue", "production"],
        "dispatch",
    )
    return enriched.assign(stage=stage)[open_.to_numpy()].reset_index(drop=True)


def late_and_at_risk(open_orders: pd.DataFrame, today: dict[str, date], at_risk_days: int) -> pd.DataFrame:
    """Open orders past their promised date (late), or promised within ``at_risk_days`` and not yet finished."""
    plant_today = pd.to_datetime(open_orders["plant_id"].map(today))
    days_left = (open_orders["promised_date"] - plant_today).dt.days
    late = days_left < 0
    risk = ~late & (days_left <= at_risk_days) & open_orders["actual_finish"].isna()
    out = open_orders.assign(days_left=days_left, risk=np.where(late, "late", "at risk"))[late | risk]
    return out.sort_values(["days_left", "order_id"]).reset_index(drop=True)


def trace(order: pd.Series, runs: pd.DataFrame, deliveries: pd.DataFrame) -> pd.DataFrame:
    """An order's timeline: one row per recorded stage (from, to, seconds), then one per machine run."""
    issued = deliveries[deliveries["goods_issue_at"].notna() & (deliveries["qty"] > 0)]
    still_open = deliveries["goods_issue_at"].isna().any()
    ts = lambda v: pd.Timestamp(v) if pd.notna(v) else pd.NaT  # noqa: E731
    events = {c: ts(order[c]) for c in ("created_at", "released_at", "actual_start", "actual_finish")}
    done = pd.notna(events["actual_finish"]) and len(issued) and not still_open
    events["completed_at"] = _utc(issued["goods_issue_at"]).max() if done else pd.NaT
    rows = []
    for stage, (a, b) in STAGE_EVENTS.items():
        if pd.notna(events[a]):
            end = events[b]
            rows.append(
                {
                    "what": STAGE_LABELS[stage].split(" (")[0],
                    "kind": "stage",
                    "start": events[a],
                    "end": end,
                    "seconds": (end - events[a]).total_seconds() if pd.notna(end) else np.nan,
                }
            )
    for r in runs.itertuples():
        end = pd.Timestamp(r.end_ts) if pd.notna(r.end_ts) else pd.NaT
        rows.append(
            {
                "what": f"{r.machine_id}",
                "kind": "machine",
                "start": pd.Timestamp(r.start_ts),
                "end": end,
                "seconds": (end - pd.Timestamp(r.start_ts)).total_seconds() if pd.notna(end) else np.nan,
            }
        )
    return pd.DataFrame(rows, columns=["what", "kind", "start", "end", "seconds"])

"""CSV downloads of what each chart shows, with units in the headers."""

from __future__ import annotations

from datetime import datetime

import pandas as pd

from dashboard import analytics, data
from dashboard.viewstate import View

RATIOS = {
    "oee": "OEE (%)",
    "availability": "Availability (%)",
    "performance": "Performance (%)",
    "quality": "Quality (%)",
}
HOURS = {"planned_s": "Planned time (h)", "run_s": "Run time (h)", "ideal_run_s": "Ideal run time (h)",
         "good_ideal_s": "Fully productive time (h)"}  # fmt: skip
COUNTS = {"total_count": "Total count (units)", "good_count": "Good count (units)"}


def _oee_columns(frame: pd.DataFrame, keys: dict[str, str]) -> pd.DataFrame:
    out = pd.DataFrame({label: frame[col] for col, label in keys.items()})
    for col, label in RATIOS.items():
        out[label] = (frame[col] * 100).round(4)
    for col, label in HOURS.items():
        out[label] = (frame[col] / 3600).round(6)
    for col, label in COUNTS.items():
        out[label] = frame[col]
    return out


def oee_trend(view: View, at: datetime) -> pd.DataFrame:
    frame, bucket, tz = analytics.trend(view, at)
    when = f"Bucket start ({tz})" if isinstance(bucket, int) else "Plant-local date"
    frame = frame.assign(name=frame["key"].map(analytics.group_names(view.group)).fillna(frame["key"]))
    return _oee_columns(frame, {"x": when, "key": view.group.capitalize(), "name": "Name"})


def oee_groups(view: View, at: datetime) -> pd.DataFrame:
    frame = analytics.group_totals(view, at)
    frame = frame.assign(name=frame["key"].map(analytics.group_names(view.group)).fillna(frame["key"]))
    return _oee_columns(frame, {"key": view.group.capitalize(), "name": "Name"})


def oee_waterfall(view: View, at: datetime) -> pd.DataFrame:
    t = analytics.totals(analytics.per_plant(view, at))
    steps = [("Planned time", t.planned_s), ("Availability loss", t.planned_s - t.run_s),
             ("Performance loss", t.run_s - t.ideal_run_s), ("Quality loss", t.ideal_run_s - t.good_ideal_s),
             ("Fully productive time", t.good_ideal_s)]  # fmt: skip
    return pd.DataFrame({"Step": [s[0] for s in steps], "Hours (h)": [round(s[1] / 3600, 6) for s in steps]})


def oee_pareto(view: View, at: datetime) -> pd.DataFrame:
    d = analytics.pareto(view, at)
    return pd.DataFrame({"Reason code": d["reason_code"], "Reason": d["label"], "Loss category": d["category"],
                         "Stops (count)": d["events"], "Downtime (h)": (d["seconds"] / 3600).round(6),
                         "Cumulative share (%)": (d["cumulative_share"] * 100).round(4)})  # fmt: skip


def oee_heatmap(view: View, at: datetime) -> pd.DataFrame:
    d = analytics.heatmap(view, at)
    return _oee_columns(d, {"day": "Plant-local date", "key": "Machine"})


def inventory_risk(view: View, at: datetime) -> pd.DataFrame:
    s = data.inventory_status(at, view.plants or None)
    return pd.DataFrame({"Plant": s["plant_id"], "Material": s["material_id"], "Name": s["name"], "Unit": s["unit"],
                         "On hand (unit)": s["on_hand"], "Daily use (unit/day)": s["daily_use"].round(4),
                         "Days of cover (d)": s["days_of_cover"].round(4), "Reorder point (unit)": s["reorder_point"],
                         "Safety stock (unit)": s["safety_stock"], "Below reorder point": s["below_reorder"],
                         "Value ($)": s["value"].round(2)})  # fmt: skip


EXPORTS = {
    "oee-trend": oee_trend,
    "oee-groups": oee_groups,
    "oee-waterfall": oee_waterfall,
    "oee-pareto": oee_pareto,
    "oee-heatmap": oee_heatmap,
    "inv-risk": inventory_risk,
}


def csv(name: str, view: View, at: datetime) -> tuple[str, str]:
    """(file name, CSV text) for chart ``name``; unknown names raise KeyError."""
    frame = EXPORTS[name](view, at)
    return f"{name}-{at:%Y%m%d-%H%M}.csv", frame.to_csv(index=False)

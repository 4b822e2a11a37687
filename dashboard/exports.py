"""CSV downloads of what each chart shows, with units in the headers."""

from __future__ import annotations

from datetime import datetime

import pandas as pd

from dashboard import analytics, data, viewstate
from dashboard.viewstate import View, window

RATIOS = {
    "oee": "OEE (%)",
    "availability": "Availability (%)",
    "performance": "Performance (%)",
    "quality": "Quality (%)",
}
HOURS = {
    "planned_s": "Planned time (h)",
    "run_s": "Run time (h)",
    "ideal_run_s": "Ideal run time (h)",
    "good_ideal_s": "Fully productive time (h)",
}
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
    steps = [
        ("Planned time", t.planned_s),
        ("Availability loss", t.planned_s - t.run_s),
        ("Performance loss", t.run_s - t.ideal_run_s),
        ("Quality loss", t.ideal_run_s - t.good_ideal_s),
        ("Fully productive time", t.good_ideal_s),
    ]
    return pd.DataFrame({"Step": [s[0] for s in steps], "Hours (h)": [round(s[1] / 3600, 6) for s in steps]})


def oee_pareto(view: View, at: datetime) -> pd.DataFrame:
    d = analytics.pareto(view, at)
    return pd.DataFrame(
        {
            "Reason code": d["reason_code"],
            "Reason": d["label"],
            "Loss category": d["category"],
            "Stops (count)": d["events"],
            "Downtime (h)": (d["seconds"] / 3600).round(6),
            "Cumulative share (%)": (d["cumulative_share"] * 100).round(4),
        }
    )


def oee_heatmap(view: View, at: datetime) -> pd.DataFrame:
    d = analytics.heatmap(view, at)
    return _oee_columns(d, {"day": "Plant-local date", "key": "Machine"})


def inventory_risk(view: View, at: datetime) -> pd.DataFrame:
    s = data.inventory_status(at, view.plants or None)
    return pd.DataFrame(
        {
            "Plant": s["plant_id"],
            "Material": s["material_id"],
            "Name": s["name"],
            "Unit": s["unit"],
            "On hand (unit)": s["on_hand"],
            "Daily use (unit/day)": s["daily_use"].round(4),
            "Days of cover (d)": s["days_of_cover"].round(4),
            "Reorder point (unit)": s["reorder_point"],
            "Safety stock (unit)": s["safety_stock"],
            "Below reorder point": s["below_reorder"],
            "Value ($)": s["value"].round(2),
        }
    )


def overview_plants(view: View, at: datetime) -> pd.DataFrame:
    pp = analytics.per_plant(view, at)
    out = _oee_columns(pp, {"plant_id": "Plant", "name": "Name", "tz": "Time zone"})
    out.insert(3, "Window start (UTC)", pp["start"])
    out.insert(4, "Window end (UTC)", pp["end"])
    return out


def overview_losses(view: View, at: datetime) -> pd.DataFrame:
    d = analytics.losses(view, at)
    return pd.DataFrame(
        {"Loss category": d["category"], "Loss": d["label"], "Hours lost (h)": (d["seconds"] / 3600).round(6)}
    )


def inventory_value(view: View, at: datetime) -> pd.DataFrame:
    s = data.inventory_status(at, view.plants or None)
    v = s.groupby("plant_id", as_index=False)["value"].sum()
    return pd.DataFrame({"Plant": v["plant_id"], "Inventory value ($)": v["value"].round(2)})


def inventory_levels(view: View, at: datetime, material: str | None = None) -> pd.DataFrame:
    tz = analytics.display_tz(view)
    start, end = window(view, tz, at)
    material = material or str(data.materials().iloc[0]["material_id"])
    lv = data.inventory_levels(start, end, view.plants or None, material)
    unit = data.materials().set_index("material_id").loc[material, "unit"]
    return pd.DataFrame(
        {
            "Plant": lv["plant_id"],
            "Material": material,
            "Time (UTC)": lv["ts"],
            f"On hand ({unit})": lv["on_hand"],
            f"Reorder point ({unit})": lv["reorder_point"],
            f"Safety stock ({unit})": lv["safety_stock"],
        }
    )


def inventory_flows(view: View, at: datetime) -> pd.DataFrame:
    tz = analytics.display_tz(view)
    start, end = window(view, tz, at)
    f = data.inventory_flows(start, end, view.plants or None, tz)
    return pd.DataFrame({f"Date ({tz})": f["day"], "Movement": f["kind"], "Value ($)": f["value"].round(2)})


EXPORTS = {
    "ov-plants": overview_plants,
    "ov-losses": overview_losses,
    "inv-value": inventory_value,
    "inv-levels": inventory_levels,
    "inv-flows": inventory_flows,
    "oee-trend": oee_trend,
    "oee-groups": oee_groups,
    "oee-waterfall": oee_waterfall,
    "oee-pareto": oee_pareto,
    "oee-heatmap": oee_heatmap,
    "inv-risk": inventory_risk,
}


def csv(name: str, view: View, at: datetime, **extra: str | None) -> tuple[str, str]:
    """(file name, CSV text) for chart ``name``; unknown names raise KeyError."""
    frame = EXPORTS[name](view, at, **extra)
    return f"{name}-{at:%Y%m%d-%H%M}.csv", frame.to_csv(index=False)


def download(triggered: object, view_data: dict | None, **extra: str | None) -> dict | None:
    """What dcc.Download needs for the CSV button that was pressed, or None when none was."""
    if not isinstance(triggered, dict) or view_data is None:
        return None
    extra = extra if triggered["chart"] == "inv-levels" else {}
    name, text = csv(triggered["chart"], viewstate.from_store(view_data), analytics.now(), **extra)
    return dict(content=text, filename=name, type="text/csv")

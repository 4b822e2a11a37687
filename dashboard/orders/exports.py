"""CSV downloads of what each chart on the orders page shows, with units and time zones in the headers."""

from __future__ import annotations

from datetime import datetime

import pandas as pd

from dashboard import analytics, viewstate
from dashboard.orders import calc, report
from dashboard.viewstate import View


def stages(view: View, at: datetime, **_: str | None) -> pd.DataFrame:
    summary, names = report.stages(report.load(view, at), view.group)
    out = pd.DataFrame({"Group": summary["key"], "Name": summary["key"].map(names), "Orders": summary["orders"]})
    for s in calc.STAGES:
        out[f"{calc.STAGE_LABELS[s]} mean (h)"] = (summary[f"{s}_s"] / 3600).round(4)
    out["Lead time mean (h)"] = (summary["lead_s"] / 3600).round(4)
    return out


def _orders(frame: pd.DataFrame) -> dict[str, pd.Series]:
    utc = lambda c: pd.to_datetime(frame[c], utc=True)  # noqa: E731
    return {
        "Order": frame["order_id"],
        "Plant": frame["plant_id"],
        "Line": frame["line_id"],
        "Kind": frame["kind"],
        "Customer": frame["customer"],
        "Material": frame["material_id"],
        "Ordered (units)": frame["qty_ordered"],
        "Produced (units)": frame["qty_produced"],
        "Shipped (units)": frame["shipped"],
        "Promised date (plant-local)": pd.to_datetime(frame["promised_date"]).dt.date,
        "Created (UTC)": utc("created_at"),
        "Released (UTC)": utc("released_at"),
        "Started (UTC)": utc("actual_start"),
        "Finished (UTC)": utc("actual_finish"),
    }


def distribution(view: View, at: datetime, **_: str | None) -> pd.DataFrame:
    d = report.distribution(report.load(view, at))
    return pd.DataFrame(
        {
            **_orders(d),
            "Last goods issue (UTC)": d["completed_at"],
            "Lead time (d)": d["lead_days"].round(6),
            "Band": d["band"],
        }
    )


def otif_trend(view: View, at: datetime, **_: str | None) -> pd.DataFrame:
    w = report.weekly(report.load(view, at))
    return pd.DataFrame(
        {
            "Plant": w["plant_id"],
            "Week promised (plant-local Monday)": pd.to_datetime(w["week"]).dt.date,
            "Counted order lines": w["counted"],
            "On time in full": w["otif"],
            "Pending (not counted)": w["pending"],
            "OTIF (%)": (w["ratio"] * 100).round(4),
        }
    )


def late(view: View, at: datetime, **_: str | None) -> pd.DataFrame:
    d = report.load(view, at).late()
    return pd.DataFrame({**_orders(d), "Stage": d["stage"], "Days to promise (d)": d["days_left"], "Risk": d["risk"]})


def trace(view: View, at: datetime, order: str | None = None, **_: str | None) -> pd.DataFrame:
    found, timeline, _ = report.trace(order or "")
    if found is None:
        return pd.DataFrame(columns=["Order", "Step", "Kind", "Start (UTC)", "End (UTC)", "Duration (h)"])
    return pd.DataFrame(
        {
            "Order": found["order_id"],
            "Step": timeline["what"],
            "Kind": timeline["kind"],
            "Start (UTC)": timeline["start"],
            "End (UTC)": timeline["end"],
            "Duration (h)": (timeline["seconds"] / 3600).round(4),
        }
    )


EXPORTS = {
    "ord-stages": stages,
    "ord-distribution": distribution,
    "ord-otif-trend": otif_trend,
    "ord-late": late,
    "ord-trace": trace,
}


def download(triggered: object, view_data: dict | None, order: str | None = None) -> dict | None:
    """What dcc.Download needs for the orders page's CSV button that was pressed, or None when none was."""
    if not isinstance(triggered, dict) or view_data is None or triggered.get("chart") not in EXPORTS:
        return None
    at = analytics.now()
    frame = EXPORTS[triggered["chart"]](viewstate.from_store(view_data), at, order=order)
    return dict(
        content=frame.to_csv(index=False), filename=f"{triggered['chart']}-{at:%Y%m%d-%H%M}.csv", type="text/csv"
    )

"""Answers for a whole view (a URL): KPIs with their previous period, trends, losses and stock, per plant window."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

import pandas as pd

from dashboard import access, cache, data, kpi, queries, viewstate
from dashboard.queries import PARTS, Scope
from dashboard.viewstate import View, window

LOSS_ORDER = ["breakdown", "setup", "minor_stop", "reduced_speed", "defect", "startup_reject"]
LOSS_LABELS = {
    "breakdown": "Breakdowns",
    "setup": "Setup and adjustments",
    "minor_stop": "Minor stops",
    "reduced_speed": "Reduced speed",
    "defect": "Process defects",
    "startup_reject": "Start-up rejects",
}


def now() -> datetime:
    """'Now' aligned to the refresh interval, so screens refreshing together share cached answers."""
    return cache.live_now(data.settings().refresh_seconds)


def plants_in(view: View) -> pd.DataFrame:
    p = data.plants()
    return p[p["plant_id"].isin(view.plants)] if view.plants else p


def scope(view: View, plant_id: str | None = None) -> Scope:
    plants = (plant_id,) if plant_id else (view.plants or None)
    return Scope(plants=plants, lines=view.lines or None, machines=view.machines or None)


def display_tz(view: View) -> str:
    """The one plant's time zone when one plant is in view; UTC when plants in several zones are."""
    zones = plants_in(view)["tz"].unique()
    return str(zones[0]) if len(zones) == 1 else "UTC"


def _shift_starts(plant_id: str) -> list[str]:
    s = data.shifts()
    return s.loc[s["plant_id"] == plant_id, "starts"].tolist() or ["00:00"]


@dataclass(frozen=True)
class PlantWindow:
    plant_id: str
    name: str
    tz: str
    start: datetime
    end: datetime


def plant_windows(view: View, at: datetime) -> list[PlantWindow]:
    """Each plant's own window: 'today' starts at each plant's local midnight."""
    out = []
    for p in plants_in(view).itertuples():
        start, end = window(view, p.tz, at, _shift_starts(p.plant_id))
        out.append(PlantWindow(p.plant_id, p.name, p.tz, start, end))
    return out


def per_plant(view: View, at: datetime, previous: bool = False) -> pd.DataFrame:
    """Summed OEE parts per plant over each plant's window (or the period of the same length before it)."""
    rows = []
    for w in plant_windows(view, at):
        start, end = (w.start - (w.end - w.start), w.start) if previous else (w.start, w.end)
        t = data.oee_totals(start, end, "plant", scope(view, w.plant_id))
        parts = t.iloc[0][PARTS].to_dict() if len(t) else dict.fromkeys(PARTS, 0.0)
        rows.append({"plant_id": w.plant_id, "name": w.name, "tz": w.tz, "start": start, "end": end, **parts})
    return kpi.add_ratios(pd.DataFrame(rows, columns=["plant_id", "name", "tz", "start", "end", *PARTS]))


def totals(per_plant_frame: pd.DataFrame) -> pd.Series:
    return (
        kpi.totals(per_plant_frame) if len(per_plant_frame) else kpi.totals(pd.DataFrame([dict.fromkeys(PARTS, 0.0)]))
    )


def losses(view: View, at: datetime) -> pd.DataFrame:
    """The six big losses in seconds; availability ones from downtime reasons, the rest from the OEE parts."""
    t = totals(per_plant(view, at))
    down = pd.concat(
        [data.downtime_by_reason(w.start, w.end, scope(view, w.plant_id)) for w in plant_windows(view, at)]
        or [pd.DataFrame(columns=["category", "seconds"])]
    )
    by_cat = down.groupby("category")["seconds"].sum() if len(down) else pd.Series(dtype=float)
    seconds = {
        "breakdown": float(by_cat.get("breakdown", 0.0)),
        "setup": float(by_cat.get("setup", 0.0)),
        "minor_stop": float(by_cat.get("minor_stop", 0.0)),
        "reduced_speed": float(t["run_s"] - t["ideal_run_s"]),
        "defect": float(t["ideal_run_s"] - t["good_ideal_s"] - t["startup_ideal_s"]),
        "startup_reject": float(t["startup_ideal_s"]),
    }
    return pd.DataFrame(
        {
            "category": LOSS_ORDER,
            "label": [LOSS_LABELS[c] for c in LOSS_ORDER],
            "seconds": [seconds[c] for c in LOSS_ORDER],
        }
    )


def pareto(view: View, at: datetime) -> pd.DataFrame:
    """Downtime per reason over every plant's window, largest first, with the cumulative share."""
    frames = [data.downtime_by_reason(w.start, w.end, scope(view, w.plant_id)) for w in plant_windows(view, at)]
    frames = [f for f in frames if len(f)]
    if not frames:
        return pd.DataFrame(columns=["reason_code", "label", "category", "events", "seconds", "cumulative_share"])
    d = pd.concat(frames).groupby(["reason_code", "label", "category"], as_index=False)[["events", "seconds"]].sum()
    d = d.sort_values(["seconds", "reason_code"], ascending=[False, True]).reset_index(drop=True)
    d["cumulative_share"] = d["seconds"].cumsum() / d["seconds"].sum()
    return d


def trend(view: View, at: datetime, max_points: int = 400) -> tuple[pd.DataFrame, int | str, str]:
    """OEE per bucket and group in the display time zone: (frame with 'x', bucket, tz)."""
    tz = display_tz(view)
    start, end = window(
        view, tz, at, _shift_starts(plants_in(view)["plant_id"].iloc[0]) if len(plants_in(view)) else None
    )
    bucket = queries.choose_bucket(start, end, max_points)
    if isinstance(bucket, int):
        frame = data.oee_series(start, end, bucket, view.group, scope(view))
        frame["x"] = pd.to_datetime(frame["bucket"], utc=True).dt.tz_convert(tz).dt.tz_localize(None)
        lo = pd.Timestamp(start).floor(f"{bucket}s")
        xs = pd.date_range(lo, end, freq=f"{bucket}s", inclusive="left").tz_convert(tz).tz_localize(None)
    else:
        first = pd.Timestamp(start).tz_convert(tz).date()
        last = (pd.Timestamp(end).tz_convert(tz) - pd.Timedelta(microseconds=1)).date()
        frame = data.oee_daily(first, last, view.group, scope(view))
        xs = pd.date_range(first, last, freq="D")
        if bucket == "week":
            frame["day"] = pd.to_datetime(frame["day"]).dt.to_period("W-SUN").dt.start_time.dt.date
            frame = kpi.add_ratios(frame.groupby(["day", "key"], as_index=False)[PARTS].sum())
            xs = pd.DatetimeIndex(sorted(pd.to_datetime(frame["day"]).unique()))
        frame["x"] = pd.to_datetime(frame["day"])
    return _with_gaps(frame, xs), bucket, tz


def _with_gaps(frame: pd.DataFrame, xs: pd.DatetimeIndex) -> pd.DataFrame:
    """Every group gets a row for every bucket, so a bucket without production draws as a gap, not a line."""
    if frame.empty:
        return frame
    grid = pd.DataFrame({"x": xs.astype(frame["x"].dtype)}).merge(
        pd.DataFrame({"key": frame["key"].unique()}), how="cross"
    )
    return grid.merge(frame, on=["x", "key"], how="left").sort_values(["key", "x"]).reset_index(drop=True)


def heatmap(view: View, at: datetime) -> pd.DataFrame:
    """OEE per machine per plant-local day over each plant's own dates (at most the last 31): 'today' is a different
    date in Detroit and in Pune, and one shared calendar would show one plant's yesterday as today."""
    frames = []
    for w in plant_windows(view, at):
        last = (pd.Timestamp(w.end).tz_convert(w.tz) - pd.Timedelta(microseconds=1)).date()
        first = max(pd.Timestamp(w.start).tz_convert(w.tz).date(), last - timedelta(days=30))
        frames.append(data.oee_daily(first, last, "machine", scope(view, w.plant_id)))
    frames = [f for f in frames if len(f)]
    return (
        pd.concat(frames, ignore_index=True) if frames else kpi.add_ratios(pd.DataFrame(columns=["day", "key", *PARTS]))
    )


def group_totals(view: View, at: datetime) -> pd.DataFrame:
    """OEE and factors per group (plant, line or machine) over the display-zone window."""
    tz = display_tz(view)
    start, end = window(view, tz, at)
    return data.oee_totals(start, end, view.group, scope(view))


def data_from(view: View, at: datetime) -> datetime | None:
    """When the data starts, if the view's range begins visibly before it (a 30-day range over 14 days of data):
    for some plant in view, at least a whole plant-local day and a tenth of its range have no data yet."""
    firsts = data.data_start()
    late = []
    for w in plant_windows(view, at):
        first = firsts.get(w.plant_id)
        if first is None:
            continue
        later_day = pd.Timestamp(first).tz_convert(w.tz).date() > pd.Timestamp(w.start).tz_convert(w.tz).date()
        if later_day and first - w.start > (w.end - w.start) / 10:
            late.append(first)
    return min(late) if late else None


def range_note(view: View, at: datetime) -> str:
    """The range in words, and where the data starts when the range asks for more: half an empty chart is explained."""
    first = data_from(view, at)
    label = viewstate.range_label(view)
    if first is None:
        return label
    return f"{label} · data starts {pd.Timestamp(first).tz_convert(display_tz(view)):%Y-%m-%d}"


def on_trend_axis(first: datetime | None, bucket: int | str, tz: str) -> pd.Timestamp | None:
    """A UTC instant on the trend's x scale: the display zone's wall clock, or its date for daily buckets."""
    if first is None:
        return None
    local = pd.Timestamp(first).tz_convert(tz).tz_localize(None)
    return local if isinstance(bucket, int) else local.normalize()


def describe(view: View) -> str:
    """The selection in words, for empty states: 'Line L1 at Kolkata', 'Detroit Assembly', 'all plants'."""
    h = data.hierarchy()
    if view.machines:
        rows = h[h["machine_id"].isin(view.machines)]
        return ", ".join(f"{r.machine} on {r.line_id}" for r in rows.itertuples()) or "these machines"
    if view.lines:
        rows = h[h["line_id"].isin(view.lines)].drop_duplicates("line_id")
        return ", ".join(f"{r.line} at {r.plant}" for r in rows.itertuples()) or "these lines"
    if view.plants:
        return ", ".join(h[h["plant_id"].isin(view.plants)].drop_duplicates("plant_id")["plant"]) or "these plants"
    if access.current().plants is not None:  # "all" of someone who sees some plants: name them
        return ", ".join(h.drop_duplicates("plant_id")["plant"]) or "your plants"
    return "all plants"


def group_names(group: str) -> dict[str, str]:
    h = data.hierarchy()
    if group == "plant":
        return dict(zip(h["plant_id"], h["plant"], strict=False))
    if group == "line":
        return {r.line_id: f"{r.plant} · {r.line}" for r in h.itertuples()}
    if group == "machine":
        return {r.machine_id: f"{r.line_id} · {r.machine}" for r in h.itertuples()}
    return {"all": "All"}


def stock_daily(view: View, at: datetime, days: int = 14, use_window: int = 7) -> pd.DataFrame:
    """Stock value, days of cover and materials below their reorder point at the end of each of the last ``days`` days in the display zone, for the
    overview's sparklines; cover divides by the average daily use of the ``use_window`` days before, as the card does."""
    tz = display_tz(view)
    last = pd.Timestamp(at).tz_convert(tz).normalize()
    start = (last - pd.Timedelta(days=days + use_window - 1)).tz_convert("UTC").to_pydatetime()
    d = data.inventory_daily(start, at, view.plants or None, tz)
    if d.empty:
        return pd.DataFrame(columns=["day", "value", "cover_days", "below"])
    full = pd.DataFrame(
        {
            "day": pd.date_range(
                last.tz_localize(None) - pd.Timedelta(days=days + use_window - 1), last.tz_localize(None), freq="D"
            )
        }
    )
    d = full.merge(d.assign(day=pd.to_datetime(d["day"])), on="day", how="left")
    # Days without use count as zero only once the data has started: before it they are unknown, and counting them
    # as zero would make the first days' cover look huge.
    started = d["use_value"].notna().cumsum() > 0
    d["use_value"] = d["use_value"].fillna(0.0).where(started)
    d[["value", "below"]] = d[["value", "below"]].ffill()  # a day without a snapshot keeps the last value
    use = d["use_value"].rolling(use_window, min_periods=1).mean()
    d["cover_days"] = (d["value"] / use.where(use > 0)).astype(float)
    return d.tail(days)[["day", "value", "cover_days", "below"]].reset_index(drop=True)


def machine_first_days(view: View) -> dict[str, object]:
    """Each machine's plant's first production date, in the plant's own zone, for the heatmap's blank cells."""
    firsts, h = data.data_start(), data.hierarchy()
    return {
        r.machine_id: pd.Timestamp(firsts[r.plant_id]).tz_convert(r.tz).date()
        for r in h.itertuples()
        if r.plant_id in firsts
    }

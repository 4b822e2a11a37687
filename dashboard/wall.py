"""Wall screens: which slides a kiosk URL asks for, and what each slide shows; no Dash callbacks here."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

import pandas as pd
import plotly.graph_objects as go

from dashboard import access, cache, data, fmt, kpi
from dashboard.figures import empty, target_line
from dashboard.queries import Scope

VIEWS = {"oee": "OEE today", "inventory": "Stock at risk"}
MIN_REFRESH_S, MIN_ROTATE_S = 5, 10
DARK = dict(paper_bgcolor="rgba(0,0,0,0)", plot_bgcolor="rgba(0,0,0,0)", font=dict(color="#e8edf3", size=22))
AXIS = dict(gridcolor="#2a3340", zerolinecolor="#2a3340", linecolor="#2a3340", automargin=True)


@dataclass(frozen=True)
class WallConfig:
    slides: list[tuple[str, str, str]]  # (view, plant_id, plant time zone)
    rotate_s: int
    refresh_s: int
    notices: list[str]


def _int(raw: str | None, default: int, lo: int, name: str, notices: list[str]) -> int:
    if raw in (None, ""):
        return default
    try:
        value = int(str(raw)[:6])
    except ValueError:
        notices.append(f"{name}={str(raw)[:20]!r} is not a number; using {default} s.")
        return default
    if value < lo:
        notices.append(f"{name}={value} is below the minimum; using {lo} s.")
        return lo
    return min(value, 3600)


def parse(params: dict[str, str], plants: pd.DataFrame, default_refresh: int) -> WallConfig:
    """The slides (every view for every plant) and timings a kiosk URL asks for; bad values fall back with a notice."""
    notices: list[str] = []
    known = plants["plant_id"].tolist()
    asked = [p for p in str(params.get("plant") or "").split(",")[:50] if p]
    chosen = [p for p in asked if p in known] or known
    if unknown := [p for p in asked if p not in known]:
        notices.append(f"Unknown plant {', '.join(repr(p[:30]) for p in unknown[:3])} ignored.")
    allowed = [v for v in VIEWS if access.view_allowed(v)]  # a wall token names the slides it may show
    views = [v for v in str(params.get("views") or ",".join(allowed)).split(",")[:10] if v]
    good_views = [v for v in views if v in allowed] or allowed
    if bad := [v for v in views if v not in allowed]:
        notices.append(f"Unknown view {', '.join(repr(v[:30]) for v in bad[:3])} ignored.")
    refresh = _int(params.get("refresh"), max(default_refresh, MIN_REFRESH_S), MIN_REFRESH_S, "refresh", notices)
    rotate = _int(params.get("rotate"), 30, MIN_ROTATE_S, "rotate", notices)
    zones = dict(zip(plants["plant_id"], plants["tz"], strict=True))
    slides = [(v, p, zones[p]) for p in chosen for v in good_views]
    return WallConfig(slides, rotate, refresh, notices)


def zone_name(local: pd.Timestamp) -> str:
    """The plant's zone as the clock and the stamp both show it: 'EST', 'CET', 'IST'; a numeric 'UTC+04' from
    the tz database reads better as 'UTC+4'."""
    name = local.tzname() or "UTC"
    if name[:1] in "+-":
        sign, hours, minutes = name[0], int(name[1:3]), name[3:5]
        return f"UTC{sign}{hours}" + (f":{minutes}" if minutes and minutes != "00" else "")
    return name


def now(refresh_s: int) -> datetime:
    """Aligned to the wall's refresh, so every screen showing the same slide shares one cached answer."""
    return cache.live_now(refresh_s)


def oee_slide(plant_id: str, at: datetime, target: float) -> tuple[dict, go.Figure]:
    """Today's OEE, its factors and output for one plant, and OEE per 15 minutes since local midnight."""
    p = data.plants().set_index("plant_id").loc[plant_id]
    midnight = pd.Timestamp(at).tz_convert(p.tz).normalize().tz_convert("UTC").to_pydatetime()
    scope = Scope(plants=(plant_id,))
    totals = data.oee_totals(midnight, at, "plant", scope)
    t = kpi.totals(totals) if len(totals) else kpi.totals(pd.DataFrame([dict.fromkeys(kpi.PARTS, 0.0)]))
    numbers = {
        "OEE": fmt.pct(t.oee),
        "Availability": fmt.pct(t.availability),
        "Performance": fmt.pct(t.performance),
        "Quality": fmt.pct(t.quality),
        "Good units": fmt.count(t.good_count),
    }
    series = data.oee_series(midnight, at, 900, "plant", scope)
    s = data.shifts()
    shifts = [(r.starts, float(r.hours)) for r in s[s["plant_id"] == plant_id].itertuples()]
    return numbers | {"_below_target": bool(t.oee < target)}, oee_figure(series, p.tz, target, shifts)


def _gap_label(start: pd.Timestamp, end: pd.Timestamp, shifts: list[tuple[str, float]]) -> str:
    """'break' for a gap inside one shift (planned time stops and resumes within it), else 'no planned production'."""
    a = start.hour * 60 + start.minute
    length = (end - start).total_seconds() / 60
    for starts, hours in shifts:
        h, m = (int(v) for v in starts.split(":")[:2])
        since = (a - h * 60 - m) % 1440
        if 0 < since and since + length < hours * 60:
            return "break"
    return "no planned production"


def gaps(x: pd.Series, y: pd.Series) -> list[tuple[pd.Timestamp, pd.Timestamp]]:
    """(first empty bucket, next bucket with data) for every run of empty buckets between two drawn ones."""
    out, start = [], None
    for xi, yi in zip(x, y, strict=True):
        if yi != yi and start is None:
            start = xi
        elif yi == yi and start is not None:
            out.append((start, xi))
            start = None
    return out


def oee_figure(
    series: pd.DataFrame, tz: str, target: float, shifts: list[tuple[str, float]] | None = None
) -> go.Figure:
    if series.empty:
        return _dark(empty("No production recorded yet today"))
    # Every 15-minute bucket gets a point, so breaks and stops show as gaps rather than a line across them.
    b = pd.to_datetime(series["bucket"], utc=True)
    grid = pd.DataFrame({"bucket": pd.date_range(b.min(), b.max(), freq="15min").astype(b.dtype)})
    series = grid.merge(series.assign(bucket=b), on="bucket", how="left")
    x = series["bucket"].dt.tz_convert(tz).dt.tz_localize(None)
    fig = go.Figure(
        go.Scatter(
            x=x,
            y=series["oee"],
            mode="lines+markers",
            line=dict(color="#4fc3f7", width=5),
            marker=dict(size=9),
            hoverinfo="skip",
        )
    )
    target_line(fig, target, f"target<br>{target:.0%}", colour="#9aa5b1", width=3)
    # A gap in the line is time without planned production: say which (a break inside a shift, or no shift).
    for a, b_ in gaps(x, series["oee"]):
        fig.add_vrect(
            x0=a,
            x1=b_,
            fillcolor="#9aa5b1",
            opacity=0.12,
            line_width=0,
            layer="below",
            annotation_text=_gap_label(a, b_, shifts or []),
            annotation_position="top",
            annotation_font=dict(size=20, color="#9aa5b1"),
        )
    fig.update_layout(
        xaxis=dict(title=f"Time ({tz})", **AXIS),
        yaxis=dict(title="OEE per 15 min", tickformat=".0%", range=[0, 1.05], **AXIS),
        showlegend=False,
        margin=dict(l=110, r=130, t=40, b=90),
    )
    return _dark(fig)


def inventory_slide(plant_id: str, at: datetime) -> list[dict]:
    """The eight materials closest to running out at one plant; a table reads better from five metres than bars."""
    s = data.inventory_status(at, (plant_id,)).head(8)
    return [
        {
            "Material": r.name,
            "On hand": fmt.count(r.on_hand, r.unit),
            "Cover": "out of stock"
            if r.on_hand <= 0
            else (fmt.duration(r.days_of_cover * 86400) if r.days_of_cover == r.days_of_cover else "not used lately"),
            "below": bool(r.below_reorder),
        }
        for r in s.itertuples()
    ]


def _dark(fig: go.Figure) -> go.Figure:
    fig.update_layout(**DARK)
    for a in fig.layout.annotations or []:
        a.font = dict(size=28, color="#9aa5b1")
    return fig


def slide(view: str, plant_id: str, at: datetime, refresh_s: int) -> dict:
    """Everything one slide shows, as plain data, cached as a whole: a thousand screens cost one build per interval.

    The slide comes from the browser's store, so it is checked against what the screen may see before the cache,
    which is shared by every screen, is asked."""
    if view not in VIEWS or not access.view_allowed(view) or plant_id not in set(data.plants()["plant_id"]):
        raise PermissionError(f"slide {str(view)[:20]!r} of plant {str(plant_id)[:20]!r} is not for this screen")

    def build() -> dict:
        name = str(data.plants().set_index("plant_id").loc[plant_id, "name"])
        if view == "oee":
            numbers, fig = oee_slide(plant_id, at, data.settings().oee_target)
            return {"name": name, "numbers": numbers, "figure": fig.to_plotly_json()}
        return {"name": name, "rows": inventory_slide(plant_id, at), "figure": None}

    key = cache.make_key("wall-slide", view, plant_id, at)
    return cache.query_cache.get_or_compute(key, build, refresh_s + 2)

"""Figures for the orders page: lead time by stage, lead-time bands, OTIF per week, an order's timeline; no I/O."""

from __future__ import annotations

import numpy as np
import pandas as pd
import plotly.graph_objects as go

from dashboard import fmt
from dashboard.figures import base, empty, group_colour
from dashboard.orders.calc import STAGE_LABELS, STAGES

STAGE_COLOURS = {"waiting": "#bab0ac", "queue": "#f58518", "production": "#4c78a8", "dispatch": "#54a24b"}
BAND_COLOURS = {"on time": "#54a24b", "delayed": "#f2b134", "critical": "#d62728"}


def stages(summary: pd.DataFrame, names: dict[str, str], group: str, what: str) -> go.Figure:
    """Mean hours per stage, stacked per plant or line: each bar's length is that group's mean lead time."""
    if summary.empty:
        return empty(f"No order of {what} was completed (shipped in full) in this range")
    s = summary.sort_values("key", ascending=False)
    labels = [f"{names.get(k, k)} ({n:,} order{'s' * (n != 1)})" for k, n in zip(s["key"], s["orders"], strict=True)]
    fig = base(
        "ord-stages",
        barmode="stack",
        legend=dict(orientation="h", yanchor="bottom", y=1.02, x=0, traceorder="normal"),
        hovermode="y unified",
        xaxis=dict(title="Mean hours of calendar time per completed order", rangemode="tozero"),
        yaxis=dict(title="Plant" if group == "plant" else "Line", automargin=True),
        margin=dict(l=60, r=30, t=50, b=50),
    )
    for stage in STAGES:
        fig.add_trace(
            go.Bar(
                y=labels,
                x=s[f"{stage}_s"] / 3600,
                name=STAGE_LABELS[stage],
                orientation="h",
                marker_color=STAGE_COLOURS[stage],
                hovertemplate="%{x:.1f} h",
            )
        )
    return fig


def distribution(banded: pd.DataFrame, delayed_days: float, critical_days: float, what: str) -> go.Figure:
    """Orders per lead time (days, created to last goods issue), coloured on time, delayed or critical."""
    if banded.empty:
        return empty(f"No order of {what} was completed (shipped in full) in this range")
    top = max(float(banded["lead_days"].max()), critical_days) * 1.05
    width = max(round(top / 30, 2), 0.05)
    edges = np.arange(0, top + width, width)
    fig = base(
        "ord-distribution",
        barmode="stack",
        legend=dict(orientation="h", yanchor="bottom", y=1.02, x=0, traceorder="normal"),
        bargap=0.05,
        xaxis=dict(title="Lead time (days of calendar time, created → last goods issue)", range=[0, edges[-1]]),
        yaxis=dict(title="Completed orders", rangemode="tozero"),
        hovermode="x unified",
    )
    for band, colour in BAND_COLOURS.items():
        counts, _ = np.histogram(banded.loc[banded["band"] == band, "lead_days"], bins=edges)
        fig.add_trace(
            go.Bar(
                x=(edges[:-1] + edges[1:]) / 2,
                y=counts,
                width=width,
                name=f"{band} ({(banded['band'] == band).sum():,})",
                marker_color=colour,
                hovertemplate="%{y} orders",
            )
        )
    for days, label in ((delayed_days, "delayed"), (critical_days, "critical")):
        fig.add_vline(x=days, line=dict(color="#555", dash="dot", width=1), annotation_text=f"{label} > {days:g} d")
    return fig


def otif_trend(weekly: pd.DataFrame, names: dict[str, str], what: str) -> go.Figure:
    """OTIF per plant and plant-local week of the promised date, with how many orders counted."""
    counted = weekly[weekly["counted"] > 0] if len(weekly) else weekly
    if counted.empty:
        return empty(f"No order of {what} was due and shipped in these weeks")
    fig = base(
        "ord-otif-trend",
        showlegend=True,
        xaxis=dict(title="Week promised (starting Monday, each plant's own time zone)", type="date"),
        yaxis=dict(title="OTIF (share of counted orders)", tickformat=".0%", range=[0, 1.05]),
    )
    keys = sorted(counted["plant_id"].unique())
    for key in keys:
        rows = counted[counted["plant_id"] == key]
        fig.add_trace(
            go.Scatter(
                x=rows["week"],
                y=rows["ratio"],
                name=names.get(key, key),
                mode="lines+markers",
                line=dict(color=group_colour("plant", keys, key)),
                customdata=np.c_[rows["otif"], rows["counted"], rows["pending"]],
                hovertemplate="%{y:.1%} (%{customdata[0]} of %{customdata[1]}; %{customdata[2]} pending)",
            )
        )
    return fig


def trace(timeline: pd.DataFrame, order_id: str, tz: str, now: pd.Timestamp) -> go.Figure:
    """An order's stages and the machines that ran it on one time axis in the plant's zone; open bars run to now."""
    if timeline.empty:
        return empty(f"Order {order_id} has no recorded events yet")
    t = timeline.copy()
    t["open"] = t["end"].isna()
    t["end"] = t["end"].fillna(now)
    start = pd.to_datetime(t["start"], utc=True).dt.tz_convert(tz).dt.tz_localize(None)
    end = pd.to_datetime(t["end"], utc=True).dt.tz_convert(tz).dt.tz_localize(None)
    t["label"] = np.where(t["kind"] == "machine", "Machine " + t["what"], t["what"])
    fig = base(
        "ord-trace",
        showlegend=True,
        barmode="overlay",
        hovermode="closest",
        xaxis=dict(title=f"Time ({tz})", type="date"),
        yaxis=dict(autorange="reversed", title=None),
        margin=dict(l=60, r=30, t=50, b=50),
    )
    for kind, colour in (("stage", None), ("machine", "#7f7f7f")):
        rows = t["kind"] == kind
        if not rows.any():
            continue
        stages_ = t.loc[rows, "what"].str.lower()
        colours = [STAGE_COLOURS.get(s, "#7f7f7f") for s in stages_] if colour is None else colour
        text = [
            (fmt.duration(sec) if not o else "so far " + fmt.duration(sec_now))
            for sec, o, sec_now in zip(
                t.loc[rows, "seconds"], t.loc[rows, "open"], (end - start)[rows].dt.total_seconds(), strict=True
            )
        ]
        fig.add_trace(
            go.Bar(
                y=t.loc[rows, "label"],
                base=start[rows],
                x=(end - start)[rows].dt.total_seconds() * 1000,
                orientation="h",
                marker_color=colours,
                text=text,
                textposition="auto",
                name="Stages (created → released → started → finished → shipped)" if kind == "stage" else "Machine runs",
                hovertemplate="%{y}: %{base|%Y-%m-%d %H:%M} → %{text}<extra></extra>",
            )
        )
    return fig


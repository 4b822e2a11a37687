"""Figures for the OEE page: trend with target, A/P/Q, loss waterfall, downtime Pareto, machine x day heatmap."""

from __future__ import annotations

import pandas as pd
import plotly.graph_objects as go

from dashboard import fmt, theme
from dashboard.figures import base, empty, group_colour, no_data_before, target_line

CATEGORY_LABELS = {"breakdown": "Breakdown", "setup": "Setup", "minor_stop": "Minor stop"}
NO_PLAN = "no planned production"


def trend(
    frame: pd.DataFrame,
    bucket: int | str,
    tz: str,
    group: str,
    names: dict[str, str],
    target: float,
    what: str = "this selection",
    data_from: object = None,
) -> go.Figure:
    """OEE per bucket, one line per group; a bucket with no planned time is a gap. ``data_from`` (on the x scale):
    where the data starts, when the range asks for more than there is."""
    if frame.empty or not frame["planned_s"].sum() > 0:
        return empty(f"No production recorded for {what} in this range")
    per = (
        f"per {bucket // 60} min"
        if isinstance(bucket, int) and bucket < 3600
        else (f"per {bucket // 3600} h" if isinstance(bucket, int) else f"per {bucket}")
    )
    x_title = f"Time ({tz})" if isinstance(bucket, int) else "Plant-local date"
    fig = base("oee-trend", xaxis_title=x_title, yaxis=dict(title=f"OEE {per}", tickformat=".0%", rangemode="tozero"))
    keys = sorted(frame["key"].unique())
    for key in keys:
        rows = frame[frame["key"] == key]
        fig.add_trace(
            go.Scatter(
                x=rows["x"],
                y=rows["oee"],
                name=names.get(key, key),
                mode="lines+markers",
                connectgaps=False,
                line=dict(color=group_colour(group, keys, key), width=2),
                marker=dict(size=5),
                customdata=rows[["availability", "performance", "quality"]].to_numpy(),
                hovertemplate="OEE %{y:.1%} (A %{customdata[0]:.1%} · P %{customdata[1]:.1%} · Q %{customdata[2]:.1%})"
                "<extra>%{fullData.name}</extra>",
            )
        )
    target_line(fig, target, f"target<br>{target:.0%}")
    if data_from is not None and pd.Timestamp(data_from) > pd.Timestamp(frame["x"].min()):
        no_data_before(fig, frame["x"].min(), data_from, f"no data before {pd.Timestamp(data_from):%Y-%m-%d}")
    return fig


def apq(totals: pd.DataFrame, group: str, names: dict[str, str], what: str = "this selection") -> go.Figure:
    """Availability, performance, quality and OEE per group; click a bar to drill down."""
    if totals.empty or totals["planned_s"].sum() <= 0:
        return empty(f"No production recorded for {what} in this range")
    fig = base("oee-apq", barmode="group", yaxis=dict(title="Percent", tickformat=".0%", range=[0, 1.08]))
    factors = [
        ("oee", "OEE", "#333333"),
        ("availability", "Availability", "#4c78a8"),
        ("performance", "Performance", "#f58518"),
        ("quality", "Quality", "#54a24b"),
    ]
    labels = [names.get(k, k) for k in totals["key"]]
    for col, label, colour in factors:
        fig.add_trace(
            go.Bar(
                x=labels,
                y=totals[col],
                name=label,
                marker_color=colour,
                customdata=totals["key"],
                text=[fmt.pct(v, 0) for v in totals[col]],
                textposition="outside",
                hovertemplate=f"{label} %{{y:.1%}}<extra>%{{x}}</extra>",
            )
        )
    fig.update_layout(
        hovermode="closest", xaxis_title=group.capitalize() + (" (click to drill down)" if group != "machine" else "")
    )
    return fig


def waterfall(t: pd.Series) -> go.Figure:
    """Planned time down to fully productive time, through the three OEE losses, in hours."""
    if not t["planned_s"] > 0:
        return empty("No planned production time in this range")
    h = 3600.0
    steps = [
        ("Planned time", t["planned_s"] / h, "absolute"),
        ("Availability loss", -(t["planned_s"] - t["run_s"]) / h, "relative"),
        ("Performance loss", -(t["run_s"] - t["ideal_run_s"]) / h, "relative"),
        ("Quality loss", -(t["ideal_run_s"] - t["good_ideal_s"]) / h, "relative"),
        ("Fully productive", t["good_ideal_s"] / h, "total"),
    ]
    fig = base("oee-waterfall", yaxis_title="Hours", showlegend=False)
    fig.add_trace(
        go.Waterfall(
            x=[s[0] for s in steps],
            y=[s[1] for s in steps],
            measure=[s[2] for s in steps],
            text=[f"{abs(s[1]):,.1f} h" for s in steps],
            textposition="outside",
            decreasing=dict(marker=dict(color=theme.LOSS_COLOURS["breakdown"])),
            totals=dict(marker=dict(color=theme.GOOD)),
            increasing=dict(marker=dict(color="#4c78a8")),
            connector=dict(line=dict(color="#bbb")),
            hovertemplate="%{x}: %{y:,.1f} h<extra></extra>",
        )
    )
    fig.update_layout(hovermode="closest")
    return fig


def pareto(d: pd.DataFrame, what: str = "this selection") -> go.Figure:
    """Downtime hours per reason, largest first, with the cumulative share; 'Unknown' included."""
    if d.empty:
        return empty(f"No downtime recorded for {what} in this range")
    fig = base(
        "oee-pareto",
        yaxis_title="Downtime (h)",
        yaxis2=dict(title="Cumulative", overlaying="y", side="right", tickformat=".0%", range=[0, 1.05], dtick=0.25),
        xaxis=dict(categoryorder="array", categoryarray=list(d["label"])),  # largest first, whatever the traces
        barmode="relative",
        showlegend=True,
    )
    # One bar trace per loss category: the colour is the category, and the legend says which is which.
    for category in [c for c in CATEGORY_LABELS if c in set(d["category"])] + sorted(
        set(d["category"]) - set(CATEGORY_LABELS)
    ):
        rows = d[d["category"] == category]
        fig.add_trace(
            go.Bar(
                x=rows["label"],
                y=rows["seconds"] / 3600,
                name=CATEGORY_LABELS.get(category, str(category).replace("_", " ").capitalize()),
                marker_color=theme.LOSS_COLOURS.get(category, "#888"),
                customdata=rows[["events"]].to_numpy(),
                hovertemplate="%{x}: %{y:,.1f} h in %{customdata[0]} stops<extra>%{fullData.name}</extra>",
            )
        )
    fig.add_trace(
        go.Scatter(
            x=d["label"],
            y=d["cumulative_share"],
            yaxis="y2",
            mode="lines+markers",
            name="Cumulative share",
            line=dict(color="#333"),
            hovertemplate="%{y:.0%} of downtime<extra></extra>",
        )
    )
    fig.update_layout(hovermode="closest", margin=dict(l=60, r=60, t=30, b=90))
    return fig


def heatmap(
    daily: pd.DataFrame, names: dict[str, str], what: str = "this selection", first_day: dict | None = None
) -> go.Figure:
    """OEE per machine (rows) and plant-local day (columns); empty cells had no planned time."""
    if daily.empty:
        return empty(f"No production recorded for {what} in this range")
    planned = daily.pivot(index="key", columns="day", values="planned_s").sort_index(ascending=False)
    grid = daily.pivot(index="key", columns="day", values="oee").reindex_like(planned)
    # A blank cell is a machine-day without planned time (a weekend, a holiday); its hover text says so.
    # Before a plant's data starts, a blank cell says that instead (``first_day``: machine -> its plant's first date).
    first_day = first_day or {}

    def words(key: str, day: object, p: float, o: float) -> str:
        if p > 0:
            return f"OEE {o:.1%}"
        first = first_day.get(key)
        return f"no data before {first}" if first is not None and str(day) < str(first) else NO_PLAN

    text = [
        [words(key, day, p, o) for day, p, o in zip(planned.columns, pr, orow, strict=True)]
        for key, pr, orow in zip(planned.index, planned.to_numpy(), grid.to_numpy(), strict=True)
    ]
    early = any(t.startswith("no data before") for row in text for t in row)
    # Days as categories: with one or two days a date axis would show sub-second ticks around midnight.
    fig = base(
        "oee-heatmap",
        xaxis=dict(
            title=f"Plant-local date · blank: {NO_PLAN}" + (" or before the data starts" if early else ""),
            type="category",
        ),
        margin=dict(l=150, r=20, t=20, b=50),
    )
    fig.add_trace(
        go.Heatmap(
            z=grid.to_numpy(),
            x=[str(d) for d in grid.columns],
            y=[names.get(k, k) for k in grid.index],
            text=text,
            colorscale="RdYlGn",
            zmin=0.4,
            zmax=1.0,
            colorbar=dict(title="OEE", tickformat=".0%"),
            hovertemplate="%{y}<br>%{x}: %{text}<extra></extra>",
            hoverongaps=True,
            xgap=1,
            ygap=1,
        )
    )
    fig.update_layout(hovermode="closest", height=max(300, 22 * len(grid) + 90))
    return fig

"""DataFrame in, plotly Figure out; no I/O. Shared look and the overview's charts."""

from __future__ import annotations

import numpy as np
import pandas as pd
import plotly.graph_objects as go
import plotly.io as pio

from dashboard import theme

# Expanding a named template costs ~40 ms per figure in plotly.py; the look below is set directly instead.
pio.templates.default = "none"
_AXIS = dict(gridcolor="#e9edf3", zerolinecolor="#d5dbe3", linecolor="#d5dbe3", automargin=True)
BASE_LAYOUT = dict(
    paper_bgcolor="white",
    plot_bgcolor="white",
    xaxis=_AXIS,
    yaxis=_AXIS,
    colorway=theme.PALETTE,
    margin=dict(l=60, r=20, t=40, b=50),
    legend=dict(orientation="h", yanchor="bottom", y=1.02, x=0),
    hovermode="x unified",
    font=dict(family="system-ui, -apple-system, Segoe UI, Roboto, sans-serif"),
)


def base(uirevision: str, **layout: object) -> go.Figure:
    """A figure with the shared look; ``uirevision`` keeps zoom and legend choices across refreshes."""
    fig = go.Figure(layout=BASE_LAYOUT)
    fig.update_layout(uirevision=uirevision, **layout)
    return fig


def empty(message: str) -> go.Figure:
    """A blank chart that says why it is blank."""
    fig = go.Figure(layout=BASE_LAYOUT)
    fig.update_layout(
        xaxis=dict(visible=False),
        yaxis=dict(visible=False),
        annotations=[dict(text=message, showarrow=False, font=dict(size=15, color="#666"), xref="paper", yref="paper")],
    )
    return fig


def target_line(fig: go.Figure, target: float, text: str, colour: str = theme.TARGET, width: float = 1) -> go.Figure:
    """A dashed target line labelled in the right margin, outside the plot, where no bar or line can sit under it."""
    fig.add_hline(y=target, line=dict(color=colour, dash="dash", width=width))
    fig.add_annotation(
        text=text,
        x=1,
        xref="paper",
        xanchor="left",
        xshift=6,
        y=target,
        yref="y",
        showarrow=False,
        align="left",
        font=dict(color=colour),
    )
    margin = fig.layout.margin
    fig.update_layout(margin=dict(r=max(margin.r or 0, 95)))
    return fig


def no_data_before(fig: go.Figure, x0: object, first: object, label: str) -> go.Figure:
    """Shade the part of a chart's range before the first data, and say so, instead of leaving it blank."""
    fig.add_vrect(
        x0=x0,
        x1=first,
        fillcolor="#8a94a6",
        opacity=0.08,
        line_width=0,
        layer="below",
        annotation_text=label,
        annotation_position="top left",
        annotation_font=dict(color="#666"),
    )
    return fig


def group_colour(group: str, keys: list[str], key: str) -> str:
    """Plants keep their own colour everywhere; lines and machines take the palette in order."""
    if group == "plant":
        return theme.plant_colour(keys, key)
    return theme.PALETTE[sorted(keys).index(key) % len(theme.PALETTE)] if key in keys else "#888"


def sparkline(x: pd.Series, y: pd.Series, colour: str) -> dict:
    """A tiny trend without axes, for KPI cards; a plain figure dict, since nine of them are built per refresh and
    plotly's validating objects cost 5 ms each."""
    return {
        "data": [
            {
                "type": "scatter",
                "x": pd.to_datetime(x).dt.strftime("%Y-%m-%d").tolist(),
                "y": np.asarray(y, dtype="float64"),
                "mode": "lines",
                "line": {"color": colour, "width": 2},
                "hoverinfo": "skip",
            }
        ],
        "layout": {
            "margin": {"l": 0, "r": 0, "t": 0, "b": 0},
            "height": 40,
            "showlegend": False,
            "xaxis": {"visible": False},
            "yaxis": {"visible": False},
            "paper_bgcolor": "rgba(0,0,0,0)",
            "plot_bgcolor": "rgba(0,0,0,0)",
        },
    }


def plants_side_by_side(per_plant: pd.DataFrame, target: float) -> go.Figure:
    """OEE, availability, performance and quality per plant as grouped bars, with the OEE target."""
    if per_plant["planned_s"].sum() <= 0:
        return empty("No production planned in this range")
    ids = per_plant["plant_id"].tolist()
    fig = base("plants", yaxis=dict(title="Percent", tickformat=".0%", range=[0, 1.05]), barmode="group")
    for p in per_plant.itertuples():
        fig.add_trace(
            go.Bar(
                x=["OEE", "Availability", "Performance", "Quality"],
                y=[p.oee, p.availability, p.performance, p.quality],
                name=p.name,
                marker_color=theme.plant_colour(ids, p.plant_id),
                customdata=[p.plant_id] * 4,
                hovertemplate="%{x}: %{y:.1%}<extra>%{fullData.name}</extra>",
            )
        )
    target_line(fig, target, f"OEE target<br>{target:.0%}")
    fig.update_layout(hovermode="closest")
    return fig


def losses_bar(losses: pd.DataFrame, top: int = 5) -> go.Figure:
    """The biggest losses in hours, by loss category, largest on top."""
    d = losses[losses["seconds"] > 0].nlargest(top, "seconds").iloc[::-1]
    if d.empty:
        return empty("No losses recorded in this range")
    fig = base("losses", xaxis_title="Hours lost", margin=dict(l=170, r=70, t=20, b=50))  # room for "560.7 h"
    fig.add_trace(
        go.Bar(
            y=d["label"],
            x=d["seconds"] / 3600,
            orientation="h",
            marker_color=[theme.LOSS_COLOURS[c] for c in d["category"]],
            hovertemplate="%{y}: %{x:,.1f} h<extra></extra>",
            text=[f"{s / 3600:,.1f} h" for s in d["seconds"]],
            textposition="outside",
            textangle=0,
            cliponaxis=False,
        )
    )
    fig.update_layout(hovermode="closest", showlegend=False)
    return fig

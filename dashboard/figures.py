"""DataFrame in, plotly Figure out; no I/O."""

from __future__ import annotations

import pandas as pd
import plotly.graph_objects as go

from dashboard import theme

BASE_LAYOUT = dict(
    template="plotly_white",
    margin=dict(l=60, r=20, t=40, b=50),
    legend=dict(orientation="h", yanchor="bottom", y=1.02, x=0),
    hovermode="x unified",
)


def empty(message: str) -> go.Figure:
    """A blank chart that says why it is blank."""
    fig = go.Figure(layout=BASE_LAYOUT)
    fig.update_layout(
        xaxis=dict(visible=False),
        yaxis=dict(visible=False),
        annotations=[dict(text=message, showarrow=False, font=dict(size=16, color="#666"), xref="paper", yref="paper")],
    )
    return fig


def output_trend(trend: pd.DataFrame, plants: pd.DataFrame, bucket_s: int) -> go.Figure:
    """Good units per bucket, one line per plant, on a UTC time axis."""
    if trend.empty:
        return empty("No production recorded in the last 12 hours")
    fig = go.Figure(layout=BASE_LAYOUT)
    ids = plants["plant_id"].tolist()
    names = dict(zip(plants["plant_id"], plants["name"]))
    for plant_id, rows in trend.groupby("plant_id", sort=True):
        fig.add_trace(
            go.Scatter(
                x=rows["bucket"],
                y=rows["good_count"],
                name=names.get(plant_id, plant_id),
                mode="lines+markers",
                line=dict(color=theme.plant_colour(ids, plant_id), width=2),
                hovertemplate="%{y:,.0f} good units<extra>%{fullData.name}</extra>",
            )
        )
    fig.update_layout(
        xaxis_title="Time (UTC)",
        yaxis_title=f"Good units per {bucket_s // 60} min",
        uirevision="output-trend",  # keep the user's zoom and legend across refreshes
    )
    return fig
